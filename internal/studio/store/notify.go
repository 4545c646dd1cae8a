package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Limits of notifications.
const (
	// MaxNotifyPayload is the largest payload Notify sends, in bytes: PostgreSQL
	// takes under 8000, and the channel's name travels with it.
	MaxNotifyPayload = 7900
	// MaxChannelLen is the longest channel name.
	MaxChannelLen = 63
	// SubscribeBuffer is how many messages a subscription holds unread; the
	// messages that come while it is full are dropped (see DroppedNotifications).
	SubscribeBuffer = 128
)

// errClosed is what Notify and Subscribe return on a closed Store.
var errClosed = errors.New("store: closed")

// checkChannel checks a channel name: 1–63 of [a-z_].
func checkChannel(channel string) error {
	if channel == "" || len(channel) > MaxChannelLen {
		return invalidf("channel name must be 1–%d characters, got %d", MaxChannelLen, len(channel))
	}
	for i := 0; i < len(channel); i++ {
		if c := channel[i]; (c < 'a' || c > 'z') && c != '_' {
			return invalidf("channel name may have only letters a–z and _")
		}
	}
	return nil
}

// Notify sends payload on channel to every subscriber of every Store on this
// database (see Subscribe), this Store's included. On PostgreSQL it is pg_notify
// and reaches the Stores of every process; on SQLite it reaches the Stores of this
// process that opened the same file, and no other process. A channel name is 1–63
// of [a-z_]; payload is UTF-8 without NUL bytes, at most MaxNotifyPayload bytes.
// Other input is an error wrapping ErrInvalid. Delivery is at most once: a message
// can be lost (see Subscribe).
func (s *Store) Notify(ctx context.Context, channel string, payload []byte) error {
	if err := checkChannel(channel); err != nil {
		return err
	}
	switch {
	case len(payload) > MaxNotifyPayload:
		return invalidf("notification is %d bytes, at most %d", len(payload), MaxNotifyPayload)
	case !utf8.Valid(payload):
		return invalidf("notification is not valid UTF-8")
	case bytes.IndexByte(payload, 0) >= 0:
		return invalidf("notification has a NUL byte")
	}
	if s.closed.Load() {
		return errClosed
	}
	if s.engine == SQLite {
		for _, h := range sqliteHubsOf(s.sqliteKey) {
			h.deliver(channel, payload)
		}
		return nil
	}
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, s.pgChannel, channel+":"+string(payload)); err != nil {
		return fmt.Errorf("store: notify: %w", err)
	}
	return nil
}

// Subscribe returns a channel that receives the payload of every Notify on channel
// made after Subscribe returns, by any Store on this database (on SQLite: any Store
// of this process on the same file). The channel is closed when ctx ends or the
// Store is closed.
//
// Delivery is at most once and never waits for a subscriber: one that has
// SubscribeBuffer messages unread loses the next ones, which DroppedNotifications
// counts. On PostgreSQL a dedicated connection LISTENs, opened by the first
// Subscribe (which fails if it cannot connect); when that connection drops, the
// Store reconnects with backoff and the messages sent in between are lost. A
// subscriber that must not miss a change should therefore also look now and then
// (Revision, for controls). Each payload is the subscriber's own copy.
func (s *Store) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.engine == Postgres {
		if err := s.startListener(ctx); err != nil {
			return nil, err
		}
	}
	return s.hub.add(ctx, channel)
}

// DroppedNotifications returns how many messages this Store's subscribers have
// lost because they were not reading.
func (s *Store) DroppedNotifications() int64 { return s.hub.dropped.Load() }

// hub holds a Store's subscriptions and hands them messages. It is safe for
// concurrent use.
type hub struct {
	log     *slog.Logger
	dropped atomic.Int64

	mu     sync.Mutex
	subs   map[string]map[*subscription]struct{}
	closed bool
}

// subscription is one Subscribe.
type subscription struct {
	ch      chan []byte
	stop    func() bool // stops the context.AfterFunc that removes it
	dropped int64       // under hub.mu
}

func newHub(log *slog.Logger) *hub {
	return &hub{log: log, subs: map[string]map[*subscription]struct{}{}}
}

// add subscribes to channel until ctx ends or the hub closes.
func (h *hub) add(ctx context.Context, channel string) (<-chan []byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errClosed
	}
	sub := &subscription{ch: make(chan []byte, SubscribeBuffer)}
	if h.subs[channel] == nil {
		h.subs[channel] = map[*subscription]struct{}{}
	}
	h.subs[channel][sub] = struct{}{}
	// AfterFunc runs in a goroutine of its own, so it may take h.mu.
	sub.stop = context.AfterFunc(ctx, func() { h.remove(channel, sub) })
	return sub.ch, nil
}

// remove ends sub, if the hub still has it.
func (h *hub) remove(channel string, sub *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.subs[channel]
	if _, ok := subs[sub]; !ok {
		return
	}
	delete(subs, sub)
	if len(subs) == 0 {
		delete(h.subs, channel)
	}
	close(sub.ch)
}

// deliver hands a copy of payload to each subscriber of channel that has room.
func (h *hub) deliver(channel string, payload []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs[channel] {
		select {
		case sub.ch <- append([]byte(nil), payload...):
		default:
			h.dropped.Add(1)
			if sub.dropped++; sub.dropped == 1 {
				h.log.Warn("studio store: a subscriber is not reading; dropping its notifications", "channel", channel)
			}
		}
	}
}

