package main

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Chart colours: Vigil's rows stand out, baselines and peers are grey.
var (
	vigilColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	otherColor = color.RGBA{R: 0x9a, G: 0x9a, B: 0x9a, A: 0xff}
	p99Color   = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// chartRows are the rows a chart shows, first at the top: those with a valid round.
func chartRows(rows []row) []row {
	var out []row
	for _, r := range rows {
		if r.Rounds > 0 {
			out = append(out, r)
		}
	}
	slices.Reverse(out) // plot's nominal axis puts the first name at the bottom
	return out
}

// newRowChart starts a chart with one row per entry: its title, the value axis's
// label and a grid along that axis.
func newRowChart(title, xLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.X.Label.Text = xLabel
	p.Add(verticalGrid())
	return p
}

// saveRowChart names the rows on the vertical axis and saves the chart as a PNG, small
// enough to keep the file modest and tall enough for the labels.
func saveRowChart(p *plot.Plot, labels []string, file string) error {
	p.NominalY(labels...)
	padRows(p, len(labels))
	return p.Save(7*vg.Inch, vg.Length(1.1+0.3*float64(len(labels)))*vg.Inch, file)
}

// throughputChart draws each row's median ratio to its baseline as a bar, with the
// min–max over rounds as an error bar, and saves it as a PNG.
func throughputChart(rows []row, file string) error {
	rows = chartRows(rows)
	if len(rows) == 0 {
		return nil
	}
	p := newRowChart("Throughput as a share of the baseline's (Vigil in blue; whiskers: min–max over rounds)",
		"req/s ÷ baseline req/s in the same round (TLS rows ÷ bare net/http over TLS)")
	p.X.Min = 0
	var labels []string
	var tips plotter.XYs
	var tipText []string
	var whiskers struct {
		plotter.XYs
		plotter.XErrors
	}
	top := 1.0
	for i, r := range rows {
		v, lo, hi := 1.0, 1.0, 1.0
		if r.HasRatio {
			v, lo, hi = r.Ratio, r.RatioMin, r.RatioMax
		} else if r.Baseline != "" {
			v, lo, hi = 0, 0, 0
		}
		bar, err := plotter.NewBarChart(plotter.Values{v}, vg.Points(12))
		if err != nil {
			return err
		}
		bar.Horizontal = true
		bar.XMin = float64(i)
		bar.Color = otherColor
		if r.Vigil {
			bar.Color = vigilColor
		}
		bar.LineStyle.Width = 0
		p.Add(bar)
		whiskers.XYs = append(whiskers.XYs, plotter.XY{X: v, Y: float64(i)})
		whiskers.XErrors = append(whiskers.XErrors, struct{ Low, High float64 }{Low: v - lo, High: hi - v})
		tips = append(tips, plotter.XY{X: hi, Y: float64(i)})
		tipText = append(tipText, fmt.Sprintf("%.3f", v))
		labels = append(labels, r.Label)
		top = math.Max(top, hi)
	}
	eb, err := plotter.NewXErrorBars(whiskers)
	if err != nil {
		return err
	}
	eb.CapWidth = vg.Points(6)
	p.Add(eb)
	lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: tips, Labels: tipText})
	if err != nil {
		return err
	}
	for i := range lbl.TextStyle {
		lbl.TextStyle[i].Font.Size = vg.Points(8)
		lbl.TextStyle[i].YAlign = draw.YCenter
	}
	lbl.Offset = vg.Point{X: vg.Points(5)}
	p.Add(lbl)
	p.X.Max = top * 1.15
	return saveRowChart(p, labels, file)
}

// latencyChart draws each row's median p50 and p99 on a logarithmic axis and saves it
// as a PNG.
func latencyChart(rows []row, file string) error {
	rows = chartRows(rows)
	if len(rows) == 0 {
		return nil
	}
	p := newRowChart("Latency under load: p50 (dot) to p99 (triangle), medians over rounds; Vigil's rows in blue",
		"milliseconds (logarithmic)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	var labels []string
	var p50, p99 plotter.XYs
	for i, r := range rows {
		a := float64(r.P50) / 1e6
		z := float64(r.P99) / 1e6
		a, z = math.Max(a, 1e-3), math.Max(z, 1e-3) // a log axis has no zero
		line, err := plotter.NewLine(plotter.XYs{{X: a, Y: float64(i)}, {X: z, Y: float64(i)}})
		if err != nil {
			return err
		}
		line.Color = otherColor
		if r.Vigil {
			line.Color = vigilColor
		}
		line.Width = vg.Points(2)
		p.Add(line)
		p50 = append(p50, plotter.XY{X: a, Y: float64(i)})
		p99 = append(p99, plotter.XY{X: z, Y: float64(i)})
		labels = append(labels, r.Label)
	}
	s50, err := plotter.NewScatter(p50)
	if err != nil {
		return err
	}
	s50.GlyphStyle.Shape = draw.CircleGlyph{}
	s50.GlyphStyle.Radius = vg.Points(3.5)
	s99, err := plotter.NewScatter(p99)
	if err != nil {
		return err
	}
	s99.GlyphStyle.Shape = draw.TriangleGlyph{}
	s99.GlyphStyle.Radius = vg.Points(3.5)
	s99.GlyphStyle.Color = p99Color
	p.Add(s50, s99)
	lo, hi := math.Inf(1), 0.0
	for i := range p50 {
		lo, hi = math.Min(lo, p50[i].X), math.Max(hi, p99[i].X)
	}
	p.X.Min, p.X.Max = lo/1.5, hi*1.5 // room for the glyphs at both ends
	return saveRowChart(p, labels, file)
}

// verticalGrid is a grid of the value axis only: horizontal lines would run through
// the rows.
func verticalGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Horizontal.Color = nil
	return g
}

// logTicks labels a logarithmic axis at 1, 2 and 5 times each power of ten, so that a
// range narrower than a decade still has labels (plot.LogTicks labels powers of ten
// only).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		for m := 1; m < 10; m++ {
			v := float64(m) * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// padRows leaves half a row of room above the top row and below the bottom one, so
// that bars and glyphs are not cut by the plot's edge.
func padRows(p *plot.Plot, n int) {
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
}
