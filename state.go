package vigil

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/knownclients"
	"github.com/vigilhq/vigil/internal/rules"
	"github.com/vigilhq/vigil/policy"
)

// state is a compiled policy: everything a request needs, built once per SetPolicy and
// swapped atomically. It is immutable.
type state struct {
	policy  policy.Policy // as given to New or SetPolicy
	eff     policy.Policy // with defaults filled in
	rules   *rules.Set
	monitor bool

	perIP, perDNA  Limit
	adaptive       bool
	adaptiveScore  int
	adaptiveFactor float64

	botBlock, botAllow map[string]bool
	verifyCrawlers     bool

	clients *knownclients.Table // the built-in table with the policy's overlay
}

func compile(p policy.Policy) (*state, error) {
	set, err := rules.Compile(p)
	if err != nil {
		return nil, err
	}
	clients, err := p.KnownClientsTable()
	if err != nil {
		return nil, fmt.Errorf("known_clients: %w", err)
	}
	eff := set.Policy()
	st := &state{
		policy:         p,
		eff:            eff,
		rules:          set,
		monitor:        eff.Mode == policy.ModeMonitor,
		perIP:          limitOf(eff.RateLimit.PerIP),
		perDNA:         limitOf(eff.RateLimit.PerDNA),
		adaptive:       !eff.RateLimit.Adaptive.Disabled,
		adaptiveScore:  eff.RateLimit.Adaptive.Score,
		adaptiveFactor: eff.RateLimit.Adaptive.Factor,
		botBlock:       lowerSet(eff.Bots.Block),
		botAllow:       lowerSet(eff.Bots.Allow),
		verifyCrawlers: !eff.Bots.SkipVerify,
		clients:        clients,
	}
	return st, nil
}

func (st *state) mode() policy.Mode { return st.eff.Mode }

// banLength is how long the n-th ban of a client lasts, for the given reason.
func (st *state) banLength(reason string, strikes int) time.Duration {
	if reason == "honeypot" && st.eff.Honeypot.BanTTL > 0 {
		return time.Duration(st.eff.Honeypot.BanTTL)
	}
	return st.eff.Bans.Length(strikes)
}

func limitOf(l policy.Limit) Limit {
	return Limit{Rate: l.Rate, Period: time.Duration(l.Period), Burst: l.Burst}
}

func lowerSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[strings.ToLower(s)] = true
	}
	return m
}
