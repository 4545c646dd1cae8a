//go:build race

package wire

// raceEnabled reports that the race detector is on; a build with it allocates more,
// so allocation ceilings do not hold.
const raceEnabled = true
