package fraud_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/fraud"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// readList reads a shared/data domain list: one domain a line.
func readList(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(vigiltest.SharedData(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// TestSharedDisposableDomainsDetected checks that every domain of
// shared/data/disposable_domains.txt is detected, and no domain of
// disposable_allowlist.txt is. (The list is embedded, so this checks the plumbing:
// parsing, normalisation and matching, not detection skill.)
func TestSharedDisposableDomainsDetected(t *testing.T) {
	a := offlineAnalyzer(t)
	ctx := context.Background()
	domains := readList(t, "disposable_domains.txt")
	if len(domains) < 8000 {
		t.Fatalf("disposable_domains.txt has %d domains, want the full list", len(domains))
	}
	missed := 0
	for _, d := range domains {
		r := a.AnalyzeEmail(ctx, "someone@"+d)
		if !r.Disposable || !hasCode(r.Reasons, "email_disposable") {
			missed++
			if missed <= 10 {
				t.Errorf("%s: disposable %v, valid %v (%s), reasons %v", d, r.Disposable, r.Valid, r.Invalid, codes(r.Reasons))
			}
		}
	}
	if missed > 0 {
		t.Errorf("%d of %d disposable domains not detected", missed, len(domains))
	}

	allowed := readList(t, "disposable_allowlist.txt")
	if len(allowed) < 150 {
		t.Fatalf("disposable_allowlist.txt has %d domains, want the full list", len(allowed))
	}
	for _, d := range allowed {
		if r := a.AnalyzeEmail(ctx, "someone@"+d); !r.Valid || r.Disposable {
			t.Errorf("allowlisted %s: valid %v (%s), disposable %v", d, r.Valid, r.Invalid, r.Disposable)
		}
	}
}

// TestEmbeddedListsMatchShared checks that internal/emailcheck/data holds the shared
// files unchanged, so the NOTICE's commits and hashes stay true.
func TestEmbeddedListsMatchShared(t *testing.T) {
	for _, name := range []string{"disposable_domains.txt", "disposable_allowlist.txt"} {
		shared, err := os.ReadFile(vigiltest.SharedData(t, name))
		if err != nil {
			t.Fatal(err)
		}
		embedded, err := os.ReadFile("../internal/emailcheck/data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(shared, embedded) {
			t.Errorf("internal/emailcheck/data/%s differs from shared/data/%s; copy it and update data/NOTICE", name, name)
		}
	}
}

func hasCode(s []fraud.Signal, code string) bool {
	for _, x := range s {
		if x.Code == code {
			return true
		}
	}
	return false
}

// TestDisposableMatching checks parent-domain matching up to the registrable domain,
// list precedence and run-time extension.
func TestDisposableMatching(t *testing.T) {
	tests := []struct {
		name       string
		cfg        fraud.EmailConfig
		add, allow []string // applied after NewEmailAnalyzer
		addr       string
		disposable bool
		code       string // the disposable reason expected, "" for none
	}{
		{name: "listed", addr: "a@mailinator.com", disposable: true, code: "email_disposable"},
		{name: "upper_case_listed", addr: "a@MAILINATOR.COM", disposable: true, code: "email_disposable"},
		{name: "subdomain_of_listed", addr: "a@mx.mailinator.com", disposable: true, code: "email_disposable"},
		{name: "listed_dyndns_subdomain", addr: "a@0-mailer.dynv6.net", disposable: true, code: "email_disposable"},
		{name: "sibling_on_shared_dyndns", addr: "a@someone-else.dynv6.net"},
		{name: "parent_that_is_public_suffix_never_matches", add: []string{"dynv6.net"}, addr: "a@someone-else.dynv6.net"},
		{name: "public_suffix_listed_matches_itself", add: []string{"dynv6.net"}, addr: "a@dynv6.net", disposable: true, code: "email_disposable"},
		{name: "parent_of_listed_not_matched", add: []string{"temp.corp.example"}, addr: "a@corp.example"},
		{name: "embedded_allowlist", addr: "a@163.com"},
		{name: "unlisted", addr: "a@example.com"},
		{name: "added_at_run_time", add: []string{"Burner.Example."}, addr: "a@mail.burner.example", disposable: true, code: "email_disposable"},
		{name: "added_in_config", cfg: fraud.EmailConfig{Disposable: []string{"burner.example"}}, addr: "a@burner.example", disposable: true, code: "email_disposable"},
		{name: "added_idn", add: []string{"bücher.example"}, addr: "a@xn--bcher-kva.example", disposable: true, code: "email_disposable"},
		{name: "added_punycode", add: []string{"xn--mnchen-3ya.example"}, addr: "a@München.example", disposable: true, code: "email_disposable"},
		{name: "run_time_allow_wins_over_embedded", allow: []string{"mailinator.com"}, addr: "a@mailinator.com", code: "email_disposable_allowed"},
		{name: "run_time_allow_of_parent", allow: []string{"mailinator.com"}, addr: "a@mx.mailinator.com", code: "email_disposable_allowed"},
		{name: "config_allow_wins", cfg: fraud.EmailConfig{Allow: []string{"mailinator.com"}}, addr: "a@mailinator.com", code: "email_disposable_allowed"},
		{name: "allow_wins_over_added", add: []string{"burner.example"}, allow: []string{"burner.example"}, addr: "a@burner.example", code: "email_disposable_allowed"},
		{name: "config_allow_wins_over_config_disposable", cfg: fraud.EmailConfig{Disposable: []string{"burner.example"}, Allow: []string{"burner.example"}}, addr: "a@burner.example", code: "email_disposable_allowed"},
		{name: "added_overrides_embedded_allowlist", add: []string{"163.com"}, addr: "a@163.com", disposable: true, code: "email_disposable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Offline = true
			a, err := fraud.NewEmailAnalyzer(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.AddDisposable(tc.add...); err != nil {
				t.Fatal(err)
			}
			if err := a.AllowDomains(tc.allow...); err != nil {
				t.Fatal(err)
			}
			r := a.AnalyzeEmail(context.Background(), tc.addr)
			if !r.Valid {
				t.Fatalf("%s is invalid: %s", tc.addr, r.Invalid)
			}
			var got string
			for _, c := range codes(r.Reasons) {
				if strings.HasPrefix(c, "email_disposable") {
					got = c
				}
			}
			if r.Disposable != tc.disposable || got != tc.code {
				t.Errorf("%s: disposable %v, reason %q; want %v, %q (reasons %+v)", tc.addr, r.Disposable, got, tc.disposable, tc.code, r.Reasons)
			}
		})
	}
}

// TestAddDisposableAllOrNothing checks that a list with an invalid domain adds nothing.
func TestAddDisposableAllOrNothing(t *testing.T) {
	a := offlineAnalyzer(t)
	if err := a.AddDisposable("ok.example", "not a domain"); err == nil {
		t.Fatal("AddDisposable accepted an invalid domain")
	}
	if r := a.AnalyzeEmail(context.Background(), "a@ok.example"); r.Disposable {
		t.Error("ok.example was added although the call failed")
	}
	if err := a.AllowDomains("163.com", "[192.0.2.1]"); err == nil {
		t.Fatal("AllowDomains accepted an address literal")
	}
}
