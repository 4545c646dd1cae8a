// Command scoreboard measures Vigil's throughput and latency beside bare net/http and
// its peers — nginx's proxy_pass, OWASP Coraza v3 with the Core Rule Set, and
// go-chi/httprate — and writes docs/benchmarks.md with two charts
// (docs/img/bench-throughput.png, docs/img/bench-latency.png). It lives in the
// bench/peers module so that Vigil's own module does not depend on its peers.
//
// Usage:
//
//	cd bench/peers && go run ./scoreboard [-rounds 3] [-duration 8s] [-warmup 2s] [-only bare,nginx,…] [-micro=false] [-out ../../docs]
//
// # Method, and why
//
// Every row serves the same small fixed response from the same handler and is loaded
// with wrk on loopback with the same browser-like request; only what stands in front
// of the handler changes (see configs). The method is bench/load/run.sh's, widened to
// every row:
//
//   - Interleaved rounds. A round measures every configuration once, each with a fresh
//     server process, an unmeasured warm-up, then the measured load. Drift on the
//     machine (other load, CPU frequency, thermal state) then falls on every row
//     alike instead of on whichever ran last, and each round starts one configuration
//     further along so that no row always follows the same one.
//   - Per-round baselines. A row's ratio divides its req/s by its baseline's in the
//     same round (plain rows by bare net/http, TLS rows by bare net/http over TLS); the
//     report gives the median ratio and its min–max over rounds, whose spread is the
//     noise to read the ratio against. req/s and latency are medians over rounds,
//     which one disturbed round does not move.
//   - Pinning. The server side (server; or proxy and upstream together, so that a
//     proxy pays for its upstream's CPU as it would on one host) runs on one CPU with
//     GOMAXPROCS=1, and wrk on another (taskset). Unpinned, wrk and the server compete
//     for the same cores and the ratio mostly measures the scheduler. Both run at
//     nice -10 when that is allowed.
//   - Only allowed requests count. Rate limits are raised out of reach (not removed,
//     so every request still takes the limiter's step), and a round with any response
//     that is not 2xx is left out and reported, since it would measure refusals.
//
// The report's comparison sentences are generated from the numbers: for every pair of
// a Vigil row and the peer row doing comparable work, it says which is ahead on
// throughput, p50 and p99, and puts every loss first, in bold.
//
// Then it runs Go micro-benchmarks of the guard's hot path and summarises them with
// benchstat (a tool pinned in bench/peers/go.mod).
//
// Redis rows use $REDIS_URL (default 127.0.0.1:6379) and are left out, with a note in
// the report, when Redis does not answer. wrk and nginx are installed from Debian when
// missing. The command exits 1 when a round was left out or the micro-benchmarks
// failed, after writing the report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scoreboard:", err)
		os.Exit(1)
	}
}

// errLeftOut is returned after the report is written when a round was left out.
var errLeftOut = errors.New("some rounds were left out (see the report's notes)")

