package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
)

// exampleStore opens a Store on a new SQLite file and returns it with a function
// that closes it and removes the file.
func exampleStore() (*store.Store, func()) {
	dir, err := os.MkdirTemp("", "studio")
	if err != nil {
		log.Fatal(err)
	}
	s, err := store.Open(context.Background(), filepath.Join(dir, "studio.db"), store.Options{
		Pepper: []byte("a server secret of 32 bytes or more"),
	})
	if err != nil {
		log.Fatal(err)
	}
	return s, func() { s.Close(); os.RemoveAll(dir) }
}

func ExampleStore_AddBan() {
	s, done := exampleStore()
	defer done()
	ctx := context.Background()
	p, err := s.CreateProject(ctx, "shop")
	if err != nil {
		log.Fatal(err)
	}

	// Values are checked and put in normal form; each change gives a new revision.
	b, rev, err := s.AddBan(ctx, p.ID, store.Ban{Kind: store.BanCIDR, Value: "203.0.113.77/24", Reason: "scanner"}, "ann")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Value, "revision", rev)
	_, rev, err = s.AddBan(ctx, p.ID, store.Ban{Kind: store.BanIP, Value: "::ffff:198.51.100.7", Until: time.Now().Add(time.Hour)}, "ann")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revision", rev)
	_, _, err = s.AddBan(ctx, p.ID, store.Ban{Kind: store.BanIP, Value: "198.51.100.0/24"}, "ann")
	fmt.Println(errors.Is(err, store.ErrInvalid), err)

	_, rev, err = s.PutPolicy(ctx, p.ID, []byte(`{"mode":"block"}`), "ann")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revision", rev)

	bans, err := s.Bans(ctx, p.ID, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range bans {
		fmt.Println(b.Kind, b.Value, b.Until.IsZero())
	}
	entries, err := s.AuditLog(ctx, p.ID, 10, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Actor, e.Action, e.Target)
	}
	// Output:
	// 203.0.113.0/24 revision 1
	// revision 2
	// true ban value "198.51.100.0/24" is not an IP address
	// revision 3
	// cidr 203.0.113.0/24 true
	// ip 198.51.100.7 false
	// ann policy.put policy:1
	// ann ban.add ip:198.51.100.7
	// ann ban.add cidr:203.0.113.0/24
}

func ExampleStore_CheckPassword() {
	s, done := exampleStore()
	defer done()
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, "ann", "correct horse battery staple", store.RoleAnalyst); err != nil {
		log.Fatal(err)
	}

	u, err := s.CheckPassword(ctx, "ann", "correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	token, sess, err := s.CreateSession(ctx, u.ID, 12*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	// The browser keeps the token in a cookie; each request finds its session.
	got, err := s.Session(ctx, token, time.Now())
	fmt.Println(got.User.Name, got.User.Role, got.CSRF == sess.CSRF, err)

	_, err = s.CheckPassword(ctx, "ann", "wrong horse battery staple")
	fmt.Println(err)
	_, err = s.CheckPassword(ctx, "bob", "correct horse battery staple")
	fmt.Println(err)
	// Output:
	// ann analyst true <nil>
	// store: bad credentials
	// store: bad credentials
}

func ExampleStore_Subscribe() {
	s, done := exampleStore()
	defer done()
	ctx, cancel := context.WithCancel(context.Background())

	// Every Studio process on the database subscribes; any one notifies.
	ch, err := s.Subscribe(ctx, "controls")
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Notify(ctx, "controls", []byte(`{"project":1,"revision":4}`)); err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(<-ch))

	cancel() // ends the subscription
	_, open := <-ch
	fmt.Println(open)
	// Output:
	// {"project":1,"revision":4}
	// false
}
