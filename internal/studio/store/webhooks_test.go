package store_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vigilhq/vigil/internal/studio/store"
)

func TestCreateWebhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		ban := []string{store.WebhookBan}
		for _, c := range []struct {
			name   string
			url    string
			events []string
			ok     bool
		}{
			{"https", "https://hooks.example.com/vigil?token=x", ban, true},
			{"http_port", "http://10.0.0.5:8080/hook", ban, true},
			{"ipv6", "https://[2001:db8::1]/hook", ban, true},
			{"all_events", "https://example.com/", []string{store.WebhookHighThreat, store.WebhookNewFingerprint, store.WebhookHoneypot, store.WebhookBan}, true},
			{"relative", "/hook", ban, false},
			{"no_scheme", "example.com/hook", ban, false},
			{"ftp", "ftp://example.com/hook", ban, false},
			{"javascript", "javascript:alert(1)", ban, false},
			{"no_host", "https:///hook", ban, false},
			{"port_only", "https://:443/hook", ban, false},
			{"fragment", "https://example.com/hook#x", ban, false},
			{"bad_escape", "https://example.com/%zz", ban, false},
			{"empty", "", ban, false},
			{"too_long", "https://example.com/" + string(make([]byte, store.MaxWebhookURLLen)), ban, false},
			{"no_events", "https://example.com/", nil, false},
			{"unknown_event", "https://example.com/", []string{"ban", "everything"}, false},
			{"ping_is_not_subscribable", "https://example.com/", []string{store.WebhookPing}, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				w, err := f.s.CreateWebhook(ctx, f.a.ID, c.url, c.events)
				if c.ok != (err == nil) {
					t.Fatalf("CreateWebhook(%q, %v) = %v, want ok %v", c.url, c.events, err, c.ok)
				}
				if !c.ok && !errors.Is(err, store.ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
				if c.ok && (w.ID == 0 || w.URL != c.url || w.Project != f.a.ID) {
					t.Errorf("CreateWebhook = %+v", w)
				}
			})
		}
		w1, err := f.s.CreateWebhook(ctx, f.a.ID, "https://example.com/1", []string{"new_fingerprint", "ban", "ban"})
		if err != nil {
			t.Fatal(err)
		}
		w2, err := f.s.CreateWebhook(ctx, f.a.ID, "https://example.com/2", ban)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"ban", "new_fingerprint"}, w1.Events); diff != "" {
			t.Errorf("Events not sorted and unique (-want +got):\n%s", diff)
		}
		for _, w := range []store.Webhook{w1, w2} {
			if b, err := hex.DecodeString(w.Secret); err != nil || len(b) != 32 {
				t.Errorf("Secret %q is not 32 bytes in hex", w.Secret)
			}
		}
		if w1.Secret == w2.Secret {
			t.Error("two webhooks have one secret")
		}
		ws, err := f.s.Webhooks(ctx, f.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) < 2 {
			t.Fatalf("Webhooks = %d, want at least 2", len(ws))
		}
		got := ws[len(ws)-2:]
		if diff := cmp.Diff([]store.Webhook{w1, w2}, got, cmpopts.EquateApproxTime(time.Microsecond)); diff != "" {
			t.Errorf("Webhooks (-want +got):\n%s", diff)
		}
	})
}

