package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vigilhq/vigil/internal/studio/store"
)

// recv returns the next message on ch, failing the test if none comes in 5 s or ch
// is closed.
func recv(t *testing.T, ch <-chan []byte) string {
	t.Helper()
	select {
	case b, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return string(b)
	case <-time.After(5 * time.Second):
		t.Fatal("no notification in 5 s")
	}
	return ""
}

// closedSoon fails the test unless ch is closed, after any messages, within 5 s.
func closedSoon(t *testing.T, ch <-chan []byte) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("subscription not closed in 5 s")
		}
	}
}

func subscribe(t *testing.T, s *store.Store, ctx context.Context, channel string) <-chan []byte {
	t.Helper()
	ch, err := s.Subscribe(ctx, channel)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func notify(t *testing.T, s *store.Store, channel, payload string) {
	t.Helper()
	if err := s.Notify(context.Background(), channel, []byte(payload)); err != nil {
		t.Fatal(err)
	}
}

// TestNotify sends between two Stores on one database and checks that a Store on
// another database hears nothing.
func TestNotify(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s1, s2 := open(t, dsn), open(t, dsn)
		other := open(t, e.dsn(t))
		ctx := context.Background()
		bans1 := subscribe(t, s1, ctx, "bans")
		bans2 := subscribe(t, s2, ctx, "bans")
		policy1 := subscribe(t, s1, ctx, "policy")
		otherBans := subscribe(t, other, ctx, "bans")

		notify(t, s2, "bans", `{"project":1,"revision":7}`)
		for i, ch := range []<-chan []byte{bans1, bans2} {
			if got := recv(t, ch); got != `{"project":1,"revision":7}` {
				t.Errorf("subscriber %d got %q", i+1, got)
			}
		}
		// Messages on another channel or database come after nothing.
		notify(t, s1, "policy", "p")
		notify(t, other, "bans", "other")
		if got := recv(t, policy1); got != "p" {
			t.Errorf("policy subscriber got %q, want p (and not the bans message)", got)
		}
		if got := recv(t, otherBans); got != "other" {
			t.Errorf("the other database's subscriber got %q, want only its own message", got)
		}
		// In order, and the largest payload whole.
		big := strings.Repeat("é", store.MaxNotifyPayload/2)
		for i := range 5 {
			notify(t, s1, "bans", strconv.Itoa(i))
		}
		notify(t, s1, "bans", big)
		for i := range 5 {
			if got := recv(t, bans2); got != strconv.Itoa(i) {
				t.Errorf("message %d = %q", i, got)
			}
		}
		if got := recv(t, bans2); got != big {
			t.Errorf("largest payload arrived as %d bytes, want %d", len(got), len(big))
		}
		// A subscriber may keep what it gets: each has its own copy.
		policy1b := subscribe(t, s1, ctx, "policy")
		notify(t, s2, "policy", "abc")
		select {
		case b := <-policy1:
			b[0] = 'X'
		case <-time.After(5 * time.Second):
			t.Fatal("no notification in 5 s")
		}
		if got := recv(t, policy1b); got != "abc" {
			t.Errorf("second subscriber got %q after the first changed its copy, want abc", got)
		}
		if s1.DroppedNotifications() != 0 || s2.DroppedNotifications() != 0 {
			t.Errorf("dropped %d and %d notifications, want none", s1.DroppedNotifications(), s2.DroppedNotifications())
		}
	})
}

func TestNotifyValidation(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		s := open(t, e.dsn(t))
		ctx := context.Background()
		for _, c := range []struct {
			name, channel, payload string
		}{
			{"channel_empty", "", "x"},
			{"channel_upper", "Bans", "x"},
			{"channel_dash", "ban-list", "x"},
			{"channel_digit", "bans2", "x"},
			{"channel_too_long", strings.Repeat("a", store.MaxChannelLen+1), "x"},
			{"payload_too_long", "bans", strings.Repeat("x", store.MaxNotifyPayload+1)},
			{"payload_not_utf8", "bans", "\xff"},
			{"payload_nul", "bans", "a\x00"},
		} {
			if err := s.Notify(ctx, c.channel, []byte(c.payload)); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: Notify = %v, want ErrInvalid", c.name, err)
			}
			if !strings.HasPrefix(c.name, "channel") {
				continue
			}
			if _, err := s.Subscribe(ctx, c.channel); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: Subscribe = %v, want ErrInvalid", c.name, err)
			}
		}
		long := strings.Repeat("z", store.MaxChannelLen)
		ch := subscribe(t, s, ctx, long)
		notify(t, s, long, strings.Repeat("x", store.MaxNotifyPayload))
		if got := recv(t, ch); len(got) != store.MaxNotifyPayload {
			t.Errorf("got %d bytes, want %d", len(got), store.MaxNotifyPayload)
		}
		notify(t, s, "empty_payload", "") // no subscriber: nothing to do
	})
}

// TestSubscribeEnds checks that a subscription ends with its context and with
// its Store, and that a closed Store refuses both calls.
func TestSubscribeEnds(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s1 := open(t, dsn)
		s2, err := store.Open(context.Background(), dsn, store.Options{Pepper: pepper})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		short := subscribe(t, s1, ctx, "c")
		long := subscribe(t, s1, context.Background(), "c")
		onS2 := subscribe(t, s2, context.Background(), "c")
		cancel()
		closedSoon(t, short)
		notify(t, s2, "c", "still")
		if got := recv(t, long); got != "still" {
			t.Errorf("other subscription got %q after one ended", got)
		}
		recv(t, onS2)
		if _, err := s1.Subscribe(ctx, "c"); err == nil {
			t.Error("Subscribe with a done context succeeded")
		}
		done := make(chan error)
		go func() { done <- s2.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Close: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not return in 10 s")
		}
		closedSoon(t, onS2)
		if err := s2.Notify(context.Background(), "c", nil); err == nil {
			t.Error("Notify on a closed Store succeeded")
		}
		if _, err := s2.Subscribe(context.Background(), "c"); err == nil {
			t.Error("Subscribe on a closed Store succeeded")
		}
		if err := s2.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// The closed Store is gone from the fan-out; the live one still hears.
		notify(t, s1, "c", "after")
		if got := recv(t, long); got != "after" {
			t.Errorf("got %q after the other Store closed", got)
		}
	})
}

