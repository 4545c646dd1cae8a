package wire

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeEventBatch decodes data, a JSON event batch, into b: the decoding half of
// DecodeEvents, which then validates b. It is a hand-written decoder for EventBatch and
// the types inside it, several times faster than encoding/json (BenchmarkDecodeEvents)
// and with about two allocations per event instead of one or more per string.
//
// Its contract is json.Unmarshal(data, b) with b the zero EventBatch, as encoding/json
// (v1) behaves:
//
//   - It accepts exactly the inputs json.Unmarshal accepts, and then fills b as
//     json.Unmarshal would, to a reflect.DeepEqual result. FuzzDecodeEventsDifferential
//     holds it to that.
//   - The document is one JSON value with optional white space around it, nested at most
//     10000 arrays and objects deep (encoding/json's limit), else a syntax error.
//   - Object keys match field names exactly or else case-insensitively as
//     bytes.EqualFold does (so "KIND" and "\u212aind" are both "kind"); keys of no
//     field are ignored; a key that comes again sets its field again, decoding into what
//     is there: a second "dna" object merges into the first, and a second array decodes
//     into the elements the first one left, as encoding/json does.
//   - null leaves a string, number, bool, time, address or struct as it is, and sets a
//     slice or a pointer to nil. An empty array sets a slice to an empty, non-nil one.
//   - Strings are unescaped as encoding/json does, with an invalid surrogate or invalid
//     UTF-8 becoming U+FFFD. No string in b shares data's memory, but strings share
//     memory with each other: an event's strings are cut from one allocation, except
//     that a string equal to the same field's in the event before is that string. So
//     a string kept after the batch is dropped keeps its event's strings, a few
//     hundred bytes, from being freed.
//   - An integer field takes only an integer literal in its range: 1.5, 1e2 and
//     out-of-range numbers are type mismatches. latency_ms takes what
//     strconv.ParseFloat takes without a range error.
//   - Times go through time.Time's UnmarshalJSON (RFC 3339 as it parses it, from the
//     raw string, escapes not interpreted) and client_ip through netip.Addr's
//     UnmarshalText.
//
// Every error is a *FieldError. A syntax error, or a time or address that does not
// parse, has an empty Field; otherwise, when a value has the wrong JSON type for its
// field, the error is the first such mismatch, and its Field is the field's path as
// encoding/json reports it: the JSON names from the top joined by dots, without array
// indexes ("events.signals.score"), or empty for a document that is not an object or
// null. As with encoding/json, a syntax error anywhere, or a time or address that does
// not parse, outweighs a mismatch before it. A body over MaxBodySize is an error
// before any decoding.
func decodeEventBatch(data []byte, b *EventBatch) error {
	d := decoder{data: data}
	return d.decodeEventBatch(b)
}

// decodeEventBatch is decodeEventBatch(d.data, b).
func (d *decoder) decodeEventBatch(b *EventBatch) error {
	if len(d.data) > MaxBodySize {
		return fieldErr("", "body is %d bytes, more than %d", len(d.data), MaxBodySize)
	}
	d.ws()
	if err := d.batch(b); err != nil {
		return err
	}
	d.ws()
	if d.pos < len(d.data) {
		return d.syntax("after top-level value")
	}
	if d.mismatch != nil {
		return d.mismatch
	}
	return nil
}

// maxDepth is encoding/json's limit on nested arrays and objects.
const maxDepth = 10000

// A decoder reads one JSON document. Each method that reads a value starts at the
// value's first byte (white space skipped) and ends just after its last one.
type decoder struct {
	data  []byte
	pos   int
	depth int // arrays and objects open around pos
	// mismatch is the first value of the wrong type for its field. Decoding goes on
	// past it, as encoding/json's does, because a syntax error later is the error.
	mismatch *FieldError
	buf      []byte  // the unescaped string, reused
	arena    []byte  // the strings read since the last flush
	fixups   []fixup // where they go
	dup      bool    // the event has had a key twice
	// With keepRaws, raws[i] is the bytes of the i-th element of the last "events"
	// array read, and eventArrays counts the arrays (see DecodeEventsRaw).
	keepRaws    bool
	raws        [][]byte
	eventArrays int
}

// syntax reports a syntax error at d.pos; what says where it is ("after object key").
func (d *decoder) syntax(what string) error {
	if d.pos >= len(d.data) {
		return fieldErr("", "unexpected end of JSON input")
	}
	return fieldErr("", "invalid character %q at byte %d %s", d.data[d.pos], d.pos, what)
}

// mismatched records that a value, described by what ("string", "number 1.5"),
// cannot go into field.
func (d *decoder) mismatched(field, what string) {
	if d.mismatch == nil {
		d.mismatch = fieldErr(field, "cannot use a JSON %s here", what)
	}
}

// wrongType records that the value at d.pos has the wrong JSON type for field, and
// skips it.
func (d *decoder) wrongType(field string) error {
	what := kindOf(d.data[d.pos])
	if err := d.skip(); err != nil {
		return err
	}
	d.mismatched(field, what)
	return nil
}

