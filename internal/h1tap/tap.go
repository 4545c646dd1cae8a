package h1tap

import (
	"bytes"
	"encoding/binary"
	"strings"
	"sync"
)

// Limits. They bound what one connection's tap can hold whatever the client sends.
const (
	// maxHead is the part of a head that is recorded. Bytes past it are still
	// parsed (for framing) and header lines still counted, but nothing more is
	// stored and the head is marked truncated.
	maxHead = 64 << 10
	// maxNames is the number of names recorded per head.
	maxNames = 128
	// maxQueue is the depth of the FIFO of parsed heads awaiting Pop.
	maxQueue = 8
	// maxMethod is the longest method the tap accepts; a longer one makes the tap
	// give up on the connection (net/http has no limit of its own).
	maxMethod = 64
	// maxUA is the part of the first User-Agent value that is recorded.
	maxUA = 1024
	// maxValue is the part of Transfer-Encoding, Upgrade and Content-Length values
	// that is kept. A longer Content-Length or Transfer-Encoding makes the tap give
	// up on the connection rather than guess how net/http reads it.
	maxValue = 64
	// maxChunkLine is the longest chunk-size line (without CRLF) net/http reads:
	// the line and its CRLF must fit its 4096-byte bufio.Reader.
	maxChunkLine = 4096 - 2
	// maxChunkExcess mirrors net/http's limit on chunk overhead.
	maxChunkExcess = 16 << 10
	// maxTrailer is the longest trailer section net/http reads: it must find a
	// CRLFCRLF within its 4096-byte bufio.Reader.
	maxTrailer = 4096
	// keepVals and keepNames are the scratch capacities kept between heads; a
	// buffer that grew past them is released after the head.
	keepVals  = 1024
	keepNames = 256
	// valsLimit and namesLimit are the most building.vals and building.names
	// can hold: the recorded part of the head (the method and target, or the
	// names with a 3-byte entry header each) and the recorded values.
	valsLimit  = maxHead + maxUA + 4*maxValue
	namesLimit = maxHead + 3*maxNames
)

// Parser states.
type state uint8

const (
	stStart        state = iota // before a request line; skips CR/LF after a POST
	stMethod                    // in the method
	stTarget                    // in the request target
	stProto                     // in the protocol version, up to LF
	stLine                      // at the start of a header line
	stLineLF                    // after a CR at the start of a header line
	stName                      // in a field name
	stValue                     // in a field value
	stValueCR                   // after a CR that ended a chunk of a field value
	stBody                      // skipping Content-Length body bytes
	stChunkSize                 // in the hex size of a chunk-size line
	stChunkWS                   // in whitespace after the size
	stChunkExt                  // in a chunk extension
	stChunkLF                   // after the CR of a chunk-size line
	stChunkData                 // skipping chunk data
	stChunkCR                   // expecting the CR after chunk data
	stChunkDataLF               // expecting the LF after chunk data
	stTrailerStart              // after the last chunk
	stTrailerLF                 // after a CR that may end the trailer section
	stTrailer                   // in the trailer section
	stDone                      // no more parsing: see Tap.end
)

// A Tap parses the HTTP/1 requests of one connection from the bytes the server reads
// and hands each request's head to the handler that serves it.
//
// Feed it every byte the server reads from the connection, in order (Conn does
// this), and call Pop once for every request the server hands to a handler, in the
// order the requests arrive. The zero value is ready to use. A Tap is safe for
// concurrent use: Feed is called by the server's connection reader, including its
// background read, while Pop and Stop run on handler goroutines.
//
// A Tap never fails the connection and never changes the bytes. When it is not sure
// that it reads the stream the way net/http does (a request net/http rejects, a
// framing it does not mirror exactly, pipelining deeper than its queue, a Pop that
// does not match, or an upgrade or hijack) it stops parsing for the rest of the
// connection and reports every later request as unknown.
type Tap struct {
	mu sync.Mutex

	st   state
	end  Status // why st == stDone
	skip uint8  // leading CR/LF bytes still skipped before a request line (after a POST)

	q []Head // parsed heads waiting for Pop, oldest first

	building          // the head being parsed
	body     chunking // the body being skipped
}

