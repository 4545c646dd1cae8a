package attack

import (
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// sqlStructure are the classes an SQL injection needs besides words when it has no
// quote: operators, parentheses, comments, statement separators.
const sqlStructure = clsParen | clsEq | clsSemi | clsHash | clsStar | clsPipe | clsAmp | clsLT | clsGT | clsAt | clsBang | clsComma | clsDash

// detectSQLi reports SQL injection: libinjection's tokenizer on the application's
// view and on the normalised view, plus a few expressions for constructs libinjection
// does not fingerprint (stacked queries, time functions, schema tables).
func (s *Scanner) detectSQLi(v *value, res *result) {
	g := v.hits.groups
	quote := v.has(clsQuote | clsTick)
	if !quote && !(v.has(sqlStructure) && (g&(gSQL|gSQLFunc) != 0 || v.has(clsSpace))) {
		return
	}
	if g&(gSQL|gSQLFunc) != 0 {
		if loc := s.re.unionSelect.FindStringIndex(v.norm); loc != nil {
			res.add(CodeSQLi, 95, excerptAt(v.norm, loc[0]))
			return
		}
		if loc := s.re.sqlTimeFunc.FindStringIndex(v.norm); loc != nil {
			res.add(CodeSQLi, 90, excerptAt(v.norm, loc[0]))
			return
		}
		if v.has(clsSemi) {
			if loc := s.re.sqlStacked.FindStringIndex(v.norm); loc != nil {
				res.add(CodeSQLi, 90, excerptAt(v.norm, loc[0]))
				return
			}
		}
		if loc := s.re.sqlFunc.FindStringIndex(v.norm); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(v.norm, loc[0]))
			return
		}
	}
	if s.isSQLi(v.app) {
		res.add(CodeSQLi, 90, v.app)
		return
	}
	if v.norm != v.app && s.isSQLi(v.norm) {
		res.add(CodeSQLi, 90, v.norm)
		return
	}
	if quote {
		if loc := s.re.sqlTautology.FindStringIndex(v.norm); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(v.norm, loc[0]))
		}
	}
}

// isSQLi runs libinjection, which reads at most the first MaxValueBytes.
func (s *Scanner) isSQLi(t string) bool {
	ok, _ := libinjection.IsSQLi(t)
	return ok
}

// detectNoSQL reports MongoDB query operators where a client could inject them: as a
// parameter or JSON key ("user[$ne]", {"$where": …}).
func (s *Scanner) detectNoSQL(v *value, res *result) {
	if v.hits.groups&gNoSQL == 0 {
		return
	}
	t := v.norm
	for i := strings.IndexByte(t, '$'); i >= 0; {
		// The operator must be the whole key or a bracketed member: "$ne", "[$ne]".
		j := i + 1
		for j < len(t) && (t[j] >= 'a' && t[j] <= 'z' || t[j] >= 'A' && t[j] <= 'Z') {
			j++
		}
		if j > i+1 && (i == 0 || t[i-1] == '[') && (j == len(t) || t[j] == ']') && isMongoOperator(strings.ToLower(t[i+1:j])) {
			res.add(CodeSQLi, 85, excerptAt(t, i))
			return
		}
		k := strings.IndexByte(t[i+1:], '$')
		if k < 0 {
			break
		}
		i += 1 + k
	}
}

func isMongoOperator(op string) bool {
	switch op {
	case "ne", "eq", "gt", "gte", "lt", "lte", "in", "nin", "or", "and", "not", "nor",
		"exists", "type", "regex", "where", "expr", "text", "search", "elemmatch", "all",
		"size", "mod", "jsonschema", "function", "accumulator":
		return true
	}
	return false
}

// xssGate are the classes without which no XSS vector works: a tag, or a quote to
// break out of an attribute, or a call.
const xssGate = clsLT | clsQuote | clsTick | clsParen | clsEq

