package vigil_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
)

// An operator (or Studio, through package agent) bans a network; the next request from
// it is blocked, and lifting the ban lets it through again.
func ExampleGuard_Ban() {
	g, err := vigil.New(vigil.Config{})
	if err != nil {
		panic(err)
	}
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	get := func() int {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "198.51.100.20:40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	ctx := context.Background()

	err = g.Ban(ctx, vigil.Ban{Kind: vigil.BanCIDR, Value: "198.51.100.0/24", Reason: "scraper network", Until: time.Now().Add(time.Hour)})
	fmt.Println("banned:", err, get())
	lifted, err := g.Unban(ctx, vigil.BanCIDR, "198.51.100.0/24")
	fmt.Println("lifted:", lifted, err, get())
	// Output:
	// banned: <nil> 403
	// lifted: true <nil> 200
}

func TestGuardBanUnban(t *testing.T) {
	g, sk := newGuard(t, policy.Default(), nil)
	curl := map[string]string{"User-Agent": "curl/8.7.1", "Accept": "*/*"}
	dna := g.Check(step{target: "/", ip: "192.0.2.90"}.request()).DNA.ID
	if other := g.Check(step{target: "/", ip: "192.0.2.90", header: curl}.request()).DNA.ID; dna == "" || other == dna {
		t.Fatalf("the test's two clients have DNA IDs %q and %q; want two different ones", dna, other)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		kind      vigil.BanKind
		value     string
		canonical string    // the ban's value as stored and reported
		banned    step      // a request the ban covers
		free      step      // a request it does not
		until     time.Time // zero: no end
	}{
		{"ip", vigil.BanIP, "203.0.113.80", "203.0.113.80",
			step{ip: "203.0.113.80"}, step{ip: "203.0.113.81"}, time.Time{}},
		{"ip_mapped_spaces", vigil.BanIP, " ::ffff:203.0.113.82 ", "203.0.113.82",
			step{ip: "203.0.113.82"}, step{ip: "203.0.113.83"}, time.Now().Add(time.Hour)},
		{"ipv6", vigil.BanIP, "2001:db8::80", "2001:db8::80",
			step{ip: "[2001:db8::80]"}, step{ip: "[2001:db8::81]"}, time.Time{}},
		{"cidr", vigil.BanCIDR, "198.51.100.128/25", "198.51.100.128/25",
			step{ip: "198.51.100.200"}, step{ip: "198.51.100.5"}, time.Time{}},
		{"cidr_host_bits", vigil.BanCIDR, "2001:db8:5::1/48", "2001:db8:5::/48",
			step{ip: "[2001:db8:5:1::9]"}, step{ip: "[2001:db8:6::9]"}, time.Time{}},
		{"dna", vigil.BanDNA, dna, dna,
			step{ip: "192.0.2.91"}, step{ip: "192.0.2.92", header: curl}, time.Now().Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sk.byKind(vigil.EventBan))
			tc.banned.target, tc.banned.wantStatus, tc.banned.wantAction = "/", 200, "allow"
			tc.free.target, tc.free.wantStatus, tc.free.wantAction = "/", 200, "allow"
			run(t, g, sk, []step{tc.banned, tc.free})

			if err := g.Ban(ctx, vigil.Ban{Kind: tc.kind, Value: tc.value, Reason: "studio: test", Until: tc.until}); err != nil {
				t.Fatalf("Ban: %v", err)
			}
			blocked := tc.banned
			blocked.name, blocked.wantStatus, blocked.wantAction, blocked.wantSignal = "banned", 403, "block", "banned"
			tc.free.name = "not_covered"
			run(t, g, sk, []step{blocked, tc.free})

			evs := sk.byKind(vigil.EventBan)
			if len(evs) != before+1 {
				t.Fatalf("%d ban events after Ban, want %d", len(evs), before+1)
			}
			e := evs[len(evs)-1]
			want := vigil.Ban{Kind: tc.kind, Value: tc.canonical, Reason: "studio: test", Until: tc.until}
			if e.Ban == nil || *e.Ban != want {
				t.Errorf("event ban %+v, want %+v", e.Ban, want)
			}
			if !hasSignal(e.Verdict, "operator_ban") || e.Verdict.Action != vigil.ActionBlock || e.Time.IsZero() {
				t.Errorf("event verdict %+v at %v, want an operator_ban block", e.Verdict, e.Time)
			}
			if tc.kind == vigil.BanIP && e.Verdict.ClientIP.String() != tc.canonical {
				t.Errorf("event client IP %v, want %s", e.Verdict.ClientIP, tc.canonical)
			}

			lifted, err := g.Unban(ctx, tc.kind, tc.value)
			if err != nil || !lifted {
				t.Fatalf("Unban = %v, %v; want true", lifted, err)
			}
			tc.banned.name = "after_unban"
			run(t, g, sk, []step{tc.banned})
			if lifted, err := g.Unban(ctx, tc.kind, tc.canonical); err != nil || lifted {
				t.Errorf("second Unban = %v, %v; want false", lifted, err)
			}
			if n := len(sk.byKind(vigil.EventBan)); n != before+1 {
				t.Errorf("Unban recorded ban events: %d, want %d", n, before+1)
			}
		})
	}
}