// building is the state of the head being parsed. Its zero value, apart from the
// reused buffers, is the state at the start of a request line.
type building struct {
	// vals holds the method, the recorded target and then the recorded values;
	// names holds the encoded names (see Head). Both are reused between heads.
	vals  []byte
	names []byte

	n        int // bytes of this head so far
	mEnd     int // end of the method in vals
	tEnd     int // end of the recorded target in vals
	tLen     int // length of the whole target
	lines    int // header field lines
	nnames   int // names recorded
	flags    headFlags
	protoLen uint8
	proto    [9]byte // "HTTP/x.y" and the CR before the LF, if any
	http11   bool    // the version is at least HTTP/1.1
	hosts    int
	cls, tes int
	clBad    bool // Content-Length lines that net/http rejects or the tap cannot read
	sawUA    bool
	upgrade  bool
	ua, te   span
	up, cl   span

	nameLen   int  // bytes of the name being read
	nameEntry int  // 1 + offset in names of the raw entry of a long name being read, or 0
	nameLost  bool // the long name being read will not be recorded
	probe     [maxCommonLen]byte
	field     field
}

// chunking is the state of a body being skipped.
type chunking struct {
	remain     uint64 // body or chunk bytes left
	size       uint64 // chunk size read so far
	digits     uint8
	line       int   // bytes of the chunk-size line so far
	excess     int64 // net/http's count of chunk overhead
	trailerLen int   // bytes of the trailer section so far
	trailerCol int   // bytes in the current trailer line, before its LF
	trailerCR  bool  // the last of them is CR
}

// A span locates a value in building.vals.
type span struct{ off, len int }

// field tracks the value of the field being read when the tap records it. The value is
// built as textproto builds it: each physical line trimmed of spaces and tabs, obs-fold
// continuation lines joined with a space, leading whitespace dropped.
type field struct {
	sp    special
	store bool // the value is being recorded in vals
	off   int  // start of the value in vals
	limit int  // bytes recorded at most
	n     int  // length of the value so far, including trailing whitespace
	trim  int  // length without trailing whitespace
	lead  bool // still skipping leading whitespace of the current line
}

// Feed parses p, the next bytes read from the connection. It neither modifies nor
// retains p, copies no body bytes, and blocks on nothing but the tap's own mutex.
func (t *Tap) Feed(p []byte) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(p) > 0 && t.st != stDone {
		p = p[t.step(p):]
	}
}

// step consumes a prefix of the non-empty p and returns its length. Every state
// consumes at least one byte or ends parsing.
func (t *Tap) step(p []byte) int {
	switch t.st {
	case stStart:
		return t.start(p)
	case stMethod:
		return t.method(p)
	case stTarget:
		return t.target(p)
	case stProto:
		return t.protocol(p)
	case stLine:
		return t.lineStart(p)
	case stLineLF:
		if p[0] != '\n' {
			return t.fail(StatusInvalid) // a line starting with CR is no field
		}
		t.n++
		t.endHead()
		return 1
	case stName:
		return t.name(p)
	case stValue:
		return t.value(p)
	case stValueCR:
		if p[0] != '\n' {
			return t.fail(StatusInvalid) // a CR inside a value: a control byte
		}
		t.n++
		t.endLine()
		return 1
	case stBody:
		k := min(uint64(len(p)), t.body.remain)
		t.body.remain -= k
		if t.body.remain == 0 {
			t.st = stStart
		}
		return int(k)
	case stChunkSize:
		return t.chunkSize(p)
	case stChunkWS:
		switch p[0] {
		case ' ', '\t':
			t.body.line++
			if t.body.line > maxChunkLine {
				return t.fail(StatusInvalid)
			}
		case '\r':
			t.st = stChunkLF
		default:
			// "1 ;ext", "1 x": net/http trims only trailing whitespace
			// before cutting the extension.
			return t.fail(StatusInvalid)
		}
		return 1
	case stChunkExt:
		i := 0
		for i < len(p) && p[i] != '\r' && p[i] != '\n' {
			i++
		}
		t.body.line += i
		if t.body.line > maxChunkLine {
			return t.fail(StatusInvalid)
		}
		if i == len(p) {
			return i
		}
		if p[i] == '\n' {
			return t.fail(StatusInvalid) // bare LF: net/http wants CRLF in chunk lines
		}
		t.st = stChunkLF
		return i + 1
	case stChunkLF:
		if p[0] != '\n' {
			return t.fail(StatusInvalid) // a CR not followed by LF
		}
		t.endChunkLine()
		return 1
	case stChunkData:
		k := min(uint64(len(p)), t.body.remain)
		t.body.remain -= k
		if t.body.remain == 0 {
			t.st = stChunkCR
		}
		return int(k)
	case stChunkCR:
		if p[0] != '\r' {
			return t.fail(StatusInvalid)
		}
		t.st = stChunkDataLF
		return 1
	case stChunkDataLF:
		if p[0] != '\n' {
			return t.fail(StatusInvalid)
		}
		t.st = stChunkSize
		return 1
	case stTrailer:
		return t.trailer(p)
	}
	return len(p)
}

