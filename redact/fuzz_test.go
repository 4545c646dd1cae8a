package redact

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// canaryKinds are the kinds found by shape alone, without context: a secret of these
// kinds must not survive anywhere its bytes occur only as a finding.
var canaryKinds = map[string]bool{
	"JWT": true, "AWS_KEY": true, "GITHUB_TOKEN": true, "STRIPE_KEY": true, "SLACK_TOKEN": true,
	"GOOGLE_KEY": true, "OPENAI_KEY": true, "CARD": true, "TOKEN": true, "BASIC": true, "BEARER": true,
}

func fuzzSeeds(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in)
	}
	for _, s := range []string{jwt, awsID, awsSecret, ghp, ghPAT, stripeSK, stripeRK, slack, google, openai,
		"Basic " + basic, card, `{"password":"` + password + `"}`, "sid=" + cookieVal} {
		f.Add(s)
	}
}

func FuzzString(f *testing.F) {
	fuzzSeeds(f)
	r := mustNew(f, Config{})
	f.Fuzz(func(t *testing.T, in string) {
		out := r.String(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q → %q", in, out)
		}
		if again := r.String(out); again != out {
			t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", in, out, again)
		}
		// Every secret found in the input is gone from the output, unless its bytes
		// also occur in the input where they are not a finding.
		found := map[string]int{}
		for m, ok := r.next(in, 0); ok; m, ok = r.next(in, m.end) {
			if canaryKinds[m.kind] {
				found[in[m.start:m.end]]++
			}
		}
		for sec, n := range found {
			if strings.Count(in, sec) == n && strings.Contains(out, sec) {
				t.Fatalf("secret %q survives:\n in  %q\n out %q", sec, in, out)
			}
		}
	})
}

func FuzzHeader(f *testing.F) {
	for _, name := range []string{"Authorization", "Cookie", "Set-Cookie", "Referer", "X-Api-Key", "User-Agent"} {
		for _, c := range cases[:8] {
			f.Add(name, c.in)
		}
		f.Add(name, "Bearer "+jwt)
		f.Add(name, "a=b; c="+jwt+"; Path=/")
	}
	r := mustNew(f, Config{})
	f.Fuzz(func(t *testing.T, name, value string) {
		out := r.Header(name, value)
		if utf8.ValidString(value) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q → %q", value, out)
		}
		if again := r.Header(name, out); again != out {
			t.Fatalf("not idempotent for %q:\n in    %q\n once  %q\n twice %q", name, value, out, again)
		}
	})
}

func FuzzQuery(f *testing.F) {
	fuzzSeeds(f)
	f.Add("user=bob&password=p%40ss+word&email=a%40b.co&phone=%2B14155552671")
	f.Add("code=4%2F0AX4&state=abc#access_token=" + jwt)
	r := mustNew(f, Config{})
	f.Fuzz(func(t *testing.T, in string) {
		out := r.Query(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q → %q", in, out)
		}
		if again := r.Query(out); again != out {
			t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", in, out, again)
		}
		if u := r.URL(in); utf8.ValidString(in) && !utf8.ValidString(u) {
			t.Fatalf("URL: valid UTF-8 in, invalid out: %q → %q", in, u)
		}
	})
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"user":"bob","password":"hunter2","n":[1,2,{"token":"x"}]}`,
		`{"credentials":{"id":"u1","n":[42,"x"],"ok":true}}`,
		`{"n":4111111111111111,"email":"a@b.co","tel":"+14155552671"}`,
		`["Bearer abc123def456ghi789", "` + jwt + `"]`,
		`{"note":"key\u003a ` + stripeSK + `\n"}`,
		`"x"`, `12`, `null`, `{"password":"unterminated`,
	} {
		f.Add([]byte(s))
	}
	r := mustNew(f, Config{})
	f.Fuzz(func(t *testing.T, in []byte) {
		out := r.JSON(in)
		if json.Valid(in) && !json.Valid(out) {
			t.Fatalf("valid JSON in, invalid out:\n in  %s\n out %s", in, out)
		}
		if utf8.Valid(in) && !utf8.Valid(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q → %q", in, out)
		}
		if again := r.JSON(out); string(again) != string(out) {
			t.Fatalf("not idempotent:\n in    %s\n once  %s\n twice %s", in, out, again)
		}
	})
}
