package emailcheck

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// An EmailCluster is a group of addresses that DetectEmailAbuse links to one person or
// actor, and why.
type EmailCluster struct {
	// Key is what the members share: a canonical address, or a derived key such as the
	// address without its "+tag", separators or numbers.
	Key string `json:"key"`
	// Members are the addresses as given (trimmed), in input order, each once.
	Members []string `json:"members"`
	// Reason says which rule linked them and how strongly (Score: 80 high, 40 medium,
	// 20 low).
	Reason Signal `json:"reason"`
}

// Thresholds of DetectEmailAbuse.
const (
	minSequence = 3  // accounts in a run of numeric suffixes
	maxSeqGap   = 2  // largest step between neighbours of a run
	minDomain   = 10 // accounts at one uncommon domain
)

// Cluster scores.
const (
	clusterHigh   = 80
	clusterMedium = 40
	clusterLow    = 20
)

// DetectEmailAbuse groups addresses that were used for separate accounts (sign-ups in
// one time window, say) but belong to one person (shared/reference/fraud-rules.md §4).
// Invalid addresses and repeats of the same string are ignored. An address can be in
// several clusters. Clusters come highest score first, then by code and key.
//
// Accounts are linked by these keys, all derived from the canonical form that
// CanonicalEmail returns (the domain's rules; no DNS):
//
//   - email_cluster_same_mailbox (high): two or more spellings with one canonical form:
//     Gmail dots, "+tags" where the provider delivers them, case, googlemail.com.
//   - email_cluster_sequential (high): three or more accounts whose local parts are the
//     same once digits and the separators . _ - + are removed (the skeleton, per
//     domain), with numeric suffixes in a run whose steps are at most 2
//     (anna.lee7, annalee8, anna_lee9).
//   - email_cluster_plus_tag (medium): addresses that are the same once the "+tag" is
//     cut, at providers not known to deliver tags to one mailbox (where the tag stays in
//     the canonical form), such as any custom domain.
//   - email_cluster_yahoo_base (medium): Yahoo "base-keyword" disposable addresses with
//     one base (the part before the last "-"). They are separate mailboxes, one account.
//   - email_cluster_separator_variants (medium): addresses that are the same once the
//     separators . _ - are removed, outside Gmail, where dots are already ignored
//     (john.smith@outlook.com, johnsmith@outlook.com).
//   - email_cluster_domain (low): ten or more accounts at one domain that is neither a
//     free provider nor a known provider, as with a catch-all domain an attacker owns.
//     A company whose staff sign up looks the same; weigh it with other signals.
//
// Per-address risks (disposable domains, domains without MX) are AnalyzeEmail's work,
// and links through a shared client (IP, fingerprint) belong to the caller, who knows
// the clients.
func DetectEmailAbuse(emails []string) []EmailCluster {
	type account struct {
		canon, local, domain string
		provider             Provider
		quoted               bool
		inputs               []string
	}
	var accounts []*account
	byCanon := make(map[string]*account)
	seen := make(map[string]bool, len(emails))
	for _, e := range emails {
		s := strings.TrimSpace(e)
		if seen[s] {
			continue
		}
		seen[s] = true
		p, err := parseEmail(s)
		if err.code != "" {
			continue
		}
		rule, user := providerFor(p.domain)
		c := canonical(p, rule, user)
		acc := byCanon[c]
		if acc == nil {
			at := strings.LastIndexByte(c, '@')
			acc = &account{canon: c, local: c[:at], domain: c[at+1:], provider: rule.provider, quoted: p.quoted}
			byCanon[c] = acc
			accounts = append(accounts, acc)
		}
		acc.inputs = append(acc.inputs, s)
	}

	var out []EmailCluster
	emit := func(key string, accs []*account, code string, score int, detail string) {
		var members []string
		for _, a := range accs {
			members = append(members, a.inputs...)
		}
		out = append(out, EmailCluster{Key: key, Members: members, Reason: Signal{code, score, detail}})
	}
	// group returns the accounts that share a key, for keys shared by two or more, in
	// the order of each key's first account. key returns "" for none.
	group := func(key func(*account) string) (keys []string, groups map[string][]*account) {
		groups = make(map[string][]*account)
		for _, a := range accounts {
			k := key(a)
			if k == "" {
				continue
			}
			if len(groups[k]) == 0 {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], a)
		}
		return keys, groups
	}

	for _, a := range accounts {
		if len(a.inputs) >= 2 {
			emit(a.canon, []*account{a}, "email_cluster_same_mailbox", clusterHigh,
				fmt.Sprintf("%d spellings of the mailbox %s (dots, +tags, case or a domain alias)", len(a.inputs), a.canon))
		}
	}

	keys, groups := group(func(a *account) string {
		if a.quoted || a.provider.plusIsIdentity() {
			return ""
		}
		base, _, _ := strings.Cut(a.local, "+")
		if base == "" {
			return ""
		}
		return base + "@" + a.domain
	})
	for _, k := range keys {
		if g := groups[k]; len(g) >= 2 {
			emit(k, g, "email_cluster_plus_tag", clusterMedium,
				fmt.Sprintf("%d addresses are %s with different +tags; the provider is not known to deliver them to one mailbox", len(g), k))
		}
	}

	keys, groups = group(func(a *account) string {
		i := strings.LastIndexByte(a.local, '-')
		if a.provider != ProviderYahoo || i <= 0 {
			return ""
		}
		return a.local[:i] + "@" + a.domain
	})
	for _, k := range keys {
		if g := groups[k]; len(g) >= 2 {
			emit(k, g, "email_cluster_yahoo_base", clusterMedium,
				fmt.Sprintf("%d Yahoo disposable addresses share the base %s", len(g), k))
		}
	}

	keys, groups = group(func(a *account) string {
		if a.quoted || a.provider == ProviderGoogle {
			return ""
		}
		s := strings.Map(func(r rune) rune {
			if r == '.' || r == '_' || r == '-' {
				return -1
			}
			return r
		}, a.local)
		if s == "" {
			return ""
		}
		return s + "@" + a.domain
	})
	for _, k := range keys {
		if g := groups[k]; len(g) >= 2 {
			emit(k, g, "email_cluster_separator_variants", clusterMedium,
				fmt.Sprintf("%d addresses differ only in the separators . _ - (%s)", len(g), k))
		}
	}

	keys, groups = group(func(a *account) string {
		if a.quoted {
			return ""
		}
		s := strings.Map(func(r rune) rune {
			if r == '.' || r == '_' || r == '-' || r == '+' || '0' <= r && r <= '9' {
				return -1
			}
			return r
		}, a.local)
		if s == "" {
			return ""
		}
		return s + "@" + a.domain
	})
	for _, k := range keys {
		for _, run := range sequentialRuns(groups[k], func(a *account) string { return a.local }) {
			emit(k, run.members, "email_cluster_sequential", clusterHigh,
				fmt.Sprintf("%d addresses with the skeleton %s are numbered %d to %d", len(run.members), k, run.lo, run.hi))
		}
	}

	keys, groups = group(func(a *account) string {
		if a.provider != ProviderOther || isFree(a.domain) {
			return ""
		}
		return a.domain
	})
	for _, k := range keys {
		if g := groups[k]; len(g) >= minDomain {
			emit(k, g, "email_cluster_domain", clusterLow,
				fmt.Sprintf("%d accounts at %s, which is not a public mailbox provider", len(g), k))
		}
	}

	slices.SortStableFunc(out, func(x, y EmailCluster) int {
		return cmp.Or(
			cmp.Compare(y.Reason.Score, x.Reason.Score),
			cmp.Compare(x.Reason.Code, y.Reason.Code),
			cmp.Compare(x.Key, y.Key))
	})
	return out
}

