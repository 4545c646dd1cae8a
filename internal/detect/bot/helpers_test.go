package bot

import (
	"encoding/json"
	"testing"
)

func newTestDetector(t testing.TB) *Detector {
	t.Helper()
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type entryWithInstances struct {
	Pattern   string   `json:"pattern"`
	Instances []string `json:"instances"`
}

// embeddedEntries returns the embedded crawler-user-agents entries with their examples.
func embeddedEntries(t testing.TB) []entryWithInstances {
	t.Helper()
	b, err := dataFS.ReadFile("data/crawler-user-agents.json")
	if err != nil {
		t.Fatal(err)
	}
	var es []entryWithInstances
	if err := json.Unmarshal(b, &es); err != nil {
		t.Fatal(err)
	}
	return es
}
