//go:build !race

package cjk

// raceEnabled is true in -race builds, where loading UniDic takes half a
// minute: tests leave Japanese text out there.
const raceEnabled = false
