package vigil_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the root package light: a service that imports vigil must
// not pull in a database driver, a Redis client, a web framework or a CLI library. Only
// the standard library, golang.org/x, Vigil's own packages and the small pure-Go libraries
// named here may appear among its dependencies.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := []string{
		"github.com/vigilhq/vigil",
		"golang.org/x/",
		"github.com/corazawaf/libinjection-go",
		"github.com/gaissmai/bart",
		"github.com/oschwald/maxminddb-golang/v2", // GeoIP databases (internal/geo); pure Go
		"go.yaml.in/yaml/v3",
	}
	// Vigil packages that carry heavy dependencies and must never be reachable from
	// the root package.
	forbiddenOwn := []string{
		"github.com/vigilhq/vigil/redisstore", "github.com/vigilhq/vigil/agent",
		"github.com/vigilhq/vigil/proxy", "github.com/vigilhq/vigil/internal/cli",
		"github.com/vigilhq/vigil/internal/studio", "github.com/vigilhq/vigil/cmd/",
		// fraud links the phone-number metadata; the root reaches it only through
		// the Config.Phones interface.
		"github.com/vigilhq/vigil/fraud",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbiddenOwn {
			if pkg == f || strings.HasPrefix(pkg, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("root package depends on %s", pkg)
			}
		}
		ok := false
		for _, a := range allowed {
			if strings.HasPrefix(pkg, a) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("root package depends on %s, which is not on the allowed list", pkg)
		}
	}
}
