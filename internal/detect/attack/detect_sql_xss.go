package attack

import (
	"strings"
	"unicode/utf8"

	"github.com/corazawaf/libinjection-go"

	"github.com/vigilhq/vigil/internal/nfa"
)

// sqlStructure are the classes an SQL injection needs besides words when it has no
// quote: operators, parentheses, comments, statement separators.
const sqlStructure = clsParen | clsEq | clsSemi | clsHash | clsStar | clsPipe | clsAmp | clsLT | clsGT | clsAt | clsBang | clsComma | clsDash

// detectSQLi reports SQL injection: libinjection's tokenizer on the application's
// view and on the normalised view, plus expressions for constructs libinjection does
// not fingerprint (stacked queries, time functions, schema tables, PostgreSQL casts,
// numeric tautologies, a quote broken out of and the rest commented away). When the
// value holds /* comments or typographic quotes and nothing was found, it looks again
// at the views a database may see: comments read as blanks, comments dropped
// ("UN/**/ION"), MySQL executable comments opened ("/*!50000select*/"), and ’ ‘ ´ ′
// read as ASCII quotes, which some drivers convert to.
func (s *Scanner) detectSQLi(v *value, res *result) {
	if s.sqlCore(v, res, false) || !v.has(clsStar|clsHigh) {
		return
	}
	t := v.norm
	if v.has(clsHigh) && (v.has(clsEq|clsSemi|clsHash|clsParen|clsLT|clsGT) || v.hits.groups&gSQL != 0) {
		if f, ok := foldQuotes(t); ok {
			if s.sqlView(f, v.kind, res) {
				return
			}
			t = f
		}
	}
	if v.has(clsStar) && strings.Contains(t, "/*") {
		// A comment glued to an SQL keyword stands in for a blank: "SELECT/**/x".
		if loc := s.re.sqlCommentKw.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return
		}
		if sp := sqlComments(t, " "); s.sqlView(sp, v.kind, res) {
			return
		}
		s.sqlView(sqlComments(t, ""), v.kind, res)
	}
}

// sqlView runs the core checks on a derived view of a value.
func (s *Scanner) sqlView(t string, k kind, res *result) bool {
	w := value{app: t, norm: t, cls: s.classes(t), kind: k}
	w.appCls = w.cls
	s.kw.scan(t, &w.hits)
	return s.sqlCore(&w, res, true)
}

