package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/redisstore"
)

// A guard whose rate limits, counters and bans every instance of the service shares
// through Redis. It needs a Redis at 127.0.0.1:6379, so it is compiled, not run.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	client, err := redisstore.ParseURL("redis://127.0.0.1:6379")
	if err != nil {
		logger.Error("redis", "err", err)
		return
	}
	defer client.Close() // after Run has returned
	store, err := redisstore.New(client, redisstore.Config{Logger: logger})
	if err != nil {
		logger.Error("store", "err", err)
		return
	}
	guard, err := vigil.New(vigil.Config{Store: store, Logger: logger})
	if err != nil {
		logger.Error("guard", "err", err)
		return
	}
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: guard.Handler(http.NotFoundHandler())}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return store.Run(ctx) }) // sync, ban subscription, breaker probes
	g.Go(func() error {
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	})
	if err := g.Wait(); err != nil {
		logger.Error("serve", "err", err)
	}
}

// ParseURL tells a single server from a Cluster by the number of addresses. Creating a
// client connects to nothing.
func ExampleParseURL() {
	for _, u := range []string{
		"redis://127.0.0.1:6379/0",
		"rediss://cache.internal:6380",
		"10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000",
	} {
		c, err := redisstore.ParseURL(u)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%T\n", c)
		c.Close()
	}
	_, err := redisstore.ParseURL("http://127.0.0.1:6379")
	fmt.Println(err)
	// Output:
	// *redis.Client
	// *redis.Client
	// *redis.ClusterClient
	// redisstore: Redis URL: redis: invalid URL scheme: http
}
