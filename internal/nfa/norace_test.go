//go:build !race

package nfa

// raceEnabled reports that the race detector is on; see race_test.go.
const raceEnabled = false