// fail stops parsing for the rest of the connection and releases the scratch
// buffers. Heads already queued stay: they were parsed before the problem and still
// belong to their requests.
func (t *Tap) fail(s Status) int {
	t.st = stDone
	t.end = s
	t.building = building{}
	return 0
}

func (t *Tap) start(p []byte) int {
	if c := p[0]; c == '\r' || c == '\n' {
		// After a POST net/http discards up to four CR or LF bytes (for old
		// clients that end the body with one); otherwise the request line
		// would be empty, which it rejects.
		if t.skip == 0 {
			return t.fail(StatusInvalid)
		}
		t.skip--
		return 1
	}
	t.skip = 0
	t.st = stMethod
	return t.method(p)
}

func (t *Tap) method(p []byte) int {
	i := 0
	for i < len(p) && isTokenByte(p[i]) {
		i++
	}
	if len(t.vals)+i > maxMethod {
		return t.fail(StatusInvalid)
	}
	t.vals = appendBounded(t.vals, valsLimit, p[:i]...)
	t.n += i
	if i == len(p) {
		return i
	}
	if p[i] != ' ' || len(t.vals) == 0 {
		return t.fail(StatusInvalid)
	}
	t.n++
	t.mEnd = len(t.vals)
	t.st = stTarget
	return i + 1
}

func (t *Tap) target(p []byte) int {
	// The target ends at the next space. net/url rejects control bytes, and a LF
	// before the space means a request line without a version.
	i := 0
	for i < len(p) && p[i] > ' ' && p[i] != 0x7f {
		i++
	}
	if room := maxHead - t.n; room > 0 {
		t.vals = appendBounded(t.vals, valsLimit, p[:min(i, room)]...)
	}
	t.n += i
	t.tLen += i
	if i == len(p) {
		return i
	}
	if p[i] != ' ' || t.tLen == 0 {
		return t.fail(StatusInvalid)
	}
	if t.tLen > len(t.vals)-t.mEnd {
		t.flags |= flagTruncated
	}
	t.n++
	t.tEnd = len(t.vals)
	t.st = stProto
	return i + 1
}

func (t *Tap) protocol(p []byte) int {
	i := bytes.IndexByte(p, '\n')
	seg := p
	if i >= 0 {
		seg = p[:i]
	}
	// Keep at most "HTTP/x.y\r"; anything longer is no version net/http accepts.
	if int(t.protoLen)+len(seg) > len(t.proto) {
		return t.fail(StatusInvalid)
	}
	t.protoLen += uint8(copy(t.proto[t.protoLen:], seg))
	if i < 0 {
		t.n += len(p)
		return len(p)
	}
	t.n += i + 1
	if !t.acceptVersion() {
		return t.fail(StatusInvalid)
	}
	t.st = stLine
	return i + 1
}

