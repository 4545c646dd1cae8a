package vigil

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/detect/stuffing"
	"github.com/vigilhq/vigil/internal/knownclients"
	"github.com/vigilhq/vigil/internal/rules"
	"github.com/vigilhq/vigil/internal/rules/glob"
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

	geo *geoState // nil without country rules

	logins *loginState // nil when no login path is protected

	methods []string // the policy's methods; nil for policy.DefaultMethods

	signups      []glob.Pattern // signup paths, matched ignoring ASCII case
	signupFields []string
	phoneFields  []string
	signupMX     bool
}

// loginState is the compiled policy.Logins.
type loginState struct {
	paths    []glob.Pattern
	failures map[int]bool
	fields   []string
	limits   stuffing.Limits
}

// match reports whether path is a protected login path.
func (l *loginState) match(path string) bool {
	for i := range l.paths {
		if l.paths[i].Match(path) {
			return true
		}
	}
	return false
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
		geo:            compileGeo(eff.Geo),
	}
	if len(eff.Methods) > 0 {
		st.methods = eff.Methods
	}
	for _, pat := range eff.Signups.Paths {
		g, err := glob.CompileFold(pat)
		if err != nil {
			return nil, fmt.Errorf("signups.paths: %q: %w", pat, err)
		}
		st.signups = append(st.signups, g)
	}
	st.signupFields, st.phoneFields, st.signupMX = eff.Signups.EmailFields, eff.Signups.PhoneFields, eff.Signups.CheckMX
	if lg := eff.Logins; len(lg.Paths) > 0 {
		ls := &loginState{failures: map[int]bool{}, fields: lg.UsernameFields, limits: stuffing.Limits{
			Window: time.Duration(lg.Window), FailuresPerIP: lg.MaxFailuresPerIP, UsernamesPerIP: lg.MaxUsernamesPerIP,
			UsernamesPerDNA: lg.MaxUsernamesPerDNA, IPsPerUsername: lg.MaxIPsPerUsername,
			SpikeFailures: lg.SpikeFailures, SpikeFactor: lg.SpikeFactor, SpikeDivisor: lg.SpikeDivisor,
		}}
		for _, pat := range lg.Paths {
			g, err := glob.CompileFold(pat) // tightens: matches ignoring ASCII case
			if err != nil {
				return nil, fmt.Errorf("logins.paths: %q: %w", pat, err)
			}
			ls.paths = append(ls.paths, g)
		}
		for _, c := range lg.FailureStatuses {
			ls.failures[c] = true
		}
		st.logins = ls
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

// methodAllowed reports whether the policy allows method (see policy.Policy.Methods).
func (st *state) methodAllowed(method string) bool {
	if st.methods == nil {
		switch method {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
			return true
		}
		return false
	}
	return slices.Contains(st.methods, method)
}