// seqRun is a run of numeric suffixes: its members, in input order, and its range.
type seqRun[T any] struct {
	members []T
	lo, hi  uint64
}

// sequentialRuns finds, among items whose local part ends in digits, the runs of at
// least minSequence distinct numbers in which neighbours differ by at most maxSeqGap.
func sequentialRuns[T any](items []T, local func(T) string) []seqRun[T] {
	type numbered struct {
		n   uint64
		pos int
	}
	var ns []numbered
	for i, it := range items {
		l := local(it)
		j := len(l)
		for j > 0 && '0' <= l[j-1] && l[j-1] <= '9' {
			j--
		}
		if j == len(l) || len(l)-j > 18 {
			continue
		}
		n, _ := strconv.ParseUint(l[j:], 10, 64)
		ns = append(ns, numbered{n, i})
	}
	slices.SortFunc(ns, func(x, y numbered) int { return cmp.Or(cmp.Compare(x.n, y.n), cmp.Compare(x.pos, y.pos)) })
	var runs []seqRun[T]
	for start := 0; start < len(ns); {
		end, distinct := start+1, 1
		for end < len(ns) && ns[end].n-ns[end-1].n <= maxSeqGap {
			if ns[end].n != ns[end-1].n {
				distinct++
			}
			end++
		}
		if distinct >= minSequence {
			pos := make([]int, 0, end-start)
			for _, x := range ns[start:end] {
				pos = append(pos, x.pos)
			}
			slices.Sort(pos)
			r := seqRun[T]{lo: ns[start].n, hi: ns[end-1].n}
			for _, p := range pos {
				r.members = append(r.members, items[p])
			}
			runs = append(runs, r)
		}
		start = end
	}
	return runs
}
