package h2tap

import (
	"encoding/binary"

	"golang.org/x/net/http2/hpack"
)

// clientPreface starts every HTTP/2 connection (RFC 9113, section 3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Frame types and flags (RFC 9113, section 6).
const (
	frameHeaders      = 0x1
	framePriority     = 0x2
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	frameWindowUpdate = 0x8
	frameContinuation = 0x9

	flagAck        = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8
	flagPriority   = 0x20

	frameHeaderLen = 9
)

// Parser states.
const (
	statePreface = iota // the zero value: matching the preface
	stateHeader         // reading a 9-byte frame header
	stateCollect        // collecting need bytes of a frame into small
	stateBody           // header block fragment bytes
	stateSkip           // payload bytes nobody reads
)

// What is done with the payload of the current frame.
const (
	actSkip = iota
	actHeaders
	actContinuation
	actSettings
	actWindowUpdate
	actPriority
)

// parser is the state of a Tap owned by the goroutine calling Feed.
type parser struct {
	dead  bool
	state uint8
	act   uint8
	n     int // bytes matched or collected in the current state
	need  int // bytes to collect in stateCollect
	hdr   [frameHeaderLen]byte
	small [6]byte

	// The current frame.
	flags  uint8
	stream uint32
	remain int // payload bytes not yet consumed
	body   int // header block fragment bytes not yet consumed

	// The header block being collected.
	blk   blockInfo
	block []byte // fragments so far, when they could not be decoded in place
	done  bool   // the block was decoded in place from Feed's buffer
	dec   *hpack.Decoder
	f     fields

	lastStream   uint32 // highest client stream id opened
	frozen       bool
	haveSettings bool
	haveWU       bool
	fp           Fingerprint // built until frozen, then published and left alone
}

// blockInfo describes the header block being collected.
type blockInfo struct {
	id   uint32   // its stream; 0 when no block is open
	open bool     // it opens a new request stream
	prio Priority // from the HEADERS frame
}

// keepBlockCap is the largest block buffer kept for reuse once a block is decoded.
const keepBlockCap = 4 << 10

// Feed parses p, the next bytes the client sent on the connection. It never waits
// (beyond a short critical section shared with Take), never modifies or keeps p, and
// does nothing once the Tap is unavailable. Feed must see the bytes before the server
// processes them — [Conn] does this — so that a stream is recorded before its handler
// runs.
func (t *Tap) Feed(p []byte) {
	s := &t.p
	for len(p) > 0 && !s.dead {
		switch s.state {
		case statePreface:
			n := min(len(p), len(clientPreface)-s.n)
			if string(p[:n]) != clientPreface[s.n:s.n+n] {
				t.fail("not an HTTP/2 client preface")
				return
			}
			s.n += n
			p = p[n:]
			if s.n == len(clientPreface) {
				s.state, s.n = stateHeader, 0
			}
		case stateHeader:
			var h []byte
			if s.n == 0 && len(p) >= frameHeaderLen {
				h, p = p[:frameHeaderLen], p[frameHeaderLen:]
			} else {
				n := copy(s.hdr[s.n:], p)
				s.n += n
				p = p[n:]
				if s.n < frameHeaderLen {
					return
				}
				h = s.hdr[:]
			}
			t.beginFrame(h)
		case stateCollect:
			n := copy(s.small[s.n:s.need], p)
			s.n += n
			s.remain -= n
			p = p[n:]
			if s.n == s.need {
				t.collected()
			}
		case stateBody:
			n := min(len(p), s.body)
			t.fragment(p[:n])
			s.body -= n
			s.remain -= n
			p = p[n:]
			if s.body == 0 && !s.dead {
				t.afterBody()
			}
		case stateSkip:
			n := min(len(p), s.remain)
			s.remain -= n
			p = p[n:]
			if s.remain == 0 {
				t.endFrame()
			}
		}
	}
}

