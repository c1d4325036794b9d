package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BenchmarkWinoOutQ times the Winograd plans' epilogue for one tile row
// (4 output rows) at seed-cnn's sizes — 2-D (÷576) rows of 40, 20 and 10
// pixels of 32, 64 and 128 channels, 1-D (÷24) rows of 10 pixels of 128
// channels — unfused (winoOutRow per row into int32, then one
// requant.rowsInt8) against fused (winoOutQ.row per row), with the FP32
// requantization, alternating in one binary so their ratio is measured
// under the same load. It reports thread CPU per tile row
// (cpu-ns/op).
func BenchmarkWinoOutQ(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	type shape struct {
		outW, N int
		by576   bool
	}
	for _, sh := range []shape{{40, 32, true}, {20, 64, true}, {10, 128, true}, {10, 128, false}} {
		{
			rnd := fixedpoint.RuntimeRounding
			tiles := (sh.outW + 3) / 4
			plane := 4 * tiles * sh.N // a block of one tile row
			// seed-cnn-like scales (0.05 in, 0.001..0.011 weights, 0.2 out).
			sc := make([]float32, sh.N)
			for i := range sc {
				sc[i] = 0.001 + 0.01*r.Float32()
			}
			out := qt("out", graph.Int8, []int{1, sh.N}, []float32{0.2}, []int64{-128})
			rq, err := newRequant(rnd, &graph.Op{Kind: graph.OpConv2D}, 0.05, sc, out, graph.ActRelu, make([]int64, sh.N), sh.N)
			if err != nil {
				b.Fatal(err)
			}
			corr := randI32(r, sh.N, 1<<20)
			src := randI32(r, 6*4*plane, 1<<30)
			outRow := sh.outW * sh.N
			acc := make([]int32, 4*outRow)
			dst := make([]int8, 4*outRow)
			q := newWinoOutQ(rq, corr, sh.by576)
			if q == nil {
				continue // no fused form on this CPU or build
			}
			d := map[bool]string{true: "2d", false: "1d"}[sh.by576]
			for _, fused := range []bool{false, true} {
				name := map[bool]string{false: "unfused", true: "fused"}[fused]
				b.Run(fmt.Sprintf("%s/%dx%d/%s", d, sh.outW, sh.N, name), func(b *testing.B) {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					t0, ok0 := threadCPU()
					for b.Loop() {
						if fused {
							for rr := range 4 {
								q.row(dst[rr*outRow:(rr+1)*outRow], src[6*rr*plane:], plane, tiles, sh.outW, sh.N)
							}
							continue
						}
						for rr := range 4 {
							winoOutRow(acc[rr*outRow:(rr+1)*outRow], src[6*rr*plane:], plane, tiles, sh.outW, sh.N, corr, sh.by576)
						}
						rq.rowsInt8(dst, acc, 4*sh.outW)
					}
					if t1, ok1 := threadCPU(); ok0 && ok1 {
						b.ReportMetric(float64(t1-t0)/float64(b.N), "cpu-ns/op")
					}
				})
			}
		}
	}
}

// BenchmarkConvInt8WinogradOutQ is BenchmarkConvInt8Winograd's 2-D and
// 1-D Winograd layers (seed-cnn's 3×3 ones) with the unfused epilogue
// (the plan's winoOutQ dropped before its first run) against the fused
// one, adjacent in one binary, so that -count alternates them under the
// same load. Thread CPU time per image (cpu-ns/image).
func BenchmarkConvInt8WinogradOutQ(b *testing.B) {
	type shape struct{ hw, cin, cout, batch int }
	for _, s := range []shape{{40, 16, 32, 1}, {20, 32, 64, 1}, {10, 64, 128, 1}, {10, 64, 128, 8}} {
		for _, path := range []convPath{pathWinograd, pathWinograd2D} {
			for _, fused := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%dx%d/%s/%s", s.batch, s.hw, s.cin, s.cout,
					map[convPath]string{pathWinograd: "wino", pathWinograd2D: "wino2"}[path], map[bool]string{false: "unfused", true: "fused"}[fused])
				b.Run(name, func(b *testing.B) {
					r := rand.New(rand.NewPCG(1, 2))
					sc := make([]float32, s.cout)
					for i := range sc {
						sc[i] = 0.001 + 0.01*r.Float32()
					}
					in := qt("in", graph.Int8, []int{s.batch, s.hw, s.hw, s.cin}, []float32{0.05}, []int64{-128})
					out := qt("out", graph.Int8, []int{s.batch, s.hw, s.hw, s.cout}, []float32{0.2}, []int64{-128})
					op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
					ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{s.cout, 3, 3, s.cin}, randI8(r, s.cout*9*s.cin, 101), sc), constI32("b", make([]int32, s.cout), nil)}
					k, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, path)
					if err != nil {
						b.Fatal(err)
					}
					ci := k.(*convInt8)
					switch {
					case ci.wino2 != nil && path == pathWinograd2D:
						if !fused {
							ci.wino2.q = nil
						}
					case ci.wino != nil && path == pathWinograd:
						if !fused {
							ci.wino.q = nil
						}
					default:
						b.Skip("plan not used")
					}
					x := []*Buffer{{DType: graph.Int8, I8: randI8(r, s.batch*s.hw*s.hw*s.cin, 256)}}
					y := []*Buffer{{DType: graph.Int8, I8: make([]int8, s.batch*s.hw*s.hw*s.cout)}}
					runKernelCPU(b, k, x, y, s.batch)
				})
			}
		}
	}
}
