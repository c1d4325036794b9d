package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestClamp8MatchesGo holds clamp8 (the AVX2 loop over blocks of 32 where
// the CPU has it, then Go) to the plain min/max per element, for odd
// lengths and random bounds, int8 and uint8, without writing past n.
func TestClamp8MatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for _, n := range []int{0, 1, 31, 32, 33, 64, 1001, 1027} {
		for range 20 {
			l, h := int32(rng.IntN(256)-128), int32(rng.IntN(256)-128)
			l, h = min(l, h), max(l, h)
			xs, ys := make([]int8, n), make([]int8, n+1)
			ys[n] = 99
			for i := range xs {
				xs[i] = int8(rng.IntN(256))
			}
			clamp8(xs, ys[:n], int8(l), int8(h))
			for i, v := range xs {
				if w := int8(min(max(int32(v), l), h)); ys[i] != w {
					t.Fatalf("int8 n %d [%d, %d]: element %d: %d → %d, want %d", n, l, h, i, v, ys[i], w)
				}
			}
			ul, uh := uint8(l+128), uint8(h+128)
			us, uy := make([]uint8, n), make([]uint8, n+1)
			uy[n] = 99
			for i := range us {
				us[i] = uint8(rng.IntN(256))
			}
			clamp8(us, uy[:n], ul, uh)
			for i, v := range us {
				if w := min(max(v, ul), uh); uy[i] != w {
					t.Fatalf("uint8 n %d [%d, %d]: element %d: %d → %d, want %d", n, ul, uh, i, v, uy[i], w)
				}
			}
			if ys[n] != 99 || uy[n] != 99 {
				t.Fatalf("n %d: wrote past the end", n)
			}
		}
	}
}

// TestLutClamp checks that lutClamp finds the clamp in the tables of
// same-quantization RELUs (every 8-bit RELU kind, every rounding), that
// those kernels then run the clamp and match the reference on odd
// lengths, and that it refuses tables that are not a clamp.
func TestLutClamp(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	kinds := []graph.OpKind{graph.OpRelu, graph.OpRelu6, graph.OpReluN1To1, graph.OpRelu0To1}
	for _, rnd := range roundings {
		for _, kind := range kinds {
			for _, d := range []graph.DType{graph.Int8, graph.UInt8} {
				for trial := range 8 {
					s := float32(0.002 + 0.1*rng.Float64())
					zp := randZP(rng, d)
					n := []int{1, 31, 33, 1001}[trial%4]
					in := qtensor("x", d, []int{1, n}, s, zp)
					out := qtensor("y", d, []int{1, n}, s, zp)
					op := &graph.Op{Kind: kind}
					k, err := PrepareWith(op, []*graph.Tensor{in}, []*graph.Tensor{out}, Options{Rounding: rnd})
					if err != nil {
						t.Fatalf("%s %s: %v", kind, d, err)
					}
					var clamp bool
					switch k := k.(type) {
					case *reluKernel:
						clamp = k.clamp8
					case *unaryKernel:
						clamp = k.clamp8
					}
					if !clamp {
						t.Fatalf("%s %s (%s), scale %g zero point %d: same quantization but no clamp", kind, d, rnd, s, zp)
					}
					x := allocBuf(in)
					fillInts(rng, x)
					differential(t, kind.String()+" "+d.String(), op, []*graph.Tensor{in}, out, rnd, []*Buffer{x})
				}
			}
		}
	}
	var id [256]uint8
	for v := range id {
		id[v] = uint8(v)
	}
	if lo, hi, ok := lutClamp(&id, graph.Int8); !ok || lo != -128 || hi != 127 {
		t.Fatalf("identity int8 table: %d %d %v", lo, hi, ok)
	}
	if lo, hi, ok := lutClamp(&id, graph.UInt8); !ok || lo != 0 || hi != 255 {
		t.Fatalf("identity uint8 table: %d %d %v", lo, hi, ok)
	}
	bad := id
	bad[5], bad[6] = 6, 5
	if _, _, ok := lutClamp(&bad, graph.UInt8); ok {
		t.Fatal("a table with two entries swapped taken for a clamp")
	}
	half := lut8For(graph.Int8, func(v int32) int32 { return v / 2 })
	if _, _, ok := lutClamp(half, graph.Int8); ok {
		t.Fatal("v/2 taken for a clamp")
	}
}
