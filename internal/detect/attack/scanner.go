package attack

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/detect/decode"
	"github.com/vigilhq/vigil/internal/headers"
	"github.com/vigilhq/vigil/internal/nfa"
)

// Detector is the Detector name on every Finding this package produces.
const Detector = "attack"

// Finding codes. They are stable: policy weights refer to them. The package
// documentation lists what each means and the scores it is given.
const (
	// CodeSQLi is SQL (and MongoDB operator) injection.
	CodeSQLi = "sqli"
	// CodeXSS is cross-site scripting.
	CodeXSS = "xss"
	// CodePathTraversal is directory traversal and local file inclusion.
	CodePathTraversal = "path_traversal"
	// CodeCmdi is OS command injection.
	CodeCmdi = "cmdi"
	// CodeSSRF is a URL or host aimed at metadata services or internal addresses.
	CodeSSRF = "ssrf"
	// CodeScannerProbe is a request only a vulnerability scanner makes.
	CodeScannerProbe = "scanner_probe"
	// CodeLog4Shell is a Log4j JNDI lookup.
	CodeLog4Shell = "log4shell"
	// CodeJavaInjection is Java expression-language, deserialisation and class
	// loader abuse.
	CodeJavaInjection = "java_injection"
	// CodePHPInjection is PHP code, PHP stream wrappers and PHP script uploads.
	CodePHPInjection = "php_injection"
	// CodeCodeInjection is template injection and server-side JavaScript, Python,
	// Perl and SSI code.
	CodeCodeInjection = "code_injection"
	// CodeXXE is XML external entity and DTD abuse.
	CodeXXE = "xxe"
	// CodeLDAPInjection is LDAP filter injection.
	CodeLDAPInjection = "ldap_injection"
	// CodeSessionFixation is an attempt to plant a session identifier.
	CodeSessionFixation = "session_fixation"
	// CodeProtocol is a protocol-level trick: CRLF injection, smuggling markers,
	// NUL bytes, charset and content-type confusion.
	CodeProtocol = "protocol"
	// CodeBodyNotScanned says the body, or part of it, was not examined.
	CodeBodyNotScanned = "body_not_scanned"
	// CodeTooManyParams says values were not examined because the request's scan
	// budget had run out.
	CodeTooManyParams = "too_many_params"
	// CodeValueTooLong says a value was examined only in part because the request's
	// scan budget ran out inside it.
	CodeValueTooLong = "value_too_long"
)

// Limits on the work one request can cause.
const (
	// DefaultMaxBodyBytes is the body bound when Config.MaxBodyBytes is zero.
	DefaultMaxBodyBytes = 64 << 10
	// WindowBytes is the most of a value the engine examines at once. A longer value
	// is examined whole, in windows of WindowBytes that overlap by WindowOverlap.
	WindowBytes = 8 << 10
	// WindowOverlap is how much consecutive windows of a long value share, so that a
	// payload cut by one window's edge lies whole inside the next.
	WindowOverlap = 1 << 10
	// windowAlign is how far past the overlap's start a window may begin, to start
	// after a separator rather than inside a word.
	windowAlign = 256
	// HeaderScanBytes is the part of a request's scan budget for the path, query and
	// headers: net/http's default bound on a request line plus headers
	// (http.DefaultMaxHeaderBytes, plus the 4096 bytes its server adds), so that any
	// request the default server accepts has its URL and headers examined whole.
	HeaderScanBytes = http.DefaultMaxHeaderBytes + 4096
	// manyParams is the parameter count above which a request draws a weak protocol
	// finding, even when every value is examined.
	manyParams = 256
	// budgetScore is the score of a not-scanned finding (too_many_params,
	// value_too_long, body_not_scanned for a body over the bound) on a request whose
	// scanned part holds an attack finding of at least indicatorScore: padding that
	// pushes part of a request out of reach must not dilute what was seen.
	budgetScore    = 80
	indicatorScore = 50
)

// Config configures a Scanner. The zero value is ready to use.
type Config struct {
	// MaxBodyBytes bounds how much of a request body is read for scanning. Zero means
	// 64 KiB. A larger body is scanned on its first MaxBodyBytes and produces a
	// body_not_scanned finding; the handler still receives the whole body.
	MaxBodyBytes int64
}

// budget is how many bytes of values one request may have examined: HeaderScanBytes
// for the URL and headers, and twice the body bound, since an XML body is examined
// as text and again value by value.
func (s *Scanner) budget() int { return HeaderScanBytes + 2*int(s.maxBody) }

