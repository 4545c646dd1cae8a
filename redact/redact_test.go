package redact

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// Fake credentials of every kind the canary test covers. Provider prefixes are split
// from the rest so that secret scanners do not flag this file.
var (
	jwt       = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ." + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	awsID     = "AKIA" + "IOSFODNN7EXAMPLE"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
	ghp       = "ghp_" + "R2d2C3poBB8eightY9wZxQ1m4N7vK3sT6uL0a"
	ghPAT     = "github_pat_" + "11ABCDEFG0r4nd0mStr1ng_q8Wz3Xy7Lm2Nb5Vc9Kd1Hf6Jg4Ps0Tr8Ue2Ya5Io7Ou3Ie1Aw9Sd4Fg6Hj2Kl"
	stripeSK  = "sk_" + "live_51HqLyjWDarjtT1zdp7dcXyZ9aBcD"
	stripeRK  = "rk_" + "live_51HqLyjWDarjtT1zdp7dcQwErTy"
	slack     = "xoxb-" + "2435143212-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	google    = "AIza" + "SyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"
	openai    = "sk-" + "proj-Q8wZ3xY7lM2nB5vC9kD1hF6jG4pS0tR8uE2yA5iO7"
	basic     = "dXNlcjpjb3JyZWN0LWhvcnNlLWJhdHRlcnk=" // user:correct-horse-battery
	card      = "4111 1111 1111 1111"
	password  = "Tr0ub4dor&3xyz"
	cookieVal = "s%3Aq8Wz3Xy7Lm2Nb5Vc9Kd1"
)

// TestCanary feeds one of each secret, in the context an event carries it, through
// the methods the agent calls, and checks that no secret byte sequence survives and
// that each secret's placeholder is there.
func TestCanary(t *testing.T) {
	r := mustNew(t, Config{})
	secrets := []struct {
		name, secret, kind string
		redact             func() string
	}{
		{"jwt_header", jwt, "JWT", func() string { return r.Header("Authorization", "Bearer "+jwt) }},
		{"jwt_text", jwt, "JWT", func() string { return r.String("token in body: " + jwt + ".") }},
		{"aws_key_id", awsID, "AWS_KEY", func() string { return r.String("aws_access_key_id=" + awsID) }},
		{"aws_secret", awsSecret, "TOKEN", func() string { return r.String("creds " + awsID + " " + awsSecret) }},
		{"github_classic", ghp, "GITHUB_TOKEN", func() string { return r.Header("X-Forwarded-Auth", "token "+ghp) }},
		{"github_fine_grained", ghPAT, "GITHUB_TOKEN", func() string { return r.URL("/repos?access=" + ghPAT) }},
		{"stripe_secret", stripeSK, "STRIPE_KEY", func() string { return r.String("key " + stripeSK) }},
		{"stripe_restricted", stripeRK, "STRIPE_KEY", func() string { return r.String(`{"k":"` + stripeRK + `"}`) }},
		{"slack_bot", slack, "SLACK_TOKEN", func() string { return r.Query("t=" + slack) }},
		{"google_api_key", google, "GOOGLE_KEY", func() string { return r.URL("/maps?key=" + google + "&z=3") }},
		{"openai_project", openai, "OPENAI_KEY", func() string { return r.Header("X-Upstream", openai) }},
		{"basic_header", basic, "BASIC", func() string { return r.Header("Authorization", "Basic "+basic) }},
		{"basic_text", basic, "BASIC", func() string { return r.String("sent Basic " + basic) }},
		{"card", card, "CARD", func() string { return r.String("pay " + card + " now") }},
		{"password_json", password, "PASSWORD", func() string {
			return string(r.JSON([]byte(`{"user":"bob","password":"` + password + `"}`)))
		}},
		{"password_text", password, "PASSWORD", func() string { return r.String(`body {"user":"bob","password":"` + password + `"}`) }},
		{"password_form", "Tr0ub4dor", "PASSWORD", func() string { return r.Form("user=bob&pass=Tr0ub4dor%263xyz") }},
		{"cookie", cookieVal, "COOKIE", func() string { return r.Header("Cookie", "lang=en; connect.sid="+cookieVal) }},
	}
	for _, s := range secrets {
		t.Run(s.name, func(t *testing.T) {
			out := s.redact()
			// The distinctive part: the secret without its public prefix.
			distinct := s.secret[len(s.secret)/3:]
			if strings.Contains(out, distinct) {
				t.Errorf("output still holds %q:\n%s", distinct, out)
			}
			if !strings.Contains(out, "[REDACTED:"+s.kind+":") {
				t.Errorf("output lacks a %s placeholder:\n%s", s.kind, out)
			}
		})
	}
}

