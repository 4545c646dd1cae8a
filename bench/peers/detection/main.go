// Command detection sets Vigil's attack detection beside OWASP Coraza v3 with the Core
// Rule Set on the same requests: the CRS regression rows of the shared reference data
// (../shared/data/requests.jsonl), each parsed as net/http's server parses it. A row
// counts as caught when net/http's server would refuse it, or when the detector blocks
// it: Vigil's attack scanner with a finding at or above the default block threshold
// (as bench/detection counts), Coraza when CRS's anomaly score blocks the request
// (paranoia level 1, the recommended configuration, SecRuleEngine On).
//
// These rows are CRS's own regression tests, written for CRS's rules, so Coraza's
// detection on them is circular and near complete by construction at the paranoia level
// each row names; at paranoia level 1, rows written for levels 2–4 are expected to pass.
// The false-positive rate is over the benign ground truth (label benign and
// desc_says_fp, 593 rows): requests CRS itself must not block.
//
// With -payloads, it also injects every distinct attack payload of payloads.jsonl
// (templates' {FILE} as etc/passwd; whole-document payloads skipped) into a query
// parameter and into a JSON body, as bench/detection does, and counts per category
// what each catches.
//
//	go run ./detection [-data ../../../shared/data/requests.jsonl] [-payloads ../../../shared/data/payloads.jsonl]   (from bench/peers)
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"

	txhttp "github.com/corazawaf/coraza/v3/http"

	"github.com/vigilhq/vigil/bench/peers/internal/crs"
	"github.com/vigilhq/vigil/internal/detect/attack"
	"github.com/vigilhq/vigil/internal/detect/attack/crseval"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "detection:", err)
		os.Exit(1)
	}
}

type counts struct{ vigil, coraza, n int }

func pct(k, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(k)/float64(n))
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("detection", flag.ContinueOnError)
	data := fs.String("data", "../../../shared/data/requests.jsonl", "the CRS regression rows")
	payloads := fs.String("payloads", "", "also the attack payloads of this payloads.jsonl")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*data)
	if err != nil {
		return err
	}
	rows, err := crseval.LoadRows(f)
	f.Close()
	if err != nil {
		return err
	}
	scanner, err := attack.New(attack.Config{})
	if err != nil {
		return err
	}
	waf, err := crs.WAF()
	if err != nil {
		return err
	}
	blockedByCoraza := func(r *crseval.Row) bool {
		req, why := crseval.ParseRaw(r.Raw())
		if why != "" {
			return true
		}
		req.RemoteAddr = "192.0.2.1:40000"
		w := httptest.NewRecorder()
		txhttp.WrapHandler(waf, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
		})).ServeHTTP(w, req)
		return w.Code == http.StatusForbidden
	}
	fam, pl := map[string]*counts{}, map[string]*counts{}
	var all, benign counts
	for i := range rows {
		r := &rows[i]
		if !r.IsAttack() && !r.IsBenignTruth() {
			continue
		}
		v, c := crseval.Replay(scanner, r).Blocked, blockedByCoraza(r)
		add := func(k *counts) {
			k.n++
			if v {
				k.vigil++
			}
			if c {
				k.coraza++
			}
		}
		if !r.IsAttack() {
			add(&benign)
			continue
		}
		add(&all)
		for _, g := range []struct {
			m   map[string]*counts
			key string
		}{{fam, r.Family()}, {pl, r.PL()}} {
			if g.m[g.key] == nil {
				g.m[g.key] = &counts{}
			}
			add(g.m[g.key])
		}
	}
	table := func(title string, m map[string]*counts) {
		fmt.Fprintf(out, "\n| %s | rows | Vigil | Coraza + CRS (PL1) |\n|---|---:|---:|---:|\n", title)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return m[keys[i]].n > m[keys[j]].n || m[keys[i]].n == m[keys[j]].n && keys[i] < keys[j]
		})
		for _, k := range keys {
			c := m[k]
			fmt.Fprintf(out, "| %s | %d | %s | %s |\n", k, c.n, pct(c.vigil, c.n), pct(c.coraza, c.n))
		}
	}
	fmt.Fprintf(out, "CRS regression rows (%s): attacks caught, and benign ground truth caught (false positives)\n\n", *data)
	fmt.Fprintf(out, "| | rows | Vigil | Coraza + CRS (PL1) |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(out, "| attacks | %d | %s | %s |\n", all.n, pct(all.vigil, all.n), pct(all.coraza, all.n))
	fmt.Fprintf(out, "| benign (false positives) | %d | %s | %s |\n", benign.n, pct(benign.vigil, benign.n), pct(benign.coraza, benign.n))
	table("paranoia level", pl)
	table("family", fam)
	if *payloads == "" {
		return nil
	}
	f, err = os.Open(*payloads)
	if err != nil {
		return err
	}
	ps, err := crseval.LoadPayloads(f)
	f.Close()
	if err != nil {
		return err
	}
	blockedByVigil := func(req *http.Request) bool {
		fs, _ := scanner.ScanRequest(nil, req)
		for _, f := range fs {
			if f.Score >= crseval.BlockScore {
				return true
			}
		}
		return false
	}
	serveCoraza := func(req *http.Request) bool {
		req.RemoteAddr = "192.0.2.1:40000"
		w := httptest.NewRecorder()
		txhttp.WrapHandler(waf, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
		})).ServeHTTP(w, req)
		return w.Code == http.StatusForbidden
	}
	query, body := map[string]*counts{}, map[string]*counts{}
	seen := map[[2]string]bool{}
	for _, p := range ps {
		if p.Form == "document" || seen[[2]string{p.Category, p.Payload}] {
			continue
		}
		seen[[2]string{p.Category, p.Payload}] = true
		payload := strings.ReplaceAll(p.Payload, "{FILE}", "etc/passwd")
		mk := func(placement string) *http.Request {
			var req *http.Request
			if placement == "query" {
				req, _ = http.NewRequest("GET", "http://example.com/search?q="+url.QueryEscape(payload), nil)
			} else {
				b, _ := json.Marshal(map[string]string{"comment": payload})
				req, _ = http.NewRequest("POST", "http://example.com/api/comments", bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
			req.Header.Set("Accept", "*/*")
			return req
		}
		for _, g := range []struct {
			m         map[string]*counts
			placement string
		}{{query, "query"}, {body, "json"}} {
			k := g.m[p.Category]
			if k == nil {
				k = &counts{}
				g.m[p.Category] = k
			}
			k.n++
			if blockedByVigil(mk(g.placement)) {
				k.vigil++
			}
			if serveCoraza(mk(g.placement)) {
				k.coraza++
			}
		}
	}
	fmt.Fprintf(out, "\nAttack payloads (%s), distinct per category, caught\n", *payloads)
	table("payloads in a query parameter", query)
	table("payloads in a JSON body", body)
	return nil
}
