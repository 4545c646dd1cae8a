//go:build race

package browsertest

// raceEnabled reports that the race detector is on. It makes Studio's ingest
// (SQLite in pure Go, instrumented) several times slower, too slow for 2,000
// events a second on two cores.
const raceEnabled = true
