package attack

import (
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// sqlStructure are the classes an SQL injection needs besides words when it has no
// quote: operators, parentheses, comments, statement separators.
const sqlStructure = clsParen | clsEq | clsSemi | clsHash | clsStar | clsPipe | clsAmp | clsLT | clsGT | clsAt | clsBang | clsComma | clsDash

// detectSQLi reports SQL injection: libinjection's tokenizer on the application's
// view and on the normalised view, plus expressions for constructs libinjection does
// not fingerprint (stacked queries, time functions, schema tables, PostgreSQL casts,
// numeric tautologies, a quote broken out of and the rest commented away).
func (s *Scanner) detectSQLi(v *value, res *result) {
	g := v.hits.groups
	if g&gSQLCatalog != 0 {
		// System catalogs and extended procedures only an injection names.
		for i := 0; i < v.hits.n; i++ {
			if kw := &s.kw.kws[v.hits.list[i].kw]; kw.group&gSQLCatalog != 0 {
				res.add(CodeSQLi, 85, excerptAt(v.norm, int(v.hits.list[i].pos)))
				return
			}
		}
	}
	quote := v.has(clsQuote | clsTick)
	if !quote && g&(gSQL|gSQLFunc|gSQLMisc) == 0 && !v.has(clsEq|clsLT|clsGT|clsBang) {
		return
	}
	t := v.norm
	if g&gUnion != 0 {
		if loc := s.re.unionSelect.FindStringIndex(t[firstHit(&v.hits, gUnion):]); loc != nil {
			res.add(CodeSQLi, 95, excerptAt(t, firstHit(&v.hits, gUnion)+loc[0]))
			return
		}
	}
	if g&gSQLFunc != 0 {
		from := max(firstHit(&v.hits, gSQLFunc)-16, 0)
		if loc := s.re.sqlTimeFunc.FindStringIndex(t[from:]); loc != nil {
			res.add(CodeSQLi, 90, excerptAt(t, from+loc[0]))
			return
		}
	}
	if g&gSQLStmt != 0 && v.has(clsSemi) {
		if i := strings.IndexByte(t, ';'); i >= 0 {
			if loc := s.re.sqlStacked.FindStringIndex(t[i:]); loc != nil {
				res.add(CodeSQLi, 90, excerptAt(t, i+loc[0]))
				return
			}
		}
	}
	if g&gSelect != 0 {
		from := firstHit(&v.hits, gSelect)
		if loc := s.re.sqlFunc.FindStringIndex(t[from:]); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, from+loc[0]))
			return
		}
	}
	if quote && endsWithSQLComment(t) {
		if loc := s.re.sqlQuoteComment.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return
		}
	}
	if strings.Contains(t, "::") {
		if loc := s.re.sqlCast.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return
		}
	}
	if g&gSQLMisc != 0 || quote && firstNonBlankIsQuote(t) {
		if loc := s.re.sqlMisc.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return
		}
	}
	if v.has(clsEq|clsLT|clsGT|clsBang) && v.has(clsAlnum) {
		if at, ok := numericTautology(t); ok {
			res.add(CodeSQLi, 85, excerptAt(t, at))
			return
		}
	}
	if !quote && !(g&gSQL != 0 && v.has(sqlStructure)) && !(v.has(clsEq) && hasDigit(t)) && !strings.Contains(t, "--") && !strings.Contains(t, "/*") {
		// No quote, no SQL keyword with operators, no comparison with a number and
		// no comment: nothing for libinjection to judge.
		return
	}
	// libinjection on the application's view, when that view has anything to
	// tokenize (an encoded value only shows its quotes once decoded).
	if v.appCls&(clsQuote|clsTick|sqlStructure) != 0 {
		if sc := s.libSQLi(v.app, v.appCls&(clsQuote|clsTick) != 0); sc > 0 {
			res.add(CodeSQLi, sc, v.app)
			return
		}
	}
	if t != v.app {
		if sc := s.libSQLi(t, quote); sc > 0 {
			res.add(CodeSQLi, sc, t)
			return
		}
	}
	if quote {
		if loc := s.re.sqlTautology.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
		}
	}
}

// firstHit returns the position of the first keyword hit in group g (0 if none).
func firstHit(h *hits, g group) int {
	for i := 0; i < h.n; i++ {
		if h.list[i].grp&g != 0 {
			return int(h.list[i].pos)
		}
	}
	return 0
}

func hasDigit(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] >= '0' && t[i] <= '9' {
			return true
		}
	}
	return false
}

// firstNonBlankIsQuote reports whether t starts (after blanks and a parenthesis)
// with a quote: a value that breaks out of a string literal at once.
func firstNonBlankIsQuote(t string) bool {
	t = strings.TrimLeft(t, " \t\r\n)")
	return t != "" && (t[0] == '\'' || t[0] == '"' || t[0] == '`')
}

