package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// microBench is one `go test -bench` run at the repository root.
type microBench struct {
	pkg   string // package pattern, relative to the root
	bench string // -bench regexp
}

// microBenches are cheap (about a minute together) and say something about the cost
// per request: the guard's allow and block paths (the root package's Guard
// benchmarks; BenchmarkGuardAllow is DESIGN §8's budget), and the attack scanner, the
// most expensive detector, on its own.
var microBenches = []microBench{
	{pkg: ".", bench: "Guard"},
	{pkg: "./internal/detect/attack", bench: "^BenchmarkScan(CleanGET|NavigationGET|JSONPost)$"},
}

// microCount is -count: enough runs for benchstat's confidence interval.
const microCount = 6

// runMicro runs the micro-benchmarks and summarises them with benchstat (pinned as a
// tool in bench/peers/go.mod).
func (b *bench) runMicro(ctx context.Context) micro {
	var m micro
	var raw bytes.Buffer
	for _, mb := range microBenches {
		args := []string{"test", "-run", "^$", "-bench", mb.bench, "-benchmem", "-count", fmt.Sprint(microCount), mb.pkg}
		m.Commands = append(m.Commands, "go "+shellJoin(args))
		fmt.Fprintf(b.stderr, "scoreboard: go %s\n", shellJoin(args))
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = b.root
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = b.stderr
		if err := cmd.Run(); err != nil {
			m.Err = fmt.Sprintf("`go %s` failed: %v", shellJoin(args), err)
			return m
		}
		raw.Write(out.Bytes())
	}
	file := filepath.Join(b.work, "micro.txt")
	if err := os.WriteFile(file, raw.Bytes(), 0o644); err != nil {
		m.Err = err.Error()
		return m
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "benchstat", "this run="+file)
	cmd.Dir = b.peers
	cmd.Stderr = b.stderr
	out, err := cmd.Output()
	if err != nil {
		m.Err = fmt.Sprintf("`go tool benchstat` failed: %v", err)
		return m
	}
	m.Benchstat = strings.ReplaceAll(string(out), file, "micro.txt")
	return m
}

// shellJoin quotes the arguments that need it for a POSIX shell.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " ^$|()*?[]{}'\"\\&;<>#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