// kindOf names the JSON type of the value that starts with c, as encoding/json's
// UnmarshalTypeError does.
func kindOf(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// ws skips white space.
func (d *decoder) ws() {
	if d.pos < len(d.data) && d.data[d.pos] > ' ' {
		return // the usual case, kept small enough to inline
	}
	d.wsSlow()
}

func (d *decoder) wsSlow() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// enter consumes the '{' at d.pos and reports whether a member follows.
func (d *decoder) enter() (bool, error) {
	if d.depth++; d.depth > maxDepth {
		return false, d.syntax("exceeds the maximum nesting depth")
	}
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

// next consumes what follows a member: a ',' and white space (reporting true) or the
// closing '}'.
func (d *decoder) next() (bool, error) {
	d.ws()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.ws()
			return true, nil
		case '}':
			d.pos++
			d.depth--
			return false, nil
		}
	}
	return false, d.syntax("after object key:value pair")
}

// key reads a member's name and the ':' after it, and leaves d.pos at the value. The
// name is valid until the next string is read.
func (d *decoder) key() ([]byte, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, d.syntax("looking for beginning of object key string")
	}
	k, err := d.str()
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return nil, d.syntax("after object key")
	}
	d.pos++
	d.ws()
	if d.pos >= len(d.data) {
		return nil, d.syntax("looking for beginning of value")
	}
	return k, nil
}

// enterArray consumes the '[' at d.pos and reports whether an element follows.
func (d *decoder) enterArray() (bool, error) {
	if d.depth++; d.depth > maxDepth {
		return false, d.syntax("exceeds the maximum nesting depth")
	}
	d.pos++
	d.ws()
	if d.pos >= len(d.data) {
		return false, d.syntax("looking for beginning of value")
	}
	if d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

// nextElem consumes what follows an element: a ',' and white space (reporting true)
// or the closing ']'.
func (d *decoder) nextElem() (bool, error) {
	d.ws()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.ws()
			if d.pos >= len(d.data) {
				return false, d.syntax("looking for beginning of value")
			}
			return true, nil
		case ']':
			d.pos++
			d.depth--
			return false, nil
		}
	}
	return false, d.syntax("after array element")
}

// literal consumes the literal lit ("true", "false", "null") at d.pos.
func (d *decoder) literal(lit string) error {
	for i := range len(lit) {
		if d.pos >= len(d.data) || d.data[d.pos] != lit[i] {
			return d.syntax("in literal " + lit)
		}
		d.pos++
	}
	return nil
}

// number consumes the number at d.pos and returns its text.
func (d *decoder) number() ([]byte, error) {
	data, start := d.data, d.pos
	if data[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(data) && data[d.pos] == '0' {
		d.pos++
	} else if err := d.digits(); err != nil {
		return nil, err
	}
	if d.pos < len(data) && data[d.pos] == '.' {
		d.pos++
		if err := d.digits(); err != nil {
			return nil, err
		}
	}
	if d.pos < len(data) && (data[d.pos] == 'e' || data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(data) && (data[d.pos] == '+' || data[d.pos] == '-') {
			d.pos++
		}
		if err := d.digits(); err != nil {
			return nil, err
		}
	}
	return data[start:d.pos], nil
}

// digits consumes one or more decimal digits.
func (d *decoder) digits() error {
	if d.pos >= len(d.data) || d.data[d.pos] < '0' || d.data[d.pos] > '9' {
		return d.syntax("in numeric literal")
	}
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	return nil
}

// special8 looks at the 8 bytes of x, the first in the low byte, for one that cannot
// stand for itself in a JSON string or is not ASCII: the result is zero when all 8 are
// printable ASCII other than '"' and '\\', and otherwise has its lowest set bit in the
// first byte that is not.
func special8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ ('"' * ones)
	bs := x ^ ('\\' * ones)
	// (v - n) &^ v has its high bit set for v < n when no lower byte borrowed; a
	// borrow comes only from a lower byte already flagged, so the lowest flag is true.
	return ((x-0x20*ones)&^x | (q-ones)&^q | (bs-ones)&^bs | x) & highs
}

// plainRun returns the index of the first byte of data at or after i that is not
// printable ASCII other than '"' and '\\', or len(data).
func plainRun(data []byte, i int) int {
	for i+8 <= len(data) {
		if s := special8(binary.LittleEndian.Uint64(data[i:])); s != 0 {
			return i + bits.TrailingZeros64(s)/8
		}
		i += 8
	}
	for i < len(data) && data[i] >= 0x20 && data[i] < utf8.RuneSelf && data[i] != '"' && data[i] != '\\' {
		i++
	}
	return i
}