// acceptVersion mirrors http.ParseHTTPVersion and http1ServerSupportsRequest: any
// HTTP/1.x, and HTTP/2.0 only for "PRI *", the start of the HTTP/2 preface.
func (t *Tap) acceptVersion() bool {
	v := t.proto[:t.protoLen]
	if len(v) > 0 && v[len(v)-1] == '\r' {
		v = v[:len(v)-1]
	}
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' || !isDigit(v[5]) || !isDigit(v[7]) {
		return false
	}
	major, minor := v[5]-'0', v[7]-'0'
	switch {
	case major == 1:
		t.http11 = minor >= 1
		return true
	case major == 2 && minor == 0:
		t.http11 = true
		return string(t.vals[:t.mEnd]) == "PRI" && t.tLen == 1 && t.vals[t.mEnd] == '*'
	}
	return false
}

func (t *Tap) lineStart(p []byte) int {
	switch p[0] {
	case '\n':
		t.n++
		t.endHead()
		return 1
	case '\r':
		t.n++
		t.st = stLineLF
		return 1
	case ' ', '\t':
		// obs-fold: the line continues the previous field's value. Before
		// any field, net/http rejects it.
		if t.lines == 0 {
			return t.fail(StatusInvalid)
		}
		t.flags |= flagFolded
		t.continueField()
		t.st = stValue
		return t.value(p)
	}
	t.endField()
	t.st = stName
	return t.name(p)
}

func (t *Tap) name(p []byte) int {
	if t.nameLen == 0 {
		// The common case: the whole name is in p. An interned name is a
		// valid token, so only other names are checked byte by byte.
		if i := bytes.IndexByte(p, ':'); i > 0 {
			idx := interned.lookup(p[:i])
			if idx >= 0 || validName(p[:i]) {
				t.n += i + 1
				t.addName(p[:i], idx)
				return i + 1
			}
		}
	}
	i := 0
	for i < len(p) && isTokenByte(p[i]) {
		i++
	}
	t.partName(p[:i])
	t.n += i
	if i == len(p) {
		return i
	}
	// A space before the colon, a line without a colon, an empty name or any
	// other non-token byte: net/http answers 400.
	if p[i] != ':' || t.nameLen == 0 {
		return t.fail(StatusInvalid)
	}
	t.n++
	t.endPartName()
	return i + 1
}

// validName reports whether b is a field name: a non-empty token.
func validName(b []byte) bool {
	for _, c := range b {
		if !isTokenByte(c) {
			return false
		}
	}
	return len(b) > 0
}

// addName records a complete name, whose commonNames index is idx (or -1), and
// starts its field.
func (t *Tap) addName(b []byte, idx int) {
	t.lines++
	sp := spNone
	if idx >= 0 {
		sp = interned.special[idx]
	} else {
		sp = specialOf(b)
	}
	if t.nnames < maxNames && t.n <= maxHead {
		if idx >= 0 {
			t.names = appendBounded(t.names, namesLimit, byte(idx+1))
		} else {
			t.names = appendBounded(t.names, namesLimit, 0, byte(len(b)), byte(len(b)>>8))
			t.names = appendBounded(t.names, namesLimit, b...)
		}
		t.nnames++
	} else {
		t.flags |= flagTruncated
	}
	t.beginField(sp)
}

// partName collects part of a name that p did not hold whole: in the probe while it
// is short enough to be interned or special, then in a raw entry of names if it will
// be recorded.
func (t *Tap) partName(b []byte) {
	if len(b) == 0 {
		return
	}
	if t.nameLen+len(b) <= maxCommonLen {
		copy(t.probe[t.nameLen:], b)
		t.nameLen += len(b)
		return
	}
	fits := t.nnames < maxNames && t.n+len(b) <= maxHead
	if t.nameEntry == 0 && !t.nameLost {
		if fits {
			t.nameEntry = len(t.names) + 1
			t.names = appendBounded(t.names, namesLimit, 0, 0, 0)
			t.names = appendBounded(t.names, namesLimit, t.probe[:t.nameLen]...)
		} else {
			t.nameLost = true
		}
	}
	if t.nameEntry != 0 {
		if fits {
			t.names = appendBounded(t.names, namesLimit, b...)
		} else {
			t.names = t.names[:t.nameEntry-1]
			t.nameEntry = 0
			t.nameLost = true
		}
	}
	t.nameLen += len(b)
}

