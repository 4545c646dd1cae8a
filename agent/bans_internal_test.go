package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/policy"
)

// banGuard is a Guard that records the ban calls it gets and refuses the bans named
// in refuse. It stands in for *vigil.Guard to see which calls applyBans makes; the
// tests in bans_test.go use the real guard.
type banGuard struct {
	calls  []string
	refuse map[string]bool
}

func (g *banGuard) SetPolicy(policy.Policy) error { return nil }
func (g *banGuard) Policy() policy.Policy         { return policy.Policy{} }

func (g *banGuard) Ban(_ context.Context, b vigil.Ban) error {
	g.calls = append(g.calls, fmt.Sprintf("ban %s %s %s", b.Kind, b.Value, b.Reason))
	if g.refuse[b.Value] {
		return errors.New("refused")
	}
	return nil
}

func (g *banGuard) Unban(_ context.Context, kind vigil.BanKind, value string) (bool, error) {
	g.calls = append(g.calls, fmt.Sprintf("unban %s %s", kind, value))
	if g.refuse[value] {
		return false, errors.New("refused")
	}
	return true, nil
}

func (g *banGuard) take() []string {
	c := g.calls
	g.calls = nil
	slices.Sort(c)
	return c
}

func TestApplyBans(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{Endpoint: "http://127.0.0.1:1", Key: "k", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.queue.Close() })
	g := &banGuard{refuse: map[string]bool{}}
	ctx := context.Background()
	hour := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Minute)

	steps := []struct {
		name    string
		version int64
		bans    []wire.Ban
		refuse  []string
		calls   []string
		active  int64
	}{
		{"first", 2, []wire.Ban{
			{Kind: "ip", Value: "192.0.2.1", Reason: "card testing"},
			{Kind: "cidr", Value: "198.51.100.7/24"},
			{Kind: "dna", Value: "d1-abc", Until: hour},
			{Kind: "ip", Value: "192.0.2.9", Until: past},
		}, nil, []string{
			"ban cidr 198.51.100.7/24 studio",
			"ban dna d1-abc studio",
			"ban ip 192.0.2.1 studio: card testing",
		}, 3},
		{"same_set_again", 3, []wire.Ban{
			{Kind: "ip", Value: "::ffff:192.0.2.1", Reason: "card testing"}, // another spelling
			{Kind: "cidr", Value: "198.51.100.0/24"},
			{Kind: "dna", Value: "d1-abc", Until: hour},
		}, nil, nil, 3},
		{"changed_and_lifted", 4, []wire.Ban{
			{Kind: "ip", Value: "192.0.2.1", Reason: "card testing", Until: hour}, // new end
			{Kind: "cidr", Value: "198.51.100.0/24"},
		}, nil, []string{
			"ban ip 192.0.2.1 studio: card testing",
			"unban dna d1-abc",
		}, 2},
		{"older_snapshot_ignored", 3, nil, nil, nil, 2},
		{"refused_ban_and_unban", 5, []wire.Ban{
			{Kind: "ip", Value: "192.0.2.5"},
		}, []string{"192.0.2.5", "198.51.100.0/24"}, []string{
			"ban ip 192.0.2.5 studio",
			"unban cidr 198.51.100.0/24",
			"unban ip 192.0.2.1",
		}, 1}, // the network, still placed; 192.0.2.5 waits for the next snapshot
		{"retried", 6, []wire.Ban{
			{Kind: "ip", Value: "192.0.2.5"},
		}, nil, []string{
			"ban ip 192.0.2.5 studio",
			"unban cidr 198.51.100.0/24",
		}, 1},
		{"all_lifted", 7, nil, nil, []string{"unban ip 192.0.2.5"}, 0},
	}
	for _, s := range steps {
		g.refuse = map[string]bool{}
		for _, v := range s.refuse {
			g.refuse[v] = true
		}
		a.applyBans(ctx, g, s.version, s.bans, true)
		if diff := cmp.Diff(s.calls, g.take()); diff != "" {
			t.Errorf("%s: guard calls (-want +got):\n%s", s.name, diff)
		}
		if got := a.Stats().BansActive; got != s.active {
			t.Errorf("%s: %d bans active, want %d", s.name, got, s.active)
		}
	}
	if st := a.Stats(); st.BansVersion != 7 || st.BanErrors != 2 {
		t.Errorf("version %d, errors %d; want 7 and 2", st.BansVersion, st.BanErrors)
	}
}

// A ban that ended is not lifted: its target may carry a newer ban of the guard's
// own, placed after Studio's ended.
func TestApplyBansEndedNotLifted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, err := New(Config{Endpoint: "http://127.0.0.1:1", Key: "k"})
		if err != nil {
			t.Fatal(err)
		}
		g := &banGuard{}
		ctx := context.Background()
		a.applyBans(ctx, g, 1, []wire.Ban{
			{Kind: "ip", Value: "192.0.2.1", Until: time.Now().Add(time.Minute)},
			{Kind: "ip", Value: "192.0.2.2", Until: time.Now().Add(time.Hour)},
		}, true)
		if c := g.take(); len(c) != 2 {
			t.Fatalf("calls %v", c)
		}
		time.Sleep(time.Minute)
		// The snapshot still names the ended ban, or no longer does: either way it
		// is dropped without a call.
		a.applyBans(ctx, g, 2, []wire.Ban{{Kind: "ip", Value: "192.0.2.1", Until: time.Now()}}, true)
		if c := g.take(); !cmp.Equal(c, []string{"unban ip 192.0.2.2"}) {
			t.Errorf("calls %v; want only the unended ban lifted", c)
		}
		if n := a.Stats().BansActive; n != 0 {
			t.Errorf("%d bans active", n)
		}
	})
}

// The kept set is what a new agent places; a damaged file is ignored.
func TestRestoreBans(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	hour := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	{
		a, err := New(Config{Endpoint: "http://127.0.0.1:1", Key: "k", Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		a.applyBans(ctx, &banGuard{}, 4, []wire.Ban{
			{Kind: "ip", Value: "192.0.2.1", Reason: "r", Until: hour},
			{Kind: "dna", Value: "d1-abc"},
		}, true)
		a.queue.Close()
	}
	a, err := New(Config{Endpoint: "http://127.0.0.1:1", Key: "k", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	g := &banGuard{}
	a.restoreBans(ctx, g)
	if diff := cmp.Diff([]string{"ban dna d1-abc studio", "ban ip 192.0.2.1 studio: r"}, g.take()); diff != "" {
		t.Errorf("restored calls (-want +got):\n%s", diff)
	}
	if st := a.Stats(); st.BansVersion != 4 || st.BansActive != 2 {
		t.Errorf("restored: version %d, %d active", st.BansVersion, st.BansActive)
	}
	// The same snapshot from Studio changes nothing.
	a.applyBans(ctx, g, 4, []wire.Ban{{Kind: "ip", Value: "192.0.2.1", Reason: "r", Until: hour}, {Kind: "dna", Value: "d1-abc"}}, true)
	if c := g.take(); len(c) != 0 {
		t.Errorf("the kept snapshot applied again: %v", c)
	}
	a.queue.Close()

	if err := os.WriteFile(filepath.Join(dir, bansFile), []byte(`{"version":4,"bans":[`), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Endpoint: "http://127.0.0.1:1", Key: "k", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.queue.Close()
	b.restoreBans(ctx, g)
	if c := g.take(); len(c) != 0 || b.Stats().BansVersion != 0 {
		t.Errorf("a damaged file placed bans: %v", c)
	}
}