// sqlCore runs the SQL checks on one view of a value and reports whether it added a
// finding.
//
// A derived view skips libinjection, which reads comments itself and would take
// folded typographic quotes in prose for string delimiters.
func (s *Scanner) sqlCore(v *value, res *result, derived bool) bool {
	g := v.hits.groups
	if g&gSQLCatalog != 0 {
		// System catalogs and extended procedures only an injection names.
		for i := 0; i < v.hits.n; i++ {
			if kw := &s.kw.kws[v.hits.list[i].kw]; kw.group&gSQLCatalog != 0 {
				res.add(CodeSQLi, 85, excerptAt(v.norm, int(v.hits.list[i].pos)))
				return true
			}
		}
	}
	quote := v.has(clsQuote | clsTick)
	t := v.norm
	cast := v.has(clsColon) && strings.Contains(t, "::")
	if !quote && !cast && g&(gSQL|gSQLFunc|gSQLMisc|gSQLCall|gSQLExtra) == 0 && !v.has(clsEq|clsLT|clsGT|clsBang) {
		return false
	}
	if g&gUnion != 0 {
		if loc := s.re.unionSelect.FindStringIndex(t[s.kw.firstHit(&v.hits, gUnion):]); loc != nil {
			res.add(CodeSQLi, 95, excerptAt(t, s.kw.firstHit(&v.hits, gUnion)+loc[0]))
			return true
		}
	}
	if g&gSQLFunc != 0 {
		from := max(s.kw.firstHit(&v.hits, gSQLFunc)-16, 0)
		if at, ok := findNotMethod(s.re.sqlTimeFunc, t, from); ok {
			res.add(CodeSQLi, 90, excerptAt(t, at))
			return true
		}
	}
	if g&gSQLStmt != 0 && v.has(clsSemi) {
		if i := strings.IndexByte(t, ';'); i >= 0 {
			if loc := s.re.sqlStacked.FindStringIndex(t[i:]); loc != nil {
				res.add(CodeSQLi, 90, excerptAt(t, i+loc[0]))
				return true
			}
		}
	}
	if g&gSelect != 0 {
		from := s.kw.firstHit(&v.hits, gSelect)
		if loc := s.re.sqlFunc.FindStringIndex(t[from:]); loc != nil && sqlSelectContext(t, from+loc[0]) {
			res.add(CodeSQLi, 85, excerptAt(t, from+loc[0]))
			return true
		}
		if loc := s.re.sqlSelectCall.FindStringIndex(t[from:]); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, from+loc[0]))
			return true
		}
	}
	if quote && endsWithSQLComment(t) {
		if loc := s.re.sqlQuoteComment.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return true
		}
	}
	if cast {
		if loc := s.re.sqlCast.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return true
		}
	}
	if g&gSQLMisc != 0 || quote && firstNonBlankIsQuote(t) {
		if loc := s.re.sqlMisc.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return true
		}
	}
	// libinjection runs only where it has something to judge: a quote, an SQL keyword
	// with operators, a comparison with a number or a comment.
	if !derived && (quote || g&gSQL != 0 && v.has(sqlStructure) || v.has(clsEq) && hasDigit(t) || strings.Contains(t, "--") || strings.Contains(t, "/*")) {
		// libinjection on the application's view, when that view has anything to
		// tokenize (an encoded value only shows its quotes once decoded).
		if v.appCls&(clsQuote|clsTick|sqlStructure) != 0 {
			if sc := s.libSQLi(v.app, v.appCls&(clsQuote|clsTick) != 0); sc >= 80 {
				res.add(CodeSQLi, sc, v.app)
				return true
			} else if sc > 0 {
				res.add(CodeSQLi, sc, v.app)
			}
		}
		if t != v.app {
			if sc := s.libSQLi(t, quote); sc >= 80 {
				res.add(CodeSQLi, sc, t)
				return true
			} else if sc > 0 {
				res.add(CodeSQLi, sc, t)
			}
		}
	}
	if quote && quoteThenLogic(t) {
		if loc := s.re.sqlTautology.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return true
		}
	}
	if quote {
		if at, ok := quoteBreakout(t); ok {
			res.add(CodeSQLi, 85, excerptAt(t, at))
			return true
		}
	}
	if v.has(clsEq|clsLT|clsGT|clsBang) && v.has(clsAlnum) {
		if at, ok := numericTautology(t); ok {
			res.add(CodeSQLi, 85, excerptAt(t, at))
			return true
		}
		if at, ok := identityTautology(t); ok {
			res.add(CodeSQLi, 85, excerptAt(t, at))
			return true
		}
	}
	if v.has(clsEq|clsLT|clsGT|clsBang|clsParen|clsQuote|clsHash|clsDash) && leadsWithLogic(t) {
		// A value that starts with a logical operator and a comparison continues a
		// WHERE clause: "AND 7639=(", "|| langCode == '", "or 2 > 1".
		if loc := s.re.sqlLeadLogic.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 80, excerptAt(t, loc[0]))
			return true
		}
	}
	if g&gSQLCall != 0 && v.has(clsParen) {
		// Functions only SQL has, called: "group_concat(", "benchmark (".
		// Start at the rune before the keyword: the expression needs it to see a
		// word boundary.
		from := s.kw.firstHit(&v.hits, gSQLCall)
		for from > 0 {
			from--
			if t[from] < 0x80 || t[from] >= 0xc0 {
				break
			}
		}
		if at, ok := findNotMethod(s.re.sqlOnlyCall, t, from); ok {
			res.add(CodeSQLi, 80, excerptAt(t, at))
			return true
		}
	}
	if g&gSQLExtra != 0 || g&gSQL != 0 && v.has(clsSemi) {
		if loc := s.re.sqlExtra.FindStringIndex(t); loc != nil {
			res.add(CodeSQLi, 85, excerptAt(t, loc[0]))
			return true
		}
	}
	return false
}

// findNotMethod returns the start of the first match of re in t[from:] that is not a
// method or member call ("time.sleep(1)", "$db->sleep(", "Foo::sleep("): SQL functions
// are called bare.
func findNotMethod(re *nfa.Regexp, t string, from int) (int, bool) {
	for n := 0; from <= len(t) && n < 8; n++ {
		loc := re.FindStringIndex(t[from:])
		if loc == nil {
			return 0, false
		}
		at := from + loc[0]
		// The expressions may start one byte early, at the byte before a word.
		w := at
		if w < len(t) && !isWordByte(t[w]) && t[w] != '@' && t[w] != '/' {
			w++
		}
		if w == 0 || (t[w-1] != '.' && t[w-1] != '>' && t[w-1] != ':' && t[w-1] != '$') {
			return at, true
		}
		from = at + 1
	}
	return 0, false
}

