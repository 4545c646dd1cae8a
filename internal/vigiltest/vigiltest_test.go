package vigiltest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSharedDataFindsFileAbove(t *testing.T) {
	root := t.TempDir()
	want := filepath.Join(root, "shared", "data", "x.jsonl")
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "main", "internal", "pkg")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	if got := SharedData(t, "x.jsonl"); got != want {
		t.Errorf("SharedData = %q, want %q", got, want)
	}
}