// str consumes the string at d.pos (its opening '"') and returns its unescaped
// contents, valid until the next call: a part of data unless the string has escapes
// or invalid UTF-8.
func (d *decoder) str() ([]byte, error) {
	data := d.data
	start := d.pos + 1
	high := -1 // the first byte over 0x7f
	for i := start; ; {
		i = plainRun(data, i)
		if i >= len(data) {
			d.pos = len(data)
			return nil, d.syntax("")
		}
		switch c := data[i]; {
		case c == '"':
			if high < 0 || utf8.Valid(data[high:i]) {
				d.pos = i + 1
				return data[start:i], nil
			}
			return d.strSlow(start, high)
		case c >= utf8.RuneSelf:
			if high < 0 {
				high = i
			}
			i++
		default: // '\\' or a control character
			if high >= 0 {
				i = high
			}
			return d.strSlow(start, i)
		}
	}
}

// strSlow is str unescaping, and replacing invalid UTF-8, from data[i] on, after the
// plain ASCII of data[start:i].
func (d *decoder) strSlow(start, i int) ([]byte, error) {
	data := d.data
	b := append(d.buf[:0], data[start:i]...)
	for {
		j := plainRun(data, i)
		b = append(b, data[i:j]...)
		i = j
		if i >= len(data) {
			d.pos = len(data)
			return nil, d.syntax("")
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			d.buf = b
			return b, nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = len(data)
				return nil, d.syntax("")
			}
			switch data[i+1] {
			case '"', '\\', '/':
				b = append(b, data[i+1])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(data[i+2:])
				if r < 0 {
					return nil, d.badHex(i)
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// As encoding/json: a valid pair is one rune, anything else
					// U+FFFD, leaving what follows to be read for itself.
					r2 := rune(-1)
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						r2 = hex4(data[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				d.pos = i + 1
				return nil, d.syntax("in string escape code")
			}
			i += 2
		case c < 0x20:
			d.pos = i
			return nil, d.syntax("in string literal")
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, data[i:i+size]...)
			}
			i += size
		}
	}
}

// badHex reports the \u escape at data[i] whose four digits are not all hexadecimal.
func (d *decoder) badHex(i int) error {
	d.pos = i + 2
	for d.pos < len(d.data) && isHex(d.data[d.pos]) {
		d.pos++
	}
	return d.syntax("in \\u hexadecimal character escape")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hex4 returns the value of the 4 hexadecimal digits s starts with, or -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// skipString consumes the string at d.pos, checking it without unescaping it.
func (d *decoder) skipString() error {
	data := d.data
	for i := d.pos + 1; ; {
		i = plainRun(data, i)
		if i >= len(data) {
			d.pos = len(data)
			return d.syntax("")
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = len(data)
				return d.syntax("")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(data[i+2:]) < 0 {
					return d.badHex(i)
				}
				i += 6
			default:
				d.pos = i + 1
				return d.syntax("in string escape code")
			}
		case c < 0x20:
			d.pos = i
			return d.syntax("in string literal")
		default:
			i++
		}
	}
}

// skip consumes the value at d.pos, whatever it is, checking its syntax.
func (d *decoder) skip() error {
	if d.pos >= len(d.data) {
		return d.syntax("looking for beginning of value")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		more, err := d.enter()
		for more && err == nil {
			if _, err = d.key(); err != nil {
				return err
			}
			if err = d.skip(); err != nil {
				return err
			}
			more, err = d.next()
		}
		return err
	case '[':
		more, err := d.enterArray()
		for more && err == nil {
			if err = d.skip(); err != nil {
				return err
			}
			more, err = d.nextElem()
		}
		return err
	case '"':
		return d.skipString()
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			_, err := d.number()
			return err
		}
		return d.syntax("looking for beginning of value")
	}
}

// The value readers below take the field's path for a mismatch.

// string reads a string of an event into *p. A string equal to prev, the same
// field's value in the event before, is assigned at once as prev, sharing its memory;
// so is an empty one. Any other is assigned at the next flush (at the end of the
// event, or before a slice grows), with the others from one allocation.
//
// Assigning at once is right only while no assignment to *p is waiting for the flush,
// and one can be only if the event has a key twice (at any depth); from the first
// repeated key on (d.dup), every string waits.
func (d *decoder) string(p *string, field, prev string) error {
	switch d.data[d.pos] {
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		if !d.dup {
			if len(s) == 0 {
				*p = ""
				return nil
			}
			if string(s) == prev {
				*p = prev
				return nil
			}
		}
		off := len(d.arena)
		d.arena = append(d.arena, s...)
		d.fixups = append(d.fixups, fixup{p, off, len(d.arena)})
		return nil
	case 'n':
		return d.literal("null")
	}
	return d.wrongType(field)
}

// member notes that the member of field index f came in an object where seen marks
// the members already seen, and sets d.dup if it came before.
func (d *decoder) member(seen *uint32, f int) {
	if f < 0 {
		return
	}
	if *seen&(1<<f) != 0 {
		d.dup = true
	}
	*seen |= 1 << f
}

