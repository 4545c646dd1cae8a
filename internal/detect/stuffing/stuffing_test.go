package stuffing

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// counter is an in-memory Counter that ignores windows: enough to check the
// arithmetic; the guard's tests run the real stores.
type counter struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *counter) Add(_ context.Context, key string, n int64, _ time.Duration) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[key] += n
	return c.m[key], nil
}

var limits = Limits{Window: time.Hour, FailuresPerIP: 20, UsernamesPerIP: 10, UsernamesPerDNA: 10, IPsPerUsername: 5}

func codes(v Verdict) (out []string) {
	for _, f := range v.Findings {
		out = append(out, f.Code)
	}
	return out
}

func TestThresholds(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		attempts func(i int) Attempt
		n        int
		probe    Attempt
		want     []string
		banIP    bool
	}{
		{"one_ip_many_usernames", func(i int) Attempt { return Attempt{IP: "ip1", DNA: "d1", Username: string(rune('a' + i))} }, 10,
			Attempt{IP: "ip1", DNA: "d1", Username: "z"}, []string{CodeStuffing}, true},
		{"one_ip_one_username_brute_force", func(int) Attempt { return Attempt{IP: "ip1", DNA: "d1", Username: "alice"} }, 20,
			Attempt{IP: "ip1", DNA: "d1", Username: "alice"}, []string{CodeStuffing}, true},
		{"person_failing_three_times", func(int) Attempt { return Attempt{IP: "ip1", DNA: "d1", Username: "alice"} }, 3,
			Attempt{IP: "ip1", DNA: "d1", Username: "alice"}, nil, false},
		{"rotating_ips_one_dna", func(i int) Attempt {
			return Attempt{IP: "ip" + string(rune('a'+i)), DNA: "d1", Username: "u" + string(rune('a'+i))}
		}, 10,
			Attempt{IP: "new", DNA: "d1", Username: "x"}, []string{CodeStuffing}, false},
		{"browser_dna_gets_more_room", func(i int) Attempt {
			return Attempt{IP: "ip" + string(rune('a'+i)), DNA: "chrome", Browser: true, Username: "u" + string(rune('a'+i))}
		}, 10, Attempt{IP: "new", DNA: "chrome", Browser: true, Username: "x"}, nil, false},
		{"targeted_username", func(i int) Attempt {
			return Attempt{IP: "ip" + string(rune('a'+i)), DNA: "d" + string(rune('a'+i)), Username: "ceo"}
		}, 5,
			Attempt{IP: "new", DNA: "new", Username: "CEO "}, []string{CodeTargeted}, false},
		// Five spellings of one Gmail account, each from its own IP, are one account.
		{"targeted_email_spellings", func(i int) Attempt {
			return Attempt{IP: "ip" + string(rune('a'+i)), DNA: "d" + string(rune('a'+i)),
				Username: []string{"ceo@gmail.com", "C.E.O@gmail.com", "ceo+1@gmail.com", " ceo@googlemail.com", "c.eo+x@GMAIL.com"}[i]}
		}, 5,
			Attempt{IP: "new", DNA: "new", Username: "ceo+login@gmail.com"}, []string{CodeTargeted}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &counter{}
			for i := range tc.n {
				if err := Failed(ctx, c, limits, tc.attempts(i)); err != nil {
					t.Fatal(err)
				}
			}
			v, err := Check(ctx, c, limits, tc.probe)
			if err != nil {
				t.Fatal(err)
			}
			if got := codes(v); len(got) != len(tc.want) || len(got) > 0 && got[0] != tc.want[0] || v.BanIP != tc.banIP {
				t.Errorf("findings %v ban %v, want %v ban %v", got, v.BanIP, tc.want, tc.banIP)
			}
			for k := range c.m {
				if len(k) > 80 || containsName(k) {
					t.Errorf("store key %q holds a username in clear or is too long", k)
				}
			}
		})
	}
}

func TestUsernameKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"gmail_dots_and_tag", "J.o.h.n+1@gmail.com", "john@gmail.com", true},
		{"googlemail_alias", "john@googlemail.com", "john@gmail.com", true},
		{"case_and_space", " John@Example.COM ", "john@example.com", true},
		{"tag_cut_elsewhere", "john+shop@outlook.com", "john@outlook.com", true},
		{"dots_kept_elsewhere", "j.ohn@outlook.com", "john@outlook.com", false},
		{"plain_name_case_and_space", " Alice ", "alice", true},
		{"plain_name_dots_kept", "a.lice", "alice", false},
		{"plain_name_plus_kept", "alice+1", "alice", false},
		{"invalid_email_keeps_form", "john+1@localhost", "john@localhost", false},
		{"distinct_accounts", "john@gmail.com", "jane@gmail.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ka, kb := UsernameKey(tc.a), UsernameKey(tc.b)
			if (ka == kb) != tc.same {
				t.Errorf("UsernameKey(%q) = %s, UsernameKey(%q) = %s; want same: %v", tc.a, ka, tc.b, kb, tc.same)
			}
			if len(ka) != 16 {
				t.Errorf("UsernameKey(%q) = %q, want 16 hex digits", tc.a, ka)
			}
		})
	}
	// The non-e-mail form is the trimmed lower-case one: the key is unchanged for it.
	if got, want := UsernameKey(" Alice "), "2bd806c97f0e00af"; got != want {
		t.Errorf("UsernameKey(\" Alice \") = %s, want %s (SHA-256 of \"alice\")", got, want)
	}
}

func containsName(k string) bool {
	return strings.Contains(k, "alice") || strings.Contains(k, "ceo") || strings.Contains(k, "gmail")
}