func TestWebhookTenancy(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		wa, err := f.s.CreateWebhook(ctx, f.a.ID, "https://a.example/", []string{store.WebhookBan, store.WebhookHighThreat})
		if err != nil {
			t.Fatal(err)
		}
		wa2, err := f.s.CreateWebhook(ctx, f.a.ID, "https://a2.example/", []string{store.WebhookHighThreat})
		if err != nil {
			t.Fatal(err)
		}
		wb, err := f.s.CreateWebhook(ctx, f.b.ID, "https://b.example/", []string{store.WebhookBan})
		if err != nil {
			t.Fatal(err)
		}
		ids := func(ws []store.Webhook, err error) []int64 {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, w := range ws {
				out = append(out, w.ID)
			}
			return out
		}
		for _, c := range []struct {
			name string
			got  []int64
			want []int64
		}{
			{"all_a", ids(f.s.Webhooks(ctx, f.a.ID)), []int64{wa.ID, wa2.ID}},
			{"all_b", ids(f.s.Webhooks(ctx, f.b.ID)), []int64{wb.ID}},
			{"ban_a", ids(f.s.WebhooksFor(ctx, f.a.ID, store.WebhookBan)), []int64{wa.ID}},
			{"threat_a", ids(f.s.WebhooksFor(ctx, f.a.ID, store.WebhookHighThreat)), []int64{wa.ID, wa2.ID}},
			{"honeypot_a", ids(f.s.WebhooksFor(ctx, f.a.ID, store.WebhookHoneypot)), []int64{}},
			{"threat_b", ids(f.s.WebhooksFor(ctx, f.b.ID, store.WebhookHighThreat)), []int64{}},
		} {
			if diff := cmp.Diff(c.want, c.got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.name, diff)
			}
		}
		// Disabled webhooks get nothing; another project cannot disable one.
		if err := f.s.SetWebhookDisabled(ctx, f.b.ID, wa.ID, true); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetWebhookDisabled by another project = %v, want ErrNotFound", err)
		}
		if err := f.s.SetWebhookDisabled(ctx, f.a.ID, wa.ID, true); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{wa2.ID}, ids(f.s.WebhooksFor(ctx, f.a.ID, store.WebhookHighThreat))); diff != "" {
			t.Errorf("WebhooksFor with one disabled (-want +got):\n%s", diff)
		}
		if ws, _ := f.s.Webhooks(ctx, f.a.ID); len(ws) != 2 || !ws[0].Disabled || ws[1].Disabled {
			t.Errorf("Webhooks after disabling the first = %+v", ws)
		}
		if err := f.s.SetWebhookDisabled(ctx, f.a.ID, wa.ID, false); err != nil {
			t.Fatal(err)
		}
		// Deliveries and deletion are checked against the project.
		id, err := f.s.EnqueueDelivery(ctx, wa.ID, store.WebhookBan, []byte(`{}`), t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Deliveries(ctx, f.b.ID, wa.ID, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Deliveries by another project = %v, want ErrNotFound", err)
		}
		if err := f.s.DeleteWebhook(ctx, f.b.ID, wa.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteWebhook by another project = %v, want ErrNotFound", err)
		}
		if ds, err := f.s.Deliveries(ctx, f.a.ID, wa.ID, 0); err != nil || len(ds) != 1 || ds[0].ID != id {
			t.Errorf("Deliveries = %+v, %v; want delivery %d", ds, err, id)
		}
		if err := f.s.DeleteWebhook(ctx, f.a.ID, wa.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteWebhook(ctx, f.a.ID, wa.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteWebhook twice = %v, want ErrNotFound", err)
		}
		if _, err := f.s.Deliveries(ctx, f.a.ID, wa.ID, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Deliveries of a deleted webhook = %v, want ErrNotFound", err)
		}
		if err := f.s.RecordAttempt(ctx, id, 200, "", 0, time.Time{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordAttempt on a deleted webhook's delivery = %v, want ErrNotFound", err)
		}
		if ds, err := f.s.ClaimDue(ctx, t0.Add(time.Hour), time.Minute, 10); err != nil || len(ds) != 0 {
			t.Errorf("ClaimDue after delete = %+v, %v; want none", ds, err)
		}
		if diff := cmp.Diff([]int64{wb.ID}, ids(f.s.Webhooks(ctx, f.b.ID))); diff != "" {
			t.Errorf("b's webhooks after a's delete (-want +got):\n%s", diff)
		}
	})
}

// jsonEqual reports whether a and b are the same JSON value: PostgreSQL's jsonb
// keeps the value, not the text.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return cmp.Equal(x, y)
}

