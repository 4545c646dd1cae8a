package fraud_test

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil/fraud"
)

// Spellings of one mailbox share a canonical form. Gmail ignores dots and "+tags" and
// googlemail.com is gmail.com; Outlook.com ignores only the tag; Yahoo's "-keyword"
// addresses and unknown domains keep their form.
func ExampleCanonicalEmail() {
	for _, addr := range []string{
		"J.o.h.n+x@googlemail.com",
		"a.b+c@outlook.com",
		"Alice+shop@pm.me",
		"jdoe-news@yahoo.com",
		"j.doe+x@example.com",
		"not an address",
	} {
		c, ok := fraud.CanonicalEmail(addr)
		fmt.Printf("%-26s %-24s %v\n", addr, c, ok)
	}
	// Output:
	// J.o.h.n+x@googlemail.com   john@gmail.com           true
	// a.b+c@outlook.com          a.b@outlook.com          true
	// Alice+shop@pm.me           alice@proton.me          true
	// jdoe-news@yahoo.com        jdoe-news@yahoo.com      true
	// j.doe+x@example.com        j.doe+x@example.com      true
	// not an address                                      false
}

// An analyzer reports the canonical form, list flags and a risk score with its
// reasons. Offline, no DNS look-up is made.
func ExampleEmailAnalyzer_AnalyzeEmail() {
	a, err := fraud.NewEmailAnalyzer(fraud.EmailConfig{Offline: true})
	if err != nil {
		panic(err)
	}
	for _, addr := range []string{"Support+x@mailinator.com", "li.lei@163.com", "a..b@gmail.com"} {
		r := a.AnalyzeEmail(context.Background(), addr)
		fmt.Printf("%s valid=%v canonical=%s disposable=%v free=%v role=%v risk=%d\n",
			addr, r.Valid, r.Canonical, r.Disposable, r.Free, r.Role, r.RiskScore)
		for _, s := range r.Reasons {
			fmt.Printf("  %s (+%d)\n", s.Code, s.Score)
		}
	}
	// Output:
	// Support+x@mailinator.com valid=true canonical=support+x@mailinator.com disposable=true free=false role=true risk=100
	//   email_disposable (+80)
	//   email_role (+20)
	//   email_subaddress (+0)
	// li.lei@163.com valid=true canonical=li.lei@163.com disposable=false free=true role=false risk=0
	//   email_free (+0)
	// a..b@gmail.com valid=false canonical= disposable=false free=false role=false risk=100
	//   email_local_dot (+100)
}

// Domains can be added to the disposable list, or allowed, while the analyzer is in
// use.
func ExampleEmailAnalyzer_AddDisposable() {
	a, err := fraud.NewEmailAnalyzer(fraud.EmailConfig{Offline: true})
	if err != nil {
		panic(err)
	}
	if err := a.AddDisposable("burner.example"); err != nil {
		panic(err)
	}
	if err := a.AllowDomains("mailinator.com"); err != nil {
		panic(err)
	}
	ctx := context.Background()
	fmt.Println(a.AnalyzeEmail(ctx, "x@mx.burner.example").Disposable)
	fmt.Println(a.AnalyzeEmail(ctx, "x@mailinator.com").Disposable)
	// Output:
	// true
	// false
}

// Sign-ups of one window, grouped into accounts that look like one person.
func ExampleDetectEmailAbuse() {
	signups := []string{
		"john.smith@gmail.com",
		"johnsmith+1@gmail.com",
		"shopper17@outlook.com",
		"shopper18@outlook.com",
		"shopper19@outlook.com",
		"kim@corp.example",
		"kim+promo@corp.example",
		"ann.lee@example.org",
	}
	for _, c := range fraud.DetectEmailAbuse(signups) {
		fmt.Printf("%s (%d) %s: %v\n", c.Reason.Code, c.Reason.Score, c.Key, c.Members)
	}
	// Output:
	// email_cluster_same_mailbox (80) johnsmith@gmail.com: [john.smith@gmail.com johnsmith+1@gmail.com]
	// email_cluster_sequential (80) shopper@outlook.com: [shopper17@outlook.com shopper18@outlook.com shopper19@outlook.com]
	// email_cluster_plus_tag (40) kim@corp.example: [kim@corp.example kim+promo@corp.example]
}
