package attack

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigilhq/vigil/internal/detect"
)

// bodyKind is how a body's media type is parsed.
type bodyKind uint8

const (
	bodyNone bodyKind = iota // not scanned: binary or unknown structured media
	bodyForm
	bodyJSON
	bodyMultipart
	bodyXML
	bodyText
	bodyGuess // no Content-Type: form if it parses as one, else text
)

// bodyKindOf classifies a Content-Type header value.
func bodyKindOf(ct string) bodyKind {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case mt == "":
		return bodyGuess
	case mt == "application/x-www-form-urlencoded":
		return bodyForm
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json" || mt == "application/x-ndjson" || mt == "application/csp-report":
		return bodyJSON
	case mt == "multipart/form-data" || mt == "multipart/mixed":
		return bodyMultipart
	case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
		return bodyXML
	case strings.HasPrefix(mt, "text/"), mt == "application/graphql", mt == "application/javascript", mt == "application/x-yaml", mt == "application/yaml":
		return bodyText
	}
	return bodyNone
}

// scanBody reads a bounded prefix of the body when its media type is one the
// scanner parses, restores r.Body, and examines the prefix.
func (s *Scanner) scanBody(dst []detect.Finding, st *reqState, r *http.Request) ([]detect.Finding, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return dst, nil
	}
	ct := r.Header.Get("Content-Type")
	bk := bodyKindOf(ct)
	if bk == bodyNone {
		return dst, nil
	}
	where := loc{kind: "body"}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(strings.TrimSpace(ce), "identity") {
		return append(dst, finding(CodeBodyNotScanned, 50, where, "Content-Encoding: "+ce)), nil
	}
	buf, complete, err := s.readBody(r)
	restoreBody(r, buf, complete, err)
	if err != nil {
		dst = append(dst, finding(CodeBodyNotScanned, 50, where, "read error after "+strconv.Itoa(len(buf))+" bytes"))
		return dst, err
	}
	if len(buf) == 0 {
		return dst, nil
	}
	if !complete {
		// Scan reports it once the rest is examined, with a score that depends
		// on what the prefix holds.
		st.bodyCut = true
		buf = buf[:s.maxBody]
	}
	body := string(buf)
	switch bk {
	case bodyGuess:
		if looksLikeForm(body) {
			dst = s.scanForm(dst, st, body, "body:form", "body:form-name")
		} else {
			dst = s.scanText(dst, st, body, "body:text", kindText)
		}
	case bodyForm:
		dst = s.scanForm(dst, st, body, "body:form", "body:form-name")
	case bodyJSON:
		dst = s.scanJSON(dst, st, body, "body:json", complete)
	case bodyMultipart:
		dst = s.scanMultipart(dst, st, body, ct, complete)
	case bodyXML:
		dst = s.scanXML(dst, st, body, "body:xml")
	case bodyText:
		dst = s.scanText(dst, st, body, "body:text", kindText)
	}
	return dst, nil
}

// readBody reads at most maxBody+1 bytes. complete reports that the body ended
// within maxBody bytes.
func (s *Scanner) readBody(r *http.Request) (buf []byte, complete bool, err error) {
	limit := s.maxBody + 1
	size := int64(512)
	if r.ContentLength > 0 {
		// Trust the declared length only up to 64 KiB: a client can claim any
		// length and then send nothing.
		size = min(r.ContentLength+1, limit, 64<<10)
	}
	buf = make([]byte, 0, size)
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := min(int64(cap(buf)), limit)
		n, rerr := r.Body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if rerr == io.EOF {
			return buf, true, nil
		}
		if rerr != nil {
			return buf, false, rerr
		}
	}
	return buf, false, nil
}

