//go:build !noasm

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BenchmarkWino2OutQ times the 2-D plan's output side for one block of
// seed-cnn's layers as the plan sizes it (40×40→32: 6 tile rows of 10
// tiles; 20×20→64: 5 of 5; 10×10→128: 3 of 3, partial last tiles and
// tile row), from the products to int8: split (wino2OutY per ξ into 24 T
// planes, then winoOutQ.row per output row) against one pass
// (winoOutQ.tileRow2D per tile row), alternating in one binary, FP32
// requantization. Thread CPU per block (cpu-ns/op).
func BenchmarkWino2OutQ(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sh := range []struct{ outHW, N, ty int }{{40, 32, 6}, {20, 64, 5}, {10, 128, 3}} {
		tiles := (sh.outHW + 3) / 4
		plane := sh.ty * tiles * sh.N
		sc := make([]float32, sh.N)
		for i := range sc {
			sc[i] = 0.001 + 0.01*r.Float32()
		}
		out := qt("out", graph.Int8, []int{1, sh.N}, []float32{0.2}, []int64{-128})
		rq, err := newRequant(fixedpoint.RuntimeRounding, &graph.Op{Kind: graph.OpConv2D}, 0.05, sc, out, graph.ActRelu, make([]int64, sh.N), sh.N)
		if err != nil {
			b.Fatal(err)
		}
		q := newWinoOutQ(rq, randI32(r, sh.N, 1<<20), true)
		if q == nil {
			b.Skip("no fused requantization")
		}
		src := randI32(r, 36*plane, 1<<30)
		tt := make([]int32, 24*plane)
		outRow := sh.outHW * sh.N
		dst := make([]int8, sh.outHW*outRow)
		for _, onePass := range []bool{false, true} {
			name := map[bool]string{false: "split", true: "onepass"}[onePass]
			b.Run(fmt.Sprintf("%dx%d/%s", sh.outHW, sh.N, name), func(b *testing.B) {
				runCPU(b, func() {
					if !onePass {
						for xi := range 6 {
							wino2OutY(tt[xi*plane:], 6*plane, src[xi*plane:], 6*plane, plane)
						}
					}
					for j := range sh.ty {
						y0 := 4 * j
						rows := min(4, sh.outHW-y0)
						if onePass {
							q.tileRow2D(dst[y0*outRow:], outRow, rows, src[j*tiles*sh.N:], plane, tiles, sh.outHW, sh.N)
							continue
						}
						for rr := range rows {
							q.row(dst[(y0+rr)*outRow:(y0+rr+1)*outRow], tt[j*tiles*sh.N+6*rr*plane:], plane, tiles, sh.outHW, sh.N)
						}
					}
				})
			})
		}
	}
}