// object decodes the members of the object at the cursor: fieldOf gives each key's
// field index, each decodes that member's value (skipping unknown ones). seen, when
// not nil, marks the members for the duplicate check (see member).
func (d *decoder) object(seen *uint32, fieldOf func([]byte) int, each func(f int) error) error {
	more, err := d.enter()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		f := fieldOf(k)
		if seen != nil {
			d.member(seen, f)
		}
		if err = each(f); err != nil {
			return err
		}
		more, err = d.next()
	}
	return err
}

// A fixup is a string to set at the next flush: *p = arena[off:end].
type fixup struct {
	p        *string
	off, end int
}

// flush sets the strings read since the last flush, in the order they were read, from
// one copy of d.arena.
func (d *decoder) flush() {
	if len(d.fixups) == 0 {
		return
	}
	s := string(d.arena)
	for _, f := range d.fixups {
		*f.p = s[f.off:f.end]
	}
	d.arena, d.fixups = d.arena[:0], d.fixups[:0]
}

// ownString reads a string into *p at once, in an allocation of its own.
func (d *decoder) ownString(p *string, field string) error {
	switch d.data[d.pos] {
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		*p = string(s)
		return nil
	case 'n':
		return d.literal("null")
	}
	return d.wrongType(field)
}

func (d *decoder) bool(p *bool, field string) error {
	switch d.data[d.pos] {
	case 't':
		*p = true
		return d.literal("true")
	case 'f':
		*p = false
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	return d.wrongType(field)
}

// integer reads an integer that fits in a signed (or, if unsigned, an unsigned) integer
// of the given size, as encoding/json does with strconv.ParseInt or ParseUint. It
// reports whether there is one to store.
func (d *decoder) integer(field string, size int, unsigned bool) (int64, bool, error) {
	c := d.data[d.pos]
	if c == 'n' {
		return 0, false, d.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, d.wrongType(field)
	}
	lit, err := d.number()
	if err != nil {
		return 0, false, err
	}
	if n, ok := parseInteger(lit, size, unsigned); ok {
		return n, true, nil
	}
	d.mismatched(field, "number "+string(lit))
	return 0, false, nil
}

// parseInteger parses lit, a JSON number, as strconv.ParseInt(lit, 10, 64) (or
// ParseUint) does and checks it fits in size bits.
func parseInteger(lit []byte, size int, unsigned bool) (int64, bool) {
	neg := lit[0] == '-'
	digits := lit
	if neg {
		digits = lit[1:]
	}
	var u uint64
	if len(digits) <= 18 {
		for _, c := range digits {
			if c < '0' || c > '9' {
				return 0, false // a fraction or an exponent
			}
			u = u*10 + uint64(c-'0')
		}
	} else {
		var err error
		u, err = strconv.ParseUint(string(digits), 10, 64)
		if err != nil {
			return 0, false
		}
	}
	if unsigned {
		if neg || u > math.MaxUint64>>(64-size) {
			return 0, false
		}
		return int64(u), true
	}
	if neg {
		if u > 1<<(size-1) {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<(size-1)-1 {
		return 0, false
	}
	return int64(u), true
}

func (d *decoder) int(p *int, field string) error {
	n, ok, err := d.integer(field, strconv.IntSize, false)
	if ok {
		*p = int(n)
	}
	return err
}

func (d *decoder) int64(p *int64, field string) error {
	n, ok, err := d.integer(field, 64, false)
	if ok {
		*p = n
	}
	return err
}

func (d *decoder) uint32(p *uint32, field string) error {
	n, ok, err := d.integer(field, 32, true)
	if ok {
		*p = uint32(n)
	}
	return err
}

func (d *decoder) float64(p *float64, field string) error {
	c := d.data[d.pos]
	if c == 'n' {
		return d.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return d.wrongType(field)
	}
	lit, err := d.number()
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		d.mismatched(field, "number "+string(lit))
		return nil
	}
	*p = f
	return nil
}

// time reads a time as encoding/json does: time.Time's UnmarshalJSON gets the value's
// raw text, whatever its type.
func (d *decoder) time(p *time.Time) error {
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	if err := p.UnmarshalJSON(d.data[start:d.pos]); err != nil {
		return fieldErr("", "%s", err)
	}
	return nil
}

// addr reads an address as encoding/json does: netip.Addr's UnmarshalText gets a
// string's contents.
func (d *decoder) addr(p *netip.Addr, field string) error {
	switch d.data[d.pos] {
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		if a, ok := parseIPv4(s); ok {
			*p = a
			return nil
		}
		if err := p.UnmarshalText(s); err != nil {
			return fieldErr("", "%s", err)
		}
		return nil
	case 'n':
		return d.literal("null")
	}
	return d.wrongType(field)
}

// parseIPv4 parses the dotted decimal form netip.ParseAddr accepts for IPv4 (four
// decimal numbers up to 255 without leading zeros), without the allocation
// netip.Addr's UnmarshalText makes. It reports false for anything else, which may still
// be an address.
func parseIPv4(s []byte) (netip.Addr, bool) {
	var ip [4]byte
	field, n, digits := 0, 0, 0
	for i, c := range s {
		switch {
		case '0' <= c && c <= '9':
			if digits == 1 && n == 0 {
				return netip.Addr{}, false // a leading zero
			}
			n = n*10 + int(c-'0')
			digits++
			if n > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && field < 3 && i < len(s)-1:
			ip[field] = byte(n)
			field, n, digits = field+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if field != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(n)
	return netip.AddrFrom4(ip), true
}

// isObject reports whether the value at d.pos is an object to decode into a struct.
// It consumes a null, and records a mismatch for and skips anything else.
func (d *decoder) isObject(field string) (bool, error) {
	switch d.data[d.pos] {
	case '{':
		return true, nil
	case 'n':
		return false, d.literal("null")
	}
	return false, d.wrongType(field)
}

// isArray reports whether the value at d.pos is an array to decode into the slice
// *p. A null sets *p to nil; anything else is a mismatch, skipped.
func isArray[T any](d *decoder, p *[]T, field string) (bool, error) {
	switch d.data[d.pos] {
	case '[':
		return true, nil
	case 'n':
		*p = nil
		return false, d.literal("null")
	}
	return false, d.wrongType(field)
}

// array decodes the array at d.pos into the slice *p as encoding/json does: element i
// decodes into (*p)[i], left as it was by an earlier array for the same field, or zero.
// When the slice is full with n elements it grows by grow(n). Growing moves the
// elements, so the strings read into them are flushed first.
func array[T any](d *decoder, p *[]T, field string, grow func(n int) int, elem func(*T) error) error {
	if ok, err := isArray(d, p, field); !ok {
		return err
	}
	s := *p
	i := 0
	more, err := d.enterArray()
	for more && err == nil {
		if i == cap(s) {
			if i > 0 {
				d.flush()
			}
			// Not append: it would round the capacity up to its own growth.
			s = append(make([]T, 0, i+grow(i)), s...)
		}
		if i == len(s) {
			s = s[:i+1]
		}
		if err = elem(&s[i]); err != nil {
			return err
		}
		i++
		more, err = d.nextElem()
	}
	if err != nil {
		return err
	}
	if i == 0 {
		s = []T{}
	}
	*p = s[:i]
	return nil
}

// grow2 and grow8 are growths for array: to 2 or 8 elements, then doubling.
func grow2(n int) int { return max(2, n) }
func grow8(n int) int { return max(8, n) }

// pointer decodes the value at d.pos into the struct **p points to, allocating it if
// *p is nil; a null sets *p to nil.
func pointer[T any](d *decoder, p **T, field string, obj func(*T) error) error {
	switch d.data[d.pos] {
	case 'n':
		*p = nil
		return d.literal("null")
	case '{':
		if *p == nil {
			*p = new(T)
		}
		return obj(*p)
	}
	return d.wrongType(field)
}

// foldField returns the index of the name in names that key equals under
// bytes.EqualFold, or -1: encoding/json's match for a key that is no field's exact
// name. No two names of a struct are equal under folding.
func foldField(key []byte, names []string) int {
	for i, n := range names {
		// A byte of n matches one to three bytes of key ('K' is 3 bytes for 'k').
		if len(n) <= len(key) && len(key) <= 3*len(n) && bytes.EqualFold(key, []byte(n)) {
			return i
		}
	}
	return -1
}

func (d *decoder) batch(b *EventBatch) error {
	if d.pos >= len(d.data) {
		return d.syntax("looking for beginning of value")
	}
	switch c := d.data[d.pos]; c {
	case '{':
	case 'n':
		return d.literal("null")
	default:
		what := kindOf(c)
		if err := d.skip(); err != nil {
			return err
		}
		d.mismatch = fieldErr("", "cannot unmarshal %s into Go value of type wire.EventBatch", what)
		return nil
	}
	err := d.object(nil, batchField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.int(&b.Version, "version")
		case 1:
			err = d.ownString(&b.BatchID, "batch_id")
		case 2:
			err = d.agent(&b.Agent)
		case 3:
			var none Event
			prev := &none
			start := d.pos
			// The events array is most of what is allocated. It starts with room
			// for an event per KiB of what follows, then grows by the number the
			// events so far make likely, up to MaxEvents, then doubles.
			grow := func(n int) int {
				rest := len(d.data) - d.pos
				switch {
				case n == 0:
					return min(rest/1024+1, MaxEvents+1)
				case n > MaxEvents:
					return n
				}
				// An eighth more keeps the growth geometric if the guesses fall short.
				return min(rest*n/(d.pos-start)+1+n/8, MaxEvents+1-n)
			}
			d.eventArrays++
			d.raws = d.raws[:0]
			err = array(d, &b.Events, "events", grow, func(e *Event) error {
				at := d.pos
				err := d.event(e, prev)
				prev = e
				if d.keepRaws {
					d.raws = append(d.raws, d.data[at:d.pos:d.pos])
				}
				return err
			})
		default:
			err = d.skip()
		}
		return err
	})
	return err
}

var batchNames = []string{"version", "batch_id", "agent", "events"}

func batchField(k []byte) int {
	switch string(k) {
	case "version":
		return 0
	case "batch_id":
		return 1
	case "agent":
		return 2
	case "events":
		return 3
	}
	return foldField(k, batchNames)
}

func (d *decoder) agent(a *Agent) error {
	if ok, err := d.isObject("agent"); !ok {
		return err
	}
	err := d.object(nil, agentField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.ownString(&a.ID, "agent.id")
		case 1:
			err = d.ownString(&a.Instance, "agent.instance")
		case 2:
			err = d.ownString(&a.Version, "agent.version")
		default:
			err = d.skip()
		}
		return err
	})
	return err
}

