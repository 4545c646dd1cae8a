package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/studio/store"
)

// addBan adds a ban and fails the test if it cannot.
func addBan(t *testing.T, s *store.Store, project int64, kind store.BanKind, value string, until time.Time) store.Ban {
	t.Helper()
	b, _, err := s.AddBan(context.Background(), project, store.Ban{Kind: kind, Value: value, Reason: "test", Until: until}, "alice")
	if err != nil {
		t.Fatalf("AddBan(%s %q): %v", kind, value, err)
	}
	return b
}

// banValues returns "kind:value" of each ban.
func banValues(bans []store.Ban) []string {
	out := []string{}
	for _, b := range bans {
		out = append(out, string(b.Kind)+":"+b.Value)
	}
	return out
}

// revision returns the project's revision and fails the test if it cannot.
func revision(t *testing.T, s *store.Store, project int64) int64 {
	t.Helper()
	r, err := s.Revision(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// auditActions returns "action target" of the project's audit log, newest first.
func auditActions(t *testing.T, s *store.Store, project int64) []string {
	t.Helper()
	log, err := s.AuditLog(context.Background(), project, store.MaxLimit, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range log {
		out = append(out, e.Action+" "+e.Target)
	}
	return out
}

var banCases = []struct {
	name  string
	kind  store.BanKind
	value string
	want  string // normal form; "" when invalid
}{
	{"ipv4", store.BanIP, "203.0.113.7", "203.0.113.7"},
	{"ipv4_mapped", store.BanIP, "::ffff:203.0.113.7", "203.0.113.7"},
	{"ipv6_upper", store.BanIP, "2001:DB8::0:1", "2001:db8::1"},
	{"ip_with_prefix", store.BanIP, "203.0.113.0/24", ""},
	{"ip_with_zone", store.BanIP, "fe80::1%eth0", ""},
	{"ip_space", store.BanIP, " 203.0.113.7", ""},
	{"ip_leading_zero", store.BanIP, "203.0.113.07", ""},
	{"ip_empty", store.BanIP, "", ""},
	{"cidr_masked", store.BanCIDR, "203.0.113.7/24", "203.0.113.0/24"},
	{"cidr_host_v4", store.BanCIDR, "203.0.113.7/32", "203.0.113.7/32"},
	{"cidr_host_v6", store.BanCIDR, "2001:db8::1/128", "2001:db8::1/128"},
	{"cidr_v6", store.BanCIDR, "2001:DB8:0:0:1::/32", "2001:db8::/32"},
	{"cidr_mapped", store.BanCIDR, "::ffff:203.0.113.9/120", "203.0.113.0/24"},
	{"cidr_bare_ip", store.BanCIDR, "203.0.113.7", ""},
	{"cidr_too_long", store.BanCIDR, "203.0.113.0/33", ""},
	{"cidr_zone", store.BanCIDR, "fe80::%eth0/64", ""},
	{"dna", store.BanDNA, "d1-5f0c2a9e4b7d1386", "d1-5f0c2a9e4b7d1386"},
	{"dna_max", store.BanDNA, strings.Repeat("x", store.MaxBanDNALen), strings.Repeat("x", store.MaxBanDNALen)},
	{"dna_too_long", store.BanDNA, strings.Repeat("x", store.MaxBanDNALen+1), ""},
	{"dna_empty", store.BanDNA, "", ""},
	{"dna_space", store.BanDNA, "d1 x", ""},
	{"dna_control", store.BanDNA, "d1\x7f", ""},
	{"dna_non_ascii", store.BanDNA, "d1-é", ""},
	{"kind_unknown", "asn", "64496", ""},
	{"kind_empty", "", "203.0.113.7", ""},
}

func TestBanValidation(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		for _, c := range banCases {
			b, rev, err := f.s.AddBan(ctx, f.a.ID, store.Ban{Kind: c.kind, Value: c.value}, "alice")
			if c.want == "" {
				if !errors.Is(err, store.ErrInvalid) {
					t.Errorf("%s: AddBan(%s %q) = %+v, %v; want ErrInvalid", c.name, c.kind, c.value, b, err)
				}
				continue
			}
			if err != nil || b.Value != c.want || b.Kind != c.kind || rev == 0 {
				t.Errorf("%s: AddBan(%s %q) = %+v, %d, %v; want value %q", c.name, c.kind, c.value, b, rev, err, c.want)
			}
		}
		// The store rejected the invalid ones before writing: one revision per valid case.
		valid := 0
		for _, c := range banCases {
			if c.want != "" {
				valid++
			}
		}
		if r := revision(t, f.s, f.a.ID); r != int64(valid) {
			t.Errorf("revision = %d after %d valid bans, want %d", r, valid, valid)
		}
		now := time.Now()
		for _, c := range []struct {
			name   string
			ban    store.Ban
			actor  string
			errMsg string
		}{
			{"reason_too_long", store.Ban{Kind: store.BanIP, Value: "192.0.2.1", Reason: strings.Repeat("r", store.MaxBanReasonLen+1)}, "alice", "ban reason is 513 bytes, at most 512"},
			{"reason_not_utf8", store.Ban{Kind: store.BanIP, Value: "192.0.2.1", Reason: "\xff"}, "alice", "ban reason is not valid UTF-8"},
			{"reason_nul", store.Ban{Kind: store.BanIP, Value: "192.0.2.1", Reason: "a\x00b"}, "alice", "ban reason has a NUL byte"},
			{"until_past", store.Ban{Kind: store.BanIP, Value: "192.0.2.1", Until: now.Add(-time.Second)}, "alice", "not in the future"},
			{"until_year_9999", store.Ban{Kind: store.BanIP, Value: "192.0.2.1", Until: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, "alice", "give no end"},
			{"no_actor", store.Ban{Kind: store.BanIP, Value: "192.0.2.1"}, "", "no actor"},
			{"bad_value_message", store.Ban{Kind: store.BanIP, Value: "nope"}, "alice", `ban value "nope" is not an IP address`},
		} {
			_, _, err := f.s.AddBan(ctx, f.a.ID, c.ban, c.actor)
			if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), c.errMsg) {
				t.Errorf("%s: AddBan = %v; want ErrInvalid saying %q", c.name, err, c.errMsg)
			}
		}
		ban := store.Ban{Kind: store.BanIP, Value: "192.0.2.1", Reason: strings.Repeat("r", store.MaxBanReasonLen)}
		if _, _, err := f.s.AddBan(ctx, f.a.ID, ban, "alice"); err != nil {
			t.Errorf("AddBan with a %d-byte reason: %v", store.MaxBanReasonLen, err)
		}
		if _, _, err := f.s.AddBan(ctx, f.b.ID+1000, ban, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddBan to a missing project = %v, want ErrNotFound", err)
		}
	})
}