// sqlSelectContext reports whether a SELECT…FROM found at i reads as injected SQL
// rather than a query quoted in prose ("avoid SELECT * FROM users here"): it starts
// the value, or follows an operator, quote, parenthesis, statement break or SQL word.
func sqlSelectContext(t string, i int) bool {
	j := i
	for j > 0 && (t[j-1] == ' ' || t[j-1] == '\t' || t[j-1] == '\n' || t[j-1] == '\r' || t[j-1] == '+') {
		j--
	}
	if j == 0 {
		return true
	}
	if c := t[j-1]; !isWordByte(c) {
		// "nit: SELECT …", "see: SELECT …" and list dashes are prose; anything else
		// (quote, parenthesis, operator, ';', '=') puts the query in code.
		return c != ':' && c != '-' && c != ',' && c != '.' && c != '!' && c != '?'
	}
	k := j
	for k > 0 && isWordByte(t[k-1]) {
		k--
	}
	switch strings.ToLower(t[k:j]) {
	case "union", "all", "distinct", "distinctrow", "exists", "in", "not", "and", "or", "xor",
		"where", "having", "then", "else", "when", "return", "returns", "as", "from", "by", "on", "into",
		"values", "set", "do", "begin", "exec", "execute", "go", "with", "like", "is", "case", "null":
		return true
	}
	// A number right before SELECT ("1 select …") is an injected statement too.
	return t[j-1] >= '0' && t[j-1] <= '9'
}

// quoteBreakout finds a quote the value leaves open and follows with SQL syntax
// that only a broken-out string has: a statement break at the very end ("admin';",
// "x'/* c */;"), an escaped quote followed by a logical operator ("\'or'1"), or a
// statement keyword right after a leading quote ("'UNION A", "' alter/").
func quoteBreakout(t string) (int, bool) {
	if i := strings.IndexByte(t, '\\'); i >= 0 {
		for j := i; j >= 0 && j+1 < len(t); {
			if c := t[j+1]; c == '\'' || c == '"' || c == '`' {
				k := skipBlank(t, j+2)
				if w, n := logicWord(t, k); w {
					k = skipBlank(t, n)
					if k == len(t) || t[k] == '\'' || t[k] == '"' || t[k] == '`' || t[k] == '(' || t[k] >= '0' && t[k] <= '9' {
						return j, true
					}
				}
			}
			n := strings.IndexByte(t[j+1:], '\\')
			if n < 0 {
				break
			}
			j += 1 + n
		}
	}
	body := strings.TrimRight(t, " \t\r\n")
	if strings.HasSuffix(body, ";") {
		// An odd number of one quote character: the value opened a string it does
		// not close. "var x = 'a';" closes it.
		k := len(body) - 1
		for k > 0 && (body[k-1] == ' ' || body[k-1] == ')' || body[k-1] == '\t') {
			k--
		}
		if k > 0 {
			if q := body[k-1]; (q == '\'' || q == '"' || q == '`') && strings.Count(t, string(q))%2 == 1 {
				return k - 1, true
			}
		}
	}
	k := skipBlank(t, 0)
	if k < len(t) && (t[k] == '\'' || t[k] == '"' || t[k] == '`') && strings.Count(t, t[k:k+1])%2 == 1 {
		j := skipBlank(t, k+1)
		if ok, e := logicWord(t, j); ok && e < len(t) && (t[e] == ' ' || t[e] == '\t' || t[e] == '(') {
			// "' or abc!", "' xor 1": a string closed and a condition begun.
			if e = skipBlank(t, e); e < len(t) && t[e] != '\'' && t[e] != '"' {
				return k, true
			}
		}
		for _, w := range []string{"union", "alter", "select", "insert", "update", "delete", "drop", "exec", "create", "truncate", "declare", "waitfor", "shutdown"} {
			if hasPrefixFold(t[j:], w) && (j+len(w) == len(t) || !isWordByte(t[j+len(w)])) {
				e := j + len(w)
				if e == len(t) || t[e] == ' ' || t[e] == '/' || t[e] == '(' || t[e] == '\t' || t[e] == '\n' || t[e] == '+' {
					return k, true
				}
			}
		}
	}
	return 0, false
}

