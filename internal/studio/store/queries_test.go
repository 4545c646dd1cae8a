package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/detect/spoof"
	"github.com/vigilhq/vigil/internal/studio/store"
)

// threatMix is the events TestTopPaths and TestTopReasons share: per path and
// reasons, how many events of each decision.
func threatMix() []store.Event {
	var evs []store.Event
	add := func(n, sec int, ip, wouldBe, path string, reasons ...string) {
		for range n {
			x := ev(sec, ip, wouldBe)
			x.Path, x.Reasons = path, reasons
			evs = append(evs, x)
		}
	}
	add(3, 10, "192.0.2.1", "block", "/login", "credential_stuffing", "headless")
	add(2, 11, "192.0.2.2", "challenge", "/login", "headless")
	add(4, 12, "192.0.2.3", "block", "/wp-admin", "scanner_path")
	add(20, 13, "192.0.2.4", "allow", "/", "headless") // allowed: not a threat
	add(5, 14, "192.0.2.5", "", "/ban", "ban")         // a ban event decides nothing
	add(6, -50, "192.0.2.6", "block", "/old", "old")   // before since
	add(7, 15, "", "block", "/no-ip", "no_ip")         // no client address
	add(2, 16, "192.0.2.7", "ratelimit", "/api", "rate", "rate", "headless")
	mon := ev(17, "192.0.2.8", "allow") // monitor mode: allowed, would have blocked
	mon.WouldBe, mon.Path, mon.Reasons = "block", "/api", []string{"sqli"}
	return append(evs, mon, mon)
}

func TestTopPaths(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		ingest(t, f.s, f.a.ID, "1", threatMix()...)
		noise := ev(12, "192.0.2.9", "block")
		noise.Path = "/elsewhere"
		ingest(t, f.s, f.b.ID, "1", noise, noise, noise, noise, noise, noise)
		got, err := f.s.TopPaths(ctx, f.a.ID, t0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Count{
			{Key: "/login", Events: 5, Blocked: 5},
			{Key: "/api", Events: 4, Blocked: 4}, // ties go to the lower path
			{Key: "/wp-admin", Events: 4, Blocked: 4},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TopPaths (-want +got):\n%s", diff)
		}
		got, err = f.s.TopPaths(ctx, f.a.ID, t0, 2)
		if err != nil || len(got) != 2 || got[1].Key != "/api" {
			t.Errorf("TopPaths(n=2) = %v, %v; want /login, /api", got, err)
		}
		got, err = f.s.TopPaths(ctx, f.a.ID, t0.Add(100e9), 0)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("TopPaths(later) = %#v, %v; want empty, not nil", got, err)
		}
	})
}

func TestTopReasons(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		ingest(t, f.s, f.a.ID, "1", threatMix()...)
		got, err := f.s.TopReasons(ctx, f.a.ID, t0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Count{
			{Key: "headless", Events: 7, Blocked: 7}, // 3 + 2 + 2; the allowed 20 do not count
			{Key: "scanner_path", Events: 4, Blocked: 4},
			{Key: "credential_stuffing", Events: 3, Blocked: 3},
			{Key: "rate", Events: 2, Blocked: 2}, // twice in each event, counted once
			{Key: "sqli", Events: 2, Blocked: 2},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TopReasons (-want +got):\n%s", diff)
		}
		got, err = f.s.TopReasons(ctx, f.a.ID, t0, 1)
		if err != nil || len(got) != 1 || got[0].Key != "headless" {
			t.Errorf("TopReasons(n=1) = %v, %v", got, err)
		}
		got, err = f.s.TopReasons(ctx, f.b.ID, t0, 0)
		if err != nil || len(got) != 0 {
			t.Errorf("TopReasons(empty project) = %v, %v", got, err)
		}
	})
}

func TestFamilies(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		var evs []store.Event
		add := func(n, sec int, family, kind, dna, wouldBe string, reasons ...string) {
			for range n {
				x := ev(sec, "192.0.2.1", wouldBe)
				x.Family, x.ClientKind, x.DNAID, x.Reasons = family, kind, dna, reasons
				evs = append(evs, x)
			}
		}
		add(3, 1, "chrome", "browser", "d1", "allow")
		add(2, 2, "chrome", "browser", "d2", "block", spoof.CodeSpoofed, "headless")
		add(1, 3, "chrome", "browser", "d3", "allow", spoof.CodeMismatch)
		add(1, 4, "chrome", "browser", "d3", "allow", spoof.CodeHeaderMismatch) // weak: not spoofed
		add(1, 4, "chrome", "browser", "", "allow")                             // no DNA ID: not a DNA
		add(2, 5, "chrome", "automation", "d4", "challenge", spoof.CodeSpoofed, spoof.CodeMismatch)
		add(5, 6, "curl", "library", "d5", "block")
		// Codes that only look like the spoof codes to a careless LIKE.
		add(2, 7, "python-requests", "library", "d6", "allow", "spoofedXclient", "x"+spoof.CodeSpoofed, spoof.CodeSpoofed+"s")
		add(9, 8, "", "", "d7", "block")            // no family: left out
		add(9, -10, "go", "library", "d8", "block") // before since
		ingest(t, f.s, f.a.ID, "1", evs...)
		other := ev(1, "192.0.2.1", "block")
		other.Family, other.ClientKind = "firefox", "browser"
		ingest(t, f.s, f.b.ID, "1", other)
		got, err := f.s.Families(ctx, f.a.ID, t0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Family{
			{Family: "chrome", Kind: "browser", DNAs: 3, Events: 8, Blocked: 2, Spoofed: 3},
			{Family: "curl", Kind: "library", DNAs: 1, Events: 5, Blocked: 5},
			{Family: "chrome", Kind: "automation", DNAs: 1, Events: 2, Blocked: 2, Spoofed: 2},
			{Family: "python-requests", Kind: "library", DNAs: 1, Events: 2},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Families (-want +got):\n%s", diff)
		}
		got, err = f.s.Families(ctx, f.a.ID, t0, 1)
		if err != nil || len(got) != 1 || got[0].Family != "chrome" {
			t.Errorf("Families(n=1) = %v, %v", got, err)
		}
	})
}
