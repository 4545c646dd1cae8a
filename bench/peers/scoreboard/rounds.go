package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runRounds measures every configuration of cs in each of the rounds, rotating the
// order by one each round, and returns the samples. It stops early only when ctx ends.
func (b *bench) runRounds(ctx context.Context, cs []config) ([]sample, error) {
	var samples []sample
	start := time.Now()
	total := b.settings.Rounds * len(cs)
	for round := 1; round <= b.settings.Rounds; round++ {
		for i := range cs {
			c := cs[(i+round-1)%len(cs)]
			s, err := b.measure(ctx, c, round)
			if err != nil {
				return samples, err
			}
			samples = append(samples, s)
			b.progress(s, len(samples), total, time.Since(start), samples)
		}
	}
	return samples, nil
}

// progress prints one measured round to stderr.
func (b *bench) progress(s sample, done, total int, elapsed time.Duration, samples []sample) {
	prefix := fmt.Sprintf("scoreboard: [%d/%d %s] round %d %-24s", done, total, elapsed.Round(time.Second), s.Round, s.Config)
	if s.Err != "" {
		fmt.Fprintf(b.stderr, "%s left out: %s\n", prefix, s.Err)
		return
	}
	ratio := ""
	if c, _ := configByName(s.Config); c.Baseline != "" {
		for _, o := range samples {
			if o.Config == c.Baseline && o.Round == s.Round && o.Err == "" && o.Result.RPS > 0 {
				ratio = fmt.Sprintf(", %.3f of %s", s.Result.RPS/o.Result.RPS, c.Baseline)
			}
		}
	}
	fmt.Fprintf(b.stderr, "%s %9.0f req/s, p50 %s, p99 %s%s\n", prefix, s.Result.RPS, fmtDur(s.Result.P50), fmtDur(s.Result.P99), ratio)
}

// measure runs one round of c: fresh processes, warm-up, measured load, stop. A
// round that cannot be measured is returned with its reason in Err; the error is for
// ctx ending.
func (b *bench) measure(ctx context.Context, c config, round int) (sample, error) {
	s := sample{Round: round, Config: c.Name}
	procs, err := b.startAll(ctx, c)
	defer stopAll(procs)
	if err != nil {
		s.Err = err.Error()
		return s, ctx.Err()
	}
	if _, err := b.wrk(ctx, c, b.settings.Warmup); err != nil {
		s.Err = "warm-up: " + err.Error()
		return s, ctx.Err()
	}
	out, err := b.wrk(ctx, c, b.settings.Duration)
	if err != nil {
		s.Err = err.Error()
		return s, ctx.Err()
	}
	r, err := parseWrk(out)
	switch {
	case err != nil:
		s.Err = err.Error()
	case r.Non2xx > 0:
		s.Err = fmt.Sprintf("round %d: %d of %d responses were not 2xx", round, r.Non2xx, r.Requests)
	case r.Requests == 0:
		s.Err = fmt.Sprintf("round %d: no request completed", round)
	}
	s.Result = r
	return s, ctx.Err()
}

// wrk loads the row's server for d and returns wrk's output.
func (b *bench) wrk(ctx context.Context, c config, d time.Duration) (string, error) {
	script, scheme := "browser.lua", "http"
	if c.TLS {
		script, scheme = "tls.lua", "https"
	}
	argv := b.pinned(b.settings.WrkCPU, []string{"wrk",
		fmt.Sprintf("-t%d", b.settings.Threads), fmt.Sprintf("-c%d", b.settings.Connections),
		fmt.Sprintf("-d%ds", int(d/time.Second)), "--latency",
		"-s", filepath.Join(b.root, "bench", "load", script), scheme + "://" + targetAddr + "/"})
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("wrk: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// proc is a running server-side process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // its stdout and stderr
	done chan error
}

// startAll starts the row's processes in order, each once the one before accepts
// connections. On error it returns the processes started so far, for stopAll.
func (b *bench) startAll(ctx context.Context, c config) ([]*proc, error) {
	var procs []*proc
	for i, l := range b.launches(c) {
		p, err := b.start(ctx, l, fmt.Sprintf("%s.%d.log", c.Name, i))
		if p != nil {
			procs = append(procs, p)
		}
		if err != nil {
			return procs, err
		}
	}
	return procs, nil
}

// start starts l on the server CPU with GOMAXPROCS=1 and waits until its address
// accepts connections.
func (b *bench) start(ctx context.Context, l launch, logName string) (*proc, error) {
	if conn, err := net.DialTimeout("tcp", l.addr, time.Second); err == nil {
		conn.Close()
		return nil, fmt.Errorf("%s: something else already listens on %s", l.name, l.addr)
	}
	logPath := filepath.Join(b.work, logName)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	argv := b.pinned(b.settings.ServerCPU, l.argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	p := &proc{name: l.name, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if conn, err := net.DialTimeout("tcp", l.addr, time.Second); err == nil {
			conn.Close()
			return p, nil
		}
		select {
		case err := <-p.done:
			p.done <- err // for stop
			return p, fmt.Errorf("%s exited before listening (%v): %s", l.name, err, tail(readFile(logPath), 400))
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return p, fmt.Errorf("%s: nothing listening on %s after a minute: %s", l.name, l.addr, tail(readFile(logPath), 400))
		}
	}
}

// stopAll stops procs, last first (the proxy before its upstream).
func stopAll(procs []*proc) {
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop()
	}
}

// stop asks the process to shut down (SIGTERM) and kills it after ten seconds.
func (p *proc) stop() {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail is the end of s, at most n bytes, on one line.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.ReplaceAll(s, "\n", " | ")
}