// cases feeds TestString, the fuzz seeds and the benchmarks. Every want was checked by
// hand: placeholder lengths count the characters of the replaced text.
var cases = []struct {
	name, in, want string
}{
	{"clean_path", "/api/v1/users/12345/orders?page=2&sort=desc", ""},
	{"clean_ulid_uuid", "request 01ARZ3NDEKTSV4RRFFQ69G5FAV for 550e8400-e29b-41d4-a716-446655440000", ""},
	{"clean_uuid_upper", "id=550E8400-E29B-41D4-A716-446655440000", ""},
	{"clean_timestamp", "at 2024-01-15T10:30:00.123Z and 2024-01-15 10:30:00+01:00", ""},
	{"clean_sqli", "sqli in query q: ' OR 1=1-- and 1 UNION SELECT password FROM users", ""},
	{"clean_xss", `xss in body: <script>alert(document.cookie)</script>`, ""},
	{"clean_user_agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", ""},
	{"clean_image_names", "/img/aGVsbG8gd29ybGQgdGhpcyBpcyBhbiBpbWFnZQ.png /cdn/Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA.webp", ""},
	{"clean_english", "The quick brown fox jumps over the lazy dog; basic auth and bearer tokens are explained below.", ""},
	{"clean_identifiers", "XMLHttpRequestEventTarget SomeClassName2Helper3Factory getUserAccountSettingsByIdentifier", ""},
	{"clean_numbers", "order 1234567890123456 ts 1700000000000 tweet 1745600000000000001 ip 192.168.100.200 v1.2.3", ""},
	{"clean_luhn_invalid", "card-like 4111 1111 1111 1112", ""},
	{"clean_hex_digest", "etag 9e107d9d372bb6826bd81d3542a419d6 sha d2d2d2aa0c2b5c1f6a4b3e8e6a53f2a8f0e1b7c9d3e5f7a9", ""},
	{"clean_status", "upstream status code: 502, rate key: ip", ""},
	{"clean_url", "https://example.com/search?q=golang#top", ""},
	{"jwt", "t=" + jwt, "t=[REDACTED:JWT:155_chars]"},
	{"bearer_opaque", "Authorization: Bearer abc123def456ghi789", "Authorization: [REDACTED:BEARER:25_chars]"},
	{"bearer_free", "got bearer abc123def456ghi789!", "got bearer [REDACTED:BEARER:18_chars]!"},
	{"basic", "Basic " + basic, "Basic [REDACTED:BASIC:36_chars]"},
	{"aws", awsID + ":" + awsSecret, "[REDACTED:AWS_KEY:20_chars]:[REDACTED:TOKEN:40_chars]"},
	{"github", "push " + ghp + " ok", "push [REDACTED:GITHUB_TOKEN:41_chars] ok"},
	{"stripe", stripeSK, "[REDACTED:STRIPE_KEY:37_chars]"},
	{"slack", "(" + slack + ")", "([REDACTED:SLACK_TOKEN:54_chars])"},
	{"google", google, "[REDACTED:GOOGLE_KEY:39_chars]"},
	{"openai", "OPENAI_API_KEY " + openai, "OPENAI_API_KEY [REDACTED:OPENAI_KEY:49_chars]"},
	{"generic_token", "/reset/Q8wZ3xY7lM2nB5vC9kD1hF6j/confirm", "/reset/[REDACTED:TOKEN:24_chars]/confirm"},
	{"card_spaces", "cc " + card + " exp 12/29", "cc [REDACTED:CARD:19_chars] exp 12/29"},
	{"card_dashes_cvv", "5555-5555-5555-4444 123", "[REDACTED:CARD:19_chars] 123"},
	{"card_amex", "378282246310005", "[REDACTED:CARD:15_chars]"},
	{"card_in_path", "/checkout/4111111111111111/pay", "/checkout/[REDACTED:CARD:16_chars]/pay"},
	{"card_in_path_after_token", "/r/Q8wZ3xY7lM2nB5vC9kD1hF6j/4111111111111111", "/r/[REDACTED:TOKEN:24_chars]/[REDACTED:CARD:16_chars]"},
	{"clean_numeric_path", "/orders/1700000000000/items/4111111111111112", ""},
	{"email", "from john.doe+x@gmail.com.", "from j***@g***.com."},
	{"email_encoded", "/u/jane%40example.co.uk/", "/u/j***@e***.uk/"},
	{"phone_intl", "call +44 20 7946 0958 now", "call +** ** **** **58 now"},
	{"phone_nanp", "tel (415) 555-2671", "tel (***) ***-**71"},
	{"password_kv", "password=hunter2&user=bob", "password=[REDACTED:PASSWORD:7_chars]&user=bob"},
	{"password_json", `{"pwd": "hunter2", "x": 1}`, `{"pwd": "[REDACTED:PASSWORD:7_chars]", "x": 1}`},
	{"secret_truncated", `{"client_secret":"abc`, `{"client_secret":"[REDACTED:SECRET:3_chars]`},
	{"url_userinfo", "dial postgres://app:s3cr3t@db:5432/x", "dial postgres://app:[REDACTED:PASSWORD:6_chars]@db:5432/x"},
	{"pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- tail", "[REDACTED:PRIVATE_KEY:68_chars] tail"},
	{"placeholder_kept", "x [REDACTED:JWT:12_chars] y", ""},
	{"clean_finding_labels", "cookie:theme: xss (<b>) and xss in cookie:SESSIONID (value withheld, 20 bytes)", ""},
	{"password_glued", "password:hunter2", "password:[REDACTED:PASSWORD:7_chars]"},
	{"secret_spaced", "session: abc123", "session: [REDACTED:SECRET:6_chars]"},
	{"unicode", "привет " + ghp + " 世界", "привет [REDACTED:GITHUB_TOKEN:41_chars] 世界"},
}

