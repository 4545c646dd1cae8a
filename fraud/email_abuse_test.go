package fraud_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/fraud"
)

// cluster is an expected EmailCluster without its detail text.
type cluster struct {
	Code    string
	Score   int
	Key     string
	Members []string
}

var abuseCases = []struct {
	name   string
	emails []string
	want   []cluster
}{
	{
		name:   "gmail_dot_plus_and_alias_variants",
		emails: []string{"John.Smith@gmail.com", "other@gmail.com", "johnsmith+promo@gmail.com", "J.O.H.N.S.M.I.T.H@googlemail.com"},
		want: []cluster{{"email_cluster_same_mailbox", 80, "johnsmith@gmail.com",
			[]string{"John.Smith@gmail.com", "johnsmith+promo@gmail.com", "J.O.H.N.S.M.I.T.H@googlemail.com"}}},
	},
	{
		name:   "case_variants_are_one_mailbox",
		emails: []string{"A.B@Example.com", "a.b@example.com"},
		want:   []cluster{{"email_cluster_same_mailbox", 80, "a.b@example.com", []string{"A.B@Example.com", "a.b@example.com"}}},
	},
	{
		name:   "repeats_and_invalid_ignored",
		emails: []string{"bad", "a@x.example", "a@x.example", " a@x.example ", "b@@x.example"},
	},
	{
		name:   "proton_domains_share_a_namespace",
		emails: []string{"alice@proton.me", "alice+x@pm.me", "bob@protonmail.com"},
		want:   []cluster{{"email_cluster_same_mailbox", 80, "alice@proton.me", []string{"alice@proton.me", "alice+x@pm.me"}}},
	},
	{
		name:   "sequential_suffixes",
		emails: []string{"anna.lee7@outlook.com", "annalee8@outlook.com", "someone@outlook.com", "anna_lee9@outlook.com", "anna.lee@outlook.com"},
		want: []cluster{{"email_cluster_sequential", 80, "annalee@outlook.com",
			[]string{"anna.lee7@outlook.com", "annalee8@outlook.com", "anna_lee9@outlook.com"}}},
	},
	{
		name:   "sequential_with_gaps_of_two_and_leading_zeros",
		emails: []string{"test005@corp.example", "test001@corp.example", "test003@corp.example"},
		want: []cluster{{"email_cluster_sequential", 80, "test@corp.example",
			[]string{"test005@corp.example", "test001@corp.example", "test003@corp.example"}}},
	},
	{
		name:   "scattered_numbers_are_not_a_sequence",
		emails: []string{"john1987@gmail.com", "john42@gmail.com", "john7@gmail.com", "test1@corp.example", "test4@corp.example", "test7@corp.example"},
	},
	{
		name:   "two_numbers_are_not_a_sequence",
		emails: []string{"bot1@corp.example", "bot2@corp.example"},
	},
	{
		name:   "two_runs_in_one_skeleton",
		emails: []string{"u1@x.example", "u2@x.example", "u3@x.example", "u100@x.example", "u101@x.example", "u102@x.example", "u50@x.example"},
		want: []cluster{
			{"email_cluster_sequential", 80, "u@x.example", []string{"u1@x.example", "u2@x.example", "u3@x.example"}},
			{"email_cluster_sequential", 80, "u@x.example", []string{"u100@x.example", "u101@x.example", "u102@x.example"}},
		},
	},
	{
		name:   "numbers_only_local_parts_have_no_skeleton",
		emails: []string{"10001@qq.com", "10002@qq.com", "10003@qq.com"},
	},
	{
		name:   "plus_tags_at_a_custom_domain",
		emails: []string{"me+a@corp.example", "me@corp.example", "me+b@corp.example", "you+a@corp.example"},
		want: []cluster{{"email_cluster_plus_tag", 40, "me@corp.example",
			[]string{"me+a@corp.example", "me@corp.example", "me+b@corp.example"}}},
	},
	{
		name:   "numbered_plus_tags_are_sequential_too",
		emails: []string{"sam+1@corp.example", "sam+2@corp.example", "sam+3@corp.example"},
		want: []cluster{
			{"email_cluster_sequential", 80, "sam@corp.example", []string{"sam+1@corp.example", "sam+2@corp.example", "sam+3@corp.example"}},
			{"email_cluster_plus_tag", 40, "sam@corp.example", []string{"sam+1@corp.example", "sam+2@corp.example", "sam+3@corp.example"}},
		},
	},
	{
		name:   "yahoo_keyword_aliases",
		emails: []string{"jdoe-shopping@yahoo.com", "jdoe@yahoo.com", "jdoe-news@yahoo.com", "jdoe-news@yahoo.co.uk"},
		want: []cluster{{"email_cluster_yahoo_base", 40, "jdoe@yahoo.com",
			[]string{"jdoe-shopping@yahoo.com", "jdoe-news@yahoo.com"}}},
	},
	{
		name:   "hyphen_outside_yahoo_is_not_a_keyword",
		emails: []string{"mary-ann@corp.example", "mary-jane@corp.example"},
	},
	{
		name:   "separator_variants_outside_gmail",
		emails: []string{"john.smith@outlook.com", "johnsmith@outlook.com", "john_smith@outlook.com", "jane.smith@outlook.com"},
		want: []cluster{{"email_cluster_separator_variants", 40, "johnsmith@outlook.com",
			[]string{"john.smith@outlook.com", "johnsmith@outlook.com", "john_smith@outlook.com"}}},
	},
	{
		name:   "many_accounts_at_an_uncommon_domain",
		emails: numbered("%s@catchall.example", 10),
		want:   []cluster{{"email_cluster_domain", 20, "catchall.example", numbered("%s@catchall.example", 10)}},
	},
	{
		name:   "nine_accounts_are_not_enough",
		emails: numbered("%s@catchall.example", 9),
	},
	{
		name:   "many_accounts_at_a_free_provider_are_normal",
		emails: numbered("%s@gmail.com", 30),
	},
}