// detectXSS reports cross-site scripting: libinjection's HTML5 tokenizer, plus
// expressions for active tags, event handlers, script URLs and JavaScript sinks.
func (s *Scanner) detectXSS(v *value, res *result) {
	g := v.hits.groups
	if !v.has(xssGate) && g&gXSS == 0 {
		return
	}
	t := v.norm
	if v.has(clsLT) {
		if loc := s.re.xssTag.FindStringIndex(t); loc != nil {
			res.add(CodeXSS, 95, excerptAt(t, loc[0]))
			return
		}
	}
	if v.has(clsEq) && (v.has(clsLT|clsQuote|clsTick) || v.kind != kindParam) {
		if loc := s.re.xssHandler.FindStringIndex(t); loc != nil && isEventHandler(t[loc[0]:loc[1]]) {
			res.add(CodeXSS, 90, excerptAt(t, loc[0]))
			return
		}
	}
	if g&gXSS != 0 {
		for _, scheme := range []string{"javascript:", "vbscript:", "livescript:"} {
			if i := indexFold(t, scheme); i >= 0 && scriptURLContext(t, i) {
				res.add(CodeXSS, 95, excerptAt(t, i))
				return
			}
		}
		if i := indexFold(t, "data:text/html"); i >= 0 && scriptURLContext(t, i) {
			res.add(CodeXSS, 90, excerptAt(t, i))
			return
		}
		if loc := s.re.xssJSCall.FindStringIndex(t); loc != nil {
			res.add(CodeXSS, 85, excerptAt(t, loc[0]))
			return
		}
		if i := indexFold(t, "expression("); i >= 0 && v.has(clsColon) {
			res.add(CodeXSS, 85, excerptAt(t, i))
			return
		}
	}
	if v.has(clsLT | clsQuote | clsTick) {
		if libinjection.IsXSS(v.app) || t != v.app && libinjection.IsXSS(t) {
			res.add(CodeXSS, 90, t)
			return
		}
	}
	if i := indexFold(t, "+adw-"); i >= 0 && (containsFold(t, "script") || containsFold(t, "+ad4-")) {
		// UTF-7: "+ADw-script+AD4-" is "<script>".
		res.add(CodeXSS, 90, excerptAt(t, i))
	}
}

// isEventHandler reports whether the match of xssHandler names a DOM event handler
// attribute rather than any word beginning with "on" ("one=1").
func isEventHandler(m string) bool {
	lm := strings.ToLower(m)
	for i := strings.Index(lm, "on"); i >= 0; {
		j := i + 2
		for j < len(lm) && lm[j] >= 'a' && lm[j] <= 'z' {
			j++
		}
		if i > 0 && !isWordByte(lm[i-1]) && j-i >= 5 && isDOMEvent(lm[i+2:j]) {
			return true
		}
		k := strings.Index(lm[i+2:], "on")
		if k < 0 {
			return false
		}
		i += 2 + k
	}
	return false
}

// isDOMEvent reports whether name (after "on") is an event name or a plausible one:
// attackers use the whole list, and browsers add events every year, so any name
// made of known event words counts.
func isDOMEvent(name string) bool {
	for _, w := range []string{"load", "error", "click", "mouse", "focus", "blur", "key",
		"change", "submit", "input", "pointer", "touch", "drag", "drop", "scroll", "wheel",
		"animation", "transition", "toggle", "begin", "end", "repeat", "start", "finish",
		"abort", "before", "after", "copy", "cut", "paste", "context", "dblclick", "resize",
		"select", "show", "hash", "pop", "page", "message", "storage", "online", "offline",
		"play", "pause", "seek", "volume", "time", "ended", "canplay", "ready", "unload",
		"search", "invalid", "reset", "auxclick", "activate", "fullscreen", "bounce",
		"content", "filter", "help", "move", "over", "out", "enter", "leave", "propertychange",
		"readystate", "row", "cell", "data", "layout", "lose", "print", "stop", "zoom",
		"track", "cue", "security", "close", "cancel", "formdata", "slot", "gesture",
		"orientation", "device", "visibility", "webkit", "moz", "ms"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// scriptURLContext reports whether a "javascript:" found at i starts a value or
// follows something that makes it a URL (an attribute, a quote, a call), rather than
// sitting in prose ("the javascript: keyword").
func scriptURLContext(t string, i int) bool {
	j := i
	for j > 0 && (t[j-1] == ' ' || t[j-1] == '\t' || t[j-1] == '\n' || t[j-1] == '\r') {
		j--
	}
	if j == 0 {
		return true
	}
	switch t[j-1] {
	case '=', '"', '\'', '`', '(', '[', '>', ',', ':', '{', '&':
		return true
	}
	return false
}
