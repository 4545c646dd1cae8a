package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/vigilhq/vigil/internal/studio/store"
)

// Store is what a Sender needs of Studio's store; *store.Store implements it.
type Store interface {
	// ClaimDue leases up to n due deliveries until now+lease.
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration, n int) ([]store.Delivery, error)
	// RecordAttempt records an attempt's outcome; a zero next finishes the delivery.
	RecordAttempt(ctx context.Context, id int64, status int, errText string, dur time.Duration, next time.Time) error
}

// Config configures a Sender. Every field but Store may be left zero.
type Config struct {
	// Store holds the deliveries. Required.
	Store Store
	// Client sends the requests. Nil: a client that does not follow redirects
	// (a redirect is a failed attempt) over its own copy of
	// http.DefaultTransport. A Client given here is used as it is; Timeout below
	// bounds each attempt either way.
	Client *http.Client
	// Logger receives a record per delivery given up and per store error. Nil:
	// records are dropped.
	Logger *slog.Logger
	// MaxAttempts is how many attempts a delivery gets before it is given up.
	// Zero: 8.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the wait before a retry: after the k-th
	// failed attempt, BackoffBase·2^(k-1) capped at BackoffMax, of which a random
	// half is taken off (jitter), so receivers that failed together are not retried
	// together. Zero: 1 second and 1 hour.
	BackoffBase, BackoffMax time.Duration
	// Timeout bounds one attempt: connecting, sending, and reading the status and
	// at most 4 KiB of the answer. Zero: 10 seconds.
	Timeout time.Duration
	// Lease is how long a claimed delivery is the Sender's: if it has not recorded
	// the attempt by then, the delivery is due again. It must be longer than
	// Timeout. Zero: 1 minute.
	Lease time.Duration
	// Poll is how often the Sender looks for due deliveries when nothing wakes it
	// (Kick). Zero: 1 second.
	Poll time.Duration
	// Concurrency is how many deliveries are sent at once. Zero: 4.
	Concurrency int
}

// maxResponse is how much of an answer a Sender reads; errorSnippet how much of a
// failed answer it keeps in the delivery's error text.
const (
	maxResponse  = 4 << 10
	errorSnippet = 256
)

// recordTimeout bounds RecordAttempt after the attempt, which runs even when Run's
// context has ended so that a sent delivery is not sent again.
const recordTimeout = 10 * time.Second

// Sender sends webhook deliveries: Run claims, sends and records them. Make it with
// New; the zero value is not usable. Kick is safe for concurrent use; call Run once.
type Sender struct {
	cfg  Config
	log  *slog.Logger
	kick chan struct{}
}

// New checks cfg, fills in the defaults and returns a Sender. It starts nothing.
func New(cfg Config) (*Sender, error) {
	if cfg.Store == nil {
		return nil, errors.New("webhook: Config.Store is required")
	}
	if cfg.MaxAttempts < 0 || cfg.BackoffBase < 0 || cfg.BackoffMax < 0 || cfg.Timeout < 0 ||
		cfg.Lease < 0 || cfg.Poll < 0 || cfg.Concurrency < 0 {
		return nil, errors.New("webhook: negative Config field")
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.BackoffBase, time.Second)
	def(&cfg.BackoffMax, time.Hour)
	def(&cfg.Timeout, 10*time.Second)
	def(&cfg.Lease, time.Minute)
	def(&cfg.Poll, time.Second)
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	if cfg.Lease <= cfg.Timeout {
		return nil, fmt.Errorf("webhook: Lease %v must be longer than Timeout %v", cfg.Lease, cfg.Timeout)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg, log: log, kick: make(chan struct{}, 1)}, nil
}

// Kick wakes Run to look for due deliveries now rather than at its next poll; call it
// after EnqueueDelivery. It never blocks.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends, then cancels the attempts in flight, waits
// for them and returns nil. An attempt cut short is not recorded: its lease runs out
// and the delivery is sent again, by this process or another. Store errors are logged
// and retried at the next poll.
func (s *Sender) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	conc := s.cfg.Concurrency
	done := make(chan struct{}, conc) // room for every send in flight: a send never blocks
	inflight := 0
	poll := time.NewTimer(0)
	defer poll.Stop()
	claim, more := false, false
	for {
		if claim && inflight < conc {
			free := conc - inflight
			ds, err := s.cfg.Store.ClaimDue(ctx, time.Now(), s.cfg.Lease, free)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.log.Error("webhook: claiming deliveries failed", "err", err)
			}
			for _, d := range ds {
				inflight++
				wg.Go(func() {
					s.deliver(ctx, d)
					done <- struct{}{}
				})
			}
			// A full claim means more may be due: claim again when a send ends.
			more = len(ds) == free
			poll.Reset(s.cfg.Poll)
		}
		claim = false
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			inflight--
			claim = more
		case <-s.kick:
			claim = true
		case <-poll.C:
			claim = true
			if inflight == conc { // no room to claim: look again after the next poll
				poll.Reset(s.cfg.Poll)
			}
		}
	}
}

// deliver makes one attempt at d and records it.
func (s *Sender) deliver(ctx context.Context, d store.Delivery) {
	start := time.Now()
	status, errText := s.post(ctx, d)
	dur := time.Since(start)
	if status == 0 && ctx.Err() != nil {
		return // cut short by shutdown: not an attempt
	}
	attempt := d.Attempt + 1
	var next time.Time
	switch {
	case status >= 200 && status < 300:
	case attempt >= s.cfg.MaxAttempts:
		s.log.Warn("webhook: delivery given up", "delivery", d.ID, "webhook", d.Webhook, "event", d.Event,
			"attempts", attempt, "status", status, "err", errText)
	default:
		next = time.Now().Add(s.backoff(attempt))
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err := s.cfg.Store.RecordAttempt(rctx, d.ID, status, errText, dur, next)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.log.Debug("webhook: delivery gone before its attempt was recorded", "delivery", d.ID, "webhook", d.Webhook)
	case err != nil:
		s.log.Error("webhook: recording an attempt failed", "delivery", d.ID, "webhook", d.Webhook, "err", err)
	}
}

// post sends d once and returns the answer's status (0 when none came) and, for a
// failure, what went wrong.
func (s *Sender) post(ctx context.Context, d store.Delivery) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, "bad request: " + err.Error()
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", UserAgent)
	h.Set(HeaderEvent, d.Event)
	h.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	h.Set(HeaderSignature, Sign([]byte(d.Secret), time.Now(), d.Payload))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		// The URL is the webhook's, shown beside the delivery already.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	msg := "status " + strconv.Itoa(resp.StatusCode)
	if snip := snippet(body); snip != "" {
		msg += ": " + snip
	}
	return resp.StatusCode, msg
}

// snippet returns the start of an answer's body as one line of printable text.
func snippet(body []byte) string {
	s := strings.ToValidUTF8(string(body[:min(len(body), errorSnippet)]), "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// backoff returns the wait after the k-th failed attempt (k ≥ 1).
func (s *Sender) backoff(k int) time.Duration {
	d := s.cfg.BackoffMax
	if k-1 < 62 {
		if b := s.cfg.BackoffBase << (k - 1); b > 0 && b>>(k-1) == s.cfg.BackoffBase && b < d {
			d = b
		}
	}
	half := d / 2
	return d - half + rand.N(half+1)
}
