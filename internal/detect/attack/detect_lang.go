package attack

import (
	"strings"
)

// javaMagic finds a Java serialisation stream header: hex "aced0005", or its base64
// forms at each of the three byte alignments ("rO0AB" when the stream starts the
// base64 text). These never occur by chance in text.
func javaMagic(t string) (string, int, string) {
	for i := 0; i+5 < len(t); i++ {
		switch t[i] {
		case 'r':
			if strings.HasPrefix(t[i:], "rO0AB") && (i == 0 || !isWordByte(t[i-1])) {
				return CodeJavaInjection, 95, excerptAt(t, i)
			}
		case 'K':
			if strings.HasPrefix(t[i:], "KztAAU") {
				return CodeJavaInjection, 95, excerptAt(t, i)
			}
		case 'C':
			if strings.HasPrefix(t[i:], "Cs7QAF") {
				return CodeJavaInjection, 95, excerptAt(t, i)
			}
		case 'a', 'A':
			if hasPrefixFold(t[i:], "aced0005") {
				return CodeJavaInjection, 90, excerptAt(t, i)
			}
		}
	}
	return "", 0, ""
}

// detectJava reports Java-specific injection: expression languages (OGNL, SpEL, EL),
// Spring4Shell's class.module.classLoader, deserialisation gadget class names, and
// fully qualified JDK class names that only a payload puts in a parameter.
func (s *Scanner) detectJava(v *value, res *result) {
	if v.hits.groups&gJava == 0 {
		return
	}
	t := v.norm
	for _, p := range []string{"class.module.classloader", "class.classloader", ".classloader.", "_memberaccess",
		"@ognl", "ognl.ognlcontext", "#context[", "getruntime()", "getruntime ()", ".getruntime(", "java.lang.runtime",
		"java.lang.processbuilder", "processbuilder(", "new processbuilder", "t(java.", "t (java.",
		"scriptenginemanager", "javax.script", "java.lang.reflect", "templatesimpl", "invokertransformer",
		"instantiatetransformer", "instantiatefactory", "chainedtransformer", "constanttransformer",
		"clonetransformer", "prototypeclonefactory", "prototypeserializationfactory", "whileclosure",
		"forclosure", "org.apache.commons.collections", "com.sun.org.apache", "xmldecoder",
		"com.opensymphony.xwork2", "org.codehaus.groovy.runtime", "bsh.interpreter", "groovy.lang",
		"javax.naming", "java.net.urlclassloader", "java.rmi", "sun.misc.unsafe", "jdk.jshell"} {
		if i := indexFold(t, p); i >= 0 {
			res.add(CodeJavaInjection, 95, excerptAt(t, i))
			return
		}
	}
	if i := indexFold(t, "processbuilder"); i >= 0 {
		res.add(CodeJavaInjection, 90, excerptAt(t, i))
		return
	}
	if (strings.Contains(t, "%{") || strings.Contains(t, "${") || strings.Contains(t, "#{")) && strings.Contains(t, "#") {
		// OGNL: %{(#a=…)}, ${#…}.
		for _, p := range []string{"%{(#", "%{#", "${(#", "${#", "#{(#", "(#_", "(#dm", "(#ct", "(#cmd"} {
			if i := strings.Index(t, p); i >= 0 {
				res.add(CodeJavaInjection, 95, excerptAt(t, i))
				return
			}
		}
	}
	for off := 0; off < len(t); {
		loc := s.re.javaFQCN.FindStringIndex(t[off:])
		if loc == nil {
			break
		}
		m := t[off+loc[0] : off+loc[1]]
		if sc := javaClassScore(m, t); sc > 0 {
			res.add(CodeJavaInjection, sc, excerptAt(t, off+loc[0]))
			return
		}
		off += loc[1]
	}
	// "java.evil.runtime", "runtime.exec": runtime next to another Java word.
	if i := indexFold(t, "runtime"); i >= 0 && (strings.Contains(strings.ToLower(t), "java") || hasPrefixFold(t[i:], "runtime.exec") || hasPrefixFold(t[i:], "runtime.getruntime")) && strings.Contains(t, ".") {
		res.add(CodeJavaInjection, 85, excerptAt(t, i))
	}
}