// quoteThenLogic reports whether a quote is followed, after blanks and closing
// parentheses, by a logical operator: the cheap test before sqlTautology.
func quoteThenLogic(t string) bool {
	for i, n := 0, 0; n < 32; n++ {
		k := strings.IndexAny(t[i:], "'\"`")
		if k < 0 {
			return false
		}
		j := i + k + 1
		for j < len(t) && (t[j] == ' ' || t[j] == ')' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r') {
			j++
		}
		if ok, _ := logicWord(t, j); ok {
			return true
		}
		i = i + k + 1
	}
	return false
}

// logicWord reports whether an SQL logical operator (or, and, xor, ||, &&) starts at
// t[i], and where it ends.
func logicWord(t string, i int) (bool, int) {
	if strings.HasPrefix(t[i:], "||") || strings.HasPrefix(t[i:], "&&") {
		return true, i + 2
	}
	for _, w := range []string{"or", "and", "xor"} {
		if hasPrefixFold(t[i:], w) && (i+len(w) == len(t) || !isWordByte(t[i+len(w)])) {
			return true, i + len(w)
		}
	}
	return false, i
}

// identityTautology finds "x = x" comparisons of one operand with itself after a
// logical operator ("or a=a", "OR x=x#", "and 'a'='a'") and quoted literals equal to
// each other anywhere ("'1'='1'"): conditions that are always true, which prose
// does not write.
func identityTautology(t string) (int, bool) {
	for i, n := strings.IndexByte(t, '='), 0; i > 0 && n < 16; n++ {
		if i+1 < len(t) && t[i+1] != '=' && t[i-1] != '!' && t[i-1] != '<' && t[i-1] != '>' && t[i-1] != '=' {
			a, as, quoted := operandBefore(t, i)
			b, bq := operandAfter(t, i+1)
			if a != "" && strings.EqualFold(a, b) && quoted == bq {
				if quoted || afterLogic(t, as) {
					return as, true
				}
			}
		}
		if i+1 < len(t) && i > 1 && t[i-1] == '!' {
			// 'x'!='y': two different literals are always unequal.
			a, as, aq := operandBefore(t, i-1)
			b, bq := operandAfter(t, i+1)
			if aq && bq && !strings.EqualFold(a, b) {
				return as, true
			}
		}
		k := strings.IndexByte(t[i+1:], '=')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return 0, false
}

// operandBefore reads the operand that ends before t[i] (blanks skipped): a word or a
// quoted literal. It returns the operand's text, where it starts and whether it was
// quoted.
func operandBefore(t string, i int) (string, int, bool) {
	j := i
	for j > 0 && (t[j-1] == ' ' || t[j-1] == '\t') {
		j--
	}
	if j > 0 && (t[j-1] == '\'' || t[j-1] == '"') {
		q := t[j-1]
		k := strings.LastIndexByte(t[:j-1], q)
		if k < 0 || j-1-k > 64 {
			return "", 0, false
		}
		return t[k+1 : j-1], k, true
	}
	k := j
	for k > 0 && isWordByte(t[k-1]) && j-k < 64 {
		k--
	}
	return t[k:j], k, false
}

// operandAfter reads the operand that starts at t[i] (blanks skipped).
func operandAfter(t string, i int) (string, bool) {
	i = skipBlank(t, i)
	if i < len(t) && (t[i] == '\'' || t[i] == '"') {
		q := t[i]
		k := strings.IndexByte(t[i+1:], q)
		if k < 0 {
			// An unclosed literal: the application's own quote closes it
			// ("' or 'a'='a").
			k = len(t) - i - 1
		}
		if k > 64 {
			return "", false
		}
		return t[i+1 : i+1+k], true
	}
	k := i
	for k < len(t) && isWordByte(t[k]) && k-i < 64 {
		k++
	}
	if k < len(t) && t[k] == '.' {
		// "a=a.b" is not an identity.
		return "", false
	}
	return t[i:k], false
}

// foldQuotes rewrites the typographic quotes ’ ‘ ´ ′ ʼ as ASCII apostrophes. Some
// database drivers and collations make the same conversion, which turns them into
// string delimiters. It reports false when there were none.
func foldQuotes(t string) (string, bool) {
	var b []byte
	for i := 0; i < len(t); {
		r, n := utf8.DecodeRuneInString(t[i:])
		switch r {
		case '\u2019', '\u2018', '\u00b4', '\u2032', '\u02bc':
			if b == nil {
				b = make([]byte, 0, len(t))
				b = append(b, t[:i]...)
			}
			b = append(b, '\'')
		default:
			if b != nil {
				b = append(b, t[i:i+n]...)
			}
		}
		i += n
	}
	if b == nil {
		return t, false
	}
	return string(b), true
}

// leadsWithLogic reports whether t, or a value after an '=' in it, starts with a
// logical operator: the cheap test before sqlLeadLogic.
func leadsWithLogic(t string) bool {
	for i, n := 0, 0; n < 32; n++ {
		j := i
		for j < len(t) && (t[j] == ' ' || t[j] == '(' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r') {
			j++
		}
		if ok, _ := logicWord(t, j); ok {
			return true
		}
		k := strings.IndexByte(t[i:], '=')
		if k < 0 {
			return false
		}
		i += k + 1
	}
	return false
}

// sqlComments returns t with every /* … */ comment replaced by sep, except that a
// MySQL executable comment ("/*!50000select*/") keeps its text, which
// the server runs. An unclosed comment runs to the end.
func sqlComments(t, sep string) string {
	var b strings.Builder
	b.Grow(len(t))
	for {
		i := strings.Index(t, "/*")
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		b.WriteString(t[:i])
		rest := t[i+2:]
		j := strings.Index(rest, "*/")
		body := rest
		if j >= 0 {
			body = rest[:j]
		}
		if body != "" && body[0] == '!' {
			k := 1
			for k < len(body) && k < 6 && body[k] >= '0' && body[k] <= '9' {
				k++
			}
			b.WriteString(" ")
			b.WriteString(body[k:])
			b.WriteString(" ")
		} else {
			b.WriteString(sep)
		}
		if j < 0 {
			return b.String()
		}
		t = rest[j+2:]
	}
}

// firstHit returns the position of the first keyword hit in group g (0 if none).
func (m *matcher) firstHit(h *hits, g group) int {
	for i := 0; i < h.n; i++ {
		if m.kws[h.list[i].kw].group&g != 0 {
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
// 11!=1, 2 like 2, 1 is not 2) in a value with SQL punctuation (see sqlPunct), or
// any numeric comparison right after a logical
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
		if afterLogic(t, i) && (op == "=" || op == "==" || op == "!=" || op == "<>" || op == "<=>" || op == "like ") || cmpTrue(a, op, b) && sqlPunct(t) {
			return i, true
		}
		i = j
	}
	return 0, false
}

// sqlPunct reports whether t has punctuation an injected condition comes with: a
// quote, a parenthesis, a statement break or a comment. A bare "1=1" in a sentence
// ("where are you from? 1=1") has none.
func sqlPunct(t string) bool {
	return strings.ContainsAny(t, "'\"`();#") || strings.Contains(t, "--") || strings.Contains(t, "/*")
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
		if j > i+1 && isMongoOperator(strings.ToLower(t[i+1:j])) &&
			((i == 0 || t[i-1] == '[') && (j == len(t) || t[j] == ']') || operatorKey(t, i, j)) {
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

// operatorKey reports whether the operator at t[i:j] is a key of an object written
// in the value, quoted or not: `{ $ne: 1 }`, `{"$gt": ""}`, `', $or: [ {}, …`. A
// value holding a query object is injection into a query that embeds it.
func operatorKey(t string, i, j int) bool {
	b := i - 1
	if b >= 0 && (t[b] == '"' || t[b] == '\'') {
		b--
	}
	for b >= 0 && (t[b] == ' ' || t[b] == '\t') {
		b--
	}
	if b < 0 || t[b] != '{' && t[b] != ',' {
		return false
	}
	if j < len(t) && (t[j] == '"' || t[j] == '\'') {
		j++
	}
	for j < len(t) && (t[j] == ' ' || t[j] == '\t') {
		j++
	}
	return j < len(t) && t[j] == ':'
}

func isMongoOperator(op string) bool {
	switch op {
	case "ne", "eq", "gt", "gte", "lt", "lte", "in", "nin", "or", "and", "not", "nor",
		"exists", "type", "regex", "where", "expr", "text", "search", "elemmatch", "all",
		"size", "mod", "jsonschema", "function", "accumulator", "comment":
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
