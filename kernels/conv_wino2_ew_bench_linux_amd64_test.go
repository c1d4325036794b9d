//go:build !noasm

package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkWino2Transforms times one call of each form of the 2-D
// scheme's y transforms at seed-cnn's tile-row sizes (10, 5 and 3 tiles
// of 16, 32 and 64 input channels; of 32, 64 and 128 output channels):
// the plain-Go loop and each vector form this CPU has. The six source
// rows are contiguous, the destination rows six rows apart (as planes of
// one block would be). Besides ns/op it reports the thread's CPU time
// per call (cpu-ns/op), which other processes on a loaded machine
// inflate less.
func BenchmarkWino2Transforms(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][2]int{{10, 16}, {5, 32}, {3, 64}} {
		n := sh[0] * sh[1]
		src := randI16(r, 6*n, 1280)
		dst := make([]int16, 36*n)
		for _, f := range []struct {
			name string
			ok   bool
			run  func()
		}{
			{"go", true, func() { wino2InYGo(dst, 6*n, src, n, 0, n) }},
			{"avx2", hasAVX2, func() { wino2InYAVX2(&dst[0], 6*n, &src[0], n, n) }},
			{"avx512", hasAVX512BW, func() { wino2InYAVX512(&dst[0], 6*n, &src[0], n, n) }},
		} {
			if !f.ok {
				continue
			}
			b.Run(fmt.Sprintf("inY/%dx%d/%s", sh[0], sh[1], f.name), func(b *testing.B) {
				cpuLoop(b, f.run)
			})
		}
	}
	for _, sh := range [][2]int{{10, 32}, {5, 64}, {3, 128}} {
		n := sh[0] * sh[1]
		src := randI32(r, 6*n, 0)
		dst := make([]int32, 24*n)
		for _, f := range []struct {
			name string
			ok   bool
			run  func()
		}{
			{"go", true, func() { wino2OutYGo(dst, 6*n, src, n, 0, n) }},
			{"avx2", hasAVX2, func() { wino2OutYAVX2(&dst[0], 6*n, &src[0], n, n) }},
			{"avx512", hasAVX512BW, func() { wino2OutYAVX512(&dst[0], 6*n, &src[0], n, n) }},
		} {
			if !f.ok {
				continue
			}
			b.Run(fmt.Sprintf("outY/%dx%d/%s", sh[0], sh[1], f.name), func(b *testing.B) {
				cpuLoop(b, f.run)
			})
		}
	}
}

// cpuLoop runs f b.N times on a locked thread and reports its CPU time
// per call.
func cpuLoop(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok0 := threadCPU()
	for b.Loop() {
		f()
	}
	if t1, ok1 := threadCPU(); ok0 && ok1 {
		b.ReportMetric(float64(t1-t0)/float64(b.N), "cpu-ns/op")
	}
}
