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

func containsName(k string) bool {
	return strings.Contains(k, "alice") || strings.Contains(k, "ceo")
}
