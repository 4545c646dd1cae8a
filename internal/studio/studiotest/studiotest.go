// Package studiotest gives Studio's tests their PostgreSQL: the server named by
// VIGIL_TEST_POSTGRES (default the machine's, postgres://postgres@127.0.0.1:5432/test),
// and a schema of each test's own, dropped when the test ends, so that parallel tests
// and packages never meet. It is for tests only.
package studiotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the server the tests use when VIGIL_TEST_POSTGRES is not set.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var base = sync.OnceValues(func() (string, error) {
	dsn := os.Getenv("VIGIL_TEST_POSTGRES")
	if dsn == "" {
		dsn = DefaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("postgres at %s: %w", dsn, err)
	}
	defer c.Close(ctx)
	return dsn, c.Ping(ctx)
})

// Postgres returns the tests' PostgreSQL DSN, or why it cannot be reached. It connects
// once per process.
func Postgres() (string, error) { return base() }

// Schema creates a schema named prefix plus a random suffix on the server at dsn,
// drops it when t ends, and returns dsn with its search_path set to it.
func Schema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}
