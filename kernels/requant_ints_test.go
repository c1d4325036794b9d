package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestRequantizeFastMatchesReference: integer→integer QUANTIZE through the
// typed loops and the int16 table gives the reference's bytes for every
// pair of int8, uint8, int16 and int32 input and output, scale ratios from
// 2^-40 (a shift the loop declines) to 2^20 (left shifts that wrap int32),
// random zero points, every int16 value (int16 inputs) or random and
// extreme values (int32), and every Rounding mode.
func TestRequantizeFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 7))
	dts := []graph.DType{graph.Int8, graph.UInt8, graph.Int16, graph.Int32}
	modes := []fixedpoint.Rounding{fixedpoint.RuntimeRounding, fixedpoint.SingleRounding, fixedpoint.DoubleRounding}
	zp := func(d graph.DType) int64 {
		switch d {
		case graph.Int8:
			return int64(rng.IntN(256) - 128)
		case graph.UInt8:
			return int64(rng.IntN(256))
		case graph.Int16:
			return int64(rng.IntN(2001) - 1000)
		}
		return int64(rng.IntN(20001) - 10000)
	}
	for _, in := range dts {
		for _, out := range dts {
			for trial := range 12 {
				ratio := math.Exp2(-40 + 60*rng.Float64())
				if trial < 3 {
					ratio = math.Exp2(float64(rng.IntN(20) - 10)) // exact powers of two
				}
				sIn := 0.01 + rng.Float64()
				qIn := &graph.Quantization{Scale: []float32{float32(sIn)}, ZeroPoint: []int64{zp(in)}}
				qOut := &graph.Quantization{Scale: []float32{float32(sIn / ratio)}, ZeroPoint: []int64{zp(out)}}
				var n int
				x := &Buffer{DType: in}
				switch in {
				case graph.Int8:
					n = 256
					x.I8 = make([]int8, n)
					for i := range n {
						x.I8[i] = int8(i - 128)
					}
				case graph.UInt8:
					n = 256
					x.U8 = make([]uint8, n)
					for i := range n {
						x.U8[i] = uint8(i)
					}
				case graph.Int16:
					n = 1 << 16
					x.I16 = make([]int16, n)
					for i := range n {
						x.I16[i] = int16(uint16(i))
					}
				case graph.Int32:
					n = 4096
					x.I32 = make([]int32, n)
					for i := range n {
						switch i % 4 {
						case 0:
							x.I32[i] = int32(rng.Uint32())
						case 1:
							x.I32[i] = int32(rng.IntN(1<<17) - 1<<16)
						default:
							x.I32[i] = []int32{math.MinInt32, math.MaxInt32, 0, -1, 1}[rng.IntN(5)]
						}
					}
				}
				shape := []int{n}
				tin := &graph.Tensor{DType: in, Shape: shape, Quant: qIn}
				tout := &graph.Tensor{DType: out, Shape: shape, Quant: qOut}
				rnd := modes[trial%len(modes)]
				name := fmt.Sprintf("%s→%s ratio %g zp %d→%d %v", in, out, ratio, qIn.ZeroPoint[0], qOut.ZeroPoint[0], rnd)
				var got, want *Buffer
				for _, ref := range []bool{true, false} {
					k, err := prepareQuantize(&graph.Op{Kind: graph.OpQuantize}, []*graph.Tensor{tin}, []*graph.Tensor{tout}, rnd, ref)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					y := &Buffer{DType: out, Shape: shape}
					switch out {
					case graph.Int8:
						y.I8 = make([]int8, n)
					case graph.UInt8:
						y.U8 = make([]uint8, n)
					case graph.Int16:
						y.I16 = make([]int16, n)
					case graph.Int32:
						y.I32 = make([]int32, n)
					}
					if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if ref {
						want = y
					} else {
						got = y
					}
				}
				for i := range n {
					if g, w := getInt(got, i), getInt(want, i); g != w {
						t.Fatalf("%s: input %d: %d, want %d", name, getInt(x, i), g, w)
					}
				}
			}
		}
	}
}
