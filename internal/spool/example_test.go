package spool_test

import (
	"fmt"
	"log"
	"os"

	"github.com/vigilhq/vigil/internal/spool"
)

// The agent appends batches it cannot send yet, reads the oldest to send them, and
// acknowledges what Studio accepted. What is not acknowledged survives a restart.
func Example() {
	dir, err := os.MkdirTemp("", "spool")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := spool.Open(dir, spool.Options{MaxBytes: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	for _, batch := range []string{"batch-a", "batch-b", "batch-c"} {
		if _, err := s.Append([]byte(batch)); err != nil {
			log.Print(err) // the agent counts the batch as dropped
		}
	}
	recs, err := s.Read(2, 1<<20)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Println("send", r.ID, string(r.Data))
	}
	if err := s.Ack(recs[len(recs)-1].ID); err != nil { // Studio accepted both
		log.Fatal(err)
	}
	s.Close() // or a crash

	s, err = spool.Open(dir, spool.Options{MaxBytes: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	recs, _ = s.Read(10, 1<<20)
	for _, r := range recs {
		fmt.Println("after restart, send", r.ID, string(r.Data))
	}
	fmt.Printf("%+v\n", s.Stats())
	// Output:
	// send 1 batch-a
	// send 2 batch-b
	// after restart, send 3 batch-c
	// {Records:1 Bytes:81 Segments:1 Dropped:0 DroppedBytes:0 Corrupt:0 SyncErrors:0}
}
