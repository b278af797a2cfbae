package compat

import (
	"os"
	"testing"
)

// TestMain stops the real Qdrant server the differential tests may have
// started.
func TestMain(m *testing.M) {
	code := m.Run()
	qdrantSrv.stop()
	os.Exit(code)
}
