package emailcheck

import (
	"testing"
)

// TestListsWellFormed checks the hand-written lists: every domain is a valid,
// normalised e-mail domain, no free domain is disposable, and every provider domain
// but Fastmail's is free.
func TestListsWellFormed(t *testing.T) {
	check := func(list, d string) {
		if n, err := parseDomain(d); err.code != "" || n != d {
			t.Errorf("%s list: %q is not a normalised domain (%q, %v)", list, d, n, err)
		}
	}
	for d := range providerDomains() {
		check("provider", d)
	}
	for d := range freeDomains() {
		check("free", d)
		if _, ok := disposableData().block[d]; ok {
			t.Errorf("free domain %s is on the disposable list", d)
		}
	}
	for d, r := range providerDomains() {
		if _, free := freeDomains()[d]; free == (r.provider == ProviderFastmail) {
			t.Errorf("provider domain %s (%s): free %v", d, r.provider, free)
		}
	}
	for _, set := range []map[string]struct{}{disposableData().block, disposableData().allow} {
		for d := range set {
			check("embedded disposable", d)
		}
	}
	if n := len(disposableData().block); n != 8335 {
		t.Errorf("embedded disposable list has %d domains, want 8,335 (data/NOTICE)", n)
	}
	if n := len(disposableData().allow); n != 189 {
		t.Errorf("embedded allowlist has %d domains, want 189 (data/NOTICE)", n)
	}
}

func TestRoleLocal(t *testing.T) {
	for _, l := range []string{"info", "support", "abuse", "postmaster", "hostmaster", "webmaster", "noreply", "no-reply", "admin", "root"} {
		if !roleLocal(l) {
			t.Errorf("roleLocal(%q) = false", l)
		}
	}
	for _, l := range []string{"john", "information", "supporter", "admin1", "r.oot", ""} {
		if roleLocal(l) {
			t.Errorf("roleLocal(%q) = true", l)
		}
	}
}
