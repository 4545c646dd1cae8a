package main

import (
	"context"
	"slices"

	"github.com/vigilhq/vigil/fraud"
	"github.com/vigilhq/vigil/internal/fpdata"
	"github.com/vigilhq/vigil/internal/knownclients"
)

// This file holds the row groups that are not requests, so have no peer: the client
// families of fingerprints and disposable e-mail domains.

// only is a table with one Vigil column.
func only(key, group, title, col, note string, lines []Line) *Table {
	return &Table{Key: key, Group: group, Title: title, Note: note, Cols: []string{col}, Vigil: 0, Peer: -1, Lines: lines}
}

// single is a one-column line.
func single(name string, r Rate, better Better) Line {
	return Line{Name: name, N: r.N, Cells: []*Rate{&r}, Better: better}
}

// identifies reports whether matches name family: it is among them, and every match
// belongs to family's group (Edge's TLS is Chrome's, so a Chrome-group answer for an
// Edge signature is right; a Firefox one beside it is not).
func identifies(tb *knownclients.Table, matches []knownclients.Match, family string) bool {
	f, ok := tb.Family(family)
	if !ok || len(matches) == 0 {
		return false
	}
	found := false
	for _, m := range matches {
		if m.Group != f.Group {
			return false
		}
		found = found || m.Family == family
	}
	return found
}

// evalFingerprints measures Vigil's client-family classification (the known-clients
// table) on fingerprints.jsonl: each curl-impersonate browser signature by each layer
// of evidence and by the consistency check the spoofing detector makes, and each of
// FoxIO's labelled JA4 values.
func evalFingerprints(rows []fpRow) (*Table, error) {
	tb := knownclients.Default()
	var ja4, ja4b, pseudo, order, consistent Rate
	perFamily := map[string]*Rate{}
	var families []string
	for i := range rows {
		r := &rows[i]
		if r.Kind != fpdata.KindSignature {
			continue
		}
		j, err := r.SignatureJA4()
		if err != nil {
			return nil, err
		}
		p, names := r.PseudoOrder(), r.HeaderNames()
		okJA4 := identifies(tb, tb.ByJA4(j), r.Browser)
		ja4.add(okJA4)
		ja4b.add(len(j) >= 23 && identifies(tb, tb.ByJA4B(j[11:23]), r.Browser))
		pseudo.add(identifies(tb, tb.ByH2("", p), r.Browser))
		order.add(identifies(tb, tb.ByHeaderOrder("h2", names), r.Browser))
		a := tb.Compare(knownclients.Claim{Family: r.Browser}, knownclients.Evidence{
			JA4: j, PseudoOrder: p, Proto: "h2", HeaderNames: names, RequestKind: knownclients.RequestNavigation,
		})
		consistent.add(a.Verdict == knownclients.VerdictConsistent)
		if perFamily[r.Browser] == nil {
			perFamily[r.Browser] = &Rate{}
			families = append(families, r.Browser)
		}
		perFamily[r.Browser].add(okJA4)
	}
	known, other := foxio(tb, rows)
	lines := []Line{
		single("browser signatures: family from the exact JA4", ja4, Higher),
		single("browser signatures: family from JA4_b (TLS stack)", ja4b, Higher),
		single("browser signatures: family from the HTTP/2 pseudo-header order", pseudo, Higher),
		single("browser signatures: family from the HTTP/2 header order", order, Higher),
		single("browser signatures: all layers consistent with the browser's own User-Agent", consistent, Higher),
	}
	slices.Sort(families)
	for _, f := range families {
		lines = append(lines, single("browser signatures, "+f+": family from the exact JA4", *perFamily[f], Higher))
	}
	lines = append(lines,
		single("FoxIO labelled JA4 of a known family: that family first", known, Higher),
		single("FoxIO labelled JA4 of other clients (malware, VPN, IoT): no family claimed", other, Higher),
	)
	return only("fingerprints", "Client fingerprints", "Client-family accuracy on fingerprint signatures", "Vigil: right family", "", lines), nil
}

// foxio counts FoxIO's distinct labelled JA4 values: those whose labels all name one
// known family must resolve to it first; the others must resolve to none.
func foxio(tb *knownclients.Table, rows []fpRow) (known, other Rate) {
	fams := map[string]map[string]bool{} // JA4 → families, "" for a label of no known family
	var order []string
	for _, r := range rows {
		if r.Kind != fpdata.KindJA4Map {
			continue
		}
		if fams[r.JA4] == nil {
			fams[r.JA4] = map[string]bool{}
			order = append(order, r.JA4)
		}
		fams[r.JA4][fpdata.Family(r.Label())] = true
	}
	for _, j := range order {
		ms := tb.ByJA4(j)
		if len(fams[j]) != 1 || fams[j][""] {
			other.add(len(ms) == 0)
			continue
		}
		for want := range fams[j] { // the one family
			known.add(len(ms) > 0 && ms[0].Family == want)
		}
	}
	return known, other
}

// evalDisposable runs every address someone@<domain> of the disposable list and of
// the allowlist through Vigil's e-mail analyzer, offline.
func evalDisposable(ctx context.Context, disposable, allowed []string) (*Table, error) {
	a, err := fraud.NewEmailAnalyzer(fraud.EmailConfig{Offline: true})
	if err != nil {
		return nil, err
	}
	var recall, fp Rate
	for _, d := range disposable {
		r := a.AnalyzeEmail(ctx, "someone@"+d)
		recall.add(r.Disposable)
	}
	for _, d := range allowed {
		r := a.AnalyzeEmail(ctx, "someone@"+d)
		fp.add(r.Disposable || !r.Valid)
	}
	return only("disposable", "Disposable e-mail domains", "Disposable e-mail domains", "Vigil", "", []Line{
		single("disposable_domains.txt flagged disposable (recall)", recall, Higher),
		single("disposable_allowlist.txt flagged disposable or invalid (false positives)", fp, Lower),
	}), nil
}
