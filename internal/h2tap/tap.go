package h2tap

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/net/http2/hpack"
)

// ErrUnavailable is wrapped by [Tap.Err] once a Tap has given up on its connection:
// the connection's HTTP/2 fingerprint and header order are unknown.
var ErrUnavailable = errors.New("h2 DNA unavailable")

// Defaults for the zero [Config].
const (
	// DefaultMaxHeaderBlockBytes is net/http's DefaultMaxHeaderBytes.
	DefaultMaxHeaderBlockBytes = 1 << 20
	// DefaultHeaderTableSize is the initial SETTINGS_HEADER_TABLE_SIZE of RFC 9113,
	// which net/http advertises unless HTTP2Config.MaxDecoderHeaderTableSize is set.
	DefaultHeaderTableSize = 4096
	// DefaultMaxPendingStreams is the default MaxConcurrentStreams of the HTTP/2
	// server in golang.org/x/net.
	DefaultMaxPendingStreams = 250
)

// Fixed bounds; see the package documentation.
const (
	maxSettings   = 32
	maxPriorities = 16
	maxFields     = 128
)

// Config sets the limits of a [Tap]. The zero value uses the defaults above, which
// match an http.Server with default HTTP/2 settings.
type Config struct {
	// MaxHeaderBlockBytes caps one header block as sent on the wire (HEADERS plus
	// CONTINUATION fragments, without padding and priority fields) and the total size
	// of what waiting streams keep. A longer block makes the Tap unavailable. Set it to
	// at least the server's MaxHeaderBytes: a block the server accepts is about that
	// size at most, since HPACK shrinks headers. Zero means
	// DefaultMaxHeaderBlockBytes (1 MiB).
	MaxHeaderBlockBytes uint32
	// HeaderTableSize is the SETTINGS_HEADER_TABLE_SIZE the server advertises for the
	// requests it decodes (http.HTTP2Config.MaxDecoderHeaderTableSize), which bounds
	// the HPACK dynamic table of the client's encoder. It is not the client's setting
	// of the same name. Zero means DefaultHeaderTableSize (4096), as in net/http.
	HeaderTableSize uint32
	// MaxPendingStreams caps the streams recorded but not yet taken by [Tap.Take];
	// the oldest is dropped first. Set it to the server's MaxConcurrentStreams. Zero
	// means DefaultMaxPendingStreams (250).
	MaxPendingStreams uint32
}

// Stream is what a Tap recorded about one request stream. Its slices are not shared
// with the Tap; the caller owns them.
type Stream struct {
	// ID is the HTTP/2 stream id.
	ID uint32
	// Method, Authority, Path and Scheme are the values of the :method, :authority,
	// :path and :scheme pseudo-headers ("" when absent).
	Method, Authority, Path, Scheme string
	// Pseudo are the pseudo-header names in wire order, such as [":method",
	// ":authority", ":scheme", ":path"].
	Pseudo []string
	// Names are the other header names in wire order, as sent (HTTP/2 names are
	// lowercase), each occurrence kept: cookie crumbs appear once per crumb.
	Names []string
	// Priority is the priority carried by the HEADERS frame, or the zero Priority.
	Priority Priority
	// Truncated is set when the block had more than 128 fields: only the first 128
	// are in Pseudo and Names.
	Truncated bool

	host string // r.Host as net/http sets it: :authority, else the first host field
	uri  string // r.RequestURI as net/http sets it
	size int    // bytes accounted for while pending
}

// Tap is the shadow HTTP/2 parser of one connection; see the package documentation.
//
// The zero value is a Tap with the default [Config]. [Tap.Feed] must be called from one
// goroutine at a time (the connection's reader); [Tap.Take], [Tap.Fingerprint] and
// [Tap.Err] are safe for concurrent use with Feed and with each other.
type Tap struct {
	cfg Config

	// Parser state, owned by the goroutine calling Feed.
	p parser

	mu      sync.Mutex
	err     error
	frozen  bool        // fp is final
	fp      Fingerprint // published when frozen
	pending []Stream    // oldest first
	pendBuf int         // sum of pending[i].size
}

// New returns a Tap for one connection. It starts nothing.
func New(cfg Config) *Tap { return &Tap{cfg: cfg} }

func (t *Tap) maxBlock() int {
	if t.cfg.MaxHeaderBlockBytes == 0 {
		return DefaultMaxHeaderBlockBytes
	}
	return int(t.cfg.MaxHeaderBlockBytes)
}

func (t *Tap) tableSize() uint32 {
	if t.cfg.HeaderTableSize == 0 {
		return DefaultHeaderTableSize
	}
	return t.cfg.HeaderTableSize
}

func (t *Tap) maxPending() int {
	if t.cfg.MaxPendingStreams == 0 {
		return DefaultMaxPendingStreams
	}
	return int(t.cfg.MaxPendingStreams)
}

// Take removes and returns the oldest recorded stream whose request has the given
// method, host and request URI: pass r.Method, r.Host and r.RequestURI of the request
// the HTTP/2 server made from the stream. Handlers do not see stream ids, and these
// three values identify a stream except among identical concurrent requests, which
// are then matched first come, first served; they were sent with the same header order
// anyway, unless the client varies it per request.
//
// Take reports false when no such stream is waiting (it was dropped by a limit or a
// RST_STREAM, or taken already) and when the Tap is unavailable.
func (t *Tap) Take(method, authority, requestURI string) (Stream, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return Stream{}, false
	}
	for i := range t.pending {
		s := &t.pending[i]
		if s.uri == requestURI && s.host == authority && s.Method == method {
			st := *s
			t.removePending(i)
			return st, true
		}
	}
	return Stream{}, false
}

