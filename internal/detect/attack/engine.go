package attack

import (
	"strings"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/detect/decode"
)

// kind says what a value is, which decides which detectors apply to it.
type kind uint8

const (
	kindParam    kind = iota // query, form, JSON or multipart value; cookie value
	kindKey                  // a parameter, JSON key or cookie name
	kindPath                 // the URL path
	kindHeader               // a header an application may read
	kindUA                   // User-Agent
	kindReferer              // Referer, Origin: URLs the browser sets
	kindFilename             // an upload's file name (multipart, X-Filename)
	kindText                 // a raw text body chunk
	kindXML                  // a raw XML body chunk: only DTD and PHP-tag checks

	// kindCookies and kindQuery mark a whole Cookie header and a whole raw query in
	// the clean cache; the engine never sees them (they are split into names and
	// values first).
	kindCookies
	kindQuery
)

// Character classes: each byte of a value sets one bit, and detectors gate on them.
const (
	clsAlnum     uint64 = 1 << iota // letters, digits
	clsUnder                        // _
	clsSpace                        // ' ', '\t'
	clsNL                           // '\r', '\n'
	clsCtl                          // other C0 controls, DEL
	clsHigh                         // bytes ≥ 0x80
	clsQuote                        // ' "
	clsTick                         // `
	clsLT                           // <
	clsGT                           // >
	clsParen                        // ( )
	clsSemi                         // ;
	clsPipe                         // |
	clsAmp                          // &
	clsDollar                       // $
	clsBrace                        // { }
	clsBracket                      // [ ]
	clsEq                           // =
	clsPct                          // %
	clsPlus                         // +
	clsBackslash                    // \
	clsHash                         // #
	clsStar                         // *
	clsSlash                        // /
	clsDot                          // .
	clsColon                        // :
	clsDash                         // -
	clsComma                        // ,
	clsAt                           // @
	clsBang                         // !
	clsQuestion                     // ?
	clsTilde                        // ~
	clsCaret                        // ^
)

// clsDecode marks bytes after which decode.String may change the value.
const clsDecode = clsPct | clsAmp | clsHigh | clsPlus | clsBackslash | clsCtl

func classTable() [256]uint64 {
	var t [256]uint64
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
			t[c] = clsAlnum
		case b == '_':
			t[c] = clsUnder
		case b == ' ' || b == '\t':
			t[c] = clsSpace
		case b == '\r' || b == '\n':
			t[c] = clsNL
		case b < 0x20 || b == 0x7f:
			t[c] = clsCtl
		case b >= 0x80:
			t[c] = clsHigh
		}
	}
	for b, cls := range map[byte]uint64{
		'\'': clsQuote, '"': clsQuote, '`': clsTick, '<': clsLT, '>': clsGT,
		'(': clsParen, ')': clsParen, ';': clsSemi, '|': clsPipe, '&': clsAmp,
		'$': clsDollar, '{': clsBrace, '}': clsBrace, '[': clsBracket, ']': clsBracket,
		'=': clsEq, '%': clsPct, '+': clsPlus, '\\': clsBackslash, '#': clsHash,
		'*': clsStar, '/': clsSlash, '.': clsDot, ':': clsColon, '-': clsDash,
		',': clsComma, '@': clsAt, '!': clsBang, '?': clsQuestion, '~': clsTilde,
		'^': clsCaret,
	} {
		t[b] = cls
	}
	return t
}

func (s *Scanner) classes(v string) uint64 {
	var m uint64
	for i := 0; i < len(v); i++ {
		m |= s.class[v[i]]
	}
	return m
}

// value is one value under examination, in the views detectors need.
type value struct {
	// app is the value as the application sees it (decoded once, where the
	// transport encodes).
	app string
	// norm is app after full normalisation (decode.String plus JavaScript escapes).
	norm string
	// cls holds the character classes of app and norm together.
	cls uint64
	// appCls holds the character classes of app alone.
	appCls uint64
	kind   kind
	hits   hits // keyword hits in norm
}

// has reports whether any of the classes in m occur in the value.
func (v *value) has(m uint64) bool { return v.cls&m != 0 }

// result collects the strongest finding per code for one value.
type result struct {
	n    int
	list [8]struct {
		code    string
		score   int
		excerpt string
	}
}

func (r *result) add(code string, score int, excerpt string) {
	for i := 0; i < r.n; i++ {
		if r.list[i].code == code {
			if score > r.list[i].score {
				r.list[i].score = score
				r.list[i].excerpt = excerpt
			}
			return
		}
	}
	if r.n < len(r.list) {
		r.list[r.n].code, r.list[r.n].score, r.list[r.n].excerpt = code, score, excerpt
		r.n++
	}
}

// alnumOnly is the class set of values that can hold no attack except a Java
// serialisation marker, which scan checks directly. ('_' is not in it: identifiers
// such as information_schema or xp_cmdshell are payloads on their own.)
const alnumOnly = clsAlnum | clsDash

// emit appends one finding per code in r.
func (r *result) emit(dst []detect.Finding, where loc) []detect.Finding {
	for i := 0; i < r.n; i++ {
		f := r.list[i]
		dst = append(dst, finding(f.code, f.score, where, f.excerpt))
	}
	return dst
}

