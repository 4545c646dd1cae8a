package store_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/wire"
)

func Example() {
	dir, err := os.MkdirTemp("", "studio")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// An SQLite file; a postgres:// URL would open PostgreSQL instead.
	s, err := store.Open(ctx, filepath.Join(dir, "studio.db"), store.Options{
		Pepper: []byte("a server secret of 32 bytes or more"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	p, err := s.CreateProject(ctx, "shop")
	if err != nil {
		log.Fatal(err)
	}
	key, _, err := s.CreateKey(ctx, p.ID, store.ScopeIngest)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(key, "vk_ingest_"), len(key))

	// An agent's request comes with the key; the key gives the project.
	k, err := s.LookupKey(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	batch := &wire.EventBatch{Version: wire.Version, BatchID: "agent1-1", Events: []wire.Event{{
		Time: time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC), Kind: "request", Action: "block", WouldBe: "block",
		Score: 85, ClientIP: netip.MustParseAddr("203.0.113.7"), Path: "/login",
		Signals: []wire.Signal{{Detector: "attack", Code: "sqli", Score: 60}},
	}}}
	for range 2 { // a retry is stored once
		n, dup, err := s.IngestBatch(ctx, k.ProjectID, batch)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("accepted", n, "duplicate", dup)
	}

	evs, next, err := s.Events(ctx, p.ID, store.Filter{IP: "203.0.113.7"}, store.Cursor{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(evs[0].Path, evs[0].Action, evs[0].Reasons, next.IsZero())
	// Output:
	// true 53
	// accepted 1 duplicate false
	// accepted 1 duplicate true
	// /login block [sqli] true
}
