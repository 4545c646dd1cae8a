package fingerprint

import (
	"context"
	"testing"
)

// FromContext finds the Conn a context carries, and nothing in one that carries none,
// before and after the first observed connection switched its look-up on.
func TestFromContext(t *testing.T) {
	bg := context.Background()
	if c := FromContext(bg); c != nil {
		t.Fatalf("FromContext(Background) = %p, want nil", c)
	}
	c := &Conn{}
	ctx := newContext(bg, c)
	if got := FromContext(ctx); got != c {
		t.Errorf("FromContext(ctx with c) = %p, want %p", got, c)
	}
	type otherKey struct{}
	if got := FromContext(context.WithValue(ctx, otherKey{}, 1)); got != c {
		t.Errorf("FromContext(child of ctx with c) = %p, want %p", got, c)
	}
	if got := FromContext(bg); got != nil {
		t.Errorf("FromContext(Background) after an observed connection = %p, want nil", got)
	}
}
