package fingerprint_test

import (
	"fmt"

	"github.com/vigilhq/vigil/fingerprint"
)

// A DNA's presence vector has one bit per header of the vocabulary. In middleware mode
// the DNA comes from the request alone, so header order is unknown there.
func ExampleVocabulary() {
	// The DNA of a request that carried Accept and User-Agent, as a guard reports it.
	d := fingerprint.DNA{Family: "curl", Kind: "library", Source: "request", Presence: 1<<0 | 1<<20}
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