// close ends every subscription; add fails after it.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	var stops []func() bool
	for channel, subs := range h.subs {
		for sub := range subs {
			close(sub.ch)
			stops = append(stops, sub.stop)
		}
		delete(h.subs, channel)
	}
	h.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// sqliteHubs are the hubs of this process's SQLite Stores, by database file, so a
// Notify reaches the Stores that share its file. It is package state because that
// is what "this process" is; it holds only live Stores, each from Open to Close.
var sqliteHubs = struct {
	sync.Mutex
	m map[string][]*hub
}{m: map[string][]*hub{}}

func sqliteHubsOf(key string) []*hub {
	sqliteHubs.Lock()
	defer sqliteHubs.Unlock()
	return append([]*hub(nil), sqliteHubs.m[key]...)
}

// sqliteFileKey names the database file of an SQLite DSN for sqliteHubs: its
// absolute path with symbolic links resolved.
func sqliteFileKey(dsn string) string {
	p := dsn
	if rest, ok := strings.CutPrefix(p, "file:"); ok {
		p = rest
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		if rest, ok := strings.CutPrefix(p, "//"); ok { // file://host/path
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				p = rest[i:]
			}
		}
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p
}

// setupNotify readies notifications after Open: on SQLite it registers the
// Store's hub under its file; on PostgreSQL it names the Store's channel after the
// schema, so that Stores on other schemas of one database do not hear each other.
func (s *Store) setupNotify(ctx context.Context, dsn string) error {
	if s.engine == SQLite {
		s.sqliteKey = sqliteFileKey(dsn)
		sqliteHubs.Lock()
		sqliteHubs.m[s.sqliteKey] = append(sqliteHubs.m[s.sqliteKey], s.hub)
		sqliteHubs.Unlock()
		return nil
	}
	var schema string
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(current_schema(), '')`).Scan(&schema); err != nil {
		return fmt.Errorf("store: schema: %w", err)
	}
	h := sha256.Sum256([]byte(schema))
	s.pgChannel = "vigil_studio_" + hex.EncodeToString(h[:8])
	return nil
}

// stopNotify ends notifications at Close: the listener, the hub's subscriptions
// and the hub's place in sqliteHubs.
func (s *Store) stopNotify() {
	s.closed.Store(true)
	if s.hub == nil { // Open failed before the hub was made
		return
	}
	s.listenMu.Lock()
	l := s.listen
	s.listenClosed = true
	s.listenMu.Unlock()
	if l != nil {
		l.cancel()
		<-l.done
	}
	if s.sqliteKey != "" {
		sqliteHubs.Lock()
		hubs := sqliteHubs.m[s.sqliteKey]
		for i, h := range hubs {
			if h == s.hub {
				hubs = append(hubs[:i:i], hubs[i+1:]...)
				break
			}
		}
		if len(hubs) == 0 {
			delete(sqliteHubs.m, s.sqliteKey)
		} else {
			sqliteHubs.m[s.sqliteKey] = hubs
		}
		sqliteHubs.Unlock()
	}
	s.hub.close()
}

// listener is the goroutine that LISTENs on PostgreSQL for a Store.
type listener struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has ended
}

// Reconnection backoff of the listener: it doubles from the first to the last.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 10 * time.Second
	listenDialLimit  = 10 * time.Second
)

// startListener starts the Store's listener unless it runs: it connects and LISTENs
// within ctx and listenDialLimit, then hands the connection to a goroutine that
// Close ends.
func (s *Store) startListener(ctx context.Context) error {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.listenClosed {
		return errClosed
	}
	if s.listen != nil {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, listenDialLimit)
	conn, err := s.listenConn(dctx)
	cancel()
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.listen = &listener{cancel: cancel, done: make(chan struct{})}
	go s.runListener(lctx, conn, s.listen.done)
	return nil
}

// listenConn opens a connection like the pool's and LISTENs on the Store's channel.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "vigil-studio-listen"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.pgChannel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

// runListener hands the notifications conn receives to the hub until ctx ends,
// reconnecting when the connection drops. It waits before each reconnection, from
// listenBackoffMin doubling to listenBackoffMax, and starts again from the least
// once a connection has lasted listenBackoffMax, so a server that accepts and then
// drops connections is not hammered.
func (s *Store) runListener(ctx context.Context, conn *pgx.Conn, done chan<- struct{}) {
	defer close(done)
	backoff := listenBackoffMin
	since := time.Now()
	for {
		if conn == nil {
			wait := backoff/2 + rand.N(backoff/2+1)
			backoff = min(2*backoff, listenBackoffMax)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			dctx, cancel := context.WithTimeout(ctx, listenDialLimit)
			c, err := s.listenConn(dctx)
			cancel()
			if ctx.Err() != nil {
				if c != nil {
					closeConn(c)
				}
				return
			}
			if err != nil {
				s.log.Warn("studio store: notification listener cannot reconnect", "err", err, "retry_in", backoff)
				continue
			}
			s.log.Info("studio store: notification listener reconnected")
			conn, since = c, time.Now()
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			closeConn(conn)
			conn = nil
			if ctx.Err() != nil {
				return
			}
			if time.Since(since) >= listenBackoffMax {
				backoff = listenBackoffMin
			}
			s.log.Warn("studio store: notification listener lost its connection; notifications until it is back are lost", "err", err)
			continue
		}
		if n.Channel != s.pgChannel {
			continue
		}
		if channel, payload, ok := strings.Cut(n.Payload, ":"); ok {
			s.hub.deliver(channel, []byte(payload))
		}
	}
}
