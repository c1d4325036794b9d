//go:build !linux

package gemm

import "testing"

// loopCPU is the linux helper's fallback: wall-clock ns/op only.
func loopCPU(b *testing.B, ops float64, f func()) {
	for b.Loop() {
		f()
	}
}
