package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigilhq/vigil/internal/fpdata"
)

// dataDir reads the shared reference data and remembers the SHA-256 of every file it
// read, for the report.
type dataDir struct {
	dir    string
	hashes map[string]string // file name → hex SHA-256
}

// read returns the contents of the data file name.
func (d *dataDir) read(name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, name))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	if d.hashes == nil {
		d.hashes = map[string]string{}
	}
	d.hashes[name] = hex.EncodeToString(sum[:])
	return b, nil
}

// load reads the data file name with parse.
func load[T any](d *dataDir, name string, parse func(io.Reader) ([]T, error)) ([]T, error) {
	b, err := d.read(name)
	if err != nil {
		return nil, err
	}
	v, err := parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// parseJSONL reads one T a line; blank lines are skipped.
func parseJSONL[T any](r io.Reader) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// parseLines reads one entry a line, blank lines skipped.
func parseLines(r io.Reader) ([]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

// scanPath is a row of scanpaths.jsonl.
type scanPath struct {
	Path   string `json:"path"`
	Label  string `json:"label"`
	Source string `json:"source"`
}

// uaRow is a row of ua.jsonl.
type uaRow struct {
	UA       string  `json:"ua"`
	Label    string  `json:"label"`
	Source   string  `json:"source"`
	Category *string `json:"category"`
}

// fpRow is a row of fingerprints.jsonl: curl-impersonate's signatures and FoxIO's
// labelled JA4 values, read as the known-clients tests read them.
type fpRow = fpdata.Row

// upstream is one upstream repository at one commit, from MANIFEST.tsv.
type upstream struct {
	Source, Repo, Commit, License string
	Files                         int
}

// parseManifest reads MANIFEST.tsv (source, repo, commit, path, file, bytes, sha256,
// license) into one entry per source, repository and commit, sorted.
func parseManifest(r io.Reader) ([]upstream, error) {
	sc := bufio.NewScanner(r)
	idx := map[[3]string]int{}
	var out []upstream
	for n := 1; sc.Scan(); n++ {
		f := strings.Split(sc.Text(), "\t")
		if n == 1 && len(f) > 0 && f[0] == "source" {
			continue // the header
		}
		if len(f) < 8 {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			return nil, fmt.Errorf("line %d: %d columns, want 8", n, len(f))
		}
		k := [3]string{f[0], f[1], f[2]}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, upstream{Source: f[0], Repo: f[1], Commit: f[2], License: f[7]})
		}
		out[i].Files++
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Repo != b.Repo {
			return a.Repo < b.Repo
		}
		if a.Commit != b.Commit {
			return a.Commit < b.Commit
		}
		return a.Source < b.Source
	})
	return out, nil
}
