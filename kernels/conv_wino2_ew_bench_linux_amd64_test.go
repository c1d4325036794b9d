//go:build !noasm

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkWino2Transforms times one call of each form of the 2-D
// scheme's y transforms at seed-cnn's tile-row sizes (10, 5 and 3 tiles
// of 16, 32 and 64 input channels; of 32, 64 and 128 output channels):
// the plain-Go loop and each vector form this CPU has. The six source
// rows are contiguous, the destination rows six rows apart (as planes of
// one block would be). wino2OutX (one output row of 40, 20 and 10
// pixels; through the wrapper, and with the last partial tile in Go as
// before the vector tail) follows. Besides ns/op it reports the thread's CPU time
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
				runCPU(b, f.run)
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
				runCPU(b, f.run)
			})
		}
	}
	for _, sh := range [][3]int{{10, 32, 40}, {5, 64, 20}, {3, 128, 10}} {
		tiles, N, outW := sh[0], sh[1], sh[2]
		src := randI32(r, 6*tiles*N, 0)
		corr := randI32(r, N, 1<<20)
		dst := make([]int32, outW*N)
		for _, f := range []struct {
			name string
			ok   bool
			run  func()
		}{
			{"go", true, func() {
				wino2OutXGo(dst, src, tiles*N, 0, outW/4, 4, N, corr, 0)
				wino2OutXGo(dst, src, tiles*N, outW/4, tiles, outW%4, N, corr, 0)
			}},
			{"avx2", hasAVX2, func() { wino2OutX(dst, src, tiles*N, tiles, outW, N, corr) }},
			{"avx2-gotail", hasAVX2, func() {
				full := outW / 4
				wino2OutXVec(dst, src, tiles*N, full, N, corr)
				wino2OutXGo(dst, src, tiles*N, full, tiles, outW%4, N, corr, 0)
			}},
		} {
			if !f.ok {
				continue
			}
			b.Run(fmt.Sprintf("outX/%dx%d/%s", tiles, N, f.name), func(b *testing.B) {
				runCPU(b, f.run)
			})
		}
	}
}
