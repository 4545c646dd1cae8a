package formscan

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// The field groups every case searches for: e-mail, phone, username.
var (
	emailFields = []string{"email", "e-mail", "mail"}
	phoneFields = []string{"phone", "tel"}
	userFields  = []string{"username", "login"}
	allGroups   = [][]string{emailFields, phoneFields, userFields}
)

const (
	ctJSON      = "application/json"
	ctForm      = "application/x-www-form-urlencoded"
	ctMultipart = "multipart/form-data; boundary=XyZ"
)

// mp builds a multipart body with boundary XyZ from raw parts (headers, a blank
// line, content).
func mp(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--XyZ\r\n" + p + "\r\n")
	}
	b.WriteString("--XyZ--\r\n")
	return b.String()
}

func field(name, value string) string {
	return "Content-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value
}

// findCases feed TestFind, the fuzz seeds and the benchmarks. want has one value per
// group of allGroups: e-mail, phone, username.
var findCases = []struct {
	name string
	ct   string
	body string
	want [3]string
}{
	// JSON
	{"json_signup", ctJSON, `{"email":"ann@example.com","password":"hunter22","name":"Ann"}`,
		[3]string{"ann@example.com", "", ""}},
	{"json_all_groups", "application/json; charset=utf-8", `{"username":"ann","tel":"+49 151 1234","mail":"a@b.c"}`,
		[3]string{"a@b.c", "+49 151 1234", "ann"}},
	{"json_suffix_type", "application/vnd.api+JSON", `{"email":"x@y.z"}`, [3]string{"x@y.z", "", ""}},
	{"json_name_order", ctJSON, `{"mail":"second@x.y","email":"first@x.y"}`, [3]string{"first@x.y", "", ""}},
	{"json_nested", ctJSON, `{"user":{"email":"n@x.y","phone":"123"},"csrf":"t"}`, [3]string{"n@x.y", "123", ""}},
	{"json_top_level_beats_nested", ctJSON, `{"user":{"email":"nested@x.y"},"mail":"top@x.y"}`,
		[3]string{"top@x.y", "", ""}},
	{"json_nested_exact_beats_nested_fold", ctJSON, `{"a":{"EMAIL":"fold@x.y"},"b":{"email":"exact@x.y"}}`,
		[3]string{"exact@x.y", "", ""}},
	{"json_too_deep", ctJSON, `{"a":{"b":{"email":"deep@x.y"}}}`, [3]string{"", "", ""}},
	{"json_arrays_ignored", ctJSON, `{"email":["a@x.y"],"list":[{"phone":"1"}],"username":[{"username":"u"}]}`,
		[3]string{"", "", ""}},
	{"json_array_body", ctJSON, `[{"email":"a@x.y"}]`, [3]string{"", "", ""}},
	{"json_duplicate_last_wins", ctJSON, `{"email":"decoy@gmail.com","email":"real@mailinator.com"}`,
		[3]string{"real@mailinator.com", "", ""}},
	{"json_duplicate_empty_ignored", ctJSON, `{"email":"a@x.y","email":""}`, [3]string{"a@x.y", "", ""}},
	{"json_case_insensitive", ctJSON, `{"Email":"ci@x.y","USERNAME":"Bob"}`, [3]string{"ci@x.y", "", "Bob"}},
	{"json_exact_beats_case_insensitive", ctJSON, `{"EMAIL":"ci@x.y","email":"exact@x.y","Email":"ci2@x.y"}`,
		[3]string{"exact@x.y", "", ""}},
	{"json_unicode_fold", ctJSON, `{"u\u017fername":"long-s"}`, [3]string{"", "", "long-s"}}, // ſ folds to s
	{"json_empty_then_case_insensitive", ctJSON, `{"username":"","login":"","LOGIN":"k"}`, [3]string{"", "", "k"}},
	{"json_escaped_key", ctJSON, `{"em\u0061il":"esc@x.y"}`, [3]string{"esc@x.y", "", ""}},
	{"json_escaped_value", ctJSON, `{"email":"a\u0040x.y\n"}`, [3]string{"a@x.y\n", "", ""}},
	{"json_invalid_utf8_value", ctJSON, "{\"email\":\"a\xffb\"}", [3]string{"a\uFFFDb", "", ""}},
	{"json_number_phone", ctJSON, `{"phone":4915112345678,"username":-1.5e3}`, [3]string{"", "4915112345678", "-1.5e3"}},
	{"json_literals_ignored", ctJSON, `{"email":null,"phone":true,"username":false,"mail":{}}`, [3]string{"", "", ""}},
	{"json_whitespace", ctJSON, " \r\n{ \"email\" :\t\"w@x.y\" , \"tel\" : 1 } \n", [3]string{"w@x.y", "1", ""}},
	{"json_invalid", ctJSON, `{"email":"a@x.y",}`, [3]string{"", "", ""}},
	{"json_truncated", ctJSON, `{"email":"a@x.y","phone":"12`, [3]string{"", "", ""}},
	{"json_trailing_data", ctJSON, `{"email":"a@x.y"}{}`, [3]string{"", "", ""}},
	{"json_empty_object", ctJSON, `{}`, [3]string{"", "", ""}},
	{"json_strings_with_brackets", ctJSON, `{"x":["]}\"{"],"y":{"z":"}{"},"email":"b@x.y"}`, [3]string{"b@x.y", "", ""}},
	// urlencoded
	{"form_signup", ctForm, "email=ann%40example.com&password=hunter22&name=Ann+Lee", [3]string{"ann@example.com", "", ""}},
	{"form_repeated_first_wins", ctForm, "email=first%40x.y&email=second%40x.y", [3]string{"first@x.y", "", ""}},
	{"form_repeated_empty_skipped", ctForm, "email=&email=second%40x.y&tel", [3]string{"second@x.y", "", ""}},
	{"form_plus_is_space", ctForm, "phone=%2B49+151+1234&login=a+b", [3]string{"", "+49 151 1234", "a b"}},
	{"form_escaped_name", ctForm, "e%2Dmail=e%40x.y&user+name=no", [3]string{"e@x.y", "", ""}},
	{"form_case_insensitive", ctForm, "EMAIL=ci%40x.y&email=exact%40x.y", [3]string{"exact@x.y", "", ""}},
	{"form_bad_pair_skipped", ctForm, "x=%zz&email=a%40x.y&bad%=1&phone=%4", [3]string{"a@x.y", "", ""}},
	{"form_semicolon_pair_skipped", ctForm, "email=a%40x.y;phone=1&username=u", [3]string{"", "", "u"}},
	{"form_no_value", ctForm, "email&phone=&username==", [3]string{"", "", "="}},
	{"form_type_with_params", "Application/X-WWW-Form-Urlencoded; charset=UTF-8", "mail=m%40x.y", [3]string{"m@x.y", "", ""}},
	// multipart
	{"multipart_fields", ctMultipart, mp(field("email", "mp@x.y"), field("phone", "555")), [3]string{"mp@x.y", "555", ""}},
	{"multipart_file_before_email", ctMultipart, mp(
		"Content-Disposition: form-data; name=\"email\"; filename=\"email.txt\"\r\nContent-Type: text/plain\r\n\r\nfile@x.y",
		field("email", "real@x.y")), [3]string{"real@x.y", "", ""}},
	{"multipart_empty_filename_is_value", ctMultipart, mp(
		"Content-Disposition: form-data; name=\"email\"; filename=\"\"\r\n\r\nv@x.y"), [3]string{"v@x.y", "", ""}},
	{"multipart_repeated_first_wins", ctMultipart, mp(field("email", "1@x.y"), field("email", "2@x.y")),
		[3]string{"1@x.y", "", ""}},
	{"multipart_case_insensitive", ctMultipart, mp(field("Login", "ci"), field("e-mail", "e@x.y")), [3]string{"e@x.y", "", "ci"}},
	{"multipart_not_form_data", ctMultipart, mp("Content-Disposition: attachment; name=\"email\"\r\n\r\na@x.y"),
		[3]string{"", "", ""}},
	{"multipart_quoted_printable", ctMultipart, mp(
		"Content-Disposition: form-data; name=\"email\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nqp=40x.y"),
		[3]string{"qp@x.y", "", ""}},
	{"multipart_truncated", ctMultipart, "--XyZ\r\n" + field("phone", "1") + "\r\n--XyZ\r\n" + field("email", "cut@x"),
		[3]string{"", "1", ""}},
	{"multipart_truncated_in_header", ctMultipart, "--XyZ\r\n" + field("phone", "1") + "\r\n--XyZ\r\nContent-Disposition: form-da",
		[3]string{"", "1", ""}},
	{"multipart_truncated_in_value", ctMultipart, "--XyZ\r\n" + field("phone", "12345"), [3]string{"", "", ""}},
	{"multipart_no_boundary", "multipart/form-data", mp(field("email", "a@x.y")), [3]string{"", "", ""}},
	{"multipart_wrong_boundary", "multipart/form-data; boundary=other", mp(field("email", "a@x.y")), [3]string{"", "", ""}},
	// other
	{"no_content_type", "", `{"email":"a@x.y"}`, [3]string{"", "", ""}},
	{"text_plain", "text/plain", "email=a%40x.y", [3]string{"", "", ""}},
	{"empty_body_json", ctJSON, "", [3]string{"", "", ""}},
	{"empty_body_form", ctForm, "", [3]string{"", "", ""}},
	{"empty_body_multipart", ctMultipart, "", [3]string{"", "", ""}},
}