var agentNames = []string{"id", "instance", "version"}

func agentField(k []byte) int {
	switch string(k) {
	case "id":
		return 0
	case "instance":
		return 1
	case "version":
		return 2
	}
	return foldField(k, agentNames)
}

// The fields of an Event, in eventNames' order.
const (
	evTime = iota
	evKind
	evRequestID
	evAction
	evWouldBe
	evScore
	evSignals
	evClientIP
	evViaTrustedProxy
	evDNA
	evEnrichment
	evMethod
	evHost
	evPath
	evUserAgent
	evStatus
	evBytes
	evLatencyMS
	evQuery
	evHeaders
	evBan
	evError
	evFailedOpen
)

var eventNames = []string{"time", "kind", "request_id", "action", "would_be", "score", "signals", "client_ip",
	"via_trusted_proxy", "dna", "enrichment", "method", "host", "path", "user_agent", "status", "bytes",
	"latency_ms", "query", "headers", "ban", "error", "failed_open"}

func eventField(k []byte) int {
	switch string(k) {
	case "time":
		return evTime
	case "kind":
		return evKind
	case "request_id":
		return evRequestID
	case "action":
		return evAction
	case "would_be":
		return evWouldBe
	case "score":
		return evScore
	case "signals":
		return evSignals
	case "client_ip":
		return evClientIP
	case "via_trusted_proxy":
		return evViaTrustedProxy
	case "dna":
		return evDNA
	case "enrichment":
		return evEnrichment
	case "method":
		return evMethod
	case "host":
		return evHost
	case "path":
		return evPath
	case "user_agent":
		return evUserAgent
	case "status":
		return evStatus
	case "bytes":
		return evBytes
	case "latency_ms":
		return evLatencyMS
	case "query":
		return evQuery
	case "headers":
		return evHeaders
	case "ban":
		return evBan
	case "error":
		return evError
	case "failed_open":
		return evFailedOpen
	}
	return foldField(k, eventNames)
}