// restoreBody puts back what readBody consumed, so the handler reads the identical
// byte stream: the prefix, then the unread rest of the original body, or the read
// error that stopped the scan. The original Close is kept. When the whole body was
// read, GetBody replays it (as net/http's client sets GetBody for known bodies);
// otherwise GetBody is cleared, since the body can no longer be replayed from the
// start. ContentLength is left as it was: the byte count does not change.
func restoreBody(r *http.Request, buf []byte, complete bool, err error) {
	orig := r.Body
	var rd io.Reader
	switch {
	case err != nil:
		rd = io.MultiReader(bytes.NewReader(buf), errReader{err})
	case complete:
		rd = bytes.NewReader(buf)
	default:
		rd = io.MultiReader(bytes.NewReader(buf), orig)
	}
	r.Body = readCloser{Reader: rd, Closer: orig}
	if complete && err == nil {
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	} else {
		r.GetBody = nil
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// looksLikeForm reports whether a body without Content-Type reads as
// application/x-www-form-urlencoded: a first pair with a plain key and '='.
func looksLikeForm(b string) bool {
	eq := strings.IndexByte(b, '=')
	if eq <= 0 || eq > 256 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := b[i]
		if !(isWordByte(c) || c == '-' || c == '.' || c == '%' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// scanText examines a raw body as one value; scan examines a long one in windows.
func (s *Scanner) scanText(dst []detect.Finding, st *reqState, body, kindName string, k kind) []detect.Finding {
	return s.examine(dst, st, loc{kind: kindName}, body, k)
}

// scanMultipart examines each part: field names, file names and field values
// (parsed by the part's own Content-Type when it is JSON or XML). File contents are
// not examined: uploads are arbitrary bytes.
func (s *Scanner) scanMultipart(dst []detect.Finding, st *reqState, body, ct string, complete bool) []detect.Finding {
	_, params, err := mime.ParseMediaType(ct)
	boundary := params["boundary"]
	if err != nil || boundary == "" {
		dst = append(dst, finding(CodeBodyNotScanned, 50, loc{kind: "body:multipart"}, "no usable boundary; scanned as text"))
		return s.scanText(dst, st, body, "body:multipart", kindText)
	}
	mr := multipart.NewReader(strings.NewReader(body), boundary)
	for parts := 0; ; parts++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if complete {
				dst = append(dst, finding(CodeBodyNotScanned, 50, loc{kind: "body:multipart"}, "malformed multipart; scanned as text"))
				dst = s.scanText(dst, st, body, "body:multipart", kindText)
			}
			break
		}
		dst = s.scanPart(dst, st, p)
	}
	return dst
}

// scanPart examines one multipart part.
func (s *Scanner) scanPart(dst []detect.Finding, st *reqState, p *multipart.Part) []detect.Finding {
	where := loc{kind: "body:multipart"}
	if cds := p.Header.Values("Content-Disposition"); len(cds) > 1 {
		// Two dispositions: parsers disagree on which wins, a classic WAF bypass.
		dst = append(dst, finding(CodeProtocol, 85, where, "multiple Content-Disposition headers in one part"))
	}
	for name := range p.Header {
		if !validHeaderName(name) {
			dst = append(dst, finding(CodeProtocol, 80, where, "malformed part header name: "+name))
		}
	}
	cd := p.Header.Get("Content-Disposition")
	_, dparams, _ := mime.ParseMediaType(cd)
	name := dparams["name"]
	filename, hasFile := dparams["filename"]
	if fn, ok := dparams["filename*"]; ok {
		filename, hasFile = fn, true
	}
	st.noteName(name)
	if name != "" {
		dst = s.examine(dst, st, loc{kind: "body:multipart-name", name: name}, name, kindKey)
	}
	if hasFile {
		if filename != "" {
			dst = s.examine(dst, st, loc{kind: "body:multipart-filename", name: name}, filename, kindFilename)
		}
		return dst
	}
	pct := p.Header.Get("Content-Type")
	if pct != "" {
		dst = s.scanContentType(dst, "Content-Type", pct)
	}
	if cs := partCharset(pct); cs != "" && cs != "utf-8" && cs != "us-ascii" && cs != "iso-8859-1" && cs != "iso-8859-15" && cs != "windows-1252" {
		// Browsers send field parts without a charset; a declared exotic one is
		// an attempt to make the application decode what a filter did not see.
		dst = append(dst, finding(CodeProtocol, max(80, charsetScore(cs)), where, "part charset "+cs))
	}
	val, _ := io.ReadAll(io.LimitReader(p, s.maxBody))
	if len(val) == 0 {
		return dst
	}
	if strings.EqualFold(name, "_charset_") {
		// The HTML form charset field, which PHP and others honour.
		if sc := charsetScore(strings.ToLower(strings.TrimSpace(string(val)))); sc > 0 {
			dst = append(dst, finding(CodeProtocol, sc, where, "_charset_ "+string(val)))
		}
	}
	fieldWhere := loc{kind: "body:multipart", name: name}
	switch bodyKindOf(pct) {
	case bodyJSON:
		return s.scanJSON(dst, st, string(val), "body:multipart:"+truncate(name, 32), true)
	case bodyXML:
		return s.scanXML(dst, st, string(val), "body:multipart:"+truncate(name, 32))
	}
	return s.examine(dst, st, fieldWhere, string(val), kindParam)
}

// partCharset returns the lower-case charset parameter of a part's Content-Type.
func partCharset(ct string) string {
	if ct == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return strings.ToLower(params["charset"])
}

// validHeaderName reports whether a part header name is an RFC 7230 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// scanXML examines an XML body: the raw text for DTD and entity tricks and PHP tags,
// then each text node and attribute value (with entities decoded by the engine) as
// a value.
func (s *Scanner) scanXML(dst []detect.Finding, st *reqState, body, kindName string) []detect.Finding {
	dst = s.scanText(dst, st, body, kindName, kindXML)
	i := 0
	for i < len(body) {
		lt := strings.IndexByte(body[i:], '<')
		if lt < 0 {
			dst = s.xmlValue(dst, st, kindName, body[i:])
			break
		}
		if lt > 0 {
			dst = s.xmlValue(dst, st, kindName, body[i:i+lt])
		}
		i += lt
		switch {
		case strings.HasPrefix(body[i:], "<![CDATA["):
			end := strings.Index(body[i+9:], "]]>")
			if end < 0 {
				dst = s.xmlValue(dst, st, kindName, body[i+9:])
				return dst
			}
			dst = s.xmlValue(dst, st, kindName, body[i+9:i+9+end])
			i += 9 + end + 3
			continue
		case strings.HasPrefix(body[i:], "<!--"):
			end := strings.Index(body[i+4:], "-->")
			if end < 0 {
				return dst
			}
			i += 4 + end + 3
			continue
		}
		// A tag: attribute values are the quoted strings inside it.
		j := i + 1
		for j < len(body) && body[j] != '>' {
			if q := body[j]; q == '"' || q == '\'' {
				k := strings.IndexByte(body[j+1:], q)
				if k < 0 {
					return s.xmlValue(dst, st, kindName, body[j+1:])
				}
				dst = s.xmlValue(dst, st, kindName, body[j+1:j+1+k])
				j += k + 2
				continue
			}
			j++
		}
		i = j + 1
	}
	return dst
}

func (s *Scanner) xmlValue(dst []detect.Finding, st *reqState, kindName, v string) []detect.Finding {
	v = strings.TrimSpace(v)
	if v == "" {
		return dst
	}
	return s.examine(dst, st, loc{kind: kindName}, v, kindParam)
}

// scanJSON walks a JSON document and examines every key and every string leaf.
// Numbers, booleans and null carry no payload. Invalid JSON (or a document cut at
// MaxBodyBytes) is examined as raw text from the point where it stops parsing.
func (s *Scanner) scanJSON(dst []detect.Finding, st *reqState, body, kindName string, complete bool) []detect.Finding {
	// The walker recurses, which makes everything it holds escape; it works on a
	// copy of st and a slice of its own, so the caller's stay on the stack (and
	// Scan does not retain its dst).
	w := &jsonWalker{s: s, st: *st, src: body, kind: kindName, path: make([]byte, 0, 64)}
	if err := w.value(0); err != nil || w.skipSpace() < len(body) && complete {
		w.dst = s.scanText(w.dst, &w.st, body[min(w.pos, len(body)):], kindName, kindText)
	}
	*st = w.st
	return append(dst, w.dst...)
}

// jsonWalker is a minimal, allocation-light JSON reader that yields string tokens
// with their path ("user.name", "items[2]").
type jsonWalker struct {
	s    *Scanner
	st   reqState
	dst  []detect.Finding
	src  string
	pos  int
	kind string
	path []byte
}

// separator reads what follows an element of an object or array: "," when more
// follow, or closer, which ends the container (done).
func (w *jsonWalker) separator(closer byte) (done bool, err error) {
	w.skipSpace()
	if w.pos >= len(w.src) {
		return false, errJSON
	}
	switch w.src[w.pos] {
	case ',':
		w.pos++
		return false, nil
	case closer:
		w.pos++
		return true, nil
	}
	return false, errJSON
}

// jsonError is the walker's only error: the document stops being JSON.
type jsonError string

func (e jsonError) Error() string { return string(e) }

const errJSON = jsonError("invalid json")

const maxJSONDepth = 64

func (w *jsonWalker) skipSpace() int {
	for w.pos < len(w.src) {
		switch w.src[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return w.pos
		}
	}
	return w.pos
}

func (w *jsonWalker) value(depth int) error {
	if depth > maxJSONDepth {
		return errJSON
	}
	w.skipSpace()
	if w.pos >= len(w.src) {
		return errJSON
	}
	switch c := w.src[w.pos]; {
	case c == '{':
		w.pos++
		mark := len(w.path)
		for first := true; ; first = false {
			w.skipSpace()
			if w.pos < len(w.src) && w.src[w.pos] == '}' && first {
				w.pos++
				return nil
			}
			key, err := w.str()
			if err != nil {
				return err
			}
			w.emit(key, true)
			w.path = w.path[:mark]
			if mark > 0 {
				w.path = append(w.path, '.')
			}
			w.path = append(w.path, truncate(key, 32)...)
			w.skipSpace()
			if w.pos >= len(w.src) || w.src[w.pos] != ':' {
				return errJSON
			}
			w.pos++
			if err := w.value(depth + 1); err != nil {
				return err
			}
			w.path = w.path[:mark]
			if done, err := w.separator('}'); err != nil || done {
				return err
			}
		}
	case c == '[':
		w.pos++
		mark := len(w.path)
		for i := 0; ; i++ {
			w.skipSpace()
			if w.pos < len(w.src) && w.src[w.pos] == ']' && i == 0 {
				w.pos++
				return nil
			}
			w.path = append(append(append(w.path[:mark], '['), strconv.Itoa(i)...), ']')
			if err := w.value(depth + 1); err != nil {
				return err
			}
			w.path = w.path[:mark]
			if done, err := w.separator(']'); err != nil || done {
				return err
			}
		}
	case c == '"':
		v, err := w.str()
		if err != nil {
			return err
		}
		w.emit(v, false)
		return nil
	default:
		// Number, true, false, null: skip the literal.
		start := w.pos
		for w.pos < len(w.src) && strings.IndexByte(",}] \t\r\n", w.src[w.pos]) < 0 {
			w.pos++
		}
		if w.pos == start {
			return errJSON
		}
		return nil
	}
}

// str reads a JSON string at pos and returns it unescaped.
func (w *jsonWalker) str() (string, error) {
	if w.pos >= len(w.src) || w.src[w.pos] != '"' {
		return "", errJSON
	}
	start := w.pos + 1
	esc := false
	i := start
	for ; i < len(w.src); i++ {
		c := w.src[i]
		if c == '\\' {
			esc = true
			i++
			continue
		}
		if c == '"' {
			break
		}
	}
	if i >= len(w.src) {
		return "", errJSON
	}
	w.pos = i + 1
	raw := w.src[start:i]
	if !esc {
		return raw, nil
	}
	return jsonUnescape(raw), nil
}

// jsonUnescape decodes JSON string escapes; invalid escapes are kept as written.
func jsonUnescape(raw string) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			b.WriteByte(c)
			continue
		}
		i++
		switch raw[i] {
		case '"', '\\', '/':
			b.WriteByte(raw[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if i+4 < len(raw) {
				if r, err := strconv.ParseUint(raw[i+1:i+5], 16, 32); err == nil {
					rr := rune(r)
					i += 4
					if 0xD800 <= rr && rr < 0xDC00 && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
						if lo, err := strconv.ParseUint(raw[i+3:i+7], 16, 32); err == nil && 0xDC00 <= lo && lo < 0xE000 {
							rr = 0x10000 + (rr-0xD800)<<10 + (rune(lo) - 0xDC00)
							i += 6
						}
					}
					if !utf8.ValidRune(rr) {
						rr = utf8.RuneError
					}
					b.WriteRune(rr)
					continue
				}
			}
			b.WriteString(`\u`)
		default:
			b.WriteByte('\\')
			b.WriteByte(raw[i])
		}
	}
	return b.String()
}

// emit examines one string token.
func (w *jsonWalker) emit(v string, key bool) {
	if v == "" {
		return
	}
	l := loc{kind: w.kind, path: w.path}
	k := kindParam
	if key {
		l.kind = w.kind + "-key"
		k = kindKey
		w.st.noteName(v)
	}
	w.dst = w.s.examine(w.dst, &w.st, l, v, k)
}