func TestDeliveryLifecycle(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		w, err := f.s.CreateWebhook(ctx, f.a.ID, "https://example.com/hook", []string{store.WebhookBan})
		if err != nil {
			t.Fatal(err)
		}
		payload := []byte(`{"event":"ban","ip":"192.0.2.1","n":[1,2.5,"ü"]}`)
		d1, err := f.s.EnqueueDelivery(ctx, w.ID, store.WebhookBan, payload, t0)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := f.s.EnqueueDelivery(ctx, w.ID, store.WebhookPing, []byte(`{"ping":true}`), t0.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, event string
			payload     []byte
		}{
			{"unknown_event", "everything", []byte(`{}`)},
			{"not_json", store.WebhookBan, []byte(`{"a":`)},
			{"empty_payload", store.WebhookBan, nil},
		} {
			if _, err := f.s.EnqueueDelivery(ctx, w.ID, c.event, c.payload, t0); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: EnqueueDelivery = %v, want ErrInvalid", c.name, err)
			}
		}
		if _, err := f.s.EnqueueDelivery(ctx, w.ID+1000, store.WebhookBan, []byte(`{}`), t0); err == nil {
			t.Error("EnqueueDelivery to a missing webhook succeeded")
		}

		// Before it is due nothing is claimed; at t0 the first.
		if ds, err := f.s.ClaimDue(ctx, t0.Add(-time.Nanosecond), time.Minute, 10); err != nil || len(ds) != 0 {
			t.Fatalf("ClaimDue before due = %+v, %v", ds, err)
		}
		ds, err := f.s.ClaimDue(ctx, t0, time.Minute, 10)
		if err != nil || len(ds) != 1 {
			t.Fatalf("ClaimDue(t0) = %+v, %v; want one", ds, err)
		}
		want := store.Delivery{
			ID: d1, Webhook: w.ID, Event: store.WebhookBan, Created: t0, NextTry: t0.Add(time.Minute),
			URL: w.URL, Secret: w.Secret,
		}
		if diff := cmp.Diff(want, ds[0], cmpopts.IgnoreFields(store.Delivery{}, "Payload")); diff != "" || !jsonEqual(t, payload, ds[0].Payload) {
			t.Errorf("claimed (-want +got):\n%s\npayload %s", diff, ds[0].Payload)
		}
		// Leased: the next claim, until the lease ends, gets only the second.
		ds, err = f.s.ClaimDue(ctx, t0.Add(30*time.Second), time.Minute, 10)
		if err != nil || len(ds) != 1 || ds[0].ID != d2 || ds[0].Event != store.WebhookPing {
			t.Fatalf("ClaimDue(t0+30s) = %+v, %v; want only %d", ds, err, d2)
		}
		// The first fails and is due again in 5 s.
		if err := f.s.RecordAttempt(ctx, d1, 503, "status 503", 120*time.Millisecond, t0.Add(5*time.Second)); err != nil {
			t.Fatal(err)
		}
		ds, err = f.s.ClaimDue(ctx, t0.Add(5*time.Second), time.Minute, 10)
		if err != nil || len(ds) != 1 || ds[0].ID != d1 || ds[0].Attempt != 1 || ds[0].Status != 503 {
			t.Fatalf("ClaimDue(t0+5s) = %+v, %v; want %d after one attempt", ds, err, d1)
		}
		// Both finish.
		if err := f.s.RecordAttempt(ctx, d1, 204, "", 80*time.Millisecond, time.Time{}); err != nil {
			t.Fatal(err)
		}
		long := "\x00" + strings.Repeat("é", 2500) // NUL, and a cut inside a rune
		if err := f.s.RecordAttempt(ctx, d2, 0, "dial: refused"+long, time.Second, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if ds, err := f.s.ClaimDue(ctx, t0.Add(24*time.Hour), time.Minute, 10); err != nil || len(ds) != 0 {
			t.Errorf("ClaimDue after both finished = %+v, %v", ds, err)
		}
		got, err := f.s.Deliveries(ctx, f.a.ID, w.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("Deliveries = %d, want 2", len(got))
		}
		if e := got[0].Error; len(e) != 1023 || !utf8.ValidString(e) || strings.Contains(e, "\x00") {
			t.Errorf("error text is %d bytes (valid %v): want 1023, valid UTF-8, no NUL", len(e), utf8.ValidString(e))
		}
		got[0].Error = got[0].Error[:13]
		wantList := []store.Delivery{
			{ID: d2, Webhook: w.ID, Event: store.WebhookPing, Attempt: 1, Status: 0, Error: "dial: refused", Created: t0.Add(time.Second), Duration: time.Second},
			{ID: d1, Webhook: w.ID, Event: store.WebhookBan, Attempt: 2, Status: 204, Created: t0, Duration: 80 * time.Millisecond},
		}
		if diff := cmp.Diff(wantList, got, cmpopts.IgnoreFields(store.Delivery{}, "Payload")); diff != "" {
			t.Errorf("Deliveries, newest first (-want +got):\n%s", diff)
		}
		if got, _ := f.s.Deliveries(ctx, f.a.ID, w.ID, 1); len(got) != 1 || got[0].ID != d2 {
			t.Errorf("Deliveries(limit 1) = %+v", got)
		}
		if err := f.s.RecordAttempt(ctx, d2+1000, 200, "", 0, time.Time{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordAttempt(missing) = %v, want ErrNotFound", err)
		}
		for _, c := range []struct {
			lease time.Duration
			n     int
		}{{0, 1}, {time.Minute, 0}} {
			if _, err := f.s.ClaimDue(ctx, t0, c.lease, c.n); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ClaimDue(lease %v, n %d) = %v, want ErrInvalid", c.lease, c.n, err)
			}
		}
	})
}