// event decodes an event into e; prev is the event before (or a zero one), whose
// strings e's may share.
func (d *decoder) event(e, prev *Event) error {
	if ok, err := d.isObject("events"); !ok {
		return err
	}
	d.dup = false
	var seen uint32
	err := d.object(&seen, eventField, func(f int) (err error) {
		switch f {
		case evTime:
			err = d.time(&e.Time)
		case evKind:
			err = d.string(&e.Kind, "events.kind", prev.Kind)
		case evRequestID:
			err = d.string(&e.RequestID, "events.request_id", prev.RequestID)
		case evAction:
			err = d.string(&e.Action, "events.action", prev.Action)
		case evWouldBe:
			err = d.string(&e.WouldBe, "events.would_be", prev.WouldBe)
		case evScore:
			err = d.int(&e.Score, "events.score")
		case evSignals:
			j := 0
			err = array(d, &e.Signals, "events.signals", grow2, func(s *Signal) error {
				var ps Signal
				if j < len(prev.Signals) {
					ps = prev.Signals[j]
				}
				j++
				return d.signal(s, &ps)
			})
		case evClientIP:
			err = d.addr(&e.ClientIP, "events.client_ip")
		case evViaTrustedProxy:
			err = d.bool(&e.ViaTrustedProxy, "events.via_trusted_proxy")
		case evDNA:
			err = d.dna(&e.DNA, &prev.DNA)
		case evEnrichment:
			err = d.enrichment(&e.Enrichment, &prev.Enrichment)
		case evMethod:
			err = d.string(&e.Method, "events.method", prev.Method)
		case evHost:
			err = d.string(&e.Host, "events.host", prev.Host)
		case evPath:
			err = d.string(&e.Path, "events.path", prev.Path)
		case evUserAgent:
			err = d.string(&e.UserAgent, "events.user_agent", prev.UserAgent)
		case evStatus:
			err = d.int(&e.Status, "events.status")
		case evBytes:
			err = d.int64(&e.Bytes, "events.bytes")
		case evLatencyMS:
			err = d.float64(&e.LatencyMS, "events.latency_ms")
		case evQuery:
			err = d.string(&e.Query, "events.query", prev.Query)
		case evHeaders:
			j := 0
			err = array(d, &e.Headers, "events.headers", grow8, func(h *Header) error {
				var ph Header
				if j < len(prev.Headers) {
					ph = prev.Headers[j]
				}
				j++
				return d.header(h, &ph)
			})
		case evBan:
			var pb Ban
			if prev.Ban != nil {
				pb = *prev.Ban
			}
			err = pointer(d, &e.Ban, "events.ban", func(b *Ban) error { return d.ban(b, &pb) })
		case evError:
			err = d.string(&e.Error, "events.error", prev.Error)
		case evFailedOpen:
			err = d.bool(&e.FailedOpen, "events.failed_open")
		default:
			err = d.skip()
		}
		return err
	})
	d.flush()
	return err
}

