package decode

import (
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// cases feeds TestString, the fuzz seeds and BenchmarkString.
var cases = []struct {
	name string
	in   string
	ctx  Context
	want string
}{
	{"clean_ascii_unchanged", "products page 2", Text, "products page 2"},
	{"clean_path_unchanged", "/static/app.js", Path, "/static/app.js"},
	{"empty", "", Query, ""},
	{"percent_once", "%3Cscript%3E", Text, "<script>"},
	{"percent_lowercase_hex", "%3cscript%3e", Text, "<script>"},
	{"percent_double", "%253Cscript%253E", Text, "<script>"},
	{"percent_triple", "%25252e%25252e%25252f", Text, "../"},
	{"percent_quadruple_stops_after_three_rounds", "%2525252e", Text, "%2e"},
	{"plus_is_space_in_query", "1+union+select", Query, "1 union select"},
	{"plus_is_literal_in_text", "1+1=2", Text, "1+1=2"},
	{"encoded_plus_stays_plus", "1%2B1%3D2", Query, "1+1=2"},
	{"malformed_escape_kept", "100%zz and 50%", Text, "100%zz and 50%"},
	{"percent_then_space_kept", "100% sure", Query, "100% sure"},
	{"iis_unicode_escape", "%u003cscript%u003e", Text, "<script>"},
	{"iis_fullwidth_escape_folds", "%uff1cscript%uff1e", Text, "<script>"},
	{"iis_surrogate_pair", "%uD83D%uDE00", Text, "\U0001F600"},
	{"iis_lone_surrogate_is_replacement", "%uD83Dx", Text, "\uFFFDx"},
	{"html_named", "&lt;script&gt;", Text, "<script>"},
	{"html_named_no_semicolon", "&ltscript&gt", Text, "<script>"},
	{"html_decimal", "&#60;svg&#62;", Text, "<svg>"},
	{"html_decimal_leading_zeros_no_semicolon", "&#0000060svg", Text, "<svg"},
	{"html_hex", "&#x3C;img&#X3e;", Text, "<img>"},
	{"html_colon_entity", "javascript&colon;alert(1)", Text, "javascript:alert(1)"},
	{"html_ampersand_prose_kept", "rock & roll", Text, "rock & roll"},
	{"percent_then_html", "%26lt%3Bscript%26gt%3B", Text, "<script>"},
	{"html_then_percent", "&#37;3Cscript&#37;3E", Text, "<script>"},
	{"fullwidth_to_ascii", "ｓｅｌｅｃｔ＜＞", Text, "select<>"},
	{"fullwidth_percent_decodes_next_round", "％３Ｃ", Text, "<"},
	{"nul_removed", "/etc/passwd%00.png", Text, "/etc/passwd.png"},
	{"raw_nul_removed", "a\x00b", Text, "ab"},
	{"overlong_dot_slash", "\xc0\xae\xc0\xae\xc0\xafetc", Text, "../etc"},
	{"overlong_three_byte_dot", "\xe0\x80\xae", Text, "."},
	{"overlong_percent_encoded", "%c0%ae%c0%ae/", Text, "../"},
	{"overlong_nul_removed", "a\xc0\x80b", Text, "ab"},
	{"invalid_utf8_kept", "a\xffb", Text, "a\xffb"},
	{"accented_letters_nfkc", "Cafe\u0301", Text, "Café"},
	{"ligature_nfkc", "\ufb01le", Text, "file"},
	{"path_backslash", `..\..\windows\win.ini`, Path, "../../windows/win.ini"},
	{"path_encoded_backslash", "..%5c..%5cwin.ini", Path, "../../win.ini"},
	{"path_double_slash", "/a//b///c", Path, "/a/b/c"},
	{"path_dot_segments", "/a/./b/.", Path, "/a/b/"},
	{"path_dotdot_kept", "/a/../../etc/passwd", Path, "/a/../../etc/passwd"},
	{"path_encoded_dotdot", "/%2e%2e/%2e%2e/etc/passwd", Path, "/../../etc/passwd"},
	{"path_plus_literal", "/c++/intro", Path, "/c++/intro"},
	{"path_leading_dot_segment", "./a", Path, "a"},
	{"path_root", "//", Path, "/"},
}

func TestString(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := String(tc.in, tc.ctx); got != tc.want {
				t.Errorf("String(%q, %d) = %q, want %q", tc.in, tc.ctx, got, tc.want)
			}
		})
	}
}

func TestStringCleanInputDoesNotAllocate(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ctx  Context
	}{
		{"query_word", "price", Query},
		{"text_sentence", "select a plan, then pay.", Text},
		{"path", "/products/42/reviews", Path},
		{"user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)", Text},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := vigiltest.AllocsPerRun(100, func() { _ = String(tc.in, tc.ctx) })
			if n != 0 {
				t.Errorf("String(%q) allocates %v times, want 0", tc.in, n)
			}
		})
	}
}

func TestPercentMatchesQueryUnescape(t *testing.T) {
	for _, in := range []string{"a%20b", "1+1%3D2", "%E2%82%AC", "%41%42%43", "plain", "x%2By"} {
		want, err := url.QueryUnescape(in)
		if err != nil {
			t.Fatalf("QueryUnescape(%q): %v", in, err)
		}
		if got := Percent(in, true); got != want {
			t.Errorf("Percent(%q, true) = %q, QueryUnescape = %q", in, got, want)
		}
	}
}

func TestCleanPathIdempotent(t *testing.T) {
	for _, in := range []string{"/a//b/./c/", `\\server\share`, "/./", ".", "a/./", "/.../x"} {
		once := CleanPath(in)
		if twice := CleanPath(once); twice != once {
			t.Errorf("CleanPath(%q) = %q, again = %q", in, once, twice)
		}
	}
}