func TestGuardBanInvalid(t *testing.T) {
	store := vigil.NewMemoryStore(vigil.MemoryStoreConfig{})
	g, sk := newGuard(t, policy.Default(), func(c *vigil.Config) { c.Store = store })
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		ban  vigil.Ban
		want string // in the error
	}{
		{"kind_missing", vigil.Ban{Value: "192.0.2.1"}, "kind missing"},
		{"kind_unknown", vigil.Ban{Kind: "asn", Value: "14061"}, `kind "asn"`},
		{"ip_not_address", vigil.Ban{Kind: vigil.BanIP, Value: "192.0.2.300"}, "not an address"},
		{"ip_is_prefix", vigil.Ban{Kind: vigil.BanIP, Value: "192.0.2.0/24"}, "not an address"},
		{"ip_zone", vigil.Ban{Kind: vigil.BanIP, Value: "fe80::1%eth0"}, "zone"},
		{"ip_empty", vigil.Ban{Kind: vigil.BanIP}, "not an address"},
		{"cidr_address", vigil.Ban{Kind: vigil.BanCIDR, Value: "192.0.2.1"}, "not a prefix"},
		{"cidr_bits", vigil.Ban{Kind: vigil.BanCIDR, Value: "192.0.2.0/33"}, "not a prefix"},
		{"dna_empty", vigil.Ban{Kind: vigil.BanDNA, Value: "  "}, "1 to 256 bytes"},
		{"dna_long", vigil.Ban{Kind: vigil.BanDNA, Value: strings.Repeat("d", 257)}, "1 to 256 bytes"},
		{"dna_space", vigil.Ban{Kind: vigil.BanDNA, Value: "d1 x"}, "not printable ASCII"},
		{"until_past", vigil.Ban{Kind: vigil.BanIP, Value: "192.0.2.1", Until: time.Now().Add(-time.Second)}, "in the past"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := g.Ban(ctx, tc.ban)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "vigil: ban") {
				t.Errorf("Ban(%+v) = %v, want an error saying %q", tc.ban, err, tc.want)
			}
			if _, err := g.Unban(ctx, tc.ban.Kind, tc.ban.Value); tc.name != "until_past" && err == nil {
				t.Errorf("Unban(%q, %q) accepted it", tc.ban.Kind, tc.ban.Value)
			}
		})
	}
	if bans, _ := store.Bans(ctx); len(bans) != 0 {
		t.Errorf("refused bans reached the store: %+v", bans)
	}
	if evs := sk.byKind(vigil.EventBan); len(evs) != 0 {
		t.Errorf("refused bans recorded events: %+v", evs)
	}
}

// Ban writes through the guard's Store: another guard on the same store (as behind
// package redisstore) enforces it, and lifts it with Unban.
func TestGuardBanSharedStore(t *testing.T) {
	store := vigil.NewMemoryStore(vigil.MemoryStoreConfig{})
	shared := func(c *vigil.Config) { c.Store = store }
	g1, _ := newGuard(t, policy.Default(), shared)
	g2, sk2 := newGuard(t, policy.Default(), shared)
	ctx := context.Background()
	if err := g1.Ban(ctx, vigil.Ban{Kind: vigil.BanIP, Value: "203.0.113.99"}); err != nil {
		t.Fatal(err)
	}
	run(t, g2, sk2, []step{{name: "other_guard", target: "/", ip: "203.0.113.99", wantStatus: 403, wantAction: "block", wantSignal: "banned"}})
	bans, _ := store.Bans(ctx)
	if len(bans) != 1 || bans[0].Reason != "operator" || !bans[0].Until.IsZero() {
		t.Errorf("stored bans %+v, want one for good with reason operator", bans)
	}
	if lifted, err := g2.Unban(ctx, vigil.BanIP, "203.0.113.99"); !lifted || err != nil {
		t.Fatalf("Unban on the other guard = %v, %v", lifted, err)
	}
	run(t, g1, nil, []step{{name: "lifted", target: "/", ip: "203.0.113.99", wantStatus: 200, wantAction: "allow"}})
}

// banFailStore refuses every ban.
type banFailStore struct{ *vigil.MemoryStore }

func (banFailStore) Ban(context.Context, vigil.Ban) error { return errStore }
func (banFailStore) Unban(context.Context, vigil.BanKind, string) (bool, error) {
	return false, errStore
}

func TestGuardBanStoreError(t *testing.T) {
	g, sk := newGuard(t, policy.Default(), func(c *vigil.Config) {
		c.Store = banFailStore{vigil.NewMemoryStore(vigil.MemoryStoreConfig{})}
	})
	ctx := context.Background()
	if err := g.Ban(ctx, vigil.Ban{Kind: vigil.BanIP, Value: "192.0.2.1"}); !errors.Is(err, errStore) {
		t.Errorf("Ban = %v, want the store's error", err)
	}
	if _, err := g.Unban(ctx, vigil.BanIP, "192.0.2.1"); !errors.Is(err, errStore) {
		t.Errorf("Unban = %v, want the store's error", err)
	}
	if evs := sk.byKind(vigil.EventBan); len(evs) != 0 {
		t.Errorf("a ban the store refused recorded %d events", len(evs))
	}
}