var signalNames = []string{"detector", "code", "score", "detail"}

func signalField(k []byte) int {
	switch string(k) {
	case "detector":
		return 0
	case "code":
		return 1
	case "score":
		return 2
	case "detail":
		return 3
	}
	return foldField(k, signalNames)
}

func (d *decoder) signal(s, prev *Signal) error {
	if ok, err := d.isObject("events.signals"); !ok {
		return err
	}
	var seen uint32
	err := d.object(&seen, signalField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.string(&s.Detector, "events.signals.detector", prev.Detector)
		case 1:
			err = d.string(&s.Code, "events.signals.code", prev.Code)
		case 2:
			err = d.int(&s.Score, "events.signals.score")
		case 3:
			err = d.string(&s.Detail, "events.signals.detail", prev.Detail)
		default:
			err = d.skip()
		}
		return err
	})
	return err
}

var headerNames = []string{"name", "value"}

func headerField(k []byte) int {
	switch string(k) {
	case "name":
		return 0
	case "value":
		return 1
	}
	return foldField(k, headerNames)
}

func (d *decoder) header(h, prev *Header) error {
	if ok, err := d.isObject("events.headers"); !ok {
		return err
	}
	var seen uint32
	err := d.object(&seen, headerField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.string(&h.Name, "events.headers.name", prev.Name)
		case 1:
			err = d.string(&h.Value, "events.headers.value", prev.Value)
		default:
			err = d.skip()
		}
		return err
	})
	return err
}

var dnaNames = []string{"id", "family", "kind", "source", "protocol", "ja4", "ja3", "h2", "hdna", "hdna_id"}

func dnaField(k []byte) int {
	switch string(k) {
	case "id":
		return 0
	case "family":
		return 1
	case "kind":
		return 2
	case "source":
		return 3
	case "protocol":
		return 4
	case "ja4":
		return 5
	case "ja3":
		return 6
	case "h2":
		return 7
	case "hdna":
		return 8
	case "hdna_id":
		return 9
	}
	return foldField(k, dnaNames)
}

func (d *decoder) dna(n, prev *DNA) error {
	if ok, err := d.isObject("events.dna"); !ok {
		return err
	}
	var seen uint32
	err := d.object(&seen, dnaField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.string(&n.ID, "events.dna.id", prev.ID)
		case 1:
			err = d.string(&n.Family, "events.dna.family", prev.Family)
		case 2:
			err = d.string(&n.Kind, "events.dna.kind", prev.Kind)
		case 3:
			err = d.string(&n.Source, "events.dna.source", prev.Source)
		case 4:
			err = d.string(&n.Protocol, "events.dna.protocol", prev.Protocol)
		case 5:
			err = d.string(&n.JA4, "events.dna.ja4", prev.JA4)
		case 6:
			err = d.string(&n.JA3, "events.dna.ja3", prev.JA3)
		case 7:
			err = d.string(&n.H2, "events.dna.h2", prev.H2)
		case 8:
			err = d.string(&n.HDNA, "events.dna.hdna", prev.HDNA)
		case 9:
			err = d.string(&n.HDNAID, "events.dna.hdna_id", prev.HDNAID)
		default:
			err = d.skip()
		}
		return err
	})
	return err
}

var enrichmentNames = []string{"country", "asn", "as_org", "hosting", "client", "client_kind", "bot_category",
	"bot_verified", "email", "phone"}

func enrichmentField(k []byte) int {
	switch string(k) {
	case "country":
		return 0
	case "asn":
		return 1
	case "as_org":
		return 2
	case "hosting":
		return 3
	case "client":
		return 4
	case "client_kind":
		return 5
	case "bot_category":
		return 6
	case "bot_verified":
		return 7
	case "email":
		return 8
	case "phone":
		return 9
	}
	return foldField(k, enrichmentNames)
}

