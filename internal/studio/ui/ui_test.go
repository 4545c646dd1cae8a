package ui

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func newServer(t *testing.T) (*Handler, *httptest.Server) {
	t.Helper()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.ServeShell)
	mux.HandleFunc("GET "+Prefix, h.ServeAsset)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return h, ts
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// checkSecurityHeaders fails unless res carries every header the package promises.
func checkSecurityHeaders(t *testing.T, what string, res *http.Response) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
		t.Errorf("%s: CSP %q allows too much", what, csp)
	}
}

// The media type each extension must be served with, written out by hand rather
// than read from the handler's own table.
var wantTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".md":   "text/markdown; charset=utf-8",
	"":      "text/plain; charset=utf-8", // the LICENSE files
}

func TestServeShellAndAssets(t *testing.T) {
	h, ts := newServer(t)
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}

	res, body := get(t, ts.URL+"/")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != wantTypes[".html"] {
		t.Fatalf("GET /: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	checkSecurityHeaders(t, "GET /", res)
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET /: Cache-Control %q, want no-cache", cc)
	}
	if bytes.Contains(body, []byte(versionToken)) || !bytes.Contains(body, []byte(Prefix+h.Version()+"/js/app.js")) {
		t.Errorf("the shell's asset URLs are not versioned:\n%s", body)
	}
	// Every asset the shell names is served.
	refs := regexp.MustCompile(`(?:src|href)="(/ui/[^"]+)"`).FindAllSubmatch(body, -1)
	if len(refs) < 6 {
		t.Fatalf("the shell names only %d assets", len(refs))
	}
	for _, m := range refs {
		if r, _ := get(t, ts.URL+string(m[1])); r.StatusCode != 200 {
			t.Errorf("the shell names %s, which answers %d", m[1], r.StatusCode)
		}
	}

	// Every embedded file but the shell, with its type, headers and bytes.
	paths := h.AssetPaths()
	if len(paths) != len(files)-1 {
		t.Errorf("%d asset paths for %d files", len(paths), len(files))
	}
	for _, p := range paths {
		name := strings.TrimPrefix(p, Prefix+h.Version()+"/")
		res, body := get(t, ts.URL+p)
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
			continue
		}
		want, ok := wantTypes[path.Ext(name)]
		if !ok {
			t.Errorf("%s: no expected type for its extension; add one here", name)
		}
		if got := res.Header.Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", name, got, want)
		}
		checkSecurityHeaders(t, p, res)
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want a year, immutable", name, cc)
		}
		if !bytes.Equal(body, files[name]) {
			t.Errorf("%s: served bytes differ from the embedded file", name)
		}
		// Revalidation answers 304.
		if r, _ := get(t, ts.URL+p, "If-None-Match", res.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", name, r.StatusCode)
		}
	}

	// An old version's URL still gets today's file, but not cached for long.
	res, _ = get(t, ts.URL+Prefix+"0000000000000000/js/app.js")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("old version: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	// Unknown files, directories and escapes are 404, with the same headers.
	for _, p := range []string{Prefix + h.Version() + "/nothing.js", Prefix + h.Version() + "/", Prefix + h.Version() + "/js", Prefix + "index.html",
		Prefix + h.Version() + "/index.html", Prefix + h.Version() + "/../ui.go", Prefix + h.Version() + "/%2e%2e/ui.go"} {
		res, _ := get(t, ts.URL+p)
		if res.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
		checkSecurityHeaders(t, p, res)
	}
}