// endPartName finishes a name collected by partName.
func (t *Tap) endPartName() {
	if t.nameLen <= maxCommonLen {
		t.addName(t.probe[:t.nameLen], interned.lookup(t.probe[:t.nameLen]))
	} else {
		// Too long to be interned or special.
		t.lines++
		if t.nameEntry != 0 && t.n <= maxHead {
			e := t.nameEntry - 1
			t.names[e+1], t.names[e+2] = byte(t.nameLen), byte(t.nameLen>>8)
			t.nnames++
		} else {
			if t.nameEntry != 0 {
				t.names = t.names[:t.nameEntry-1]
			}
			t.flags |= flagTruncated
		}
		t.beginField(spNone)
	}
	t.nameLen, t.nameEntry, t.nameLost = 0, 0, false
}

// beginField notes a field's name and decides whether its value is recorded.
func (t *Tap) beginField(sp special) {
	t.field = field{sp: sp, lead: true}
	limit := 0
	switch sp {
	case spHost:
		t.hosts++
	case spCookie:
		t.flags |= flagCookie
	case spReferer:
		t.flags |= flagReferer
	case spAcceptLanguage:
		t.flags |= flagAcceptLanguage
	case spUserAgent:
		if !t.sawUA {
			t.sawUA = true
			if t.n <= maxHead {
				limit = maxUA
			} else {
				t.flags |= flagTruncated
			}
		}
	case spTransferEncoding:
		t.tes++
		if t.tes == 1 {
			limit = maxValue
		}
	case spUpgrade:
		if !t.upgrade {
			limit = maxValue
		}
		t.upgrade = true
	case spContentLength:
		// Every line is kept until the field ends, to compare it with the first.
		t.cls++
		limit = maxValue
	}
	if limit > 0 {
		t.field.store, t.field.off, t.field.limit = true, len(t.vals), limit
	}
	t.st = stValue
}

func (t *Tap) value(p []byte) int {
	i := bytes.IndexByte(p, '\n')
	seg := p
	if i >= 0 {
		seg = p[:i]
	}
	cr := len(seg) > 0 && seg[len(seg)-1] == '\r'
	if cr {
		seg = seg[:len(seg)-1]
	}
	if !validValue(seg) {
		return t.fail(StatusInvalid)
	}
	if t.field.store {
		t.appendValue(seg)
	}
	if i < 0 {
		t.n += len(p)
		if cr {
			t.st = stValueCR
		}
		return len(p)
	}
	t.n += i + 1
	t.endLine()
	return i + 1
}

// appendValue adds bytes of one physical line to the recorded value.
func (t *Tap) appendValue(seg []byte) {
	f := &t.field
	if f.lead {
		j := 0
		for j < len(seg) && (seg[j] == ' ' || seg[j] == '\t') {
			j++
		}
		seg = seg[j:]
		if len(seg) == 0 {
			return
		}
		f.lead = false
	}
	if room := f.limit - (len(t.vals) - f.off); room > 0 {
		t.vals = appendBounded(t.vals, valsLimit, seg[:min(room, len(seg))]...)
	}
	f.n += len(seg)
	k := len(seg) - 1
	for k >= 0 && (seg[k] == ' ' || seg[k] == '\t') {
		k--
	}
	if k >= 0 {
		f.trim = f.n - (len(seg) - 1 - k)
	}
}

// endLine ends a physical header line: its trailing whitespace is not part of the
// value.
func (t *Tap) endLine() {
	if f := &t.field; f.store {
		f.n = f.trim
		t.vals = t.vals[:f.off+min(f.trim, f.limit)]
		f.lead = true
	}
	t.st = stLine
}