func TestBanReplace(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		first := addBan(t, f.s, f.a.ID, store.BanIP, "203.0.113.7", time.Time{})
		other := addBan(t, f.s, f.b.ID, store.BanIP, "203.0.113.7", time.Time{})
		until := time.Now().Add(time.Hour)
		// The same target, written another way: it replaces the first ban.
		second, rev, err := f.s.AddBan(ctx, f.a.ID, store.Ban{Kind: store.BanIP, Value: "::ffff:203.0.113.7", Reason: "again", Until: until}, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if second.ID == first.ID || rev != 2 {
			t.Errorf("replacing ban: ID %d (first %d), revision %d; want a new ID and revision 2", second.ID, first.ID, rev)
		}
		bans, err := f.s.Bans(ctx, f.a.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Ban{second}
		if diff := cmp.Diff(want, bans); diff != "" {
			t.Errorf("Bans after replace (-want +got):\n%s", diff)
		}
		if bans[0].Reason != "again" || bans[0].CreatedBy != "bob" || !bans[0].Until.Equal(until) {
			t.Errorf("replacing ban = %+v; want reason again by bob until %v", bans[0], until)
		}
		// B's ban on the same address is B's own.
		if bans, _ := f.s.Bans(ctx, f.b.ID, time.Now()); len(bans) != 1 || bans[0].ID != other.ID {
			t.Errorf("Bans(b) = %+v, want only ban %d", bans, other.ID)
		}
		// A lapsed ban is replaced too: the target still has one row.
		if bans, _ := f.s.Bans(ctx, f.a.ID, until.Add(time.Second)); len(bans) != 0 {
			t.Errorf("Bans after the ban lapsed = %+v, want none", bans)
		}
		third := addBan(t, f.s, f.a.ID, store.BanIP, "203.0.113.7", time.Time{})
		if bans, _ := f.s.Bans(ctx, f.a.ID, until.Add(time.Second)); len(bans) != 1 || bans[0].ID != third.ID {
			t.Errorf("Bans after re-ban of a lapsed target = %+v, want only ban %d", bans, third.ID)
		}
		if _, err := f.s.RemoveBan(ctx, f.a.ID, second.ID, "bob"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RemoveBan(replaced ban) = %v, want ErrNotFound", err)
		}
		// The audit entry of a replacement names the ban it replaced.
		log, err := f.s.AuditLog(ctx, f.a.ID, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		var detail struct{ ID, Replaced, Revision int64 }
		if len(log) != 3 || json.Unmarshal([]byte(log[1].Detail), &detail) != nil ||
			detail.ID != second.ID || detail.Replaced != first.ID || detail.Revision != 2 {
			t.Errorf("audit of the replacement = %+v; want 3 entries, the second with id %d replaced %d revision 2", log, second.ID, first.ID)
		}
	})
}

func TestBanExpiry(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		now := time.Now()
		if next, err := f.s.NextBanExpiry(ctx, now); err != nil || !next.IsZero() {
			t.Errorf("NextBanExpiry with no bans = %v, %v; want zero", next, err)
		}
		forever := addBan(t, f.s, f.a.ID, store.BanDNA, "d1-forever", time.Time{})
		hour := addBan(t, f.s, f.a.ID, store.BanCIDR, "198.51.100.0/24", now.Add(time.Hour))
		half := addBan(t, f.s, f.b.ID, store.BanIP, "198.51.100.9", now.Add(30*time.Minute))
		for _, c := range []struct {
			name    string
			project int64
			at      time.Time
			want    []string
		}{
			{"a_now", f.a.ID, now, []string{"dna:d1-forever", "cidr:198.51.100.0/24"}},
			{"a_just_before", f.a.ID, hour.Until.Add(-time.Nanosecond), []string{"dna:d1-forever", "cidr:198.51.100.0/24"}},
			{"a_at_end", f.a.ID, hour.Until, []string{"dna:d1-forever"}},
			{"a_later", f.a.ID, now.Add(2 * time.Hour), []string{"dna:d1-forever"}},
			{"b_now", f.b.ID, now, []string{"ip:198.51.100.9"}},
			{"b_later", f.b.ID, now.Add(time.Hour), []string{}},
		} {
			got, err := f.s.Bans(ctx, c.project, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, banValues(got)); diff != "" {
				t.Errorf("%s: Bans (-want +got):\n%s", c.name, diff)
			}
		}
		for _, c := range []struct {
			name string
			at   time.Time
			want time.Time
		}{
			{"now", now, half.Until},
			{"at_first_end", half.Until, hour.Until},
			{"after_all", now.Add(2 * time.Hour), time.Time{}},
		} {
			if next, err := f.s.NextBanExpiry(ctx, c.at); err != nil || !next.Equal(c.want) {
				t.Errorf("%s: NextBanExpiry = %v, %v; want %v", c.name, next, err, c.want)
			}
		}
		if _, err := f.s.RemoveBan(ctx, f.b.ID, half.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if next, _ := f.s.NextBanExpiry(ctx, now); !next.Equal(hour.Until) {
			t.Errorf("NextBanExpiry after removing the earliest = %v, want %v", next, hour.Until)
		}
		// A lapsed ban can still be removed: it is the project's row.
		if _, err := f.s.RemoveBan(ctx, f.a.ID, forever.ID, "alice"); err != nil {
			t.Errorf("RemoveBan: %v", err)
		}
	})
}