func (d *decoder) enrichment(en, prev *Enrichment) error {
	if ok, err := d.isObject("events.enrichment"); !ok {
		return err
	}
	var seen uint32
	err := d.object(&seen, enrichmentField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.string(&en.Country, "events.enrichment.country", prev.Country)
		case 1:
			err = d.uint32(&en.ASN, "events.enrichment.asn")
		case 2:
			err = d.string(&en.ASOrg, "events.enrichment.as_org", prev.ASOrg)
		case 3:
			err = d.string(&en.Hosting, "events.enrichment.hosting", prev.Hosting)
		case 4:
			err = d.string(&en.Client, "events.enrichment.client", prev.Client)
		case 5:
			err = d.string(&en.ClientKind, "events.enrichment.client_kind", prev.ClientKind)
		case 6:
			err = d.string(&en.BotCategory, "events.enrichment.bot_category", prev.BotCategory)
		case 7:
			err = d.bool(&en.BotVerified, "events.enrichment.bot_verified")
		case 8:
			var pm Email
			if prev.Email != nil {
				pm = *prev.Email
			}
			err = pointer(d, &en.Email, "events.enrichment.email", func(m *Email) error { return d.email(m, &pm) })
		case 9:
			var pp Phone
			if prev.Phone != nil {
				pp = *prev.Phone
			}
			err = pointer(d, &en.Phone, "events.enrichment.phone", func(p *Phone) error { return d.phone(p, &pp) })
		default:
			err = d.skip()
		}
		return err
	})
	return err
}

// reasons decodes a list of reason codes into *p; prev is the list of the event before.
func (d *decoder) reasons(p *[]string, field string, prev []string) error {
	j := 0
	return array(d, p, field, grow2, func(s *string) error {
		var ps string
		if j < len(prev) {
			ps = prev[j]
		}
		j++
		return d.string(s, field, ps)
	})
}

var emailNames = []string{"valid", "invalid", "domain", "provider", "disposable", "free", "role", "risk_score", "reasons"}

func emailField(k []byte) int {
	switch string(k) {
	case "valid":
		return 0
	case "invalid":
		return 1
	case "domain":
		return 2
	case "provider":
		return 3
	case "disposable":
		return 4
	case "free":
		return 5
	case "role":
		return 6
	case "risk_score":
		return 7
	case "reasons":
		return 8
	}
	return foldField(k, emailNames)
}

func (d *decoder) email(m, prev *Email) error {
	var seen uint32
	err := d.object(&seen, emailField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.bool(&m.Valid, "events.enrichment.email.valid")
		case 1:
			err = d.string(&m.Invalid, "events.enrichment.email.invalid", prev.Invalid)
		case 2:
			err = d.string(&m.Domain, "events.enrichment.email.domain", prev.Domain)
		case 3:
			err = d.string(&m.Provider, "events.enrichment.email.provider", prev.Provider)
		case 4:
			err = d.bool(&m.Disposable, "events.enrichment.email.disposable")
		case 5:
			err = d.bool(&m.Free, "events.enrichment.email.free")
		case 6:
			err = d.bool(&m.Role, "events.enrichment.email.role")
		case 7:
			err = d.int(&m.RiskScore, "events.enrichment.email.risk_score")
		case 8:
			err = d.reasons(&m.Reasons, "events.enrichment.email.reasons", prev.Reasons)
		default:
			err = d.skip()
		}
		return err
	})
	return err
}

var phoneNames = []string{"valid", "region", "type", "country_mismatch", "risk_score", "reasons"}

func phoneField(k []byte) int {
	switch string(k) {
	case "valid":
		return 0
	case "region":
		return 1
	case "type":
		return 2
	case "country_mismatch":
		return 3
	case "risk_score":
		return 4
	case "reasons":
		return 5
	}
	return foldField(k, phoneNames)
}

func (d *decoder) phone(p, prev *Phone) error {
	var seen uint32
	err := d.object(&seen, phoneField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.bool(&p.Valid, "events.enrichment.phone.valid")
		case 1:
			err = d.string(&p.Region, "events.enrichment.phone.region", prev.Region)
		case 2:
			err = d.string(&p.Type, "events.enrichment.phone.type", prev.Type)
		case 3:
			err = d.bool(&p.CountryMismatch, "events.enrichment.phone.country_mismatch")
		case 4:
			err = d.int(&p.RiskScore, "events.enrichment.phone.risk_score")
		case 5:
			err = d.reasons(&p.Reasons, "events.enrichment.phone.reasons", prev.Reasons)
		default:
			err = d.skip()
		}
		return err
	})
	return err
}

var banNames = []string{"kind", "value", "reason", "until", "strikes"}

func banField(k []byte) int {
	switch string(k) {
	case "kind":
		return 0
	case "value":
		return 1
	case "reason":
		return 2
	case "until":
		return 3
	case "strikes":
		return 4
	}
	return foldField(k, banNames)
}

func (d *decoder) ban(b, prev *Ban) error {
	var seen uint32
	err := d.object(&seen, banField, func(f int) (err error) {
		switch f {
		case 0:
			err = d.string(&b.Kind, "events.ban.kind", prev.Kind)
		case 1:
			err = d.string(&b.Value, "events.ban.value", prev.Value)
		case 2:
			err = d.string(&b.Reason, "events.ban.reason", prev.Reason)
		case 3:
			err = d.time(&b.Until)
		case 4:
			err = d.int(&b.Strikes, "events.ban.strikes")
		default:
			err = d.skip()
		}
		return err
	})
	return err
}
