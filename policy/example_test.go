package policy_test

import (
	"fmt"
	"os"
	"time"

	"github.com/vigilhq/vigil/policy"
)

func ExampleParse() {
	doc := []byte(`
mode: monitor
exclude_paths: [/healthz, /static/]
rate_limit:
  per_ip: 300/1m burst 50
rules:
  - name: admin-outside-office
    match:
      paths: [/admin/**]
      not:
        ips: [192.0.2.0/24]
    action: challenge
`)
	p, err := policy.Parse(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Mode, p.RateLimit.PerIP, p.Rules[0].Name, p.Rules[0].Action)

	// Unknown keys are errors that name their line.
	_, err = policy.Parse([]byte("mode: block\nblock_treshold: 70\n"))
	fmt.Println(err)
	// Output:
	// monitor 300/1m burst 50 admin-outside-office challenge
	// line 2: unknown field "block_treshold"
}

func ExampleDefault() {
	y, err := policy.Default().YAML()
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(y)
	// Output:
	// mode: block
	// block_threshold: 80
	// bans:
	//   ttl: 1h
	//   max_ttl: 24h
	//   window: 24h
	// rate_limit:
	//   per_ip: 600/1m burst 100
	//   adaptive:
	//     score: 40
	//     factor: 0.25
}

func ExamplePolicy_Validate() {
	p := policy.Policy{
		BlockThreshold: 120,
		Allow:          []string{"10.1.2.3/8"},
		Rules: []policy.Rule{{
			Name:  "debug",
			Score: 50,
			Match: policy.Match{Headers: map[string]string{"X-Debug": "(on"}},
		}},
	}
	fmt.Println(p.Validate())
	// Output:
	// block_threshold: 120 is outside 1–100 (0 means the default)
	// allow[0]: "10.1.2.3/8" has host bits set: write 10.0.0.0/8
	// rules[0].match.headers["X-Debug"]: invalid regex: missing closing ): `(on`
}

func ExamplePolicy_JSON() {
	p := policy.Policy{
		Mode:      policy.ModeMonitor,
		RateLimit: policy.RateLimits{PerDNA: policy.Limit{Rate: 100, Period: policy.Duration(time.Minute)}},
		Bans:      policy.Bans{TTL: policy.Duration(90 * time.Second)},
	}
	j, err := p.JSON()
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(j)
	// Output:
	// {
	//   "mode": "monitor",
	//   "bans": {
	//     "ttl": "1m30s"
	//   },
	//   "rate_limit": {
	//     "per_dna": "100/1m"
	//   }
	// }
}

func ExampleBans_Length() {
	var b policy.Bans // the defaults: 1h, doubling, at most 24h
	for n := 1; n <= 6; n++ {
		fmt.Print(b.Length(n), " ")
	}
	fmt.Println()
	// Output:
	// 1h0m0s 2h0m0s 4h0m0s 8h0m0s 16h0m0s 24h0m0s
}