// The shell has no inline script, style or event handler: the CSP would refuse
// them, so the page would break.
func TestShellHasNoInlineCode(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if path.Ext(name) != ".html" {
			continue
		}
		s := string(data)
		for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(s, -1) {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script %q", name, m[0])
			}
		}
		if regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`).MatchString(s) {
			t.Errorf("%s: inline style, event handler or javascript: URL", name)
		}
	}
}

// Vigil's own scripts put API text on the page only as text.
func TestScriptsDoNotInjectHTML(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if !strings.HasPrefix(name, "js/") {
			continue
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if bytes.Contains(data, []byte(bad)) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}

// foreignURLCases feeds TestForeignURLScanner: what the scanner must find, and the
// comments and licence headers it must not.
var foreignURLCases = []struct {
	name, file, src string
	want            int
}{
	{"js_fetch_https", "a.js", `fetch("https://evil.example/x")`, 1},
	{"js_http_single_quotes", "a.js", `const u = 'http://tracker.example';`, 1},
	{"js_template", "a.js", "const u = `https://cdn.example/${v}`;", 1},
	{"js_protocol_relative", "a.js", `s.src = "//cdn.example.com/lib.js";`, 1},
	{"js_line_comment", "a.js", "// https://d3js.org/d3-geo/ v3.1.2\nvar x = 1;", 0},
	{"js_block_comment", "a.js", "/*! https://github.com/leeoniya/uPlot (v1.6.32) */ var a;", 0},
	{"js_comment_after_code", "a.js", "var a = 1; // see https://example.com", 0},
	{"js_regex_with_slashes", "a.js", `var r = /\/\/+/g, s = "a";`, 0},
	{"js_division_then_url", "a.js", `var q = a / b; fetch("https://x.example")`, 1},
	{"js_string_with_comment_marks", "a.js", `var s = "/* not a comment */ https://x.example";`, 1},
	{"js_svg_namespace", "a.js", `document.createElementNS("http://www.w3.org/2000/svg", "g")`, 0},
	{"js_relative", "a.js", `fetch("/v1/live"); import("./feed.js")`, 0},
	{"css_url", "a.css", `body { background: url(https://img.example/a.png) }`, 1},
	{"css_import_protocol_relative", "a.css", `@import "//fonts.example.com/x.css";`, 1},
	{"css_comment", "a.css", `/* https://example.com */ body { color: red }`, 0},
	{"html_script_src", "a.html", `<script src="https://cdn.example/x.js"></script>`, 1},
	{"html_link_protocol_relative", "a.html", `<link rel="stylesheet" href="//fonts.example.com/css">`, 1},
	{"html_comment", "a.html", `<!-- from https://example.com --><p>hi</p>`, 0},
	{"html_relative", "a.html", `<script src="/ui/v/js/app.js"></script>`, 0},
}

func TestForeignURLScanner(t *testing.T) {
	for _, c := range foreignURLCases {
		t.Run(c.name, func(t *testing.T) {
			if got := foreignURLs(c.file, []byte(c.src)); len(got) != c.want {
				t.Errorf("foreignURLs(%q) = %q, want %d", c.src, got, c.want)
			}
		})
	}
}

