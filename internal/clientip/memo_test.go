package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"testing"
)

// The memo of recent peers answers as parsing does: for the same RemoteAddr again,
// for one that differs only in its port or its length, and for forms it does not
// keep (IPv6, over-long strings, junk).
func TestPeerMemoAnswersAsParsing(t *testing.T) {
	r := mustNew(t, Config{})
	addrs := []string{
		"192.0.2.1:1234", "192.0.2.1:1235", "192.0.2.1:123", "192.0.2.10:1234", "10.0.0.1:1",
		"255.255.255.255:65535", "[2001:db8::1]:443", "[::ffff:192.0.2.1]:80", "192.0.2.1",
		"", "@", "/tmp/sock", "1.2.3.4:5\x00", "1.2.3.4:05", "300.1.1.1:1", "1.2.3.4:99999999999999999999",
	}
	for round := range 3 {
		for _, s := range addrs {
			want := parseRemoteAddr(s)
			if got := r.ClientIP(&http.Request{RemoteAddr: s}); got != want {
				t.Errorf("round %d: ClientIP(RemoteAddr %q) = %v, want %v", round, s, got, want)
			}
		}
	}
}

// Many goroutines resolving many peers that share slots never get another peer's
// address (run with -race: the slots are sequence locks of atomics).
func TestPeerMemoConcurrent(t *testing.T) {
	r := mustNew(t, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4000 {
				n := (i*7 + g) % 500 // 500 peers over 64 slots: constant eviction
				s := fmt.Sprintf("10.%d.%d.%d:%d", g, n/256, n%256, 1000+n)
				want := netip.AddrFrom4([4]byte{10, byte(g), byte(n / 256), byte(n % 256)})
				if got := r.ClientIP(&http.Request{RemoteAddr: s}); got != want {
					errs <- fmt.Errorf("ClientIP(%q) = %v, want %v", s, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
