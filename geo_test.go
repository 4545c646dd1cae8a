package vigil_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fraud"
	"github.com/vigilhq/vigil/internal/geo/geotest"
	"github.com/vigilhq/vigil/policy"
)

// geoConfig writes tiny country and ASN databases and a cloud-range list:
// 203.0.113.0/24 is in DE on a residential ISP, 198.51.100.0/24 in the US on AWS's
// AS16509, and 192.0.2.128/25 is a "cloud" range from a plain list; 192.0.2.0/25 is
// in no database.
func geoConfig(t *testing.T) vigil.GeoConfig {
	t.Helper()
	dir := t.TempDir()
	gc := vigil.GeoConfig{
		CountryDB:   filepath.Join(dir, "country.mmdb"),
		ASNDB:       filepath.Join(dir, "asn.mmdb"),
		CloudRanges: []string{filepath.Join(dir, "ranges.txt")},
	}
	geotest.WriteCountryDB(t, gc.CountryDB, map[string]string{"203.0.113.0/24": "DE", "198.51.100.0/24": "US"})
	geotest.WriteASNDB(t, gc.ASNDB, map[string]geotest.ASNRecord{
		"203.0.113.0/24":  {Number: 3320, Org: "Deutsche Telekom AG"},
		"198.51.100.0/24": {Number: 16509, Org: "AMAZON-02"},
	})
	if err := os.WriteFile(gc.CloudRanges[0], []byte("# test ranges\n192.0.2.128/25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return gc
}

func TestGeo(t *testing.T) {
	gc := geoConfig(t)
	check := func(t *testing.T, p policy.Policy, ip string) vigil.Verdict {
		t.Helper()
		g, err := vigil.New(vigil.Config{Policy: p, Geo: gc})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header = navigationHeaders()
		r.RemoteAddr = ip + ":40000"
		return g.Check(r)
	}

	t.Run("enrichment", func(t *testing.T) {
		v := check(t, policy.Default(), "203.0.113.9")
		e := v.Enrichment
		if e.Country != "DE" || e.ASN != 3320 || e.ASOrg != "Deutsche Telekom AG" || e.Hosting != "" || v.Action != vigil.ActionAllow || len(v.Signals) != 0 {
			t.Errorf("residential DE client: %+v, signals %v", e, v.Signals)
		}
		v = check(t, policy.Default(), "192.0.2.7")
		if v.Enrichment.Country != "" || v.Enrichment.ASN != 0 || len(v.Signals) != 0 {
			t.Errorf("unknown address: %+v, signals %v", v.Enrichment, v.Signals)
		}
	})
	t.Run("hosting", func(t *testing.T) {
		v := check(t, policy.Default(), "198.51.100.20")
		if v.Enrichment.Hosting != "asn:16509" || !hasSignal(v, "hosting_network") || v.Score != 30 || v.Action != vigil.ActionAllow {
			t.Errorf("AWS client: %+v score %d action %s signals %v", v.Enrichment, v.Score, v.Action, v.Signals)
		}
		v = check(t, policy.Default(), "192.0.2.200")
		if v.Enrichment.Hosting != "list:ranges.txt" || !hasSignal(v, "hosting_network") {
			t.Errorf("listed range: %+v signals %v", v.Enrichment, v.Signals)
		}
		p := policy.Default()
		p.Weights = map[string]float64{"hosting_network": 0}
		if v := check(t, p, "198.51.100.20"); v.Score != 0 {
			t.Errorf("weight 0 left score %d", v.Score)
		}
	})
	t.Run("deny", func(t *testing.T) {
		p := policy.Default()
		p.Geo.DenyCountries = []string{"de"}
		v := check(t, p, "203.0.113.9")
		if v.Action != vigil.ActionBlock || !hasSignal(v, "country_blocked") {
			t.Errorf("denied country: %s %v", v.Action, v.Signals)
		}
		if v := check(t, p, "198.51.100.20"); v.Action != vigil.ActionAllow {
			t.Errorf("other country: %s %v", v.Action, v.Signals)
		}
	})
	t.Run("allow", func(t *testing.T) {
		p := policy.Default()
		p.Geo.AllowCountries = []string{"US"}
		if v := check(t, p, "203.0.113.9"); v.Action != vigil.ActionBlock || !strings.Contains(signalDetail(v, "country_blocked"), "not in geo.allow_countries") {
			t.Errorf("country not allowed: %s %v", v.Action, v.Signals)
		}
		if v := check(t, p, "198.51.100.20"); v.Action != vigil.ActionAllow {
			t.Errorf("allowed country: %s %v", v.Action, v.Signals)
		}
		// Unknown countries are never blocked by country: a private or unlisted
		// address is not evidence of anything.
		if v := check(t, p, "192.0.2.7"); v.Action != vigil.ActionAllow {
			t.Errorf("unknown country: %s %v", v.Action, v.Signals)
		}
		// A route can turn the geo step off.
		p.Routes = []policy.Route{{Paths: []string{"/"}, Disable: []string{"geo"}}}
		if v := check(t, p, "203.0.113.9"); v.Action != vigil.ActionAllow {
			t.Errorf("route with geo disabled: %s %v", v.Action, v.Signals)
		}
	})
	t.Run("signup_phone", func(t *testing.T) {
		// The phone analyzer gets the client's country: a German client signing up
		// with a British number is a mismatch; a number in national form is read as
		// the client's own country's.
		p := policy.Default()
		p.Signups.Paths = []string{"/signup"}
		g, err := vigil.New(vigil.Config{Policy: p, Geo: gc, Phones: fraud.PhoneAnalyzer{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			phone, e164 string
			mismatch    bool
		}{
			{"+447400123456", "+447400123456", true},
			{"030 901820", "+4930901820", false},
		} {
			r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(`{"email":"a@example.org","phone":"`+c.phone+`"}`))
			r.Header = navigationHeaders()
			r.Header.Set("Content-Type", "application/json")
			r.RemoteAddr = "203.0.113.9:40000"
			v := g.Check(r)
			ph := v.Enrichment.Phone
			if ph == nil || ph.E164 != c.e164 || ph.CountryMismatch != c.mismatch || ph.IPCountry != "DE" || hasSignal(v, "phone_country_mismatch") != c.mismatch {
				t.Errorf("%s: phone %+v signals %v", c.phone, ph, v.Signals)
			}
		}
	})
	t.Run("rules", func(t *testing.T) {
		p := policy.Default()
		p.Rules = []policy.Rule{{Name: "aws-challenge", Match: policy.Match{ASNs: []uint32{16509}}, Action: policy.ActionBlock}}
		if v := check(t, p, "198.51.100.20"); v.Action != vigil.ActionBlock || !hasSignal(v, "rule:aws-challenge") {
			t.Errorf("ASN rule: %s %v", v.Action, v.Signals)
		}
		p.Rules = []policy.Rule{{Name: "de", Match: policy.Match{Countries: []string{"de"}}, Score: 50}}
		if v := check(t, p, "203.0.113.9"); v.Score != 50 {
			t.Errorf("country rule: score %d %v", v.Score, v.Signals)
		}
	})
}

func signalDetail(v vigil.Verdict, code string) string {
	for _, s := range v.Signals {
		if s.Code == code {
			return s.Detail
		}
	}
	return ""
}

// A GeoIP file that is missing or is not a database stops New with an error that
// names it.
func TestGeoConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, gc := range []vigil.GeoConfig{
		{CountryDB: filepath.Join(dir, "missing.mmdb")},
		{ASNDB: bad},
		{CloudRanges: []string{bad}},
	} {
		_, err := vigil.New(vigil.Config{Geo: gc})
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("%+v: error %v, want one naming the file", gc, err)
		}
	}
	if _, err := vigil.New(vigil.Config{Geo: vigil.GeoConfig{HostingASNs: []uint32{64500}}}); err == nil {
		t.Error("hosting_asns without an ASN database: no error")
	}
}