func TestRevision(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		if r := revision(t, f.s, f.a.ID); r != 0 {
			t.Errorf("new project's revision = %d, want 0", r)
		}
		if _, err := f.s.Revision(ctx, f.b.ID+1000); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Revision(missing) = %v, want ErrNotFound", err)
		}
		var got []int64
		b, rev, err := f.s.AddBan(ctx, f.a.ID, store.Ban{Kind: store.BanIP, Value: "192.0.2.1"}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rev)
		_, rev, err = f.s.PutPolicy(ctx, f.a.ID, []byte(`{"mode":"block"}`), "alice")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rev)
		// Failures change nothing.
		if _, _, err := f.s.AddBan(ctx, f.a.ID, store.Ban{Kind: store.BanIP, Value: "x"}, "alice"); err == nil {
			t.Fatal("AddBan(invalid) succeeded")
		}
		if _, err := f.s.RemoveBan(ctx, f.a.ID, b.ID+1000, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RemoveBan(missing) = %v, want ErrNotFound", err)
		}
		if _, _, err := f.s.PutPolicy(ctx, f.a.ID, []byte(`{`), "alice"); err == nil {
			t.Fatal("PutPolicy(invalid) succeeded")
		}
		rev, err = f.s.RemoveBan(ctx, f.a.ID, b.ID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rev)
		if diff := cmp.Diff([]int64{1, 2, 3}, got); diff != "" {
			t.Errorf("revisions of three changes (-want +got):\n%s", diff)
		}
		p, err := f.s.ProjectByID(ctx, f.a.ID)
		if err != nil || p.Revision != 3 || p.Name != "alpha" || !p.Created.Equal(f.a.Created) {
			t.Errorf("ProjectByID = %+v, %v; want alpha at revision 3 created %v", p, err, f.a.Created)
		}
		if _, err := f.s.ProjectByID(ctx, f.b.ID+1000); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ProjectByID(missing) = %v, want ErrNotFound", err)
		}
		ps, err := f.s.Projects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Project{{ID: f.a.ID, Name: "alpha", Created: f.a.Created, Revision: 3}, f.b}
		if diff := cmp.Diff(want, ps); diff != "" {
			t.Errorf("Projects (-want +got):\n%s", diff)
		}
	})
}