// continueField starts an obs-fold continuation line: textproto joins it to the
// value with one space (dropped again if the value is still empty).
func (t *Tap) continueField() {
	f := &t.field
	if !f.store || f.n == 0 {
		return
	}
	if len(t.vals)-f.off < f.limit {
		t.vals = appendBounded(t.vals, valsLimit, ' ')
	}
	f.n++
	f.trim = f.n
}

// endField ends the field being read, once no continuation line can follow.
func (t *Tap) endField() {
	f := &t.field
	if !f.store {
		return
	}
	v := t.vals[f.off:]
	long := f.trim > f.limit
	switch f.sp {
	case spUserAgent:
		t.ua = span{f.off, len(v)}
		if long {
			t.flags |= flagTruncated
		}
	case spTransferEncoding:
		// A long value is cut, so it cannot equal "chunked", as it should not.
		t.te = span{f.off, len(v)}
	case spUpgrade:
		t.up = span{f.off, len(v)}
	case spContentLength:
		// net/http compares the values trimmed by textproto.TrimString.
		v = bytes.TrimRight(v, " \t")
		if long {
			t.clBad = true
		}
		if t.cls == 1 {
			t.cl = span{f.off, len(v)}
			t.vals = t.vals[:f.off+len(v)]
		} else {
			if string(v) != string(t.vals[t.cl.off:t.cl.off+t.cl.len]) {
				t.clBad = true
			}
			t.vals = t.vals[:f.off]
		}
	}
	t.field = field{}
}

// endHead decides, as net/http's readRequest and readTransfer do, whether the head is
// a request net/http serves and how its body is framed; then it queues the head.
func (t *Tap) endHead() {
	t.endField()
	method := t.vals[:t.mEnd]
	connect := string(method) == "CONNECT"
	pri := string(method) == "PRI"
	post := string(method) == "POST"
	if t.hosts > 1 || t.http11 && t.hosts == 0 && !connect && !pri {
		t.fail(StatusInvalid)
		return
	}
	chunked := false
	if t.tes > 0 && t.http11 {
		// Exactly one Transfer-Encoding line, "chunked"; HTTP/1.0 ignores it.
		if t.tes > 1 || !equalFold(t.vals[t.te.off:t.te.off+t.te.len], "chunked") {
			t.fail(StatusInvalid)
			return
		}
		chunked = true
	}
	var length uint64
	if t.cls > 0 {
		n, ok := parseLength(t.vals[t.cl.off : t.cl.off+t.cl.len])
		if t.clBad || !ok {
			t.fail(StatusInvalid)
			return
		}
		length = n
		t.flags |= flagContentLength
	}
	if len(t.q) == maxQueue {
		t.fail(StatusOverflow)
		return
	}
	if len(t.q) == cap(t.q) && len(t.q) > 0 {
		// Pipelining: make room for the whole queue at once, and keep it
		// (maxQueue heads of 64 bytes) rather than regrow it per burst.
		q := make([]Head, len(t.q), maxQueue)
		copy(q, t.q)
		t.q = q
	}
	t.q = append(t.q, t.build(length))
	pass := connect || pri || t.upgrade
	t.resetHead()
	switch {
	case pass:
		// The rest of the connection is another protocol, or a tunnel.
		t.fail(StatusPassthrough)
		return
	case chunked:
		t.body = chunking{}
		t.st = stChunkSize
	case length > 0:
		t.body = chunking{remain: length}
		t.st = stBody
	default:
		t.st = stStart
	}
	if post {
		t.skip = 4
	}
}