// Fingerprint returns the connection's fingerprint. It reports false until the first
// request's header block has been decoded, and when the Tap is unavailable.
func (t *Tap) Fingerprint() (Fingerprint, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil || !t.frozen {
		return Fingerprint{}, false
	}
	return t.fp, true
}

// Err returns nil while the Tap follows its connection, and an error wrapping
// [ErrUnavailable] that says why once it has given up.
func (t *Tap) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// removePending removes t.pending[i], keeping the order. t.mu must be held.
func (t *Tap) removePending(i int) {
	t.pendBuf -= t.pending[i].size
	copy(t.pending[i:], t.pending[i+1:])
	t.pending[len(t.pending)-1] = Stream{}
	t.pending = t.pending[:len(t.pending)-1]
}

// publish adds a decoded stream to the pending FIFO, dropping the oldest streams to
// stay within the limits, and freezes the fingerprint if fp is not nil.
func (t *Tap) publish(s *Stream, fp *Fingerprint) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return
	}
	if fp != nil {
		t.fp = *fp
		t.frozen = true
	}
	if s == nil {
		return
	}
	budget := t.maxBlock()
	if s.size > budget {
		return
	}
	for len(t.pending) > 0 && (len(t.pending) >= t.maxPending() || t.pendBuf+s.size > budget) {
		t.removePending(0)
	}
	t.pending = append(t.pending, *s)
	t.pendBuf += s.size
}

// reset drops the pending stream id after a RST_STREAM.
func (t *Tap) reset(id uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.pending {
		if t.pending[i].ID == id {
			t.removePending(i)
			return
		}
	}
}

// fail makes the Tap unavailable and frees what it holds.
func (t *Tap) fail(format string, args ...any) {
	t.p = parser{dead: true}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = fmt.Errorf("%w: %s", ErrUnavailable, fmt.Sprintf(format, args...))
	}
	t.pending = nil
	t.pendBuf = 0
	t.fp = Fingerprint{}
}

// decodeBlock decodes one complete header block with the connection's HPACK decoder
// and records the stream if the block opened one.
func (t *Tap) decodeBlock(block []byte) {
	p := &t.p
	if p.dec == nil {
		p.dec = hpack.NewDecoder(t.tableSize(), p.onField)
	}
	if p.f.names == nil {
		p.f.names = make([]string, 0, 32) // room for a browser's request
	}
	p.f = fields{names: p.f.names[:0]}
	p.dec.SetEmitEnabled(p.blk.open)
	if _, err := p.dec.Write(block); err != nil {
		t.fail("hpack: %v", err)
		return
	}
	if err := p.dec.Close(); err != nil {
		t.fail("hpack: %v", err)
		return
	}
	if !p.blk.open {
		return
	}
	s := p.f.stream(p.blk.id, p.blk.prio)
	clear(p.f.names)
	p.f = fields{names: p.f.names[:0]} // hold no strings of the request while idle
	var fp *Fingerprint
	if !p.frozen {
		p.frozen = true
		p.fp.Pseudo = append([]string(nil), s.Pseudo...)
		p.fp.HeadersPriority = p.blk.prio
		fp = &p.fp
	}
	t.publish(&s, fp)
}

// fields collects the fields of the header block being decoded.
type fields struct {
	names     []string // wire order, at most maxFields
	npseudo   int
	truncated bool
	method    string
	authority string
	path      string
	scheme    string
	protocol  string
	host      string
	size      int
}

// onField is the emit function of the HPACK decoder.
func (p *parser) onField(f hpack.HeaderField) {
	c := &p.f
	if len(c.names) == maxFields {
		c.truncated = true
		p.dec.SetEmitEnabled(false)
		return
	}
	c.names = append(c.names, f.Name)
	c.size += len(f.Name) + 16
	if f.IsPseudo() {
		c.npseudo++
		var v *string
		switch f.Name {
		case ":method":
			v = &c.method
		case ":authority":
			v = &c.authority
		case ":path":
			v = &c.path
		case ":scheme":
			v = &c.scheme
		case ":protocol":
			v = &c.protocol
		}
		if v != nil && *v == "" {
			*v = f.Value
			c.size += len(f.Value)
		}
	} else if f.Name == "host" && c.host == "" {
		c.host = f.Value
		c.size += len(f.Value)
	}
}

// streamOverhead approximates the bytes a pending Stream costs beyond its strings.
const streamOverhead = 160

// stream builds the Stream of the decoded block in one allocation for both name lists.
func (c *fields) stream(id uint32, prio Priority) Stream {
	all := make([]string, len(c.names))
	np := 0
	for _, n := range c.names {
		if len(n) > 0 && n[0] == ':' {
			all[np] = n
			np++
		}
	}
	nr := np
	for _, n := range c.names {
		if len(n) == 0 || n[0] != ':' {
			all[nr] = n
			nr++
		}
	}
	s := Stream{
		ID: id, Method: c.method, Authority: c.authority, Path: c.path, Scheme: c.scheme,
		Pseudo: all[:np:np], Names: all[np:], Priority: prio, Truncated: c.truncated,
		host: c.authority, uri: c.path, size: c.size + streamOverhead,
	}
	if s.host == "" {
		s.host = c.host
	}
	if c.method == "CONNECT" && c.protocol == "" {
		s.uri = c.authority
	}
	return s
}

// connCtxKey is the context key of the Tap of a connection.
type connCtxKey struct{}

// NewContext returns a copy of ctx that carries t; use it in http.Server.ConnContext.
func NewContext(ctx context.Context, t *Tap) context.Context {
	return context.WithValue(ctx, connCtxKey{}, t)
}

// FromContext returns the Tap stored by [NewContext], or nil.
func FromContext(ctx context.Context) *Tap {
	t, _ := ctx.Value(connCtxKey{}).(*Tap)
	return t
}