// No HTML, JavaScript or CSS file the dashboard serves names another origin
// outside its comments: the page makes no request outside Studio's origin.
func TestNoForeignURLs(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, data := range files {
		switch path.Ext(name) {
		case ".html", ".js", ".css":
			n++
			for _, u := range foreignURLs(name, data) {
				t.Errorf("%s names another origin: %s", name, u)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d files scanned", n)
	}
}

// namespaceNames are XML namespace names: identifiers a browser never fetches.
var namespaceNames = map[string]bool{"http://www.w3.org/2000/svg": true}

var (
	absURL      = regexp.MustCompile(`(?i)\bhttps?://[^\s"'\x60)<>]*`)
	protoRelURL = regexp.MustCompile(`(?i)(?:["'\x60(=]\s*)(//[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s"'\x60)<>]*)`)
)

// foreignURLs returns the absolute (http://, https://) and protocol-relative
// (//host) URLs in a file's code, leaving out comments.
func foreignURLs(name string, src []byte) []string {
	var code string
	switch path.Ext(name) {
	case ".html":
		code = regexp.MustCompile(`(?s)<!--.*?-->`).ReplaceAllString(string(src), " ")
	case ".css":
		code = stripComments(string(src), false)
	default:
		code = stripComments(string(src), true)
	}
	var out []string
	for _, u := range absURL.FindAllString(code, -1) {
		if !namespaceNames[u] {
			out = append(out, u)
		}
	}
	for _, m := range protoRelURL.FindAllStringSubmatch(code, -1) {
		out = append(out, m[1])
	}
	return out
}

// stripComments blanks the comments of JavaScript (js) or CSS source, keeping
// strings, template literals and regular expression literals. Whether a slash
// starts a regular expression is decided the usual way, by the token before it;
// that is enough for the dashboard's code and the minified vendored files (and
// TestForeignURLScanner shows the cases).
func stripComments(src string, js bool) string {
	var b strings.Builder
	prev := byte(0) // the last significant character written
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 4
			b.WriteByte(' ')
		case js && c == '/' && i+1 < len(src) && src[i+1] == '/':
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				return b.String()
			}
			i += end
		case c == '"' || c == '\'' || (js && c == '`'):
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			b.WriteString(src[i:j])
			i, prev = j, c
		case js && c == '/' && regexAllowed(prev):
			j, inClass := i+1, false
			for j < len(src) && src[j] != '\n' {
				if src[j] == '\\' {
					j += 2
					continue
				}
				if src[j] == '[' {
					inClass = true
				} else if src[j] == ']' {
					inClass = false
				} else if src[j] == '/' && !inClass {
					break
				}
				j++
			}
			j = min(j+1, len(src))
			b.WriteString(src[i:j])
			i, prev = j, '/'
		default:
			b.WriteByte(c)
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				prev = c
			}
			i++
		}
	}
	return b.String()
}

// regexAllowed reports whether a slash after the character prev starts a regular
// expression rather than a division.
func regexAllowed(prev byte) bool {
	return prev == 0 || strings.IndexByte("(,=:[!&|?{};+-*%<>~^", prev) >= 0
}

// The vendored files are exactly those VENDOR.md lists, with its checksums, and
// each package has its licence beside it.
func TestVendorChecksums(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	md, ok := files["vendor/VENDOR.md"]
	if !ok {
		t.Fatal("vendor/VENDOR.md is missing")
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\| ([0-9a-f]{64}) \\|$")
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(md))
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name := "vendor/" + m[1]
		listed[name] = true
		data, ok := files[name]
		if !ok {
			t.Errorf("VENDOR.md lists %s, which is not embedded", name)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != m[2] {
			t.Errorf("%s: SHA-256 %s, VENDOR.md says %s", name, got, m[2])
		}
	}
	if len(listed) < 5 {
		t.Fatalf("VENDOR.md lists only %d files", len(listed))
	}
	dirs := map[string]bool{}
	for name := range files {
		if !strings.HasPrefix(name, "vendor/") || name == "vendor/VENDOR.md" {
			continue
		}
		dirs[path.Dir(name)] = true
		if !listed[name] {
			t.Errorf("%s is vendored but not in VENDOR.md", name)
		}
	}
	for d := range dirs {
		if _, ok := files[d+"/LICENSE"]; !ok {
			t.Errorf("%s has no LICENSE", d)
		}
	}
}

// Every module a script imports is embedded: a wrong name would stop the whole
// page in the browser, and nothing else would notice.
func TestImportsResolve(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	imp := regexp.MustCompile(`(?m)^\s*import\s[^;]*?from\s+"([^"]+)"|new URL\("([^"]+)", import\.meta\.url\)`)
	n := 0
	for name, data := range files {
		if !strings.HasPrefix(name, "js/") {
			continue
		}
		for _, m := range imp.FindAllStringSubmatch(string(data), -1) {
			ref := m[1] + m[2]
			if !strings.HasPrefix(ref, "./") && !strings.HasPrefix(ref, "../") {
				t.Errorf("%s imports %q: only relative module paths resolve without an import map", name, ref)
				continue
			}
			n++
			if _, ok := files[path.Join(path.Dir(name), ref)]; !ok {
				t.Errorf("%s imports %s, which is not embedded", name, ref)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d imports found", n)
	}
}