// Scanner inspects requests for attack payloads. Build one with [New]; the zero value
// is not usable. A Scanner is safe for concurrent use: its tables are immutable
// after New, and its only changing state is a bounded, lock-free cache of clean
// User-Agent values.
type Scanner struct {
	maxBody int64
	kw      *matcher
	// class maps each byte to its character-class bit.
	class      [256]uint64
	re         regexps
	cmds       map[string]cmdClass
	probes     map[string]int
	backups    []string
	uploadExts []string
	// clean remembers User-Agent values that scanned clean.
	clean *cleanCache
	// vocabRole is roleOf for each name of the headers vocabulary, and scanVocab the
	// names whose role is not hdrSkip.
	vocabRole [headers.NumDNA]headerRole
	scanVocab uint64
}

// regexps are the RE2 expressions that confirm a keyword hit. Each runs only after
// cheaper checks have made a match likely, and on at most WindowBytes of input.
type regexps struct {
	unionSelect     *nfa.Regexp
	sqlStacked      *nfa.Regexp
	sqlTimeFunc     *nfa.Regexp
	sqlFunc         *nfa.Regexp
	sqlTautology    *nfa.Regexp
	sqlQuoteComment *nfa.Regexp
	sqlCast         *nfa.Regexp
	sqlMisc         *nfa.Regexp
	sqlSelectCall   *nfa.Regexp
	sqlLeadLogic    *nfa.Regexp
	sqlOnlyCall     *nfa.Regexp
	sqlExtra        *nfa.Regexp
	sqlCommentKw    *nfa.Regexp
	xssTag          *nfa.Regexp
	xssHandler      *nfa.Regexp
	xssJSCall       *nfa.Regexp
	phpCall         *nfa.Regexp
	phpCallWeak     *nfa.Regexp
	phpOpenTag      *nfa.Regexp
	perlInterp      *nfa.Regexp
	jsLoop          *nfa.Regexp
	jsInject        *nfa.Regexp
	phpConcatCall   *nfa.Regexp
	ldapInj         *nfa.Regexp
	winFor          *nfa.Regexp
	shellParamExp   *nfa.Regexp
	requestLine     *nfa.Regexp
	cookieSet       *nfa.Regexp
	phpVarCall      *nfa.Regexp
	phpSerial       *nfa.Regexp
	javaFQCN        *nfa.Regexp
	crlfHeader      *nfa.Regexp
	ssti            *nfa.Regexp
}

// New compiles the Scanner's keyword tables and expressions. It returns an error only
// if cfg is invalid.
func New(cfg Config) (*Scanner, error) {
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("attack: MaxBodyBytes %d is negative", cfg.MaxBodyBytes)
	}
	s := &Scanner{maxBody: cfg.MaxBodyBytes}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	var err error
	if s.kw, err = newMatcher(keywords()); err != nil {
		return nil, fmt.Errorf("attack: %w", err)
	}
	s.class = classTable()
	s.cmds = commandTable()
	s.probes = probeTable()
	s.backups = backupSuffixes()
	s.uploadExts = dangerousUploadExts()
	s.clean = newCleanCache()
	for i, name := range headers.Vocabulary() {
		if s.vocabRole[i] = roleOf(name); s.vocabRole[i] != hdrSkip {
			s.scanVocab |= 1 << i
		}
	}
	if err := s.re.compile(); err != nil {
		return nil, fmt.Errorf("attack: %w", err)
	}
	return s, nil
}

// ScanValue runs the per-value engine on one value as if it were a query or form
// parameter value found at where (for example "query:id"), appending findings to dst.
// The value is taken as the application would see it: already percent-decoded once.
// It is examined whole, however long; the request budget does not apply.
func (s *Scanner) ScanValue(dst []detect.Finding, where, value string) []detect.Finding {
	return s.scan(dst, loc{kind: where}, value, kindParam)
}

// Scan inspects r and appends findings to dst. It examines the raw and decoded path,
// every name and value of the query string (all values of repeated keys), cookie
// names and values, the headers an application reads (see roleOf) and the body when
// its media type is form, JSON, multipart, XML or text, within the request's scan
// budget (see the package documentation). It reads at most MaxBodyBytes+1 bytes of
// the body and always leaves r.Body delivering the identical byte stream (see
// restoreBody). The error is non-nil only when reading the body failed; the findings
// made so far are still returned, and r.Body then replays the bytes read followed by
// the same error. Scan does not retain dst. It reads r's headers through hs, which
// must have been read from r.Header (see [headers.Set]); ScanRequest reads them itself.
func (s *Scanner) Scan(dst []detect.Finding, r *http.Request, hs *headers.Set) ([]detect.Finding, error) {
	start := len(dst)
	st := reqState{budget: s.budget()}
	dst = s.scanPath(dst, &st, r)
	dst = s.scanQuery(dst, &st, r.URL.RawQuery)
	dst = s.scanHeaders(dst, &st, r, hs)
	dst, err := s.scanBody(dst, &st, r)
	if st.sessionParam != "" {
		dst = sessionFixation(dst, r, st.sessionParam)
	}
	if st.params > manyParams {
		dst = append(dst, finding(CodeProtocol, 40, loc{kind: "request"}, "unusually many parameters: "+strconv.Itoa(st.params)))
	}
	if st.skipped > 0 || st.cut > 0 || st.bodyCut {
		dst = s.overBudget(dst, start, &st)
	}
	return dst, err
}

