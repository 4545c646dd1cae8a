package vigil

import (
	"testing"
	"unsafe"
)

// TestVerdictCtxSize holds the one allocation a guarded request makes for its verdict
// (verdictCtx: context, verdict, request ID, header values, recorder) to the 512-byte
// size class. A field added to Verdict, DNA or Enrichment that pushes it over costs every
// request 64 bytes more; reorder fields to fill padding first (see Enrichment.BotVerified).
func TestVerdictCtxSize(t *testing.T) {
	if n := unsafe.Sizeof(verdictCtx{}); n > 512 {
		t.Errorf("verdictCtx is %d bytes, over the 512-byte size class", n)
	}
}
