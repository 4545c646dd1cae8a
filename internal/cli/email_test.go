package cli

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func TestEmailCheckJSON(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"email", "check", "--json", "--offline", "x@mailinator.com", "J.o.h.n+x@googlemail.com"}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(out.String()))
	var reps []struct {
		Input      string
		Canonical  string
		Disposable bool
		RiskScore  int `json:"risk_score"`
	}
	for dec.More() {
		var r struct {
			Input      string
			Canonical  string
			Disposable bool
			RiskScore  int `json:"risk_score"`
		}
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		reps = append(reps, r)
	}
	if len(reps) != 2 || !reps[0].Disposable || reps[0].RiskScore < 50 || reps[1].Canonical != "john@gmail.com" || reps[1].Disposable {
		t.Errorf("reports %+v", reps)
	}
}

func TestEmailClusters(t *testing.T) {
	var out strings.Builder
	file := writeFile(t, "emails.txt", "john.doe+a@gmail.com\njohndoe@gmail.com\n# a comment\nalice@example.org\n")
	if err := run(context.Background(), []string{"email", "clusters", file}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "john.doe+a@gmail.com, johndoe@gmail.com") || strings.Contains(got, "alice") {
		t.Errorf("clusters:\n%s", got)
	}
}

func TestPhoneCheckJSON(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"phone", "check", "--json", "+447700900123", "+447911123456"}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(out.String()))
	var got []string
	for dec.More() {
		var r struct{ Region, Type string }
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Region+" "+r.Type)
	}
	// The first is in Ofcom's range of mobile numbers for drama (reported as such, and
	// not valid: nobody answers it); the second a Guernsey mobile.
	if strings.Join(got, ",") != "GB mobile,GG mobile" {
		t.Errorf("reports %q", got)
	}
}