func mustNew(t testing.TB, cfg Config) *Redactor {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestString(t *testing.T) {
	r := mustNew(t, Config{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == "" {
				want = c.in
			}
			got := r.String(c.in)
			if got != want {
				t.Errorf("String(%q)\n got %q\nwant %q", c.in, got, want)
			}
			if again := r.String(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

// TestGenericMissRate measures how many random base64url tokens the generic rule
// misses, by length; the package documentation quotes these bounds.
func TestGenericMissRate(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, c := range []struct {
		n       int
		maxMiss float64
	}{{20, 0.04}, {32, 0.01}, {40, 0.005}} {
		const trials = 20000
		miss := 0
		b := make([]byte, c.n)
		for range trials {
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			// Tokens that start like a provider key are found by that rule instead.
			if s := string(b); !isRandom(s) {
				miss++
			}
		}
		if rate := float64(miss) / trials; rate > c.maxMiss {
			t.Errorf("length %d: miss rate %.4f > %.4f", c.n, rate, c.maxMiss)
		}
	}
}

func TestHeader(t *testing.T) {
	r := mustNew(t, Config{Headers: []string{"X-Tenant-Pass"}})
	for _, c := range []struct{ name, header, value, want string }{
		{"authorization_jwt", "Authorization", "Bearer " + jwt, "[REDACTED:JWT:162_chars]"},
		{"authorization_opaque", "authorization", "Bearer abc", "[REDACTED:BEARER:10_chars]"},
		{"authorization_basic", "Authorization", "Basic " + basic, "[REDACTED:BASIC:42_chars]"},
		{"authorization_other", "Authorization", "Digest username=\"a\"", "[REDACTED:SECRET:19_chars]"},
		{"proxy_authorization", "Proxy-Authorization", "Basic " + basic, "[REDACTED:BASIC:42_chars]"},
		{"api_key", "X-Api-Key", google, "[REDACTED:GOOGLE_KEY:39_chars]"},
		{"csrf", "X-CSRF-Token", "abc", "[REDACTED:SECRET:3_chars]"},
		{"session", "X-Session-Id", "42", "[REDACTED:SECRET:2_chars]"},
		{"configured", "x-tenant-pass", "pw", "[REDACTED:SECRET:2_chars]"},
		{"cookie", "Cookie", "a=1234567890123456; b=xyz", "a=[REDACTED:COOKIE:16_chars]; b=[REDACTED:COOKIE:3_chars]"},
		{"cookie_jwt", "Cookie", "session=" + jwt, "session=[REDACTED:JWT:155_chars]"},
		{"set_cookie", "Set-Cookie", "sid=abc; Path=/; HttpOnly; SameSite=Lax", "sid=[REDACTED:COOKIE:3_chars]; Path=/; HttpOnly; SameSite=Lax"},
		{"referer", "Referer", "https://app.example/cb?code=xyz&state=1", "https://app.example/cb?code=[REDACTED:SECRET:3_chars]&state=1"},
		{"user_agent", "User-Agent", "curl/8.4.0", "curl/8.4.0"},
		{"other_shape", "X-Debug", "key " + stripeSK, "key [REDACTED:STRIPE_KEY:37_chars]"},
		{"empty", "Authorization", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := r.Header(c.header, c.value)
			if got != c.want {
				t.Errorf("Header(%q, %q)\n got %q\nwant %q", c.header, c.value, got, c.want)
			}
			if again := r.Header(c.header, got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	r := mustNew(t, Config{})
	h := http.Header{
		"Authorization": {"Bearer " + jwt},
		"Accept":        {"text/html"},
	}
	got := r.Headers(h)
	want := http.Header{
		"Authorization": {"[REDACTED:JWT:162_chars]"},
		"Accept":        {"text/html"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Headers (-want +got):\n%s", diff)
	}
	if h.Get("Authorization") != "Bearer "+jwt {
		t.Error("Headers changed its argument")
	}
	if r.Headers(nil) != nil {
		t.Error("Headers(nil) != nil")
	}
}

func TestQuery(t *testing.T) {
	r := mustNew(t, Config{Fields: []string{"X-Tenant-Pin"}})
	for _, c := range []struct{ name, in, want string }{
		{"clean", "page=2&sort=desc&q=hello+world", "page=2&sort=desc&q=hello+world"},
		{"password", "user=bob&password=p%40ss+word", "user=bob&password=[REDACTED:PASSWORD:9_chars]"},
		{"oauth", "code=4%2F0AX4&state=abc", "code=[REDACTED:SECRET:6_chars]&state=abc"},
		{"token_jwt", "access_token=" + jwt, "access_token=[REDACTED:JWT:155_chars]"},
		{"configured", "x_tenant_pin=1234", "x_tenant_pin=[REDACTED:SECRET:4_chars]"},
		{"email_field", "email=John%40Gmail.com", "email=J***@G***.com"},
		{"phone_field", "phone=%2B14155552671", "phone=%2B*********71"},
		{"shape_in_value", "redirect=%2Fcb%3Ft%3D" + ghp, "redirect=/cb?t%3D[REDACTED:GITHUB_TOKEN:41_chars]"},
		{"bare_value", ghp, "[REDACTED:GITHUB_TOKEN:41_chars]"},
		{"empty_value", "password=&x=", "password=&x="},
		{"bad_escape", "q=%zz&token=%zz", "q=%zz&token=[REDACTED:SECRET:3_chars]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := r.Query(c.in)
			if got != c.want {
				t.Errorf("Query(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
			if again := r.Query(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestURL(t *testing.T) {
	r := mustNew(t, Config{})
	for _, c := range []struct{ in, want string }{
		{"/api/v1/users/12345", "/api/v1/users/12345"},
		{"https://u:pw@h.example/p?token=t1#access_token=t2&x=1", "https://u:[REDACTED:PASSWORD:2_chars]@h.example/p?token=[REDACTED:SECRET:2_chars]#access_token=[REDACTED:SECRET:2_chars]&x=1"},
		{"/users/a@b.io/profile?tab=1", "/users/a***@b***.io/profile?tab=1"},
	} {
		if got := r.URL(c.in); got != c.want {
			t.Errorf("URL(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestJSON(t *testing.T) {
	r := mustNew(t, Config{})
	for _, c := range []struct{ name, in, want string }{
		{"clean", `{"a": [1, 2.5, true, null, "x"], "b": {}}`, `{"a": [1, 2.5, true, null, "x"], "b": {}}`},
		{"password", `{"user":"bob","password":"hunter2"}`, `{"user":"bob","password":"[REDACTED:PASSWORD:7_chars]"}`},
		{"nested_secret", `{"credentials":{"id":"u1","n":[42,"x"],"ok":true}}`, `{"credentials":{"id":"[REDACTED:SECRET:2_chars]","n":["[REDACTED:SECRET:2_chars]","[REDACTED:SECRET:1_chars]"],"ok":true}}`},
		{"number_card", `{"n":4111111111111111}`, `{"n":"[REDACTED:CARD:16_chars]"}`},
		{"escaped", `{"note":"key\u003a ` + stripeSK + `"}`, `{"note":"key: [REDACTED:STRIPE_KEY:37_chars]"}`},
		{"email_member", `{"email":"Jane@Example.org","tel":"+1 415 555 2671"}`, `{"email":"J***@E***.org","tel":"+* *** *** **71"}`},
		{"shape_in_key", `{"` + ghp + `":1}`, `{"[REDACTED:GITHUB_TOKEN:41_chars]":1}`},
		{"top_level_string", `"Bearer abc123def456ghi789"`, `"Bearer [REDACTED:BEARER:18_chars]"`},
		{"invalid_falls_back", `{"password":"hunter2"`, `{"password":"[REDACTED:PASSWORD:7_chars]"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := string(r.JSON([]byte(c.in)))
			if got != c.want {
				t.Errorf("JSON(%s)\n got %s\nwant %s", c.in, got, c.want)
			}
			if json.Valid([]byte(c.in)) && !json.Valid([]byte(got)) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestModes(t *testing.T) {
	key := []byte("0123456789abcdef")
	for _, c := range []struct {
		name         string
		cfg          Config
		email, phone string
	}{
		{"mask", Config{}, "J***@g***.com", "+* (***) ***-**71"},
		{"keep", Config{Emails: Keep, Phones: Keep}, "John.Doe@gmail.com", "+1 (415) 555-2671"},
		// Values computed with: printf %s john.doe@gmail.com | openssl dgst -sha256 -hmac 0123456789abcdef
		// and printf %s +14155552671 | openssl dgst -sha256 -hmac 0123456789abcdef (first 12 hex digits).
		{"hash", Config{Emails: Hash, Phones: Hash, Key: key}, "email:hmac:17835fcaa186", "phone:hmac:3e8dbde7e1ad"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustNew(t, c.cfg)
			if got := r.Email("John.Doe@gmail.com"); got != c.email {
				t.Errorf("Email = %q, want %q", got, c.email)
			}
			if got := r.Phone("+1 (415) 555-2671"); got != c.phone {
				t.Errorf("Phone = %q, want %q", got, c.phone)
			}
			in := "from John.Doe@gmail.com, +1 (415) 555-2671"
			want := "from " + c.email + ", " + c.phone
			if got := r.String(in); got != want {
				t.Errorf("String = %q, want %q", got, want)
			}
			if c.cfg.Emails != Keep {
				if got, want := r.String("/u/John.Doe%40gmail.com"), "/u/"+c.email; got != want {
					t.Errorf("String(encoded) = %q, want %q", got, want)
				}
			}
			if got := r.String(want); got != want {
				t.Errorf("String not idempotent: %q → %q", want, got)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"unknown_mode", Config{Emails: "blur"}},
		{"hash_without_key", Config{Phones: Hash}},
		{"short_key", Config{Emails: Hash, Key: []byte("short")}},
		{"empty_header", Config{Headers: []string{" "}}},
		{"empty_field", Config{Fields: []string{"-_"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.cfg); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}

// TestZeroRedactor checks that the zero Redactor works as New(Config{}).
func TestZeroRedactor(t *testing.T) {
	var zero Redactor
	r := mustNew(t, Config{})
	for _, c := range cases {
		if got, want := zero.String(c.in), r.String(c.in); got != want {
			t.Errorf("%s: zero Redactor %q, New %q", c.name, got, want)
		}
	}
}

// TestCleanAllocs checks that clean text is returned without allocating.
func TestCleanAllocs(t *testing.T) {
	r := mustNew(t, Config{})
	for _, c := range cases {
		if c.want != "" {
			continue
		}
		if n := vigiltest.AllocsPerRun(100, func() { _ = r.String(c.in) }); n != 0 {
			t.Errorf("%s: %v allocs, want 0", c.name, n)
		}
	}
}

func BenchmarkString(b *testing.B) {
	r := mustNew(b, Config{})
	clean := "GET /api/v1/users/12345/orders?page=2&sort=desc HTTP/1.1 from 203.0.113.7 " +
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 rid=01ARZ3NDEKTSV4RRFFQ69G5FAV"
	for _, c := range []struct{ name, in string }{
		{"clean_200B", clean[:200]},
		{"secret_200B", clean[:100] + " Bearer " + jwt[:92]},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				_ = r.String(c.in)
			}
		})
	}
	b.Run("cases", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range cases {
				_ = r.String(c.in)
			}
		}
	})
}

func BenchmarkHeader(b *testing.B) {
	r := mustNew(b, Config{})
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Header("Authorization", "Bearer "+jwt[:40])
		_ = r.Header("Accept-Language", "en-US,en;q=0.9")
	}
}

func BenchmarkJSON(b *testing.B) {
	r := mustNew(b, Config{})
	doc := []byte(`{"user":"bob","password":"hunter2","items":[{"sku":"A-1","qty":2}],"note":"deliver after 5pm"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		_ = r.JSON(doc)
	}
}