// run measures, then writes the report to the -out directory.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("scoreboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rounds := fs.Int("rounds", 3, "rounds; each measures every configuration once")
	duration := fs.Duration("duration", 8*time.Second, "measured load per configuration and round (whole seconds)")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured load before each measurement (whole seconds)")
	only := fs.String("only", "", "comma-separated configurations to measure (their baselines are added); all when empty: "+strings.Join(configNames(), ","))
	withMicro := fs.Bool("micro", true, "run the Go micro-benchmarks")
	out := fs.String("out", "../../docs", "directory of benchmarks.md; the charts go to its img/")
	connections := fs.Int("connections", 32, "wrk -c")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *rounds < 1 || *connections < 1 {
		return errors.New("-rounds and -connections must be positive")
	}
	if *duration < time.Second || *warmup < time.Second || *duration%time.Second != 0 || *warmup%time.Second != 0 {
		return errors.New("-duration and -warmup must be whole seconds, at least 1s")
	}
	cs, err := selectConfigs(*only)
	if err != nil {
		return err
	}
	started := time.Now()
	b, cleanup, err := newBench(stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	b.settings = settings{Rounds: *rounds, Duration: *duration, Warmup: *warmup, Connections: *connections, Threads: 1,
		Pinned: canPin(), ServerCPU: 0, WrkCPU: 1}
	if niceAllowed(ctx, -10) {
		b.settings.Nice = -10
	}
	var notes []string
	cs, notes = b.checkRedis(ctx, cs, notes)
	notes = append(notes, b.checkMachine()...)
	for _, n := range notes {
		fmt.Fprintln(stderr, "scoreboard: note:", n)
	}
	if err := b.prepare(ctx, cs); err != nil {
		return err
	}
	m := describeMachine(ctx, b.nginx, b.redisURL)
	fmt.Fprintf(stderr, "scoreboard: %d configurations × %d rounds of %s + %s warm-up\n", len(cs), *rounds, *duration, *warmup)
	samples, err := b.runRounds(ctx, cs)
	if err != nil {
		return err
	}
	m.LoadAfter = loadAverage()
	r := report{Started: started, Commit: gitCommit(ctx, b.root), Machine: m, Settings: b.settings,
		Rows: summarise(cs, samples), Notes: notes, Micro: micro{Skipped: !*withMicro}}
	if *withMicro {
		r.Micro = b.runMicro(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	r.Took = time.Since(started)
	if err := writeReport(r, *out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "scoreboard: wrote %s in %s\n", filepath.Join(*out, "benchmarks.md"), r.Took.Round(time.Second))
	for _, row := range r.Rows {
		if len(row.Problems) > 0 {
			return errLeftOut
		}
	}
	if r.Micro.Err != "" {
		return errors.New("micro-benchmarks: " + r.Micro.Err)
	}
	return nil
}

// newBench finds the repository from the working directory (bench/peers) and makes
// the temporary directory; cleanup removes it.
func newBench(stderr io.Writer) (*bench, func(), error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	root := filepath.Clean(filepath.Join(wd, "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "bench", "load", "browser.lua")); err != nil {
		return nil, nil, errors.New("run it from bench/peers: cd bench/peers && go run ./scoreboard")
	}
	work, err := os.MkdirTemp("", "scoreboard-")
	if err != nil {
		return nil, nil, err
	}
	b := &bench{root: root, peers: wd, work: work, stderr: stderr}
	return b, func() { os.RemoveAll(work) }, nil
}

// checkRedis sets the Redis URL and drops the Redis rows, with a note, when Redis
// does not answer.
func (b *bench) checkRedis(ctx context.Context, cs []config, notes []string) ([]config, []string) {
	var needed bool
	for _, c := range cs {
		needed = needed || c.Redis
	}
	if !needed {
		return cs, notes
	}
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "127.0.0.1:6379"
	}
	if err := redisPing(ctx, url); err != nil {
		notes = append(notes, fmt.Sprintf("Redis at %s (REDIS_URL) did not answer (%v): the Redis rows were not measured", url, err))
		var kept []config
		for _, c := range cs {
			if !c.Redis {
				kept = append(kept, c)
			}
		}
		return kept, notes
	}
	b.redisURL = url
	return cs, notes
}

// checkMachine warns about what makes the numbers less trustworthy.
func (b *bench) checkMachine() []string {
	var notes []string
	if !b.settings.Pinned {
		notes = append(notes, "fewer than two CPUs or no taskset: the server and wrk shared the CPUs")
	}
	if b.settings.Nice == 0 {
		notes = append(notes, "could not raise the priority (not root?): processes ran at normal priority")
	}
	var l1 float64
	if _, err := fmt.Sscan(loadAverage(), &l1); err == nil && l1 > float64(runtime.NumCPU())/2 {
		notes = append(notes, fmt.Sprintf("the machine was busy at the start (load average %.2f): other work on the pinned CPUs makes the numbers noisy", l1))
	}
	return notes
}

// gitCommit is the checkout's short commit, marked when the work tree has changes.
func gitCommit(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

// writeReport writes benchmarks.md and its charts into dir.
func writeReport(r report, dir string) error {
	img := filepath.Join(dir, "img")
	if err := os.MkdirAll(img, 0o755); err != nil {
		return err
	}
	if len(chartRows(r.Rows)) == 0 {
		return os.WriteFile(filepath.Join(dir, "benchmarks.md"), []byte(r.render()), 0o644)
	}
	if err := throughputChart(r.Rows, filepath.Join(img, "bench-throughput.png")); err != nil {
		return fmt.Errorf("throughput chart: %w", err)
	}
	if err := latencyChart(r.Rows, filepath.Join(img, "bench-latency.png")); err != nil {
		return fmt.Errorf("latency chart: %w", err)
	}
	r.Throughput, r.Latency = "img/bench-throughput.png", "img/bench-latency.png"
	return os.WriteFile(filepath.Join(dir, "benchmarks.md"), []byte(r.render()), 0o644)
}
