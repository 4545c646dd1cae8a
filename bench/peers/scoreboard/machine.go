package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/redisstore"
)

// machine describes where the numbers were measured.
type machine struct {
	CPU        string
	Cores      int
	Kernel     string
	Go         string
	Wrk        string
	Nginx      string
	Redis      string
	LoadBefore string // /proc/loadavg's first three fields at the start
	LoadAfter  string // … and at the end
}

// table is the machine as rows of a two-column table.
func (m machine) table() [][2]string {
	rows := [][2]string{
		{"CPU", m.CPU},
		{"cores", strconv.Itoa(m.Cores)},
		{"kernel", m.Kernel},
		{"Go", m.Go},
		{"wrk", m.Wrk},
		{"nginx", m.Nginx},
		{"Redis", m.Redis},
		{"load average (1, 5, 15 min) before", m.LoadBefore},
		{"load average after", m.LoadAfter},
	}
	out := rows[:0]
	for _, r := range rows {
		if r[1] != "" {
			out = append(out, r)
		}
	}
	return out
}

// describeMachine reads what it can of the machine; what it cannot read stays empty.
// nginxBin is empty when no nginx row runs; redisURL is empty when no Redis row runs.
func describeMachine(ctx context.Context, nginxBin, redisURL string) machine {
	m := machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		Kernel:     firstLine(readFile("/proc/sys/kernel/osrelease")),
		Go:         runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		LoadBefore: loadAverage(),
	}
	// wrk -v prints its version and usage and exits non-zero.
	out, _ := exec.CommandContext(ctx, "wrk", "-v").CombinedOutput()
	if f := strings.Fields(firstLine(string(out))); len(f) >= 2 && f[0] == "wrk" {
		m.Wrk = f[1]
	}
	if nginxBin != "" {
		out, _ := exec.CommandContext(ctx, nginxBin, "-v").CombinedOutput()
		m.Nginx = strings.TrimPrefix(firstLine(string(out)), "nginx version: ")
	}
	if redisURL != "" {
		m.Redis = redisVersion(ctx, redisURL)
	}
	return m
}

// redisPing reports whether Redis at url answers.
func redisPing(ctx context.Context, url string) error {
	client, err := redisstore.ParseURL(url)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return client.Ping(ctx).Err()
}

// redisVersion is Redis's redis_version, or empty.
func redisVersion(ctx context.Context, url string) string {
	client, err := redisstore.ParseURL(url)
	if err != nil {
		return ""
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	info, err := client.Info(ctx, "server").Result()
	if err != nil {
		return ""
	}
	for l := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
			return v
		}
	}
	return ""
}

func cpuModel() string {
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/cpuinfo")))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute averages.
func loadAverage() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func readFile(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return string(b)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}