// endsWithSQLComment reports whether t ends with an SQL comment opener, possibly
// followed by blanks, dashes or a semicolon: "…'--", "…'-- -", "…# ", "…/*".
func endsWithSQLComment(t string) bool {
	body := strings.TrimRight(t, " \t\r\n+;")
	if strings.HasSuffix(body, "#") || strings.HasSuffix(body, "/*") {
		return true
	}
	tail := t[len(strings.TrimRight(t, " \t\r\n+;-")):]
	return strings.Contains(tail, "--")
}

// libSQLi runs libinjection and scores its verdict. libinjection tries the value as
// written and as if it sat inside quotes. A fingerprint from a value without quotes
// is trusted only when it has SQL structure prose does not (a leading number as in
// "1 or 1=1", UNION, a statement separator or a comment): prose with parentheses
// tokenizes like function calls ("Left (WA, RR)" is f(n),).
func (s *Scanner) libSQLi(t string, quoted bool) int {
	ok, fp := libinjection.IsSQLi(t)
	if !ok {
		return 0
	}
	if quoted || strings.HasPrefix(fp, "s") || strings.HasPrefix(fp, "v") || strings.ContainsAny(fp, "U;cE") {
		return 90
	}
	if strings.HasPrefix(fp, "1") && strings.ContainsAny(t, "=;#") {
		// Numeric context, "1 or 1=1": needs an equality or a statement break;
		// "3 < 5 and 7 > 2" is arithmetic prose.
		return 90
	}
	return 60
}

// numericTautology finds "<n> <op> <m>" comparisons that are true (1=1, 42<=>42,
// 11!=1, 2 like 2, 1 is not 2), or any numeric comparison right after a logical
// operator ("and 2771=1709": boolean-blind probes use false ones too). Arithmetic such
// as "1+1=2" is not a bare comparison and does not match.
func numericTautology(t string) (int, bool) {
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' || i > 0 && (isWordByte(t[i-1]) || t[i-1] == '.' || t[i-1] == '+' || t[i-1] == '-' || t[i-1] == '*' || t[i-1] == '/') {
			continue
		}
		a, j := readNum(t, i)
		k := skipBlank(t, j)
		op, k2 := readCmpOp(t, k)
		if op == "" {
			i = j
			continue
		}
		k2 = skipBlank(t, k2)
		if k2 >= len(t) || t[k2] < '0' || t[k2] > '9' {
			i = j
			continue
		}
		b, end := readNum(t, k2)
		if end < len(t) && (isWordByte(t[end]) || t[end] == '.' || t[end] == '+' || t[end] == '*' || t[end] == '/') {
			i = j
			continue
		}
		if afterLogic(t, i) && (op == "=" || op == "==" || op == "!=" || op == "<>" || op == "<=>" || op == "like ") || cmpTrue(a, op, b) {
			return i, true
		}
		i = j
	}
	return 0, false
}

func readNum(t string, i int) (int64, int) {
	var n int64
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		if n < 1e15 {
			n = n*10 + int64(t[i]-'0')
		}
		i++
	}
	return n, i
}

func skipBlank(t string, i int) int {
	for i < len(t) && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r' || t[i] == '\v' || t[i] == '\f') {
		i++
	}
	return i
}

// readCmpOp reads an SQL comparison operator at t[i].
func readCmpOp(t string, i int) (string, int) {
	for _, op := range []string{"<=>", "!=", "<>", "==", ">=", "<=", "=", "<", ">"} {
		if strings.HasPrefix(t[i:], op) {
			return op, i + len(op)
		}
	}
	for _, op := range []string{"is not ", "like ", "rlike ", "regexp ", "is "} {
		if hasPrefixFold(t[i:], op) {
			return op, i + len(op)
		}
	}
	return "", i
}

func cmpTrue(a int64, op string, b int64) bool {
	switch op {
	case "=", "==", "<=>", "like ", "rlike ", "regexp ", "is ":
		return a == b
	case "!=", "<>", "is not ":
		return a != b
	}
	// <, >, <=, >= between bare numbers are too common in prose ("3 < 5").
	return false
}