func TestPolicies(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		if _, err := f.s.Policy(ctx, f.a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Policy with none = %v, want ErrNotFound", err)
		}
		// Kept byte for byte: spaces, key order, a duplicate key, an escaped NUL.
		docs := []string{`{"mode":"monitor"}`, "{\"b\": 1,  \"a\":[2, 3],\n \"a\": \"\\u0000é\"}", `{"mode":"block"}`}
		var puts []store.PolicyVersion
		for i, d := range docs {
			p, rev, err := f.s.PutPolicy(ctx, f.a.ID, []byte(d), "user"+strconv.Itoa(i))
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != int64(i+1) || rev != int64(i+1) {
				t.Errorf("PutPolicy %d = version %d, revision %d; want %d, %d", i, p.Version, rev, i+1, i+1)
			}
			puts = append(puts, p)
		}
		latest, err := f.s.Policy(ctx, f.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(puts[2], latest); diff != "" {
			t.Errorf("Policy (-want +got):\n%s", diff)
		}
		for i, want := range puts {
			got, err := f.s.PolicyAt(ctx, f.a.ID, int64(i+1))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("PolicyAt(%d) (-want +got):\n%s", i+1, diff)
			}
			if string(got.Document) != docs[i] {
				t.Errorf("PolicyAt(%d).Document = %q, want %q byte for byte", i+1, got.Document, docs[i])
			}
		}
		if _, err := f.s.PolicyAt(ctx, f.a.ID, 4); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PolicyAt(4) = %v, want ErrNotFound", err)
		}
		vs, err := f.s.PolicyVersions(ctx, f.a.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.PolicyVersion{puts[2], puts[1]}
		for i := range want {
			want[i].Document = nil
		}
		if diff := cmp.Diff(want, vs); diff != "" {
			t.Errorf("PolicyVersions(2) (-want +got):\n%s", diff)
		}
		if vs, _ := f.s.PolicyVersions(ctx, f.a.ID, 0); len(vs) != 3 {
			t.Errorf("PolicyVersions(0) has %d versions, want 3", len(vs))
		}
		for _, c := range []struct {
			name  string
			doc   string
			actor string
		}{
			{"not_json", `{"mode":`, "alice"},
			{"empty", ``, "alice"},
			{"not_utf8", "{\"a\":\"\xff\"}", "alice"},
			{"too_big", `"` + strings.Repeat("x", store.MaxPolicyLen) + `"`, "alice"},
			{"no_actor", `{}`, ""},
		} {
			if _, _, err := f.s.PutPolicy(ctx, f.a.ID, []byte(c.doc), c.actor); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: PutPolicy = %v, want ErrInvalid", c.name, err)
			}
		}
		if _, _, err := f.s.PutPolicy(ctx, f.b.ID+1000, []byte(`{}`), "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PutPolicy to a missing project = %v, want ErrNotFound", err)
		}
		if r := revision(t, f.s, f.a.ID); r != 3 {
			t.Errorf("revision after 3 puts and 6 failures = %d, want 3", r)
		}
	})
}

