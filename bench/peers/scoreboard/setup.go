package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil/internal/selfsigned"
)

// Addresses on loopback: the row's server (what wrk loads) and, for the proxies, the
// upstream behind it. They differ from bench/load/run.sh's so that the two can share a
// machine without taking each other's port.
const (
	targetAddr   = "127.0.0.1:18098"
	upstreamAddr = "127.0.0.1:18099"
)

// bench is what the rounds need: built binaries, configuration files, settings.
type bench struct {
	root, peers string // the repository and bench/peers
	work        string // a temporary directory for binaries, configuration and logs
	stderr      io.Writer

	server, peer, vigil, nginx string // binaries; empty when no selected row needs one
	redisURL                   string
	settings                   settings
}

// prepare installs what is missing, builds the binaries the rows in cs need and writes
// their configuration files.
func (b *bench) prepare(ctx context.Context, cs []config) error {
	if _, err := ensureTool(ctx, b.stderr, "wrk", "wrk"); err != nil {
		return err
	}
	var needPeer, needVigil, needNginx, needTLS bool
	for _, c := range cs {
		needPeer = needPeer || c.Name == "httprate" || c.Name == "coraza"
		needVigil = needVigil || strings.HasPrefix(c.Name, "vigil-proxy")
		needNginx = needNginx || c.Nginx
		needTLS = needTLS || c.TLS
	}
	if needNginx {
		bin, err := ensureTool(ctx, b.stderr, "nginx", "nginx")
		if err != nil {
			return err
		}
		b.nginx = bin
	}
	b.server = filepath.Join(b.work, "server")
	if err := goBuild(ctx, b.stderr, b.root, b.server, "./bench/load/server"); err != nil {
		return err
	}
	if needPeer {
		b.peer = filepath.Join(b.work, "peer")
		if err := goBuild(ctx, b.stderr, b.peers, b.peer, "./server"); err != nil {
			return err
		}
	}
	if needVigil {
		b.vigil = filepath.Join(b.work, "vigil")
		if err := goBuild(ctx, b.stderr, b.root, b.vigil, "./cmd/vigil"); err != nil {
			return err
		}
	}
	if needTLS {
		if err := writeCertificate(filepath.Join(b.work, "cert.pem"), filepath.Join(b.work, "key.pem")); err != nil {
			return err
		}
	}
	if needVigil {
		if err := b.writeVigilConfigs(); err != nil {
			return err
		}
	}
	if needNginx {
		if err := b.writeNginxConfigs(); err != nil {
			return err
		}
	}
	return nil
}

// launch is one process of a row, ready once it accepts connections at addr.
type launch struct {
	name string
	argv []string
	addr string
}

// launches are the processes of row c in start order; the last listens at
// targetAddr.
func (b *bench) launches(c config) []launch {
	srv := func(args ...string) launch {
		return launch{name: "server", argv: append([]string{b.server, "-addr", targetAddr}, args...), addr: targetAddr}
	}
	upstream := launch{name: "upstream", argv: []string{b.server, "-addr", upstreamAddr}, addr: upstreamAddr}
	vigil := func(conf string) launch {
		return launch{name: "vigil proxy", addr: targetAddr, argv: []string{b.vigil, "proxy",
			"--config", filepath.Join(b.work, conf), "--listen", targetAddr, "--upstream", "http://" + upstreamAddr}}
	}
	nginx := func(conf string) launch {
		return launch{name: "nginx", addr: targetAddr, argv: []string{b.nginx,
			"-p", filepath.Join(b.work, "nginx"), "-c", filepath.Join(b.work, "nginx", conf), "-e", "stderr"}}
	}
	switch c.Name {
	case "bare":
		return []launch{srv()}
	case "guard-memory":
		return []launch{srv("-guard")}
	case "guard-redis-local-first":
		return []launch{srv("-guard", "-redis", b.redisURL, "-redis-mode", "local-first")}
	case "guard-redis-exact":
		return []launch{srv("-guard", "-redis", b.redisURL, "-redis-mode", "exact")}
	case "httprate", "coraza":
		return []launch{{name: c.Name, argv: []string{b.peer, "-addr", targetAddr, "-peer", c.Name}, addr: targetAddr}}
	case "vigil-proxy":
		return []launch{upstream, vigil("vigil.yaml")}
	case "nginx":
		return []launch{upstream, nginx("nginx.conf")}
	case "bare-tls":
		return []launch{srv("-tls")}
	case "vigil-proxy-tls":
		return []launch{upstream, vigil("vigil-tls.yaml")}
	case "nginx-tls":
		return []launch{upstream, nginx("nginx-tls.conf")}
	}
	panic("scoreboard: no launch for configuration " + c.Name)
}

// vigilConfig is `vigil proxy`'s configuration: the default, with the per-IP limit
// raised out of reach as bench/load/server raises the guard's (wrk sends everything
// from 127.0.0.1), and warnings only in its log.
const vigilConfig = `log_level: warn
guard:
  policy:
    rate_limit:
      per_ip: 100000000/1s
`

