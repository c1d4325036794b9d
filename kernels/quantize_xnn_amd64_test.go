//go:build !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestQuantizeXNNWideLoops calls the generated 64-value AVX-512 and
// 32-value AVX2 QUANTIZE loops directly (the dispatch picks one per CPU)
// against fixedpoint.FP32Quantize: exact ties, values that clamp or
// saturate the packs, extreme zero points, narrow clamp ranges, and a
// rare NaN, infinity or huge value, before whose block each loop must
// stop (returning the values done) without writing past it.
func TestQuantizeXNNWideLoops(t *testing.T) {
	type loop struct {
		name  string
		ok    bool
		block int
		fn    func(xs *float32, ys *int8, n int, inv float32, zp int16, lo, hi int8) int
	}
	loops := []loop{
		{"avx512", hasAVX512BW, 64, quantizeI8XNN64AVX512},
		{"avx2", hasAVX2, 32, quantizeI8XNN32AVX2},
	}
	r := rand.New(rand.NewPCG(71, 72))
	for _, l := range loops {
		if !l.ok {
			t.Logf("%s: not on this CPU", l.name)
			continue
		}
		for iter := range 400 {
			blocks := 1 + r.IntN(6)
			n := blocks * l.block
			scale := float32(0.001 + r.Float64())
			if iter%3 == 0 {
				scale = []float32{0.25, 0.5, 0.0625, 1}[r.IntN(4)] // ties exact
			}
			inv := 1 / scale
			zp := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}[iter%4]
			lo, hi := int32(-128), int32(127)
			if iter%5 == 0 {
				lo, hi = -20, 30
			}
			xs := make([]float32, n)
			for i := range xs {
				switch r.IntN(6) {
				case 0, 1:
					xs[i] = (float32(r.IntN(300)-150) + 0.5) * scale
				case 2:
					xs[i] = float32(r.NormFloat64()*1e5) * scale // beyond int16 and int8
				default:
					xs[i] = float32(r.NormFloat64()*100) * scale
				}
			}
			stop := n
			if iter%2 == 0 {
				i := r.IntN(n)
				xs[i] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3e9 * scale, -(1 << 31) * scale}[r.IntN(5)]
				stop = i / l.block * l.block
			}
			ys := make([]int8, n+8)
			for i := range ys {
				ys[i] = 99
			}
			done := l.fn(&xs[0], &ys[0], n, inv, int16(zp), int8(lo), int8(hi))
			if done != stop {
				t.Fatalf("%s iter %d: did %d of %d values, want %d", l.name, iter, done, n, stop)
			}
			for i, y := range ys {
				want := int8(99)
				if i < done {
					want = int8(fixedpoint.FP32Quantize(xs[i], inv, zp, lo, hi))
				}
				if y != want {
					t.Fatalf("%s iter %d: y[%d] = %d for x = %g (scale %g zp %d [%d, %d]), want %d", l.name, iter, i, y, xs[i], scale, zp, lo, hi, want)
				}
			}
		}
	}
}

// BenchmarkQuantizeXNN times the runtime arithmetic's float to int8
// loops on one seed-cnn input image (80×80×3, in cache) and on a batch of
// 64 (4.9 MB of floats): the 16-value AVX-512 loop, the generated
// 64-value AVX-512 and 32-value AVX2 loops, and the Go loop.
func BenchmarkQuantizeXNN(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{80 * 80 * 3, 64 * 80 * 80 * 3} {
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = r.Float32()
		}
		ys := make([]int8, n)
		inv := float32(1 / 0.0039215689)
		loops := []struct {
			name string
			ok   bool
			run  func()
		}{
			{"avx512x16", hasAVX512, func() { quantizeI8XNNAVX512(&xs[0], &ys[0], n, inv, -128, -128, 127) }},
			{"avx512x64", hasAVX512BW, func() { quantizeI8XNN64AVX512(&xs[0], &ys[0], n, inv, -128, -128, 127) }},
			{"avx2x32", hasAVX2, func() { quantizeI8XNN32AVX2(&xs[0], &ys[0], n, inv, -128, -128, 127) }},
			{"go", true, func() { quantizeXNN(inv, -128, -128, 127, xs, ys, true) }},
		}
		for _, l := range loops {
			if !l.ok {
				continue
			}
			b.Run(fmt.Sprintf("%s/n=%d", l.name, n), func(b *testing.B) {
				b.SetBytes(int64(4 * n))
				runCPU(b, l.run)
			})
		}
	}
}