// ScanRequest is Scan for a caller that has not read r's headers into a Set.
func (s *Scanner) ScanRequest(dst []detect.Finding, r *http.Request) ([]detect.Finding, error) {
	var hs headers.Set
	hs.Read(r.Header)
	return s.Scan(dst, r, &hs)
}

// overBudget appends the findings that say part of the request was not examined. Each
// keeps its moderate score, unless the findings made since start hold an attack
// indicator: then each scores budgetScore, so the request blocks by default.
func (s *Scanner) overBudget(dst []detect.Finding, start int, st *reqState) []detect.Finding {
	tooMany, tooLong, body := 60, 30, 50
	for _, f := range dst[start:] {
		if f.Score >= indicatorScore && f.Code != CodeBodyNotScanned {
			tooMany, tooLong, body = budgetScore, budgetScore, budgetScore
			break
		}
	}
	where := loc{kind: "request"}
	if st.cut > 0 {
		dst = append(dst, finding(CodeValueTooLong, tooLong, loc{kind: st.cutAt},
			strconv.Itoa(st.cut)+" value examined in part: scan budget of "+strconv.Itoa(s.budget())+" bytes spent"))
	}
	if st.skipped > 0 {
		dst = append(dst, finding(CodeTooManyParams, tooMany, where,
			strconv.Itoa(st.skipped)+" values past the scan budget of "+strconv.Itoa(s.budget())+" bytes not scanned"))
	}
	if st.bodyCut {
		dst = append(dst, finding(CodeBodyNotScanned, body, loc{kind: "body"},
			"body larger than "+strconv.FormatInt(s.maxBody, 10)+" bytes; prefix scanned"))
	}
	return dst
}

// reqState is what one Scan carries from value to value.
type reqState struct {
	// budget is how many more bytes of values may be examined.
	budget int
	// skipped counts values not examined at all, cut values examined in part (the
	// first at cutAt), both because the budget ran out; bodyCut says the body was
	// longer than MaxBodyBytes.
	skipped, cut int
	cutAt        string
	bodyCut      bool
	params       int // query and form parameters seen
	// sessionParam is the first parameter named like a session identifier.
	sessionParam string
}

// noteName records a parameter name that looks like a session identifier.
func (st *reqState) noteName(name string) {
	if st.sessionParam == "" && isSessionIDName(name) {
		st.sessionParam = name
	}
}

// take charges v to the budget and returns the part of it that may be examined: all
// of it, a prefix when the budget runs out inside it, or "" with ok false when the
// budget had already run out. Every value costs at least one byte.
func (st *reqState) take(v string, where loc) (string, bool) {
	if st.budget <= 0 {
		st.skipped++
		return "", false
	}
	if len(v) <= st.budget {
		st.budget -= max(len(v), 1)
		return v, true
	}
	v = v[:st.budget]
	st.budget = 0
	if st.cut++; st.cut == 1 {
		// A copy, so that where's strings (and the caller's buffers) stay on
		// the stack.
		st.cutAt = strings.Clone(where.String())
	}
	return v, true
}

// examine charges v to the request's budget and scans what it may.
func (s *Scanner) examine(dst []detect.Finding, st *reqState, where loc, v string, k kind) []detect.Finding {
	v, ok := st.take(v, where)
	if !ok {
		return dst
	}
	return s.scan(dst, where, v, k)
}

// loc names where a value was found. kind and name are joined ("query" + "id" →
// "query:id") only when a finding is reported, so clean values cost no allocation.
type loc struct {
	kind string
	name string
	// path, when name is empty, is a JSON path buffer owned by the caller; it is read
	// only while the value is being scanned.
	path []byte
}

func (l loc) String() string {
	name := l.name
	if name == "" && len(l.path) > 0 {
		name = string(l.path)
	}
	if name == "" {
		return l.kind
	}
	return l.kind + ":" + truncate(name, 64)
}

