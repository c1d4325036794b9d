//go:build amd64 && !noasm

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
// one block would be).
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
		} {
			if !f.ok {
				continue
			}
			b.Run(fmt.Sprintf("inY/%dx%d/%s", sh[0], sh[1], f.name), func(b *testing.B) {
				for b.Loop() {
					f.run()
				}
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
		} {
			if !f.ok {
				continue
			}
			b.Run(fmt.Sprintf("outY/%dx%d/%s", sh[0], sh[1], f.name), func(b *testing.B) {
				for b.Loop() {
					f.run()
				}
			})
		}
	}
}