// afterLogic reports whether the number at t[i] follows a logical operator
// ("or ", "and ", "||", "&&", "xor "), optionally with an opening parenthesis.
func afterLogic(t string, i int) bool {
	j := i
	for j > 0 && (t[j-1] == ' ' || t[j-1] == '(' || t[j-1] == '\t' || t[j-1] == '\n') {
		j--
	}
	p := strings.ToLower(t[max(0, j-6):j])
	for _, w := range []string{"or", "and", "xor", "||", "&&", "having", "where", "when"} {
		if strings.HasSuffix(p, w) {
			k := j - len(w)
			if k == 0 || !isWordByte(t[k-1]) || w == "||" || w == "&&" {
				return j < i
			}
		}
	}
	return false
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
	if !v.has(xssGate) && g&(gXSS|gJS) == 0 {
		return
	}
	t := v.norm
	if v.has(clsStar) && strings.Contains(t, "/*") {
		// JavaScript comments split keywords: document/*x*/.cookie.
		t = stripComments(t)
	}
	if v.has(clsLT) {
		// The tag expression is anchored: it runs at each '<' only.
		for i, n := strings.IndexByte(t, '<'), 0; i >= 0 && n < 32; n++ {
			if s.re.xssTag.MatchString(t[i:min(len(t), i+1024)]) {
				res.add(CodeXSS, 95, excerptAt(t, i))
				return
			}
			k := strings.IndexByte(t[i+1:], '<')
			if k < 0 {
				break
			}
			i += 1 + k
		}
	}
	if v.has(clsEq) && (v.has(clsLT|clsQuote|clsTick) || v.kind != kindParam) {
		if loc := s.re.xssHandler.FindStringIndex(t); loc != nil && isEventHandler(t[loc[0]:loc[1]]) {
			res.add(CodeXSS, 90, excerptAt(t, loc[0]))
			return
		}
	}
	if v.has(clsColon) && (g&gXSS != 0 || v.has(clsSpace|clsNL|clsAmp|clsCtl) && containsFold(t, "script:")) {
		// Browsers drop tabs and newlines inside a URL scheme: "ja\tvascript:".
		sq := squeezeScheme(t)
		for _, scheme := range []string{"javascript:", "vbscript:", "livescript:"} {
			if i := indexFold(sq, scheme); i >= 0 && scriptURLContext(sq, i) {
				res.add(CodeXSS, 95, excerptAt(sq, i))
				return
			}
		}
	}
	if g&(gXSS|gJS) != 0 {
		if i := indexFold(t, "data:text/html"); i >= 0 && scriptURLContext(t, i) {
			res.add(CodeXSS, 90, excerptAt(t, i))
			return
		}
		if g&gJS != 0 && v.kind != kindPath {
			if loc := s.re.xssJSCall.FindStringIndex(t); loc != nil {
				res.add(CodeXSS, 85, excerptAt(t, loc[0]))
				return
			}
		}
		if i := indexFold(t, "expression("); i >= 0 && v.has(clsColon) {
			res.add(CodeXSS, 85, excerptAt(t, i))
			return
		}
	}
	if v.has(clsLT) {
		// libinjection's HTML tokenizer, where there is a tag to tokenize (breaking
		// out of an attribute without a tag is the handler expression's job).
		if v.appCls&clsLT != 0 && libinjection.IsXSS(stripXMLDecl(v.app)) || t != v.app && libinjection.IsXSS(stripXMLDecl(t)) {
			// libinjection alone also flags markup that rich-text editors send
			// (style attributes, a bare <svg>); without an active part it is weak.
			sc := 70
			if v.has(clsParen|clsTick) || containsFold(t, "javascript") || containsFold(t, "src") || containsFold(t, "href") {
				sc = 90
			}
			res.add(CodeXSS, sc, t)
			return
		}
	}
	if g&gXSS == 0 {
		return
	}
	if i := indexFold(t, "+adw-"); i >= 0 && (containsFold(t, "script") || containsFold(t, "+ad4-")) {
		// UTF-7: "+ADw-script+AD4-" is "<script>".
		res.add(CodeXSS, 90, excerptAt(t, i))
	}
}

// stripComments removes /* … */ comments, which JavaScript and SQL treat as
// whitespace, so keywords split by them join up again.
func stripComments(t string) string {
	var b strings.Builder
	for {
		i := strings.Index(t, "/*")
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		b.WriteString(t[:i])
		j := strings.Index(t[i+2:], "*/")
		if j < 0 {
			return b.String()
		}
		t = t[i+2+j+2:]
	}
}

// squeezeScheme removes what browsers ignore inside a URL scheme: tabs, newlines,
// NULs and the spellings of tab and newline as entities that HTML decoding left in
// the wrong case (&tab;, &newline;).
func squeezeScheme(t string) string {
	if !strings.ContainsAny(t, "\t\n\r\x00&") {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '\t' || c == '\n' || c == '\r' || c == 0:
		case c == '&' && hasPrefixFold(t[i:], "&tab;"):
			i += 4
		case c == '&' && hasPrefixFold(t[i:], "&newline;"):
			i += 8
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// stripXMLDecl removes a leading XML declaration or processing instruction
// ("<?xml version="1.0"?>"), which libinjection reads as an HTML tag.
func stripXMLDecl(t string) string {
	for {
		i := strings.Index(t, "<?")
		if i < 0 {
			return t
		}
		j := strings.Index(t[i:], "?>")
		if j < 0 || !hasPrefixFold(t[i+2:], "xml") {
			return t
		}
		t = t[:i] + t[i+j+2:]
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
