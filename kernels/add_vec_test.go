package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestAddSameVecMatchesReference runs same-shape ADDs (residual adds, the
// SIMD loop's case) of odd lengths around the 16-value blocks against the
// reference: 8-bit in every rounding (XNNPACK's form under runtime
// rounding, including scale ratios at XNNPACK's limits, where products
// are largest), float32 bit for bit on NaN, ±0, ±Inf and sums that
// overflow.
func TestAddSameVecMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}
	lengths := []int{1, 15, 16, 17, 31, 33, 64, 255, 256, 257, 1023, 4099}
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, 1, -1, 6, 0.5, -0.5, 1e-45}
	ran := 0
	for _, rnd := range roundings {
		for _, d := range []graph.DType{graph.Int8, graph.UInt8, graph.Float32} {
			for _, n := range lengths {
				shape := []int{1, n}
				var s1, s2, so float32
				if d != graph.Float32 {
					s1, s2, so = randScale(rng), randScale(rng), randScale(rng)
					switch rng.IntN(4) {
					case 0: // ratios at XNNPACK's bounds [2^−10, 2^8)
						so = s1 * 1024
						s2 = so * 255.9
					case 1:
						so = s2 / 255.99
					}
				}
				x := qtensor("a", d, shape, s1, randZP(rng, d))
				y := qtensor("b", d, shape, s2, randZP(rng, d))
				out := qtensor("o", d, shape, so, randZP(rng, d))
				feed := []*Buffer{allocBuf(x), allocBuf(y)}
				if d == graph.Float32 {
					for _, f := range feed {
						for i := range f.F32 {
							if rng.IntN(4) == 0 {
								f.F32[i] = specials[rng.IntN(len(specials))]
							} else {
								f.F32[i] = float32(rng.NormFloat64() * 4)
							}
						}
					}
				} else {
					fillInts(rng, feed[0])
					lo, hi := DTypeRange(d)
					for i := range n {
						setInt(feed[1], i, lo+rng.Int32N(hi-lo+1))
					}
				}
				op := &graph.Op{Kind: graph.OpAdd, Options: &graph.AddOptions{Activation: acts[rng.IntN(len(acts))]}}
				ins := []*graph.Tensor{x, y}
				if _, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{Rounding: rnd}); err != nil {
					continue // an output scale too small for the builtin rescale
				}
				differential(t, "ADD same "+d.String(), op, ins, out, rnd, feed)
				ran++
			}
		}
	}
	if ran < 3*3*len(lengths)*3/4 {
		t.Errorf("only %d cases ran", ran)
	}
}