// javaClassScore scores a fully qualified name found in t. A JDK or library class
// named in a parameter is rare outside payloads, but exceptions and stack traces are
// pasted into support forms, so those score low.
func javaClassScore(name, t string) int {
	ln := strings.ToLower(name)
	parts := strings.Split(ln, ".")
	if len(parts) < 2 {
		return 0
	}
	last := parts[len(parts)-1]
	if strings.HasSuffix(last, "exception") || strings.HasSuffix(last, "error") || strings.Contains(t, ".java:") {
		return 0
	}
	switch parts[0] {
	case "java", "javax", "jdk":
		if len(parts) == 2 && (last == "runtime" || last == "processbuilder") {
			return 90
		}
		if len(parts) < 3 {
			return 0
		}
		switch parts[1] {
		case "lang", "io", "util", "net", "nio", "rmi", "beans", "security", "script", "naming", "management", "sql", "xml":
			return 80
		}
	case "sun", "com", "org", "bsh", "groovy":
		switch {
		case strings.HasPrefix(ln, "org.apache.commons"), strings.HasPrefix(ln, "com.sun.org.apache"),
			strings.HasPrefix(ln, "org.omg.corba"), strings.HasPrefix(ln, "com.opensymphony"),
			strings.HasPrefix(ln, "org.codehaus.groovy"), strings.HasPrefix(ln, "sun.misc"),
			strings.HasPrefix(ln, "sun.reflect"), strings.HasPrefix(ln, "com.sun.rowset"),
			strings.HasPrefix(ln, "org.springframework.beans"), strings.HasPrefix(ln, "bsh."),
			strings.HasPrefix(ln, "groovy.lang"), strings.HasPrefix(ln, "com.sun.jndi"):
			return 80
		}
	}
	return 0
}

// detectLog4Shell reports Log4j lookups that reach JNDI, with nested lookups
// (${${lower:j}ndi:…}, ${::-j}) resolved first.
func (s *Scanner) detectLog4Shell(v *value, res *result) {
	g := v.hits.groups
	if g&gJNDI == 0 {
		return
	}
	t := v.norm
	if i := indexFold(t, "jndi:"); i >= 0 {
		rest := strings.ToLower(t[i+5:])
		for _, p := range []string{"ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nds", "nis", "http"} {
			if strings.HasPrefix(rest, p+":") || strings.HasPrefix(rest, p+"/") {
				res.add(CodeLog4Shell, 100, excerptAt(t, i))
				return
			}
		}
		if j := strings.LastIndex(t[:i], "${"); j >= 0 && i-j < 64 {
			res.add(CodeLog4Shell, 100, excerptAt(t, j))
			return
		}
	}
	if !strings.Contains(t, "${") {
		return
	}
	for off := 0; off < len(t); {
		i := strings.Index(t[off:], "${")
		if i < 0 {
			break
		}
		i += off
		var buf [64]byte
		out, end := resolveLookup(t, i, buf[:0], 0)
		if hasPrefixFold(string(out), "jndi:") || hasPrefixFold(string(out), "jndi") && end > i {
			res.add(CodeLog4Shell, 100, excerptAt(t, i))
			return
		}
		off = i + 2
	}
}