// scan runs every applicable detector on one value and appends what they find. A
// value longer than WindowBytes is examined whole, in windows of WindowBytes that
// overlap (see nextWindow); it draws at most one finding per code, the strongest of
// its windows, so a long value does not count the same evidence several times.
func (s *Scanner) scan(dst []detect.Finding, where loc, in string, k kind) []detect.Finding {
	if len(in) <= WindowBytes {
		cls := s.classes(in)
		if cls&^alnumOnly == 0 && k != kindUA {
			// Letters, digits and '-' only: nothing to decode and no syntax to abuse.
			if c, sc, ex := javaMagic(in); c != "" {
				return append(dst, finding(c, sc, where, ex))
			}
			return dst
		}
		var res result
		s.engine(&res, in, cls, k)
		return res.emit(dst, where)
	}
	var res result
	for off := 0; ; {
		end := min(off+WindowBytes, len(in))
		w := in[off:end]
		if cls := s.classes(w); cls&^alnumOnly == 0 && k != kindUA {
			if c, sc, ex := javaMagic(w); c != "" {
				res.add(c, sc, ex)
			}
		} else {
			s.engine(&res, w, cls, k)
		}
		if end == len(in) {
			break
		}
		off = nextWindow(in, end)
	}
	return res.emit(dst, where)
}

// nextWindow returns where the window after one that ended at end starts: WindowOverlap
// bytes before end, moved forward past the first separator (space, line break, '&',
// ';', ',', '<', '>') within windowAlign bytes, so that a window seldom starts in the
// middle of a word, and never in the middle of a UTF-8 sequence. Any stretch of at
// most WindowOverlap−windowAlign bytes therefore lies whole inside some window.
func nextWindow(in string, end int) int {
	off := end - WindowOverlap
	for i := off; i < off+windowAlign; i++ {
		switch in[i] {
		case ' ', '\t', '\r', '\n', '&', ';', ',', '<', '>':
			return i + 1
		}
	}
	for off < end && in[off]&0xC0 == 0x80 {
		off++
	}
	return off
}

// engine examines one value (or one window of a long value) that failed the
// letters-and-digits test, adding what the detectors find to res.
func (s *Scanner) engine(res *result, in string, cls uint64, k kind) {
	v := value{app: in, norm: in, cls: cls, appCls: cls, kind: k}
	if cls&clsDecode != 0 {
		ctx := decode.Text
		switch k {
		case kindPath, kindFilename:
			ctx = decode.Path
		case kindText:
			// A raw body is most often form data without its Content-Type.
			ctx = decode.Query
		}
		v.norm = decode.String(in, ctx)
		if strings.Contains(v.norm, `\u`) || strings.Contains(v.norm, `\x`) || strings.Contains(v.norm, `\U`) {
			v.norm = decode.String(decode.Escapes(v.norm), ctx)
		}
		if v.norm != in {
			v.cls |= s.classes(v.norm)
		}
	} else if k == kindPath && decode.NeedsDecoding(in, decode.Path) {
		v.norm = decode.CleanPath(in)
	}
	s.kw.scan(v.norm, &v.hits)
	s.detect(&v, res)
}

// detect runs the detectors that apply to v's kind.
func (s *Scanner) detect(v *value, res *result) {
	switch v.kind {
	case kindPath:
		s.detectPath(v, res)
		s.detectTraversal(v, res)
		s.detectSQLi(v, res)
		s.detectXSS(v, res)
		s.detectPHP(v, res)
		s.detectJava(v, res)
		s.detectLog4Shell(v, res)
		s.detectCmdi(v, res)
		s.detectCodeInjection(v, res)
	case kindFilename:
		s.detectFilename(v, res)
		s.detectTraversal(v, res)
		s.detectXSS(v, res)
		s.detectSQLi(v, res)
		s.detectCmdi(v, res)
	case kindXML:
		s.detectXXE(v, res)
		if i := indexFold(v.norm, "<?php"); i >= 0 {
			res.add(CodePHPInjection, 95, excerptAt(v.norm, i))
		}
		return
	case kindUA:
		s.detectScannerUA(v, res)
		fallthrough
	case kindHeader, kindReferer:
		s.detectSQLi(v, res)
		s.detectXSS(v, res)
		s.detectCmdi(v, res)
		s.detectTraversal(v, res)
		s.detectLog4Shell(v, res)
		s.detectJava(v, res)
		s.detectPHP(v, res)
		s.detectCodeInjection(v, res)
		s.detectProtocol(v, res)
	default:
		s.detectSQLi(v, res)
		s.detectXSS(v, res)
		s.detectTraversal(v, res)
		s.detectCmdi(v, res)
		s.detectLog4Shell(v, res)
		s.detectJava(v, res)
		s.detectPHP(v, res)
		s.detectCodeInjection(v, res)
		s.detectXXE(v, res)
		s.detectProtocol(v, res)
		s.detectNoSQL(v, res)
		s.detectLDAP(v, res)
		if v.has(clsDot | clsEq) {
			s.detectCookieSet(v, res)
		}
		if v.kind == kindParam {
			s.detectSSRF(v, res)
		}
	}
	if v.hits.groups&gJavaMagic != 0 {
		if c, sc, ex := javaMagic(v.norm); c != "" {
			res.add(c, sc, ex)
		}
	}
}

// excerptAt returns the text of s from i, for a finding's Detail. finding() cuts and
// escapes it.
func excerptAt(s string, i int) string {
	if i < 0 {
		i = 0
	}
	if i > len(s) {
		i = len(s)
	}
	end := i + 96
	if end > len(s) {
		end = len(s)
	}
	return s[i:end]
}