func TestFind(t *testing.T) {
	for _, tc := range findCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Find(tc.ct, []byte(tc.body), allGroups...)
			if diff := cmp.Diff(tc.want[:], got); diff != "" {
				t.Errorf("Find(%q, %q) (-want +got):\n%s", tc.ct, tc.body, diff)
			}
		})
	}
}

func TestFindGroups(t *testing.T) {
	body := []byte(`{"email":"a@x.y","phone":"1"}`)
	if got := Find(ctJSON, body); len(got) != 0 {
		t.Errorf("no groups: got %q, want none", got)
	}
	many := make([][]string, 20)
	for i := range many {
		many[i] = phoneFields
	}
	many[19] = emailFields
	got := Find(ctJSON, body, many...)
	if len(got) != 20 || got[0] != "1" || got[18] != "1" || got[19] != "a@x.y" {
		t.Errorf("20 groups: got %q", got)
	}
	if got := Find(ctJSON, body, nil, []string{}); !cmp.Equal(got, []string{"", ""}) {
		t.Errorf("empty groups: got %q", got)
	}
}

// TestFindMultipartPartLimit checks that parts past maxParts are not examined.
func TestFindMultipartPartLimit(t *testing.T) {
	parts := make([]string, maxParts+1)
	for i := range parts {
		parts[i] = field("x", "")
	}
	parts[maxParts-1] = field("phone", "last")
	parts[maxParts] = field("email", "past@x.y")
	got := Find(ctMultipart, []byte(mp(parts...)), allGroups...)
	if diff := cmp.Diff([]string{"", "last", ""}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestFindMultipartLargeFileNotCopied checks that a file part's content costs no
// allocation of its size.
func TestFindMultipartLargeFileNotCopied(t *testing.T) {
	body := []byte(mp(
		"Content-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\n"+strings.Repeat("x", 1<<20),
		field("email", "a@x.y")))
	var got []string
	allocs := vigiltest.AllocsPerRun(5, func() { got = Find(ctMultipart, body, emailFields) })
	if got[0] != "a@x.y" {
		t.Fatalf("got %q", got)
	}
	// What matters is how many bytes one run allocates, not how many times.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	Find(ctMultipart, body, emailFields)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("Find allocated %d bytes for a 1 MiB file part (%v allocations)", n, allocs)
	}
}

// readCases feed TestRead and FuzzRead's seeds.
var readCases = []struct {
	name    string
	body    string
	max     int64
	chunk   int   // the original body returns at most chunk bytes per Read (0: all)
	failAt  int   // the original body fails after failAt bytes (-1: never)
	length  int64 // r.ContentLength (-1: unknown)
	wantOK  bool
	wantErr bool
}{
	{"small", "email=a", 64, 0, -1, 7, true, false},
	{"exactly_max", "0123456789", 10, 0, -1, 10, true, false},
	{"exactly_max_unknown_length", "0123456789", 10, 3, -1, -1, true, false},
	{"max_plus_one", "0123456789X", 10, 0, -1, 11, false, false},
	{"max_plus_one_unknown_length", "0123456789X", 10, 0, -1, -1, false, false},
	{"much_larger_streams", strings.Repeat("abcdefgh", 1000), 100, 7, -1, -1, false, false},
	{"declared_length_over_max", strings.Repeat("z", 50), 10, 0, -1, 50, false, false},
	{"declared_length_lies_short", "0123456789abc", 10, 0, -1, 2, false, false},
	{"empty", "", 10, 0, -1, 0, true, false},
	{"zero_max_empty", "", 0, 0, -1, -1, true, false},
	{"zero_max", "a", 0, 0, -1, -1, false, false},
	{"negative_max", "a", -5, 0, -1, -1, false, false},
	{"read_error_within_max", "0123456789", 64, 4, 6, -1, false, true},
	{"read_error_past_max", "0123456789", 3, 0, 8, -1, false, false},
	{"one_byte_chunks", "hello, world", 12, 1, -1, -1, true, false},
}

func TestRead(t *testing.T) {
	for _, tc := range readCases {
		t.Run(tc.name, func(t *testing.T) {
			src := &source{data: []byte(tc.body), chunk: tc.chunk, failAt: tc.failAt}
			r := httptest.NewRequest("POST", "/", nil)
			r.Body, r.ContentLength = src, tc.length
			body, ok, err := Read(r, tc.max)
			if ok != tc.wantOK || (err != nil) != tc.wantErr {
				t.Fatalf("Read: ok %v err %v, want ok %v err %v", ok, err, tc.wantOK, tc.wantErr)
			}
			if ok && string(body) != tc.body {
				t.Errorf("Read: body %q, want %q", body, tc.body)
			}
			if !ok && body != nil {
				t.Errorf("Read: body %q with ok false, want nil", body)
			}
			checkReplay(t, r, src, tc.body, tc.failAt)
		})
	}
}

// checkReplay reads r.Body to its end and checks that it delivers exactly what the
// original did, and that closing it closes the original.
func checkReplay(t *testing.T, r *http.Request, src *source, orig string, failAt int) {
	t.Helper()
	got, err := io.ReadAll(r.Body)
	want := orig
	if failAt >= 0 && failAt < len(orig) {
		want = orig[:failAt]
		if !errors.Is(err, errSource) {
			t.Errorf("replayed body: err %v, want %v", err, errSource)
		}
	} else if err != nil {
		t.Errorf("replayed body: err %v", err)
	}
	if string(got) != want {
		t.Errorf("replayed body: %q, want %q", got, want)
	}
	if err := r.Body.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !src.closed {
		t.Error("Close did not close the original body")
	}
}

func TestReadNoBody(t *testing.T) {
	for _, b := range []io.ReadCloser{nil, http.NoBody} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Body = b
		body, ok, err := Read(r, 10)
		if body != nil || !ok || err != nil || r.Body != b {
			t.Errorf("Read(%v) = %q, %v, %v; r.Body %v", b, body, ok, err, r.Body)
		}
	}
}

