package vigil

import (
	"testing"

	"github.com/vigilhq/vigil/policy"
)

// TestMethodAllowedDefault holds the fast path for a policy without Methods to
// policy.DefaultMethods, which documents it.
func TestMethodAllowedDefault(t *testing.T) {
	st := &state{}
	for _, m := range policy.DefaultMethods() {
		if !st.methodAllowed(m) {
			t.Errorf("%s: not allowed by default, but in policy.DefaultMethods", m)
		}
	}
	for _, m := range []string{"TRACE", "CONNECT", "TRACK", "PROPFIND", "get", "", "GET "} {
		if st.methodAllowed(m) {
			t.Errorf("%q: allowed by default, but not in policy.DefaultMethods", m)
		}
	}
	st.methods = []string{"PROPFIND"}
	if !st.methodAllowed("PROPFIND") || st.methodAllowed("GET") {
		t.Error("a policy's own methods: PROPFIND should pass and GET not")
	}
}
