package redisstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/selfsigned"
)

// A rediss:// URL reaches a Redis that serves TLS only, and the store works through it.
func TestParseURLRediss(t *testing.T) {
	bin, err := exec.LookPath(redisBinary)
	if err != nil {
		unavailable(t, "no %s binary: %v", redisBinary, err)
	}
	dir := t.TempDir()
	cert, err := selfsigned.Certificate("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", certFile,
		"--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			ok := ping(c)
			c.Close()
			if ok {
				break
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis-server with TLS did not answer on %s: %s", addr, lastLines(string(log), 5))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The certificate is self-signed: the URL turns verification off, as a test of a
	// private deployment would; a deployment with a real certificate leaves it on.
	client, err := ParseURL("rediss://" + addr + "?skip_verify=true")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING over rediss://: %v", err)
	}
	// Plain redis:// to the same port fails: the connection really is TLS.
	plain, err := ParseURL("redis://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Fatal("plain redis:// reached a TLS-only port")
	}

	s := runStore(t, client, Config{KeyPrefix: "vigiltest:tls:"})
	ban := vigil.Ban{Kind: vigil.BanIP, Value: "203.0.113.80", Reason: "manual", Until: time.Now().Add(time.Minute)}
	if err := s.Ban(ctx, ban); err != nil {
		t.Fatal(err)
	}
	got, err := client.Exists(ctx, s.keys.ban("ip:203.0.113.80")).Result()
	if err != nil || got != 1 {
		t.Errorf("the ban is not in Redis over TLS: %d, %v", got, err)
	}
	if _, ok, _ := s.Banned(ctx, netip.MustParseAddr("203.0.113.80"), ""); !ok {
		t.Error("the ban does not hold locally")
	}
}
