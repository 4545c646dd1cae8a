package main

import (
	"image/color"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The bar colours: Vigil blue, Coraza orange (Okabe–Ito, readable with colour blindness).
var (
	vigilColor  = color.RGBA{0x00, 0x72, 0xb2, 0xff}
	corazaColor = color.RGBA{0xe6, 0x9f, 0x00, 0xff}
)

// bar is one labelled pair of bars; without a peer value only Vigil's is drawn.
type bar struct {
	Label       string
	Vigil, Peer float64
	HasPeer     bool
}

// barsOf turns the lines of t that keep accepts into bars of the compared columns.
func barsOf(t *Table, keep func(*Line) bool, label func(*Line) string) []bar {
	var out []bar
	for i := range t.Lines {
		l := &t.Lines[i]
		if !keep(l) || l.Cells[t.Vigil] == nil {
			continue
		}
		b := bar{Label: label(l), Vigil: l.Cells[t.Vigil].Pct()}
		if t.Peer >= 0 && l.Cells[t.Peer] != nil {
			b.Peer, b.HasPeer = l.Cells[t.Peer].Pct(), true
		}
		out = append(out, b)
	}
	return out
}

// drawBars saves a horizontal grouped bar chart of bars (percent, 0–100) as a PNG, the
// first bar at the top.
func drawBars(file, title, xLabel string, xMax float64, bars []bar) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.X.Min, p.X.Max = 0, xMax
	p.Legend.Top = true
	p.Legend.Left = false
	grid := plotter.NewGrid()
	grid.Horizontal.Width = 0
	p.Add(grid)

	// Two blank rows on top keep the legend off the first bars; NominalY puts the
	// first name at the bottom.
	bars = append([]bar{{}, {}}, bars...)
	slices.Reverse(bars)
	names := make([]string, len(bars))
	vigil := make(plotter.Values, len(bars))
	peer := make(plotter.Values, len(bars))
	hasPeer := false
	for i, b := range bars {
		names[i], vigil[i] = b.Label, b.Vigil
		if b.HasPeer {
			peer[i], hasPeer = b.Peer, true
		}
	}
	const w = vg.Length(7)
	vb, err := plotter.NewBarChart(vigil, w)
	if err != nil {
		return err
	}
	vb.Horizontal, vb.Color, vb.LineStyle.Width = true, vigilColor, 0
	p.Add(vb)
	p.Legend.Add("Vigil", vb)
	if hasPeer {
		vb.Offset = w / 2
		pb, err := plotter.NewBarChart(peer, w)
		if err != nil {
			return err
		}
		pb.Horizontal, pb.Color, pb.LineStyle.Width, pb.Offset = true, corazaColor, 0, -w/2
		p.Add(pb)
		p.Legend.Add("Coraza + CRS (PL1)", pb)
	}
	p.NominalY(names...)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	height := vg.Length(len(bars))*18 + 90
	return p.Save(6.5*vg.Inch, height, file)
}
