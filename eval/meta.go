package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// meta is what the report says about the run: what was measured, on what, with what.
type meta struct {
	Commit, Date string // the measured commit, and its committer date (YYYY-MM-DD)
	Dirty        bool   // the work tree had changes outside the report's own files
	Machine      string
	Go           string
	Peers        []string // module@version of the peer's modules
	Data         []dataFile
	Upstreams    []upstream
}

// dataFile is a data file read, with its SHA-256.
type dataFile struct{ Name, SHA256 string }

// gitMeta asks git about the checkout that holds the working directory. Without git
// (or outside a checkout) the commit is "unknown".
func gitMeta(ctx context.Context) (commit, date string, dirty bool) {
	out := func(args ...string) string {
		b, err := exec.CommandContext(ctx, "git", args...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	commit, date = out("rev-parse", "--short=12", "HEAD"), out("log", "-1", "--format=%cs")
	if commit == "" {
		return "unknown", "unknown", false
	}
	top := out("rev-parse", "--show-toplevel")
	st := out("-C", top, "status", "--porcelain", "--untracked-files=no", "--",
		".", ":(exclude)docs/detection.md", ":(exclude)docs/img/detection-*.png")
	return commit, date, st != ""
}

// machine describes the computer: CPU model and count, memory, operating system.
func machine() string {
	cpu := firstValue("/proc/cpuinfo", "model name")
	if cpu == "" {
		cpu = runtime.GOARCH
	}
	s := fmt.Sprintf("%s, %d logical CPUs", cpu, runtime.NumCPU())
	if kb, err := strconv.Atoi(strings.Fields(firstValue("/proc/meminfo", "MemTotal") + " 0")[0]); err == nil && kb > 0 {
		s += fmt.Sprintf(", %.1f GiB memory", float64(kb)/(1<<20))
	}
	osName := strings.Trim(firstValue("/etc/os-release", "PRETTY_NAME"), `"`)
	if osName == "" {
		osName = runtime.GOOS
	}
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		osName += ", Linux " + strings.TrimSpace(string(k))
	}
	return s + "; " + osName
}

// firstValue returns the value of the first "key: value" or "key=value" line of file
// whose key is key, "" when there is none.
func firstValue(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			k, v, ok = strings.Cut(sc.Text(), "=")
		}
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// peerVersions returns the versions of the peer's modules this binary was built with.
func peerVersions() []string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	var out []string
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/corazawaf/coraza/v3", "github.com/corazawaf/coraza-coreruleset/v4":
			out = append(out, d.Path+" "+d.Version)
		}
	}
	return out
}