// finding builds a Finding whose Detail follows "<where>: <code> (<excerpt>)". When the
// field's name says it holds a secret (a password, a token, a session cookie, a card
// number), the excerpt is withheld: "<code> in <where> (value withheld, <n> bytes)".
// Details travel to logs and telemetry, and an attack in a password field is still
// someone's password. The agent redacts what leaves the process as well; this keeps
// the secret out of the verdict itself.
func finding(code string, score int, where loc, excerpt string) detect.Finding {
	name := where.name
	if name == "" {
		name = string(where.path)
	}
	if sensitiveName(name) {
		// The name does not come right before ": " here, so that a redactor reading
		// "password: sqli" does not take the code for the password.
		return detect.Finding{Detector: Detector, Code: code, Score: score,
			Detail: code + " in " + where.String() + " (value withheld, " + strconv.Itoa(len(excerpt)) + " bytes)"}
	}
	ex := escapeExcerpt(excerpt, 48)
	return detect.Finding{
		Detector: Detector,
		Code:     code,
		Score:    score,
		Detail:   where.String() + ": " + code + " (" + ex + ")",
	}
}

// sensitiveName reports whether a parameter, cookie, header or JSON member name says
// that its value is a secret. The last segment of a JSON path counts.
func sensitiveName(name string) bool {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	var b [64]byte
	n := 0
	for i := 0; i < len(name) && n < len(b); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b[n] = c + 'a' - 'A'
			n++
		case c == '-' || c == '_' || c == ' ':
		default:
			b[n] = c
			n++
		}
	}
	k := string(b[:n])
	switch k {
	case "pin", "otp", "ssn", "cvv", "cvc", "sid", "pwd", "auth", "key", "jwt":
		return true
	}
	for _, w := range [...]string{"pass", "secret", "token", "apikey", "accesskey", "privatekey", "authorization",
		"session", "sessid", "cardnumber", "creditcard", "ccnum", "credential"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// escapeExcerpt returns at most max bytes of s with control characters, backslashes
// and invalid UTF-8 escaped, so the excerpt is safe to log on one line.
func escapeExcerpt(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; {
		c := s[i]
		switch {
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		case c < 0x80:
			b.WriteByte(c)
		default:
			r, size := decodeRune(s[i:])
			if r < 0 {
				b.WriteString(`\x`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&15])
				i++
				continue
			}
			if b.Len()+size > max {
				i = len(s)
				continue
			}
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		i++
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// examineCached is examine for values browsers repeat on every request (User-Agent,
// Referer, the path): a value that scanned clean before is not examined again.
func (s *Scanner) examineCached(dst []detect.Finding, st *reqState, where loc, v string, k kind) []detect.Finding {
	v, ok := st.take(v, where)
	if !ok || s.clean.has(v, k) {
		return dst
	}
	n := len(dst)
	if dst = s.scan(dst, where, v, k); len(dst) == n {
		s.clean.add(v, k)
	}
	return dst
}

// scanPath examines the request path: raw (as sent) and decoded. A path that
// scanned clean is remembered (see cleanCache): sites serve a few paths many times.
func (s *Scanner) scanPath(dst []detect.Finding, st *reqState, r *http.Request) []detect.Finding {
	raw := r.URL.RawPath
	if raw == "" {
		raw = r.URL.Path
	}
	if raw == "" || raw == "/" {
		return dst
	}
	return s.examineCached(dst, st, loc{kind: "path"}, raw, kindPath)
}

// scanQuery examines every name and value of a raw query string, in order, without
// building a map: repeated keys are all examined. A query that was examined whole,
// scanned clean and names no session identifier is remembered with its parameter
// count: popular pages are requested with the same query again and again.
func (s *Scanner) scanQuery(dst []detect.Finding, st *reqState, raw string) []detect.Finding {
	if raw == "" {
		return dst
	}
	if n, ok := s.clean.get(raw, kindQuery); ok {
		st.params += int(n)
		st.take(raw, loc{kind: "query"})
		return dst
	}
	n, params, skipped, cut := len(dst), st.params, st.skipped, st.cut
	dst = s.scanForm(dst, st, raw, "query", "query-name")
	if len(dst) == n && st.skipped == skipped && st.cut == cut && st.sessionParam == "" {
		s.clean.addAux(raw, kindQuery, uint32(st.params-params))
	}
	return dst
}

// scanForm examines an application/x-www-form-urlencoded string (a query or a body);
// kind and nameKind are the locations of its values and its names.
func (s *Scanner) scanForm(dst []detect.Finding, st *reqState, raw, kind, nameKind string) []detect.Finding {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		st.params++
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key := decode.Percent(rawKey, true)
		st.noteName(key)
		dst = s.examine(dst, st, loc{kind: nameKind, name: key}, key, kindKey)
		if rawVal == "" {
			continue
		}
		dst = s.examine(dst, st, loc{kind: kind, name: key}, decode.Percent(rawVal, true), kindParam)
	}
	return dst
}

// decodeRune is utf8.DecodeRuneInString that reports invalid input as -1.
func decodeRune(s string) (rune, int) {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return -1, 1
	}
	return r, size
}