// beginFrame starts a frame from its 9-byte header h.
func (t *Tap) beginFrame(h []byte) {
	s := &t.p
	length := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	typ := h[3]
	s.flags = h[4]
	s.stream = binary.BigEndian.Uint32(h[5:9]) & (1<<31 - 1)
	s.remain = length
	s.n = 0
	s.act = actSkip
	s.state = stateSkip

	// A header block is a HEADERS frame and CONTINUATION frames on its stream with
	// nothing in between (RFC 9113, section 4.3).
	if s.blk.id != 0 {
		if typ != frameContinuation || s.stream != s.blk.id {
			t.fail("frame type %d on stream %d inside the header block of stream %d", typ, s.stream, s.blk.id)
			return
		}
	} else if typ == frameContinuation {
		t.fail("CONTINUATION outside a header block on stream %d", s.stream)
		return
	}

	switch typ {
	case frameHeaders:
		if s.stream == 0 {
			t.fail("HEADERS on stream 0")
			return
		}
		s.act = actHeaders
		s.blk = blockInfo{id: s.stream}
		// Like the server: a client stream id above every earlier one opens a
		// request stream; anything else (trailers, errors) is decoded only to keep
		// the HPACK state.
		if s.stream&1 == 1 && s.stream > s.lastStream {
			s.lastStream = s.stream
			s.blk.open = true
		}
		need := 0
		if s.flags&flagPadded != 0 {
			need++
		}
		if s.flags&flagPriority != 0 {
			need += 5
		}
		if need > s.remain {
			t.fail("HEADERS frame too short for its padding and priority fields")
			return
		}
		if need > 0 {
			s.need, s.state = need, stateCollect
			return
		}
		s.startBody(s.remain)
	case frameContinuation:
		s.act = actContinuation
		s.startBody(s.remain)
	case frameSettings:
		if s.flags&flagAck != 0 || s.haveSettings || s.frozen {
			break
		}
		if s.stream != 0 || s.remain%6 != 0 {
			t.fail("malformed SETTINGS frame")
			return
		}
		s.act = actSettings
		s.fp.Settings = make([]Setting, 0, min(s.remain/6, maxSettings))
		if s.remain > 0 {
			s.need, s.state = 6, stateCollect
		}
	case frameWindowUpdate:
		if s.stream != 0 || s.haveWU || s.frozen {
			break
		}
		if s.remain != 4 {
			t.fail("malformed WINDOW_UPDATE frame")
			return
		}
		s.act = actWindowUpdate
		s.need, s.state = 4, stateCollect
	case framePriority:
		if s.frozen || len(s.fp.Priorities) == maxPriorities {
			break
		}
		if s.stream == 0 || s.remain != 5 {
			t.fail("malformed PRIORITY frame")
			return
		}
		s.act = actPriority
		if s.fp.Priorities == nil {
			s.fp.Priorities = make([]Priority, 0, maxPriorities)
		}
		s.need, s.state = 5, stateCollect
	case frameRSTStream:
		t.reset(s.stream)
	}
	if s.state == stateSkip && s.remain == 0 {
		t.endFrame()
	}
}

// startBody continues the current HEADERS or CONTINUATION frame with a fragment of n
// bytes followed by s.remain-n bytes of padding.
func (s *parser) startBody(n int) {
	s.body = n
	s.state = stateBody
	if n == 0 {
		s.state = stateSkip
	}
}

// collected handles the s.need bytes collected into s.small.
func (t *Tap) collected() {
	s := &t.p
	b := s.small[:s.need]
	switch s.act {
	case actHeaders:
		pad := 0
		if s.flags&flagPadded != 0 {
			pad = int(b[0])
			b = b[1:]
		}
		if s.flags&flagPriority != 0 {
			s.blk.prio = priority(0, b)
		}
		if pad > s.remain {
			t.fail("HEADERS padding longer than the frame")
			return
		}
		s.startBody(s.remain - pad)
		if s.state == stateSkip && s.remain == 0 {
			t.endFrame()
		}
		return
	case actSettings:
		if len(s.fp.Settings) < maxSettings {
			s.fp.Settings = append(s.fp.Settings, Setting{
				ID: binary.BigEndian.Uint16(b), Value: binary.BigEndian.Uint32(b[2:]),
			})
		}
		if s.remain > 0 {
			s.n = 0
			return
		}
	case actWindowUpdate:
		inc := binary.BigEndian.Uint32(b) & (1<<31 - 1)
		if inc == 0 {
			t.fail("WINDOW_UPDATE with a zero increment on stream 0")
			return
		}
		s.fp.WindowUpdate = inc
		s.haveWU = true
	case actPriority:
		s.fp.Priorities = append(s.fp.Priorities, priority(s.stream, b))
	}
	s.n = 0
	t.endFrame()
}

// priority decodes the 5-byte priority fields of a PRIORITY or HEADERS frame.
func priority(stream uint32, b []byte) Priority {
	v := binary.BigEndian.Uint32(b)
	return Priority{
		StreamID:  stream,
		Exclusive: v>>31 == 1,
		DependsOn: v & (1<<31 - 1),
		Weight:    uint16(b[4]) + 1,
	}
}

// fragment takes the next bytes of a header block fragment.
func (t *Tap) fragment(b []byte) {
	s := &t.p
	if len(s.block) == 0 && len(b) == s.body && s.flags&flagEndHeaders != 0 {
		// The rest of the block is here: decode it in place.
		if len(b) > t.maxBlock() {
			t.fail("header block longer than %d bytes", t.maxBlock())
			return
		}
		s.done = true
		t.decodeBlock(b)
		return
	}
	n := len(s.block) + len(b)
	if n > t.maxBlock() {
		t.fail("header block longer than %d bytes", t.maxBlock())
		return
	}
	if n > cap(s.block) {
		// Double, but never past the cap: a flood allocates at most twice the cap.
		grown := make([]byte, len(s.block), min(max(n, 2*cap(s.block), 512), t.maxBlock()))
		copy(grown, s.block)
		s.block = grown
	}
	s.block = append(s.block, b...)
}

// afterBody moves past the fragment of a HEADERS or CONTINUATION frame.
func (t *Tap) afterBody() {
	s := &t.p
	if s.remain > 0 {
		s.state = stateSkip // padding
		return
	}
	t.endFrame()
}

// endFrame finishes the current frame.
func (t *Tap) endFrame() {
	s := &t.p
	switch s.act {
	case actHeaders, actContinuation:
		if s.flags&flagEndHeaders != 0 {
			if !s.done {
				t.decodeBlock(s.block)
			}
			if s.dead {
				return
			}
			s.done = false
			s.blk = blockInfo{}
			if cap(s.block) > keepBlockCap {
				s.block = nil
			}
			s.block = s.block[:0]
		}
	case actSettings:
		s.haveSettings = true
	}
	s.state, s.n = stateHeader, 0
}
