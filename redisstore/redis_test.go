package redisstore

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The integration tests run against real Redis servers:
//
//   - the machine's Redis, at VIGIL_TEST_REDIS (default 127.0.0.1:6379), shared with
//     other users: every test works under a random key prefix and deletes its keys,
//     and nothing stops or reconfigures this server;
//   - servers a test starts itself from the redis-server binary, on free loopback ports
//     in temporary directories, killed when the test ends: for the outage tests
//     (which stop them), a three-master Cluster and a Sentinel.
//
// When a Redis or the binary is missing, the tests skip, unless the CI environment
// variable is set: then they fail.

// redisBinary is the server binary the tests start.
const redisBinary = "redis-server"

// unavailable skips the test, or fails it under CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format+" (CI is set: the integration tests need it)", args...)
	}
	t.Skipf(format, args...)
}

// sharedRedis returns a client of the machine's Redis, closed when the test ends.
func sharedRedis(t testing.TB) *redis.Client {
	t.Helper()
	addr := os.Getenv("VIGIL_TEST_REDIS")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unavailable(t, "no Redis at %s (set VIGIL_TEST_REDIS): %v", addr, err)
	}
	return c
}

// newClient returns another client of the server(s) c talks to, as a second instance
// of a service would have, closed when the test ends.
func newClient(t testing.TB, c redis.UniversalClient) redis.UniversalClient {
	t.Helper()
	var n redis.UniversalClient
	switch c := c.(type) {
	case *redis.Client:
		o := *c.Options()
		n = redis.NewClient(&o)
	case *redis.ClusterClient:
		o := *c.Options()
		n = redis.NewClusterClient(&o)
	default:
		t.Fatalf("client type %T", c)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// testPrefix returns a fresh key prefix and deletes every key under it when the test
// ends.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	prefix := "vigiltest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		del := func(ctx context.Context, c redis.UniversalClient) error {
			var cursor uint64
			for range 10_000 {
				keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
				if err != nil {
					return err
				}
				for _, k := range keys {
					c.Del(ctx, k) // one by one: keys of different slots
				}
				if cursor = next; cursor == 0 {
					return nil
				}
			}
			return nil
		}
		var err error
		if cc, ok := c.(*redis.ClusterClient); ok {
			err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return del(ctx, m) })
		} else {
			err = del(ctx, c)
		}
		if err != nil {
			t.Logf("deleting test keys under %s: %v", prefix, err)
		}
	})
	return prefix
}

// server is a redis-server this test process started.
type server struct {
	t       testing.TB
	port    int
	dir     string
	args    []string
	cmd     *exec.Cmd
	stopped chan struct{}
}

// freePort returns a loopback port nothing listens on, below 55535 so that a Cluster
// bus port (port + 10000) exists.
func freePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port >= 55535 {
			continue
		}
		if bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000)); err == nil {
			bus.Close()
			return port
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// startServer starts a redis-server on a free loopback port in a temporary directory
// and kills it when the test ends. extra are more configuration arguments.
func startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	return startProcess(t, func(port int, dir string) []string {
		return append([]string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
			"--logfile", filepath.Join(dir, "redis.log"),
		}, extra...)
	})
}

// startSentinel starts a Redis Sentinel watching the master at addr under the name
// "vigil" and kills it when the test ends.
func startSentinel(t testing.TB, master string) *server {
	t.Helper()
	host, port, _ := net.SplitHostPort(master)
	return startProcess(t, func(p int, dir string) []string {
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor vigil %s %s 1\n",
			p, dir, filepath.Join(dir, "redis.log"), host, port)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{conf, "--sentinel"}
	})
}

// startProcess starts redis-server with the arguments args returns for a free port and
// a temporary directory, retrying on another port if it fails to start.
func startProcess(t testing.TB, args func(port int, dir string) []string) *server {
	t.Helper()
	bin, err := exec.LookPath(redisBinary)
	if err != nil {
		unavailable(t, "no %s binary: %v", redisBinary, err)
	}
	s := &server{t: t, dir: t.TempDir()}
	for attempt := 0; ; attempt++ {
		s.port = freePort(t)
		s.args = args(s.port, s.dir)
		if err = s.start(bin); err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("starting %s: %v", redisBinary, err)
		}
	}
	t.Cleanup(s.Stop)
	return s
}

// Addr returns the server's address.
func (s *server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *server) start(bin string) error {
	cmd := exec.Command(bin, s.args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	stopped := make(chan struct{})
	go func() { cmd.Wait(); close(stopped) }()
	s.cmd, s.stopped = cmd, stopped
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-stopped:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server exited: %s", lastLines(string(log), 5))
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond); err == nil {
			ok := ping(c)
			c.Close()
			if ok {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.kill()
	return fmt.Errorf("redis-server on %s did not answer within 5 s", s.Addr())
}

// ping sends PING over c and reports whether PONG came back.
func ping(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.stopped
	s.cmd = nil
}

// Stop kills the server (as an outage would) and waits until it has exited.
func (s *server) Stop() { s.kill() }

// Restart starts the server again on the same port, empty.
func (s *server) Restart() {
	s.t.Helper()
	bin, _ := exec.LookPath(redisBinary)
	if err := s.start(bin); err != nil {
		s.t.Fatalf("restarting redis-server: %v", err)
	}
}

// startCluster starts a Redis Cluster of three masters without replicas on loopback
// and returns a client of it, closed when the test ends; the servers are killed then.
func startCluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		unavailable(t, "no redis-cli binary: %v", err)
	}
	var addrs []string
	for range 3 {
		s := startServer(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		addrs = append(addrs, s.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Wait until every node sees the cluster as ok.
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				c.Close()
				t.Fatalf("cluster node %s not ok: %v %s", a, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	cc, err := ParseURL(strings.Join(addrs, ","))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	c := cc.(*redis.ClusterClient)
	c.ReloadState(ctx)
	if err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() }); err != nil {
		t.Fatalf("cluster: %v", err)
	}
	return c
}
