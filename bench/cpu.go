package bench

import "github.com/qlite/qlite/bench/cputime"

// cpuSeconds returns the user plus system CPU time consumed by the process so
// far, or 0 where unavailable.
func cpuSeconds() float64 { return cputime.Now().Seconds() }