// numbered returns n addresses with distinct, unrelated local parts.
func numbered(format string, n int) []string {
	names := []string{"ava", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lou", "max", "ned", "oli",
		"pam", "quin", "rex", "sue", "tom", "uma", "vic", "wes", "xia", "yan", "zoe", "abe", "bea", "cy", "di"}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, names[i])
	}
	return out
}

func TestDetectEmailAbuse(t *testing.T) {
	for _, tc := range abuseCases {
		t.Run(tc.name, func(t *testing.T) {
			var got []cluster
			for _, c := range fraud.DetectEmailAbuse(tc.emails) {
				if c.Reason.Detail == "" {
					t.Errorf("cluster %s %s has no detail", c.Reason.Code, c.Key)
				}
				got = append(got, cluster{c.Reason.Code, c.Reason.Score, c.Key, c.Members})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("clusters (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDetectEmailAbuseOrder checks that clusters come highest score first, and the
// detail of a sequential cluster.
func TestDetectEmailAbuseOrder(t *testing.T) {
	var emails []string
	for _, tc := range abuseCases {
		emails = append(emails, tc.emails...)
	}
	cs := fraud.DetectEmailAbuse(emails)
	if len(cs) < 8 {
		t.Fatalf("got %d clusters from all cases together, want at least 8", len(cs))
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].Reason.Score > cs[i-1].Reason.Score {
			t.Errorf("cluster %d (%s, %d) comes after a lower score (%d)", i, cs[i].Reason.Code, cs[i].Reason.Score, cs[i-1].Reason.Score)
		}
	}
	for _, c := range cs {
		if c.Key == "annalee@outlook.com" {
			if want := "3 addresses with the skeleton annalee@outlook.com are numbered 7 to 9"; c.Reason.Detail != want {
				t.Errorf("detail %q, want %q", c.Reason.Detail, want)
			}
		}
	}
}

func TestDetectEmailAbuseEmpty(t *testing.T) {
	if got := fraud.DetectEmailAbuse(nil); len(got) != 0 {
		t.Errorf("DetectEmailAbuse(nil) = %v", got)
	}
	if got := fraud.DetectEmailAbuse([]string{strings.Repeat("a", 300)}); len(got) != 0 {
		t.Errorf("one invalid address: %v", got)
	}
}
