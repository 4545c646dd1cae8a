package fingerprint_test

import (
	"fmt"
	"net/http"

	"github.com/vigilhq/vigil/fingerprint"
)

// In middleware mode the DNA comes from the request alone: which well-known headers are
// present and the shape of a few values. Header order is unknown there.
func ExampleHasher_FromRequest() {
	r, _ := http.NewRequest(http.MethodGet, "https://example.test/", nil)
	r.Header.Set("User-Agent", "curl/8.5.0")
	r.Header.Set("Accept", "*/*")

	d := fingerprint.NewHasher().FromRequest(r, "curl", "library")
	var present []string
	for i, name := range fingerprint.Vocabulary() {
		if d.Presence&(1<<uint(i)) != 0 {
			present = append(present, name)
		}
	}
	fmt.Println(d.Family, d.Kind, d.Source, present)
	// Output:
	// curl library request [Accept User-Agent]
}