func TestControlAudit(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		start := time.Now()
		b := addBan(t, f.s, f.a.ID, store.BanIP, "192.0.2.1", time.Time{})
		if _, _, err := f.s.PutPolicy(ctx, f.a.ID, []byte(`{}`), "carol"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.RemoveBan(ctx, f.a.ID, b.ID, "dave"); err != nil {
			t.Fatal(err)
		}
		log, err := f.s.AuditLog(ctx, f.a.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		type entry struct {
			Project               int64
			Actor, Action, Target string
		}
		var got []entry
		for _, e := range log {
			got = append(got, entry{e.Project, e.Actor, e.Action, e.Target})
			if e.Time.Before(start.Add(-time.Second)) || e.Time.After(time.Now()) {
				t.Errorf("audit entry %+v: time not now", e)
			}
			var detail map[string]any
			if err := json.Unmarshal([]byte(e.Detail), &detail); err != nil {
				t.Errorf("audit entry %+v: detail is not a JSON object: %v", e, err)
			}
		}
		want := []entry{
			{f.a.ID, "dave", "ban.remove", "ip:192.0.2.1"},
			{f.a.ID, "carol", "policy.put", "policy:1"},
			{f.a.ID, "alice", "ban.add", "ip:192.0.2.1"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AuditLog (-want +got):\n%s", diff)
		}
		// Entries of other actions; project 0 is outside any project.
		when := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		for i := range 5 {
			err := f.s.Audit(ctx, store.AuditEntry{Project: 0, Time: when, Actor: "admin", Action: "user.create", Target: "u" + strconv.Itoa(i), Detail: "free text"})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := f.s.Audit(ctx, store.AuditEntry{Project: f.a.ID, Actor: "alice", Action: "key.create", Target: "vk_ingest_abc123"}); err != nil {
			t.Fatal(err)
		}
		global, err := f.s.AuditLog(ctx, 0, 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(global) != 2 || global[0].Target != "u4" || global[1].Target != "u3" || !global[0].Time.Equal(when) ||
			global[0].Detail != "free text" || global[0].Project != 0 {
			t.Errorf("AuditLog(0, 2) = %+v; want u4, u3 at %v", global, when)
		}
		next, err := f.s.AuditLog(ctx, 0, 10, global[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, e := range next {
			targets = append(targets, e.Target)
		}
		if diff := cmp.Diff([]string{"u2", "u1", "u0"}, targets); diff != "" {
			t.Errorf("AuditLog(0) after %d (-want +got):\n%s", global[1].ID, diff)
		}
		if got := auditActions(t, f.s, f.a.ID); len(got) != 4 || got[0] != "key.create vk_ingest_abc123" {
			t.Errorf("AuditLog(a) = %q; want key.create first of 4", got)
		}
		for _, c := range []struct {
			name string
			e    store.AuditEntry
		}{
			{"no_action", store.AuditEntry{Actor: "a"}},
			{"action_too_long", store.AuditEntry{Action: strings.Repeat("a", store.MaxAuditActionLen+1)}},
			{"actor_too_long", store.AuditEntry{Action: "x", Actor: strings.Repeat("a", store.MaxActorLen+1)}},
			{"target_not_utf8", store.AuditEntry{Action: "x", Target: "\xff"}},
			{"detail_nul", store.AuditEntry{Action: "x", Detail: "\x00"}},
			{"detail_too_long", store.AuditEntry{Action: "x", Detail: strings.Repeat("d", store.MaxAuditDetailLen+1)}},
			{"negative_project", store.AuditEntry{Action: "x", Project: -1}},
			{"time_year_9999", store.AuditEntry{Action: "x", Time: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}},
			{"time_year_1", store.AuditEntry{Action: "x", Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)}},
		} {
			if err := f.s.Audit(ctx, c.e); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: Audit = %v, want ErrInvalid", c.name, err)
			}
		}
	})
}

// TestControlAuditAtomic makes the audit log refuse rows and checks that every
// control change then fails whole: no ban, no policy, no new revision.
func TestControlAuditAtomic(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s := open(t, dsn)
		ctx := context.Background()
		p, err := s.CreateProject(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		kept := addBan(t, s, p.ID, store.BanIP, "192.0.2.1", time.Time{})
		db := rawDB(t, e, dsn)
		breakAudit(t, e, db)
		if _, _, err := s.AddBan(ctx, p.ID, store.Ban{Kind: store.BanIP, Value: "192.0.2.2"}, "alice"); err == nil {
			t.Error("AddBan succeeded with the audit log refusing rows")
		}
		if _, _, err := s.AddBan(ctx, p.ID, store.Ban{Kind: store.BanIP, Value: "192.0.2.1", Reason: "replace"}, "alice"); err == nil {
			t.Error("AddBan (replace) succeeded with the audit log refusing rows")
		}
		if _, err := s.RemoveBan(ctx, p.ID, kept.ID, "alice"); err == nil {
			t.Error("RemoveBan succeeded with the audit log refusing rows")
		}
		if _, _, err := s.PutPolicy(ctx, p.ID, []byte(`{}`), "alice"); err == nil {
			t.Error("PutPolicy succeeded with the audit log refusing rows")
		}
		bans, err := s.Bans(ctx, p.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]store.Ban{kept}, bans); diff != "" {
			t.Errorf("Bans after failed changes (-want +got):\n%s", diff)
		}
		if _, err := s.Policy(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Policy after failed put = %v, want ErrNotFound", err)
		}
		if r := revision(t, s, p.ID); r != 1 {
			t.Errorf("revision after failed changes = %d, want 1", r)
		}
		if got := auditActions(t, s, p.ID); len(got) != 1 {
			t.Errorf("audit log = %q, want the first ban only", got)
		}
		if _, err := db.Exec(`DROP TRIGGER audit_refuse` + map[string]string{"sqlite": "", "postgres": " ON audit_log"}[e.name]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RemoveBan(ctx, p.ID, kept.ID, "alice"); err != nil {
			t.Errorf("RemoveBan with the audit log back: %v", err)
		}
	})
}

// breakAudit adds a trigger audit_refuse that makes every insert into audit_log fail.
func breakAudit(t *testing.T, e engine, db *sql.DB) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END`}
	if e.name == "postgres" {
		stmts = []string{
			`CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$`,
			`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse()`,
		}
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestControlTenantIsolation(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		bBan := addBan(t, f.s, f.b.ID, store.BanIP, "192.0.2.66", time.Time{})
		if _, _, err := f.s.PutPolicy(ctx, f.b.ID, []byte(`{"of":"b"}`), "bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.RemoveBan(ctx, f.a.ID, bBan.ID, "mallory"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A's RemoveBan of B's ban = %v, want ErrNotFound", err)
		}
		if bans, _ := f.s.Bans(ctx, f.b.ID, time.Now()); len(bans) != 1 {
			t.Errorf("B's bans after A's RemoveBan = %+v, want B's ban kept", bans)
		}
		if bans, err := f.s.Bans(ctx, f.a.ID, time.Now()); err != nil || len(bans) != 0 {
			t.Errorf("Bans(a) = %+v, %v; want none", bans, err)
		}
		if p, err := f.s.Policy(ctx, f.a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Policy(a) = %+v, %v; want ErrNotFound", p, err)
		}
		if p, err := f.s.PolicyAt(ctx, f.a.ID, 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PolicyAt(a, 1) = %+v, %v; want ErrNotFound", p, err)
		}
		if vs, err := f.s.PolicyVersions(ctx, f.a.ID, 10); err != nil || len(vs) != 0 {
			t.Errorf("PolicyVersions(a) = %+v, %v; want none", vs, err)
		}
		if got := auditActions(t, f.s, f.a.ID); len(got) != 0 {
			t.Errorf("AuditLog(a) = %q, want none", got)
		}
		if got := auditActions(t, f.s, f.b.ID); len(got) != 2 {
			t.Errorf("AuditLog(b) = %q, want 2 entries", got)
		}
		if r := revision(t, f.s, f.a.ID); r != 0 {
			t.Errorf("A's revision = %d, want 0", r)
		}
		if r := revision(t, f.s, f.b.ID); r != 2 {
			t.Errorf("B's revision = %d, want 2", r)
		}
	})
}

// TestControlsConcurrent makes control changes to one project from two Stores at
// once: each must get its own revision and policy version, and a target raced for
// must end with one ban.
func TestControlsConcurrent(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s1, s2 := open(t, dsn), open(t, dsn)
		ctx := context.Background()
		p, err := s1.CreateProject(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		const workers, each = 6, 5
		var mu sync.Mutex
		revs := map[int64]bool{}
		versions := map[int64]bool{}
		var wg sync.WaitGroup
		for w := range workers {
			s := []*store.Store{s1, s2}[w%2]
			wg.Go(func() {
				for i := range each {
					var rev, version int64
					var err error
					switch i % 3 {
					case 0:
						_, rev, err = s.AddBan(ctx, p.ID, store.Ban{Kind: store.BanIP, Value: "192.0.2.1", Reason: strconv.Itoa(w)}, "w")
					case 1:
						var b store.Ban
						if b, _, err = s.AddBan(ctx, p.ID, store.Ban{Kind: store.BanDNA, Value: "d-" + strconv.Itoa(w)}, "w"); err == nil {
							rev, err = s.RemoveBan(ctx, p.ID, b.ID, "w")
						}
					case 2:
						var pv store.PolicyVersion
						pv, rev, err = s.PutPolicy(ctx, p.ID, []byte(`{}`), "w")
						version = pv.Version
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if revs[rev] || versions[version] && version != 0 {
						t.Errorf("revision %d or version %d returned twice", rev, version)
					}
					revs[rev], versions[version] = true, true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		// Per worker: 2 bans of one target, 2 dna ban+remove (one revision each
		// shown, two made), 1 policy.
		wantRev := int64(workers * (2 + 2*2 + 1))
		if r := revision(t, s2, p.ID); r != wantRev {
			t.Errorf("revision = %d, want %d", r, wantRev)
		}
		bans, err := s1.Bans(ctx, p.ID, time.Now())
		if err != nil || len(bans) != 1 || bans[0].Value != "192.0.2.1" {
			t.Errorf("Bans = %+v, %v; want one ban of 192.0.2.1", bans, err)
		}
		vs, err := s2.PolicyVersions(ctx, p.ID, 100)
		if err != nil || len(vs) != workers || vs[0].Version != workers {
			t.Errorf("PolicyVersions = %+v, %v; want versions %d..1", vs, err, workers)
		}
	})
}

// FuzzBanValue checks that what the store accepts as a ban value is in a normal
// form the standard library reads back the same, and that the form is stable.
func FuzzBanValue(f *testing.F) {
	for _, c := range banCases {
		f.Add(string(c.kind), c.value)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, kind, value string) {
		b := store.Ban{Kind: store.BanKind(kind), Value: value}
		if err := store.NormalizeBan(&b, now); err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("NormalizeBan(%q, %q) = %v, not ErrInvalid", kind, value, err)
			}
			return
		}
		again := b
		if err := store.NormalizeBan(&again, now); err != nil || again.Value != b.Value {
			t.Fatalf("normal form %q of %q normalizes to %q, %v", b.Value, value, again.Value, err)
		}
		switch b.Kind {
		case store.BanIP:
			in, err1 := netip.ParseAddr(value)
			out, err2 := netip.ParseAddr(b.Value)
			if err1 != nil || err2 != nil || out != in.Unmap() || out.Zone() != "" {
				t.Fatalf("ip %q stored as %q", value, b.Value)
			}
		case store.BanCIDR:
			in, err1 := netip.ParsePrefix(value)
			out, err2 := netip.ParsePrefix(b.Value)
			if err1 != nil || err2 != nil || out != out.Masked() || !out.Contains(in.Addr().Unmap()) && !out.Contains(in.Addr()) {
				t.Fatalf("cidr %q stored as %q", value, b.Value)
			}
		case store.BanDNA:
			if b.Value != value || value == "" || len(value) > store.MaxBanDNALen {
				t.Fatalf("dna %q stored as %q", value, b.Value)
			}
		default:
			t.Fatalf("kind %q accepted", kind)
		}
	})
}

// TestSchemasInStep checks that the two engines' migrations make the same tables,
// columns and indexes (but for PostgreSQL's BRIN index on event time and the
// indexes of its primary keys and unique constraints, which SQLite makes unnamed).
func TestSchemasInStep(t *testing.T) {
	es := engines(t)
	if len(es) < 2 {
		t.Skip("needs both engines")
	}
	schema := map[string][]string{}
	for _, e := range es {
		dsn := e.dsn(t)
		open(t, dsn).Close()
		db := rawDB(t, e, dsn)
		queries := []string{
			`SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
				WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
			`SELECT 'index ' || name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'`,
		}
		if e.name == "postgres" {
			queries = []string{
				`SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
				`SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = current_schema()
					AND indexname NOT LIKE '%\_pkey' AND indexname NOT LIKE '%\_key' AND indexname <> 'events_time_brin'`,
			}
		}
		for _, q := range queries {
			rows, err := db.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				schema[e.name] = append(schema[e.name], name)
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(schema[e.name])
	}
	if diff := cmp.Diff(schema["sqlite"], schema["postgres"]); diff != "" {
		t.Errorf("schemas differ (-sqlite +postgres):\n%s", diff)
	}
	if !slices.Contains(schema["sqlite"], "sessions.csrf") || !slices.Contains(schema["sqlite"], "projects.revision") {
		t.Errorf("schema lacks sessions.csrf or projects.revision: %q", schema["sqlite"])
	}
}