// build copies the head's recorded parts into one string: the only allocation per
// request.
func (t *Tap) build(length uint64) Head {
	ua := t.vals[t.ua.off : t.ua.off+t.ua.len]
	te := t.vals[t.te.off : t.te.off+t.te.len]
	up := t.vals[t.up.off : t.up.off+t.up.len]
	var b strings.Builder
	b.Grow(t.tEnd + len(ua) + len(te) + len(up) + len(t.names))
	b.Write(t.vals[:t.tEnd])
	b.Write(ua)
	b.Write(te)
	b.Write(up)
	b.Write(t.names)
	uaEnd := t.tEnd + len(ua)
	teEnd := uaEnd + len(te)
	return Head{
		data:   b.String(),
		status: StatusOK,
		flags:  t.flags,
		nnames: uint8(t.nnames),
		mEnd:   uint32(t.mEnd),
		tEnd:   uint32(t.tEnd),
		uaEnd:  uint32(uaEnd),
		teEnd:  uint32(teEnd),
		upEnd:  uint32(teEnd + len(up)),
		tLen:   t.tLen,
		lines:  t.lines,
		clen:   int64(length),
	}
}

// resetHead readies the parser for the next head, keeping the scratch buffers unless
// this head made them large.
func (t *Tap) resetHead() {
	vals, names := t.vals[:0], t.names[:0]
	if cap(vals) > keepVals {
		vals = nil
	}
	if cap(names) > keepNames {
		names = nil
	}
	t.building = building{vals: vals, names: names}
}

func (t *Tap) chunkSize(p []byte) int {
	i := 0
	for ; i < len(p); i++ {
		v := unhex(p[i])
		if v > 15 {
			break
		}
		if t.body.digits == 16 {
			return t.fail(StatusInvalid) // net/http: "http chunk length too large"
		}
		t.body.size = t.body.size<<4 | uint64(v)
		t.body.digits++
	}
	t.body.line += i
	if i == len(p) {
		return i
	}
	if t.body.digits == 0 {
		return t.fail(StatusInvalid)
	}
	switch p[i] {
	case ';':
		t.body.line++
		t.st = stChunkExt
	case ' ', '\t':
		t.body.line++
		t.st = stChunkWS
	case '\r':
		t.st = stChunkLF
	default:
		return t.fail(StatusInvalid) // bare LF, or a byte that is no hex digit
	}
	return i + 1
}

// endChunkLine mirrors chunkedReader.beginChunk once a chunk-size line is complete.
func (t *Tap) endChunkLine() {
	b := &t.body
	if b.line > maxChunkLine {
		t.fail(StatusInvalid)
		return
	}
	b.excess += int64(b.line) + 2
	b.excess -= 16 + (2 * int64(b.size))
	b.excess = max(b.excess, 0)
	if b.excess > maxChunkExcess {
		t.fail(StatusInvalid)
		return
	}
	size := b.size
	b.size, b.digits, b.line = 0, 0, 0
	if size == 0 {
		b.trailerLen, b.trailerCol, b.trailerCR = 0, 0, false
		t.st = stTrailer
		return
	}
	b.remain = size
	t.st = stChunkData
}

// trailer skips the trailer section after the last chunk, up to its first empty line,
// as textproto.Reader.ReadMIMEHeader reads it: lines end at LF, a CR before the LF is
// dropped, and an empty line ("\n" or "\r\n") is never a continuation.
//
// net/http first looks ahead, within its 4096-byte buffer, for a CRLFCRLF and fails
// the body if there is none. The tap need not repeat that: a CRLFCRLF at offset n
// means the section ends by n, so on success the section is at most 4096 bytes, and
// on failure net/http closes the connection (a body it failed to read is never
// followed by another request), so what the tap makes of the rest goes unused.
func (t *Tap) trailer(p []byte) int {
	b := &t.body
	for k, c := range p {
		b.trailerLen++
		if b.trailerLen > maxTrailer {
			return t.fail(StatusInvalid) // net/http's look-ahead fails
		}
		if c == '\n' {
			if b.trailerCol == 0 || b.trailerCol == 1 && b.trailerCR {
				t.st = stStart
				return k + 1
			}
			b.trailerCol, b.trailerCR = 0, false
			continue
		}
		b.trailerCol++
		b.trailerCR = c == '\r'
	}
	return len(p)
}