// checkBounds asserts the invariants every decoder promises for any input.
func checkBounds(t *testing.T, name, in, out string) {
	t.Helper()
	if len(out) > MaxGrowth*len(in)+growthSlack {
		t.Fatalf("%s(%q): output %d bytes, input %d", name, in, len(out), len(in))
	}
}

func FuzzPercent(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.in, tc.ctx == Query)
	}
	f.Fuzz(func(t *testing.T, in string, plus bool) {
		out := Percent(in, plus)
		if len(out) > len(in) {
			t.Fatalf("Percent(%q) = %q: longer than input", in, out)
		}
		if !strings.Contains(in, "%u") && !strings.Contains(in, "%U") {
			// Where both accept the input, one round is exactly url's decoding.
			var want string
			var err error
			if plus {
				want, err = url.QueryUnescape(in)
			} else {
				want, err = url.PathUnescape(in)
			}
			if err == nil && out != want {
				t.Fatalf("Percent(%q, %v) = %q, net/url = %q", in, plus, out, want)
			}
		}
		if !strings.ContainsAny(in, "%+") && out != in {
			t.Fatalf("Percent(%q) changed input without escapes: %q", in, out)
		}
	})
}

func FuzzHTML(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := HTML(in)
		if out != html.UnescapeString(in) {
			t.Fatalf("HTML(%q) = %q, differs from html.UnescapeString", in, out)
		}
		if len(out) > len(in) {
			t.Fatalf("HTML(%q) = %q: longer than input", in, out)
		}
	})
}

func FuzzUnicode(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Unicode(in)
		checkBounds(t, "Unicode", in, out)
		if strings.IndexByte(out, 0) >= 0 {
			t.Fatalf("Unicode(%q) = %q: still holds NUL", in, out)
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("Unicode(%q) = %q: made valid UTF-8 invalid", in, out)
		}
	})
}

func FuzzCleanPath(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := CleanPath(in)
		if len(out) > len(in) {
			t.Fatalf("CleanPath(%q) = %q: longer than input", in, out)
		}
		if again := CleanPath(out); again != out {
			t.Fatalf("CleanPath not idempotent: %q → %q → %q", in, out, again)
		}
		if strings.Contains(out, "//") || strings.Contains(out, `\`) {
			t.Fatalf("CleanPath(%q) = %q: separators left", in, out)
		}
		if strings.Count(out, "..") < strings.Count(strings.ReplaceAll(in, `\`, "/"), "/../") {
			t.Fatalf("CleanPath(%q) = %q: lost a .. segment", in, out)
		}
	})
}

func FuzzString(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.in, uint8(tc.ctx))
	}
	f.Fuzz(func(t *testing.T, in string, c uint8) {
		ctx := Context(c % 3)
		out, fixpoint := normalize(in, ctx)
		checkBounds(t, "String", in, out)
		if !NeedsDecoding(in, ctx) && out != in {
			t.Fatalf("String(%q) changed input that needs no decoding: %q", in, out)
		}
		if fixpoint && ctx != Query {
			// A finished decoding is stable: decoding it again changes nothing.
			// (In Query context '+' means space only in the raw input, so a second
			// pass would legitimately read the decoded text differently.)
			if again := String(out, ctx); again != out {
				t.Fatalf("String not idempotent at fixpoint: %q → %q → %q", in, out, again)
			}
		}
	})
}

func BenchmarkString(b *testing.B) {
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = String(tc.in, tc.ctx)
			}
		})
	}
}

// escapeCases feeds TestEscapes and FuzzEscapes.
var escapeCases = []struct {
	name, in, want string
}{
	{"no_backslash", "plain text", "plain text"},
	{"unicode_escape", `$\u007Bjndi:ldap://x}`, "${jndi:ldap://x}"},
	{"hex_escape", `\x3cscript\x3e`, "<script>"},
	{"braced_escape", `\u{61}lert`, "alert"},
	{"surrogate_pair", `\uD83D\uDE00`, "\U0001F600"},
	{"lone_surrogate", `\uD83Dx`, "\uFFFDx"},
	{"windows_path_kept", `C:\Users\xavier\new`, `C:\Users\xavier\new`},
	{"short_escape_kept", `\u12`, `\u12`},
	{"trailing_backslash", `abc\`, `abc\`},
}

func TestEscapes(t *testing.T) {
	for _, tc := range escapeCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escapes(tc.in); got != tc.want {
				t.Errorf("Escapes(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzEscapes(f *testing.F) {
	for _, tc := range escapeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Escapes(in)
		if len(out) > len(in) {
			t.Fatalf("Escapes(%q) = %q: longer than input", in, out)
		}
		if !strings.Contains(in, `\`) && out != in {
			t.Fatalf("Escapes(%q) changed input without backslashes: %q", in, out)
		}
		// Where the input is a JSON string body using only \u escapes, JSON decoding
		// is the reference.
		if !strings.Contains(in, `\x`) && !strings.Contains(in, `\u{`) && !strings.Contains(in, `\U`) && utf8.ValidString(in) {
			var want string
			if err := json.Unmarshal([]byte(`"`+in+`"`), &want); err == nil && !strings.ContainsAny(in, "\"") {
				onlyU := true
				for i := 0; i < len(in); i++ {
					if in[i] == '\\' {
						if i+1 < len(in) && in[i+1] == 'u' {
							i++
							continue
						}
						onlyU = false
					}
				}
				if onlyU && out != want {
					t.Fatalf("Escapes(%q) = %q, encoding/json = %q", in, out, want)
				}
			}
		}
	})
}
