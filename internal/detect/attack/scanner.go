package attack

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/detect/decode"
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
	// CodeTooManyParams says values past MaxValues were not examined.
	CodeTooManyParams = "too_many_params"
	// CodeValueTooLong says a value was examined only on its first MaxValueBytes.
	CodeValueTooLong = "value_too_long"
)

// Limits on the work one request can cause.
const (
	// DefaultMaxBodyBytes is the body bound when Config.MaxBodyBytes is zero.
	DefaultMaxBodyBytes = 64 << 10
	// MaxValueBytes is how much of one value is examined. A longer value is examined
	// on its first MaxValueBytes and produces a value_too_long finding.
	MaxValueBytes = 8 << 10
	// MaxValues is how many values (names and values of parameters, cookies, headers,
	// body fields) one request has examined. Past it the rest is not examined and a
	// too_many_params finding says so.
	MaxValues = 1024
	// manyParams is the parameter count above which a request draws a weak protocol
	// finding, even when every value is examined.
	manyParams = 256
)

// Config configures a Scanner. The zero value is ready to use.
type Config struct {
	// MaxBodyBytes bounds how much of a request body is read for scanning. Zero means
	// 64 KiB. A larger body is scanned on its first MaxBodyBytes and produces a
	// body_not_scanned finding; the handler still receives the whole body.
	MaxBodyBytes int64
}

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
}

// regexps are the RE2 expressions that confirm a keyword hit. Each runs only after
// cheaper checks have made a match likely, and on at most MaxValueBytes of input.
type regexps struct {
	unionSelect     *regexp.Regexp
	sqlStacked      *regexp.Regexp
	sqlTimeFunc     *regexp.Regexp
	sqlFunc         *regexp.Regexp
	sqlTautology    *regexp.Regexp
	sqlQuoteComment *regexp.Regexp
	sqlCast         *regexp.Regexp
	sqlMisc         *regexp.Regexp
	sqlSelectCall   *regexp.Regexp
	sqlLeadLogic    *regexp.Regexp
	sqlOnlyCall     *regexp.Regexp
	sqlExtra        *regexp.Regexp
	sqlCommentKw    *regexp.Regexp
	xssTag          *regexp.Regexp
	xssHandler      *regexp.Regexp
	xssJSCall       *regexp.Regexp
	phpCall         *regexp.Regexp
	phpCallWeak     *regexp.Regexp
	phpOpenTag      *regexp.Regexp
	perlInterp      *regexp.Regexp
	jsLoop          *regexp.Regexp
	phpConcatCall   *regexp.Regexp
	ldapInj         *regexp.Regexp
	winFor          *regexp.Regexp
	shellParamExp   *regexp.Regexp
	requestLine     *regexp.Regexp
	cookieSet       *regexp.Regexp
	phpVarCall      *regexp.Regexp
	phpSerial       *regexp.Regexp
	javaFQCN        *regexp.Regexp
	crlfHeader      *regexp.Regexp
	ssti            *regexp.Regexp
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
	if err := s.re.compile(); err != nil {
		return nil, fmt.Errorf("attack: %w", err)
	}
	return s, nil
}

// ScanValue runs the per-value engine on one value as if it were a query or form
// parameter value found at where (for example "query:id"), appending findings to dst.
// The value is taken as the application would see it: already percent-decoded once.
func (s *Scanner) ScanValue(dst []detect.Finding, where, value string) []detect.Finding {
	return s.scan(dst, loc{kind: where}, value, kindParam)
}

// Scan inspects r and appends findings to dst. It examines the raw and decoded path,
// every name and value of the query string (all values of repeated keys), cookie
// names and values, the headers an application reads (see scannedHeader) and the
// body when its media type is form, JSON, multipart, XML or text. It reads at most
// MaxBodyBytes+1 bytes of the body and always leaves r.Body delivering the identical
// byte stream (see restoreBody). The error is non-nil only when reading the body
// failed; the findings made so far are still returned, and r.Body then replays the
// bytes read followed by the same error.
func (s *Scanner) Scan(dst []detect.Finding, r *http.Request) ([]detect.Finding, error) {
	var st reqState
	dst = s.scanPath(dst, &st, r)
	dst = s.scanQuery(dst, &st, r.URL.RawQuery)
	dst = s.scanHeaders(dst, &st, r)
	dst, err := s.scanBody(dst, &st, r)
	if st.sessionParam != "" {
		dst = sessionFixation(dst, r, st.sessionParam)
	}
	if st.params > manyParams {
		dst = append(dst, finding(CodeProtocol, 40, loc{kind: "request"}, "unusually many parameters: "+strconv.Itoa(st.params)))
	}
	if st.skipped > 0 {
		dst = append(dst, finding(CodeTooManyParams, 60, loc{kind: "request"},
			strconv.Itoa(st.skipped)+" values past the limit of "+strconv.Itoa(MaxValues)+" not scanned"))
	}
	return dst, err
}

// reqState counts what one Scan has examined, to enforce MaxValues.
type reqState struct {
	values  int // values examined
	skipped int // values not examined because of MaxValues
	params  int // query and form parameters seen
	// sessionParam is the first parameter named like a session identifier.
	sessionParam string
}

// noteName records a parameter name that looks like a session identifier.
func (st *reqState) noteName(name string) {
	if st.sessionParam == "" && isSessionIDName(name) {
		st.sessionParam = name
	}
}

// admit reports whether one more value may be examined, counting it either way.
func (st *reqState) admit() bool {
	if st.values >= MaxValues {
		st.skipped++
		return false
	}
	st.values++
	return true
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

// finding builds a Finding whose Detail follows "<where>: <code> (<excerpt>)".
func finding(code string, score int, where loc, excerpt string) detect.Finding {
	return detect.Finding{
		Detector: Detector,
		Code:     code,
		Score:    score,
		Detail:   where.String() + ": " + code + " (" + escapeExcerpt(excerpt, 48) + ")",
	}
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

// scanPath examines the request path: raw (as sent) and decoded.
func (s *Scanner) scanPath(dst []detect.Finding, st *reqState, r *http.Request) []detect.Finding {
	raw := r.URL.RawPath
	if raw == "" {
		raw = r.URL.Path
	}
	if raw == "" || raw == "/" {
		return dst
	}
	st.values++
	return s.scan(dst, loc{kind: "path"}, raw, kindPath)
}

// scanQuery examines every name and value of a raw query string, in order, without
// building a map: repeated keys are all examined.
func (s *Scanner) scanQuery(dst []detect.Finding, st *reqState, raw string) []detect.Finding {
	return s.scanForm(dst, st, raw, "query")
}

// scanForm examines an application/x-www-form-urlencoded string (a query or a body).
func (s *Scanner) scanForm(dst []detect.Finding, st *reqState, raw, kind string) []detect.Finding {
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
		if st.admit() {
			dst = s.scan(dst, loc{kind: kind + "-name", name: key}, key, kindKey)
		}
		if rawVal == "" {
			continue
		}
		if st.admit() {
			dst = s.scan(dst, loc{kind: kind, name: key}, decode.Percent(rawVal, true), kindParam)
		}
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
