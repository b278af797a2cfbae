//go:build race

package engine

// raceEnabled is true in -race builds, where sync.Pool drops items at random
// and allocation counts mean nothing.
const raceEnabled = true