// TestNotifySlowSubscriber checks that a subscriber that does not read loses
// messages beyond SubscribeBuffer and holds up no one.
func TestNotifySlowSubscriber(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s1, s2 := open(t, dsn), open(t, dsn)
		ctx := context.Background()
		slow := subscribe(t, s1, ctx, "events")
		fast := subscribe(t, s1, ctx, "events")
		const rounds, per = 3, 100 // per < SubscribeBuffer: fast never falls behind
		for r := range rounds {
			for i := range per {
				notify(t, s2, "events", strconv.Itoa(r*per+i))
			}
			for i := range per {
				if got, want := recv(t, fast), strconv.Itoa(r*per+i); got != want {
					t.Fatalf("fast subscriber got %q, want %q", got, want)
				}
			}
		}
		if got, want := s1.DroppedNotifications(), int64(rounds*per-store.SubscribeBuffer); got != want {
			t.Errorf("DroppedNotifications = %d, want %d", got, want)
		}
		if len(slow) != store.SubscribeBuffer {
			t.Errorf("slow subscriber holds %d messages, want %d", len(slow), store.SubscribeBuffer)
		}
		for i := range store.SubscribeBuffer {
			if got := recv(t, slow); got != strconv.Itoa(i) {
				t.Fatalf("slow subscriber's message %d = %q, want the first ones kept", i, got)
			}
		}
		// Read again, it gets new messages.
		notify(t, s2, "events", "again")
		if got := recv(t, slow); got != "again" {
			t.Errorf("slow subscriber got %q after catching up", got)
		}
		if s2.DroppedNotifications() != 0 {
			t.Errorf("the sending Store counts %d drops, want 0", s2.DroppedNotifications())
		}
	})
}

// TestNotifyReconnect kills the PostgreSQL connection that listens and checks that
// the Store listens again.
func TestNotifyReconnect(t *testing.T) {
	for _, e := range engines(t) {
		if e.name != "postgres" {
			continue
		}
		dsn := e.dsn(t)
		s := open(t, dsn)
		ctx := context.Background()
		ch := subscribe(t, s, ctx, "c")
		notify(t, s, "c", "before")
		recv(t, ch)
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		listenerPID := func() int {
			var pid int
			err := c.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = 'vigil-studio-listen' AND query = $1`,
				"LISTEN "+pgx.Identifier{store.NotifyChannel(s)}.Sanitize()).Scan(&pid)
			if errors.Is(err, pgx.ErrNoRows) {
				return 0
			}
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		first := listenerPID()
		if first == 0 {
			t.Fatal("no listening connection in pg_stat_activity")
		}
		var ok bool
		if err := c.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, first).Scan(&ok); err != nil || !ok {
			t.Fatalf("pg_terminate_backend = %v, %v", ok, err)
		}
		// Notifications sent until the listener is back are lost; keep sending.
		deadline := time.Now().Add(15 * time.Second)
		for got := false; !got; {
			if time.Now().After(deadline) {
				t.Fatal("no notification within 15 s of killing the listener")
			}
			notify(t, s, "c", "after")
			select {
			case b := <-ch:
				got = string(b) == "after"
			case <-time.After(200 * time.Millisecond):
			}
		}
		if second := listenerPID(); second == 0 || second == first {
			t.Errorf("listener pid %d after reconnect, first was %d", second, first)
		}
	}
}

// TestNotifySQLiteFileKey checks that Stores on one SQLite file reached by other
// names share notifications.
func TestNotifySQLiteFileKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "studio.db")
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Skip(err)
	}
	s1 := open(t, path)
	ctx := context.Background()
	ch := subscribe(t, s1, ctx, "c")
	for i, dsn := range []string{
		"file:" + path + "?cache=private",
		filepath.Join(dir, "link", "studio.db"),
		filepath.Join(dir, ".", "studio.db"),
	} {
		s := open(t, dsn)
		notify(t, s, "c", strconv.Itoa(i))
		if got := recv(t, ch); got != strconv.Itoa(i) {
			t.Errorf("%s: got %q, want %d", dsn, got, i)
		}
	}
}

// TestNotifyGoroutinesEnd checks that a closed Store leaves none of its
// goroutines behind: the listener, the ends of subscriptions. It is not parallel,
// so no other test's Store is open while it looks.
func TestNotifyGoroutinesEnd(t *testing.T) {
	for _, e := range engines(t) {
		s, err := store.Open(context.Background(), e.dsn(t), store.Options{Pepper: pepper})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		a := subscribe(t, s, ctx, "a")
		subscribe(t, s, context.Background(), "b")
		notify(t, s, "a", "x")
		recv(t, a)
		cancel()
		closedSoon(t, a)
		subscribe(t, s, ctx2(t), "c")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "studio/store.(*Store).runListener") && !strings.Contains(stacks, "studio/store.(*hub)") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of closed Stores 5 s after Close:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ctx2 returns a context that the test's end cancels.
func ctx2(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