// resolveLookup evaluates the Log4j lookup starting at t[i] ("${") the way Log4j
// would for the parts attackers use to hide "jndi": ${lower:x} and ${upper:x} give x,
// ${anything:-x} gives the default x, other lookups give nothing. It appends the
// result to out (bounded by cap(out)) and returns it with the index after the
// closing brace. depth bounds recursion.
func resolveLookup(t string, i int, out []byte, depth int) ([]byte, int) {
	j := i + 2
	var inner []byte
	var ibuf [64]byte
	inner = ibuf[:0]
	for j < len(t) {
		if t[j] == '}' {
			j++
			break
		}
		if t[j] == '$' && j+1 < len(t) && t[j+1] == '{' && depth < 8 {
			inner, j = resolveLookup(t, j, inner, depth+1)
			continue
		}
		if len(inner) < cap(inner) {
			inner = append(inner, t[j])
		}
		j++
	}
	body := string(inner)
	var val string
	switch {
	case hasPrefixFold(body, "lower:"), hasPrefixFold(body, "upper:"):
		val = body[6:]
	case strings.Contains(body, ":-"):
		val = body[strings.Index(body, ":-")+2:]
	case hasPrefixFold(body, "jndi:"), hasPrefixFold(body, "jndi"):
		val = "jndi:"
	default:
		if k := strings.IndexByte(body, ':'); k >= 0 && depth == 0 {
			// An unresolved lookup at the top: keep its text, so "jndi" typed in
			// pieces around it is still seen.
			val = body
		}
	}
	for k := 0; k < len(val) && len(out) < cap(out); k++ {
		out = append(out, val[k])
	}
	return out, j
}

// detectPHP reports PHP code: open tags, calls of functions that execute or read,
// superglobals, variable functions, serialized objects and php.ini directives.
func (s *Scanner) detectPHP(v *value, res *result) {
	g := v.hits.groups
	varCall := v.has(clsDollar) && v.has(clsParen)
	if g&(gPHP|gPHPFunc|gPHPWeak) == 0 && !varCall {
		return
	}
	t := v.norm
	if g&gPHP != 0 {
		if loc := s.re.phpOpenTag.FindStringIndex(t); loc != nil {
			sc := 90
			if hasPrefixFold(t[loc[0]:], "<?php") {
				sc = 95
			}
			res.add(CodePHPInjection, sc, excerptAt(t, loc[0]))
			return
		}
		if i := indexFold(t, "php://"); i >= 0 {
			res.add(CodePHPInjection, 90, excerptAt(t, i))
			return
		}
		if i := indexFold(t, "data:text/plain;base64,"); i >= 0 {
			// PHP's data: wrapper, used to include attacker-supplied code.
			res.add(CodePHPInjection, 85, excerptAt(t, i))
			return
		}
		if i := indexFold(t, "expect://"); i >= 0 {
			res.add(CodePHPInjection, 95, excerptAt(t, i))
			return
		}
		for _, p := range []string{"$_get", "$_post", "$_request", "$_cookie", "$_server", "$_files", "$_env", "$_session", "$globals"} {
			if i := indexFold(t, p); i >= 0 && (i+len(p) == len(t) || !isWordByte(t[i+len(p)])) {
				res.add(CodePHPInjection, 90, excerptAt(t, i))
				return
			}
		}
		for _, p := range []string{"allow_url_include", "allow_url_fopen", "auto_prepend_file", "auto_append_file", "disable_functions", "open_basedir", "safe_mode"} {
			if i := indexFold(t, p); i >= 0 && strings.ContainsAny(t[i:], "=:") {
				res.add(CodePHPInjection, 85, excerptAt(t, i))
				return
			}
		}
		if v.has(clsBrace) {
			if loc := s.re.phpSerial.FindStringIndex(t); loc != nil {
				res.add(CodePHPInjection, 85, excerptAt(t, loc[0]))
				return
			}
		}
	}
	if !v.has(clsParen) {
		return
	}
	if g&gPHPFunc != 0 {
		from := max(s.kw.firstHit(&v.hits, gPHPFunc)-4, 0)
		if loc := s.re.phpCall.FindStringIndex(t[from:]); loc != nil {
			res.add(CodePHPInjection, 90, excerptAt(t, from+loc[0]))
			return
		}
	}
	if g&gPHPWeak != 0 {
		from := max(s.kw.firstHit(&v.hits, gPHPWeak)-4, 0)
		if loc := s.re.phpCallWeak.FindStringIndex(t[from:]); loc != nil && phpWeakCallOK(t[from+loc[0]:from+loc[1]]) {
			res.add(CodePHPInjection, 90, excerptAt(t, from+loc[0]))
			return
		}
	}
	if v.has(clsQuote) && v.has(clsDot) {
		// A function name assembled from strings: "sys"."tem"('id').
		if loc := s.re.phpConcatCall.FindStringIndex(t); loc != nil {
			res.add(CodePHPInjection, 85, excerptAt(t, loc[0]))
			return
		}
	}
	if varCall {
		if loc := s.re.phpVarCall.FindStringIndex(t); loc != nil && !strings.HasPrefix(t[loc[0]:], "$(") && !strings.HasPrefix(t[loc[0]:], "${") || loc != nil && strings.HasPrefix(t[loc[0]:], "${") && strings.Contains(t[loc[0]:loc[1]], "}(") {
			res.add(CodePHPInjection, 85, excerptAt(t, loc[0]))
			return
		}
	}
}

