//go:build race

package filter

// raceEnabled is true in -race builds, where sync.Pool drops items at random
// and allocation counts mean nothing.
const raceEnabled = true