// Pop returns the head of the request a handler is serving, given the request's
// Method and RequestURI. It reports false, and a Head whose Status says why, when the
// tap cannot vouch for the head: then the request's header order is unknown.
//
// Requests on a connection are served in order, so the request belongs to the oldest
// queued head; Pop returns it only if that head has the same method and target. A
// queued "OPTIONS *", which net/http answers itself without calling a handler, is
// skipped. Any other mismatch means the tap and net/http no longer agree on where
// requests begin: Pop then gives up on the connection rather than risk handing one
// request another's order. Pop on a nil Tap reports StatusNone.
func (t *Tap) Pop(method, requestURI string) (Head, bool) {
	if t == nil {
		return Head{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.q) > 0 {
		h := &t.q[0]
		if h.Method() == method && h.matchTarget(requestURI) {
			out := *h
			t.shift()
			return out, true
		}
		if h.Method() == "OPTIONS" && h.Target() == "*" {
			t.shift()
			continue
		}
		break
	}
	if len(t.q) == 0 && t.st == stDone {
		return Head{status: t.end}, false
	}
	if t.st == stDone && t.end == StatusPassthrough {
		// The connection switched protocols (an h2 preface a server with
		// unencrypted HTTP/2 answers itself, say): requests on it are not
		// the queued HTTP/1 heads.
		t.q = nil
		return Head{status: StatusPassthrough}, false
	}
	t.fail(StatusMismatch)
	t.q = nil
	return Head{status: StatusMismatch}, false
}

// shift drops the oldest queued head, clearing its slot so that its string can be
// collected.
func (t *Tap) shift() {
	n := copy(t.q, t.q[1:])
	t.q[n] = Head{}
	t.q = t.q[:n]
}

// Stop ends the tap: the connection has been hijacked, so the bytes that follow are
// not HTTP/1 requests. Feed ignores them, queued heads are dropped, and Pop reports
// StatusPassthrough.
func (t *Tap) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fail(StatusPassthrough)
	t.q = nil
}

// appendBounded appends b to dst like append, but grows dst to at most limit bytes
// of capacity (or what the append needs, if more), so that a buffer that can hold at
// most limit bytes never allocates more.
func appendBounded(dst []byte, limit int, b ...byte) []byte {
	if n := len(dst) + len(b); n > cap(dst) {
		grown := make([]byte, len(dst), max(min(2*cap(dst), limit), n, 64))
		copy(grown, dst)
		dst = grown
	}
	return append(dst, b...)
}

// parseLength mirrors net/http's parseContentLength on a trimmed value: decimal
// digits only, at most 1<<63 - 1.
func parseLength(v []byte) (uint64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		if n > (1<<63-1-uint64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// unhex returns the value of a hex digit, or 16.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 16
}

// isTokenByte reports whether c may appear in a method or a field name (RFC 9110
// tchar), as textproto and httpguts decide it.
func isTokenByte(c byte) bool {
	const mask = 0 |
		(1<<10-1)<<'0' |
		(1<<26-1)<<'a' |
		(1<<26-1)<<'A' |
		1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' | 1<<'*' |
		1<<'+' | 1<<'-' | 1<<'.' | 1<<'^' | 1<<'_' | 1<<'`' | 1<<'|' | 1<<'~'
	return ((uint64(1)<<c)&(mask&(1<<64-1)) |
		(uint64(1)<<(c-64))&(mask>>64)) != 0
}

// validValue reports whether b holds no byte textproto rejects in a field value:
// control bytes other than HTAB, and DEL. It tests eight bytes at a time.
func validValue(b []byte) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		del := x ^ 0x7f7f7f7f7f7f7f7f
		// Nonzero if some byte is below 0x20 or equals 0x7f (exact as a
		// whole, though not per byte).
		if ((x-0x20*ones)&^x|(del-ones)&^del)&high != 0 && !validValueBytes(b[:8]) {
			return false
		}
		b = b[8:]
	}
	return validValueBytes(b)
}

func validValueBytes(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
