//go:build race

package nfa

// raceEnabled reports that the race detector is on: sync.Pool then drops a quarter of
// what is put back, so a pooled machine is sometimes made again.
const raceEnabled = true
