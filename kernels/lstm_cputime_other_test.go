//go:build !linux

package kernels

import "testing"

// runCPU runs f b.N times (thread CPU time is read on Linux only).
func runCPU(b *testing.B, f func()) {
	for range b.N {
		f()
	}
}