// TestReadStreams checks that Read returns once it has max+1 bytes, without waiting
// for the rest of the body, and that the rest then streams through r.Body.
func TestReadStreams(t *testing.T) {
	pr, pw := io.Pipe()
	r := httptest.NewRequest("POST", "/", nil)
	r.Body = pr
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.Write([]byte("0123456789"))
		pw.Write([]byte("rest-1"))
		pw.Write([]byte("rest-2"))
		pw.Close()
	}()
	_, ok, err := Read(r, 5)
	if ok || err != nil {
		t.Fatalf("Read: ok %v err %v, want false, nil", ok, err)
	}
	got, err := io.ReadAll(r.Body)
	if err != nil || string(got) != "0123456789rest-1rest-2" {
		t.Errorf("rest: %q, %v", got, err)
	}
	<-done
}

// TestReadServer reads a real server request and forwards it, checking that the
// handler behind Read sees the body the client sent.
func TestReadServer(t *testing.T) {
	const max = 32
	for _, body := range []string{"", "short=1", strings.Repeat("a", max), strings.Repeat("b", max+1), strings.Repeat("c", 100000)} {
		var got string
		var gotOK bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, gotOK, _ = Read(r, max)
			b, err := io.ReadAll(r.Body)
			if err != nil {
				t.Errorf("handler: %v", err)
			}
			got = string(b)
		}))
		resp, err := http.Post(srv.URL, ctForm, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		if got != body || gotOK != (len(body) <= max) {
			t.Errorf("body of %d bytes: handler read %d bytes, ok %v", len(body), len(got), gotOK)
		}
	}
}

// errSource is the error a failing source returns.
var errSource = errors.New("connection reset")

// source is an original request body: it returns data in chunks, may fail after
// failAt bytes, and records Close.
type source struct {
	data   []byte
	off    int
	chunk  int
	failAt int
	closed bool
}

func (s *source) Read(p []byte) (int, error) {
	if s.failAt >= 0 && s.off >= s.failAt && s.failAt < len(s.data) {
		return 0, errSource
	}
	if s.off >= len(s.data) {
		return 0, io.EOF
	}
	n := len(p)
	if s.chunk > 0 {
		n = min(n, s.chunk)
	}
	end := min(s.off+n, len(s.data))
	if s.failAt >= 0 {
		end = min(end, max(s.failAt, s.off))
	}
	n = copy(p, s.data[s.off:end])
	s.off += n
	return n, nil
}

func (s *source) Close() error {
	s.closed = true
	return nil
}
