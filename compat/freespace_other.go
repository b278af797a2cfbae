//go:build !unix

package compat

// freeBytes is unknown on this platform: downloads are bounded by the
// request only.
func freeBytes(string) (uint64, bool) { return 0, false }
