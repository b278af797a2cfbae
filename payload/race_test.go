//go:build race

package payload

// raceEnabled is true in -race builds, where loading the Japanese
// dictionary takes half a minute.
const raceEnabled = true