func TestClaimDueSkipsDisabled(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		w, _ := f.s.CreateWebhook(ctx, f.a.ID, "https://example.com/", []string{store.WebhookBan})
		id, err := f.s.EnqueueDelivery(ctx, w.ID, store.WebhookBan, []byte(`{}`), t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetWebhookDisabled(ctx, f.a.ID, w.ID, true); err != nil {
			t.Fatal(err)
		}
		if ds, err := f.s.ClaimDue(ctx, t0, time.Minute, 10); err != nil || len(ds) != 0 {
			t.Errorf("ClaimDue with the webhook disabled = %+v, %v; want none", ds, err)
		}
		if err := f.s.SetWebhookDisabled(ctx, f.a.ID, w.ID, false); err != nil {
			t.Fatal(err)
		}
		if ds, err := f.s.ClaimDue(ctx, t0, time.Minute, 10); err != nil || len(ds) != 1 || ds[0].ID != id {
			t.Errorf("ClaimDue enabled again = %+v, %v; want %d", ds, err, id)
		}
	})
}

// TestClaimDueConcurrent claims from two Stores on one database, four goroutines
// each: every delivery is claimed exactly once.
func TestClaimDueConcurrent(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		stores := []*store.Store{open(t, dsn), open(t, dsn)}
		ctx := context.Background()
		p, _ := stores[0].CreateProject(ctx, "p")
		w, _ := stores[0].CreateWebhook(ctx, p.ID, "https://example.com/", []string{store.WebhookBan})
		const n = 300
		for i := range n {
			if _, err := stores[0].EnqueueDelivery(ctx, w.ID, store.WebhookBan, []byte(`{"i":`+strconv.Itoa(i)+`}`), t0); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for g := range 8 {
			s := stores[g%2]
			wg.Go(func() {
				for {
					ds, err := s.ClaimDue(ctx, t0, time.Hour, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						claimed[d.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claimed) != n {
			t.Errorf("%d deliveries claimed, want %d", len(claimed), n)
		}
		for id, k := range claimed {
			if k != 1 {
				t.Errorf("delivery %d claimed %d times", id, k)
			}
		}
	})
}
