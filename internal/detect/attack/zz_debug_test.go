package attack

import (
	"os"
	"strings"
	"testing"

	"github.com/corazawaf/libinjection-go"
)

func TestZZDebug(t *testing.T) {
	in := os.Getenv("VALS")
	if in == "" {
		t.Skip()
	}
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range strings.Split(in, "\n") {
		ok, fp := libinjection.IsSQLi(v)
		t.Logf("%q sqli=%v/%s xss=%v → %v", v, ok, fp, libinjection.IsXSS(v), s.ScanValue(nil, "q", v))
	}
}
