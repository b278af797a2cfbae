//go:build !linux

package quant

// hugeMin is the smallest row buffer offered to hugePages, as on Linux.
const hugeMin = 8 << 20

// hugePages has no huge-page advice to give here: the caller allocates as
// usual.
func hugePages(int) []byte { return nil }
