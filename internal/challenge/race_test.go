//go:build race

package challenge

// raceEnabled reports that the race detector is on: sync.Pool then drops a share of
// what is put back, so pooled paths allocate.
const raceEnabled = true