func (b *bench) writeVigilConfigs() error {
	tls := vigilConfig + fmt.Sprintf("tls:\n  cert_file: %s\n  key_file: %s\n",
		filepath.Join(b.work, "cert.pem"), filepath.Join(b.work, "key.pem"))
	if err := os.WriteFile(filepath.Join(b.work, "vigil.yaml"), []byte(vigilConfig), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.work, "vigil-tls.yaml"), []byte(tls), 0o600)
}

// nginxConfig renders nginx's configuration: one worker in the foreground, no access
// log, keep-alive to the upstream, and keepalive_requests raised on both sides so that
// no connection is closed during a round (the default closes every 1,000 requests,
// which the Go servers do not do). With cert it listens with TLS.
func nginxConfig(dir, listen, upstream, cert, key string) string {
	var ssl, certs string
	if cert != "" {
		ssl = " ssl"
		certs = fmt.Sprintf("\t\tssl_certificate %s;\n\t\tssl_certificate_key %s;\n\t\tssl_protocols TLSv1.2 TLSv1.3;\n", cert, key)
	}
	return fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid %[1]s/nginx.pid;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	upstream target { server %[3]s; keepalive 64; keepalive_requests 100000000; }
	server {
		listen %[2]s%[4]s;
		keepalive_requests 100000000;
%[5]s		location / {
			proxy_pass http://target;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
		}
	}
}
`, dir, listen, upstream, ssl, certs)
}

func (b *bench) writeNginxConfigs() error {
	dir := filepath.Join(b.work, "nginx")
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return err
	}
	plain := nginxConfig(dir, targetAddr, upstreamAddr, "", "")
	tls := nginxConfig(dir, targetAddr, upstreamAddr, filepath.Join(b.work, "cert.pem"), filepath.Join(b.work, "key.pem"))
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(plain), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "nginx-tls.conf"), []byte(tls), 0o644)
}

// writeCertificate writes a self-signed ECDSA P-256 certificate for 127.0.0.1 and its
// key as PEM files, for `vigil proxy` and nginx. bench/load/server -tls makes one of
// the same kind itself, so all TLS rows do the same handshake work.
func writeCertificate(certFile, keyFile string) error {
	cert, err := selfsigned.Certificate()
	if err != nil {
		return err
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return err
	}
	c := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	k := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
	if err := os.WriteFile(certFile, c, 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyFile, k, 0o600)
}

// goBuild builds pkg in dir to out.
func goBuild(ctx context.Context, stderr io.Writer, dir, out, pkg string) error {
	fmt.Fprintf(stderr, "scoreboard: building %s\n", pkg)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s in %s: %w", pkg, dir, err)
	}
	return nil
}

// ensureTool returns the path of name, installing Debian's package pkg with apt-get
// when it is missing (as bench/load/run.sh does; that needs root or sudo).
func ensureTool(ctx context.Context, stderr io.Writer, name, pkg string) (string, error) {
	if p, err := lookTool(name); err == nil {
		return p, nil
	}
	fmt.Fprintf(stderr, "scoreboard: %s not found; installing it (apt-get install -y %s)\n", name, pkg)
	apt := func(args ...string) error {
		if os.Geteuid() != 0 {
			args = append([]string{"apt-get"}, args...)
			return exec.CommandContext(ctx, "sudo", args...).Run()
		}
		return exec.CommandContext(ctx, "apt-get", args...).Run()
	}
	if err := apt("install", "-y", pkg); err != nil {
		if err := apt("update"); err != nil {
			return "", fmt.Errorf("%s is missing and apt-get update failed: %w", name, err)
		}
		if err := apt("install", "-y", pkg); err != nil {
			return "", fmt.Errorf("%s is missing and apt-get install %s failed: %w", name, pkg, err)
		}
	}
	return lookTool(name)
}

// lookTool finds name on PATH or in /usr/sbin (where Debian puts nginx, and which a
// non-root PATH may lack).
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join("/usr/sbin", name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found", name)
}

// canPin reports whether the server and wrk can have a CPU each.
func canPin() bool {
	_, err := exec.LookPath("taskset")
	return err == nil && runtime.NumCPU() >= 2
}

// niceAllowed reports whether processes may be started at niceness n (below the
// current one needs privilege). GNU nice runs the command even when it cannot change
// the priority, so this asks nice for the niceness it got.
func niceAllowed(ctx context.Context, n int) bool {
	cur, err1 := exec.CommandContext(ctx, "nice").Output()
	got, err2 := exec.CommandContext(ctx, "nice", "-n", strconv.Itoa(n), "nice").Output()
	if err := errors.Join(err1, err2); err != nil {
		return false
	}
	c, err1 := strconv.Atoi(strings.TrimSpace(string(cur)))
	g, err2 := strconv.Atoi(strings.TrimSpace(string(got)))
	return err1 == nil && err2 == nil && g == c+n
}

// pinned prefixes argv with nice and taskset as the settings allow.
func (b *bench) pinned(cpu int, argv []string) []string {
	var out []string
	if b.settings.Nice != 0 {
		out = append(out, "nice", "-n", strconv.Itoa(b.settings.Nice))
	}
	if b.settings.Pinned {
		out = append(out, "taskset", "-c", strconv.Itoa(cpu))
	}
	return append(out, argv...)
}
