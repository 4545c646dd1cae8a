package rules

import (
	"slices"

	"github.com/vigilhq/vigil/policy"
)

// Route is a compiled policy.Route. Zero fields keep the policy's setting. A Route is
// immutable and safe for concurrent use.
type Route struct {
	// Name is the route's name; it may be "".
	Name string
	// Index is the route's position in the policy's routes.
	Index int
	// Mode overrides the policy's mode; "" keeps it.
	Mode policy.Mode
	// BlockThreshold overrides the policy's block threshold; 0 keeps it.
	BlockThreshold int
	// RateLimit replaces the per-IP limit, in a bucket of the route's own; the zero
	// Limit keeps the policy's.
	RateLimit policy.Limit
	// Strict reports whether this is the strict form of the route, returned for a path
	// that is not canonical or that matches the route only ignoring case, which keeps
	// only the settings that tighten the policy.
	Strict bool

	disable []string
	methods []string
	paths   pathList
	strict  *Route
}

func (r *Route) compile(i int, pr policy.Route, eff policy.Policy) error {
	*r = Route{
		Name:           pr.Name,
		Index:          i,
		Mode:           pr.Mode,
		BlockThreshold: pr.BlockThreshold,
		RateLimit:      pr.RateLimit,
		disable:        pr.Disable,
		methods:        pr.Methods,
	}
	var err error
	if r.paths, err = compilePaths(pr.Paths); err != nil {
		return err
	}
	st := &Route{Name: r.Name, Index: i, Strict: true}
	if r.Mode == policy.ModeBlock {
		st.Mode = r.Mode
	}
	if r.BlockThreshold != 0 && r.BlockThreshold < eff.BlockThreshold {
		st.BlockThreshold = r.BlockThreshold
	}
	if !r.RateLimit.IsZero() {
		st.RateLimit = tighter(r.RateLimit, eff.RateLimit.PerIP)
	}
	r.strict = st
	return nil
}

// tighter returns the limit that admits no more than either a or b: the lower rate per
// unit of time and the smaller burst. A non-canonical path keeps a route's bucket with
// this limit, so respelling a path never buys a looser limit in any field.
func tighter(a, b policy.Limit) policy.Limit {
	burst := func(l policy.Limit) int {
		if l.Burst == 0 {
			return l.Rate
		}
		return l.Burst
	}
	out := b
	if float64(a.Rate)/float64(a.Period) < float64(b.Rate)/float64(b.Period) {
		out.Rate, out.Period = a.Rate, a.Period
	}
	out.Burst = min(burst(a), burst(b))
	return out
}

// Disabled reports whether the detector or finding code name is disabled on this route.
func (r *Route) Disabled(name string) bool {
	return slices.Contains(r.disable, name)
}

// Route returns the most specific route override for a request with this method and
// path, or nil if none applies. Specificity, highest first: an exact path pattern over a
// wildcard one, more literal characters in the matching pattern, a route that lists
// methods over one that does not, then the earlier route. Routes are chosen ignoring
// ASCII case, as case-insensitive routers read the path; the route applies in full only
// when the path is canonical and one of its patterns matches the path in exact case, and
// otherwise in its strict form (Route.Strict), so "/WEBHOOKS/x" gets only what tightens
// in a route on "/webhooks/**" (see the package doc).
func (s *Set) Route(method string, p Path) *Route {
	if len(s.routes) == 0 {
		return nil // the default policy's case: nothing to scan the path for
	}
	if !s.routeUpper && !hasUpper(p.Clean) {
		// Neither side has an upper-case letter: matching ignoring case is exact
		// matching, and this loop is the common case.
		return s.routeExact(method, p)
	}
	var (
		best                *Route
		bestExact, bestMeth bool
		bestLit             int
		bestCase            = true // a pattern of best matches in exact case
	)
	for i := range s.routes {
		r := &s.routes[i]
		if len(r.methods) > 0 && !containsFold(r.methods, method) {
			continue
		}
		won, sameCase := false, false
		for j := range r.paths.exact {
			g := &r.paths.exact[j]
			m := g.Match(p.Clean)
			if !m && !r.paths.fold.patterns[j].Match(p.Clean) {
				continue
			}
			sameCase = sameCase || m
			_, exact := g.Exact()
			lit, meth := g.Literal(), len(r.methods) > 0
			if best == nil || better(exact, lit, meth, bestExact, bestLit, bestMeth) {
				best, bestExact, bestLit, bestMeth = r, exact, lit, meth
				won = true
			}
		}
		if won {
			bestCase = sameCase
		}
	}
	if best != nil && (!p.Canonical || !bestCase) {
		return best.strict
	}
	return best
}

// routeExact is Route for a path and routes without upper-case letters.
func (s *Set) routeExact(method string, p Path) *Route {
	var (
		best                *Route
		bestExact, bestMeth bool
		bestLit             int
	)
	for i := range s.routes {
		r := &s.routes[i]
		if len(r.methods) > 0 && !containsFold(r.methods, method) {
			continue
		}
		for j := range r.paths.exact {
			g := &r.paths.exact[j]
			if !g.Match(p.Clean) {
				continue
			}
			_, exact := g.Exact()
			lit, meth := g.Literal(), len(r.methods) > 0
			if best == nil || better(exact, lit, meth, bestExact, bestLit, bestMeth) {
				best, bestExact, bestLit, bestMeth = r, exact, lit, meth
			}
		}
	}
	if best != nil && !p.Canonical {
		return best.strict
	}
	return best
}

// better reports whether a match (exact, lit, meth) beats the best so far; ties keep
// the earlier route.
func better(exact bool, lit int, meth, bExact bool, bLit int, bMeth bool) bool {
	if exact != bExact {
		return exact
	}
	if lit != bLit {
		return lit > bLit
	}
	return meth && !bMeth
}