// phpWeakCallOK decides a call of a PHP function whose name is also an English word
// ("system", "file", "copy"): written with a space before the parenthesis it must
// have code-like arguments, because prose has "the system (really)".
func phpWeakCallOK(m string) bool {
	open := strings.IndexByte(m, '(')
	if open <= 0 {
		return false
	}
	name := strings.TrimLeft(m[:open], " \t(\"'@")
	if strings.ContainsAny(name, "\"')") {
		// ("system")(…) or (system)(…): only code writes that.
		return true
	}
	if name != "" && !isSpace(name[len(name)-1]) && !strings.Contains(name, "/*") {
		return true
	}
	arg := strings.TrimLeft(m[open+1:], " \t\r\n")
	return arg != "" && strings.IndexByte("\"'`$@([)", arg[0]) >= 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// detectCodeInjection reports server-side template injection and server-side
// JavaScript/Python code: {{…__class__…}}, <%= … %>, require('child_process'),
// process.mainModule, __import__, prototype pollution keys.
func (s *Scanner) detectCodeInjection(v *value, res *result) {
	if v.hits.groups&gCode == 0 {
		return
	}
	t := v.norm
	for _, p := range []string{"child_process", "process.mainmodule", "global.process", "process.binding(",
		"constructor.constructor(", "__import__(", "os.system(", "os.popen(", "subprocess.", "eval(compile(",
		"execsync(", "spawnsync(", "require('child", "require(\"child", "__globals__", "__builtins__",
		"__subclasses__", "__mro__", "freemarker.template.utility.execute"} {
		if i := indexFold(t, p); i >= 0 {
			res.add(CodeCodeInjection, 95, excerptAt(t, i))
			return
		}
	}
	if v.has(clsBrace | clsPct) {
		if loc := s.re.ssti.FindStringIndex(t); loc != nil {
			res.add(CodeCodeInjection, 90, excerptAt(t, loc[0]))
			return
		}
	}
	for _, p := range []string{"__proto__", "constructor.prototype", "constructor[prototype]", "[constructor][prototype]"} {
		if i := indexFold(t, p); i >= 0 {
			res.add(CodeCodeInjection, 90, excerptAt(t, i))
			return
		}
	}
	if v.has(clsAt) {
		if loc := s.re.perlInterp.FindStringIndex(t); loc != nil {
			res.add(CodeCodeInjection, 90, excerptAt(t, loc[0]))
			return
		}
	}
	if i := indexFold(t, "_$$nd_func$$_"); i >= 0 {
		res.add(CodeCodeInjection, 95, excerptAt(t, i))
		return
	}
	if loc := s.re.jsLoop.FindStringIndex(t); loc != nil {
		// An endless loop: a denial of service in server-side JavaScript.
		res.add(CodeCodeInjection, 85, excerptAt(t, loc[0]))
		return
	}
	if loc := s.re.jsInject.FindStringIndex(t); loc != nil {
		// Server-side JavaScript injection into a MongoDB query ($where, mapReduce).
		res.add(CodeCodeInjection, 85, excerptAt(t, loc[0]))
		return
	}
	for _, p := range []string{"require.main", ".constructor._load", "new function(", "new function (", "process.spawn(", "module.constructor", "this.constructor.constructor", "module.exports="} {
		if i := indexFold(t, p); i >= 0 {
			res.add(CodeCodeInjection, 85, excerptAt(t, i))
			return
		}
	}
	if i := indexFold(t, "process."); i >= 0 && (i == 0 || !isWordByte(t[i-1])) {
		rest := strings.ToLower(t[i+8:])
		for _, p := range []string{"env", "exit(", "kill(", "cwd(", "chdir(", "dlopen(", "binding(", "argv", "execpath", "getuid(", "setuid("} {
			if strings.HasPrefix(rest, p) {
				res.add(CodeCodeInjection, 85, excerptAt(t, i))
				return
			}
		}
	}
	if i := indexFold(t, "require("); i >= 0 && (i == 0 || !isWordByte(t[i-1])) {
		rest := strings.ToLower(strings.TrimLeft(t[i+8:], " '\"`"))
		for _, p := range []string{"child_process", "fs", "net", "http", "vm", "os", "module"} {
			if strings.HasPrefix(rest, p) && (len(rest) == len(p) || !isWordByte(rest[len(p)])) {
				res.add(CodeCodeInjection, 90, excerptAt(t, i))
				return
			}
		}
	}
}

// detectXXE reports XML external entities and DTD tricks.
func (s *Scanner) detectXXE(v *value, res *result) {
	if v.hits.groups&gXXE == 0 {
		return
	}
	t := v.norm
	if i := indexFold(t, "<!entity"); i >= 0 {
		rest := strings.ToLower(t[i:])
		if strings.Contains(rest, "system") || strings.Contains(rest, "public") || strings.HasPrefix(strings.TrimLeft(rest[8:], " \t\r\n"), "%") {
			res.add(CodeXXE, 95, excerptAt(t, i))
			return
		}
		if v.kind == kindParam && !strings.Contains(rest, `"http`) {
			// An internal entity in a form or query value: no form asks for a DTD;
			// entity expansion ("billion laughs") needs none of SYSTEM or PUBLIC.
			// Namespace entities ("http://ns.adobe.com/…", as Illustrator's SVGs
			// declare) stay below blocking.
			res.add(CodeXXE, 85, excerptAt(t, i))
			return
		}
		// In an XML body an internal DTD may be the document's own.
		res.add(CodeXXE, 70, excerptAt(t, i))
		return
	}
	if i := indexFold(t, "<!doctype"); i >= 0 {
		rest := strings.ToLower(t[i:])
		if end := strings.IndexByte(rest, '>'); end > 0 {
			rest = rest[:end]
		}
		if strings.Contains(rest, " system ") || strings.Contains(rest, "[") || strings.Contains(rest, " public ") && strings.Contains(rest, "http") && !strings.Contains(rest, "w3.org") {
			res.add(CodeXXE, 85, excerptAt(t, i))
			return
		}
	}
	if i := indexFold(t, "<xi:include"); i >= 0 {
		res.add(CodeXXE, 90, excerptAt(t, i))
	}
}

// detectLDAP reports LDAP filter injection: a value that closes the filter it is
// pasted into and opens another ("*)(uid=*))(|(uid=*", "admin)(&(objectClass=*)").
// A complete, balanced filter, as an LDAP admin form sends, starts with '(' and
// does not match.
func (s *Scanner) detectLDAP(v *value, res *result) {
	if !v.has(clsParen) || !v.has(clsEq|clsStar) {
		return
	}
	if loc := s.re.ldapInj.FindStringIndex(v.norm); loc != nil {
		res.add(CodeLDAPInjection, 85, excerptAt(v.norm, loc[0]))
	}
}

// detectCookieSet reports script that writes a cookie with a domain or path (the
// way an injected script plants a session) and meta tags that set cookies.
func (s *Scanner) detectCookieSet(v *value, res *result) {
	if v.hits.groups&gXSS == 0 && !containsFold(v.norm, "cookie") {
		return
	}
	if loc := s.re.cookieSet.FindStringIndex(v.norm); loc != nil {
		res.add(CodeSessionFixation, 90, excerptAt(v.norm, loc[0]))
	}
}
