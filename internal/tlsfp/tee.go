package tlsfp

import (
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// MaxHello is the largest ClientHello message a Tee records: the 4-byte handshake
// header and a MaxHelloBody body.
const MaxHello = 4 + MaxHelloBody

// errPending is what Tee.Hello returns before the hello is complete; a static value so
// that polling it does not allocate.
var errPending = fmt.Errorf("%w: the connection has not delivered a complete client hello yet", ErrTruncated)

// Tee is a net.Conn that records the first ClientHello read through it. Put it below
// crypto/tls: tls.Server(tee, cfg). It follows the TLS record framing of the bytes that
// pass and keeps only the handshake message, so it holds at most the cap given to
// NewTee, however the client splits the hello into records. Once the hello is complete
// (it is then parsed), or the stream turns out not to start with one, or a read fails,
// the result of Hello is settled, the buffer dropped, and from then on reads pass
// straight through. It never changes, delays or reorders the bytes, and Write, Close and
// the deadlines go straight to the wrapped conn.
//
// The zero value is not usable; use NewTee. Read must not be called by more than one
// goroutine at a time, as crypto/tls never does; every other method, Hello included, is
// safe for concurrent use.
type Tee struct {
	conn net.Conn
	max  int

	// Recording state, owned by the goroutine in Read until done is set.
	hdr     [recordHeaderLen]byte // header of the current record
	hdrN    int                   // bytes of hdr filled
	left    int                   // payload bytes of the current record still to come
	records int
	version uint16 // of the first record
	head    [handshakeHeaderLen]byte
	headN   int
	msg     []byte // handshake message, once its header is complete
	need    int    // length of the handshake message, header included

	// Result, written once before done is set and immutable after.
	hello *ClientHello
	err   error
	done  atomic.Bool
}

// NewTee returns a Tee over c that records a ClientHello message of at most max bytes,
// header included. A max outside 1 to MaxHello means MaxHello; a hello larger than max
// makes Hello return an error wrapping ErrTooLarge while the bytes still pass through.
func NewTee(c net.Conn, max int) *Tee {
	if max <= 0 || max > MaxHello {
		max = MaxHello
	}
	return &Tee{conn: c, max: max}
}

// Read reads from the wrapped conn, recording while the hello is incomplete.
func (t *Tee) Read(p []byte) (int, error) {
	n, err := t.conn.Read(p)
	if t.done.Load() {
		return n, err
	}
	if n > 0 {
		t.record(p[:n])
	}
	if err != nil && !t.done.Load() {
		// crypto/tls fails the handshake on any read error, so the hello will never
		// be completed; free the buffer now.
		t.finish(nil, fmt.Errorf("%w: read ended after %d records: %w", ErrTruncated, t.records, err))
	}
	return n, err
}

// Hello returns the recorded ClientHello once it is complete, parsed. Before then it
// returns an error wrapping ErrTruncated; the result is final once the hello is
// complete, the hello was found malformed or too large, or a Read failed. The returned
// ClientHello is shared: do not modify it.
func (t *Tee) Hello() (*ClientHello, error) {
	if !t.done.Load() {
		return nil, errPending
	}
	return t.hello, t.err
}

// record follows the record framing over b and keeps the handshake message bytes.
func (t *Tee) record(b []byte) {
	for len(b) > 0 {
		if t.hdrN < recordHeaderLen {
			k := copy(t.hdr[t.hdrN:], b)
			t.hdrN += k
			b = b[k:]
			if t.hdr[0] != recordTypeHandshake {
				// Fail as soon as the first byte shows the stream is not a hello.
				t.finish(nil, errRecordType(t.hdr[0]))
				return
			}
			if t.hdrN < recordHeaderLen {
				return
			}
			n, err := checkRecordHeader(t.hdr[:])
			if err != nil {
				t.finish(nil, err)
				return
			}
			if t.records == 0 {
				t.version = uint16(t.hdr[1])<<8 | uint16(t.hdr[2])
			}
			t.records++
			t.left = n
			continue
		}
		chunk := b[:min(t.left, len(b))]
		b = b[len(chunk):]
		t.left -= len(chunk)
		if t.left == 0 {
			t.hdrN = 0
		}
		if t.headN < handshakeHeaderLen {
			k := copy(t.head[t.headN:], chunk)
			t.headN += k
			chunk = chunk[k:]
			if t.headN < handshakeHeaderLen {
				continue
			}
			need, err := helloLen(t.head[:])
			if err == nil && need > t.max {
				err = fmt.Errorf("%w: hello of %d bytes exceeds the cap of %d", ErrTooLarge, need, t.max)
			}
			if err != nil {
				t.finish(nil, err)
				return
			}
			t.need = need
			// Start small: a client announcing a large hello has to send it.
			t.msg = make([]byte, 0, min(need, 4<<10))
			t.msg = append(t.msg, t.head[:]...)
		}
		t.msg = append(t.msg, chunk[:min(len(chunk), t.need-len(t.msg))]...)
		if len(t.msg) == t.need {
			t.finish(parseMessage(t.msg, t.version, t.records))
			return
		}
	}
}

// finish publishes the result and stops recording.
func (t *Tee) finish(h *ClientHello, err error) {
	t.hello, t.err = h, err
	t.msg = nil
	t.done.Store(true)
}

// Write writes to the wrapped conn.
func (t *Tee) Write(p []byte) (int, error) { return t.conn.Write(p) }

// Close closes the wrapped conn.
func (t *Tee) Close() error { return t.conn.Close() }

// LocalAddr returns the wrapped conn's local address.
func (t *Tee) LocalAddr() net.Addr { return t.conn.LocalAddr() }

// RemoteAddr returns the wrapped conn's remote address.
func (t *Tee) RemoteAddr() net.Addr { return t.conn.RemoteAddr() }

// SetDeadline sets the wrapped conn's deadlines.
func (t *Tee) SetDeadline(d time.Time) error { return t.conn.SetDeadline(d) }

// SetReadDeadline sets the wrapped conn's read deadline.
func (t *Tee) SetReadDeadline(d time.Time) error { return t.conn.SetReadDeadline(d) }

// SetWriteDeadline sets the wrapped conn's write deadline.
func (t *Tee) SetWriteDeadline(d time.Time) error { return t.conn.SetWriteDeadline(d) }

// NetConn returns the wrapped conn.
func (t *Tee) NetConn() net.Conn { return t.conn }
