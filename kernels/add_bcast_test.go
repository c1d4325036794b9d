package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// randBroadcastPair returns an output shape (rank 1 to 5, odd sizes, the
// last axis up to 100 long) and two input shapes that broadcast to it:
// each input keeps or flattens to 1 each axis of a random shape, and may
// drop leading axes.
func randBroadcastPair(rng *rand.Rand) (a, b, out []int) {
	rank := 1 + rng.IntN(5)
	out = make([]int, rank)
	for d := range out {
		out[d] = []int{1, 2, 3, 5, 7}[rng.IntN(5)]
	}
	out[rank-1] = []int{1, 3, 8, 15, 16, 17, 31, 33, 64, 100}[rng.IntN(10)]
	in := func() []int {
		s := make([]int, rank)
		for d := range s {
			s[d] = out[d]
			if rng.IntN(2) == 0 {
				s[d] = 1
			}
		}
		return s[rng.IntN(rank):]
	}
	a, b = in(), in()
	out, err := graph.BroadcastShapes(a, b) // axes both inputs flatten are 1
	if err != nil {
		panic(err)
	}
	return a, b, out
}

// TestBroadcastWalkMatchesIndices: each and eachRow, after simplify merges
// and drops axes, still visit every output position in order with the
// input positions NumPy broadcasting gives (computed here from the
// multi-index, without strides).
func TestBroadcastWalkMatchesIndices(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for range 500 {
		a, b, out := randBroadcastPair(rng)
		bc, err := newBroadcast(a, b, out)
		if err != nil {
			t.Fatal(err)
		}
		// pos is the row-major position in s (right-aligned to out) of the
		// output's multi-index idx.
		pos := func(s, idx []int) int {
			p := 0
			for d, n := range s {
				i := idx[len(out)-len(s)+d]
				if n == 1 {
					i = 0
				}
				p = p*n + i
			}
			return p
		}
		var want [][3]int
		idx := make([]int, len(out))
		for o := range graph.NumElements(out) {
			want = append(want, [3]int{o, pos(a, idx), pos(b, idx)})
			for d := len(out) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < out[d] {
					break
				}
				idx[d] = 0
			}
		}
		var got, rows [][3]int
		bc.each(func(o, i1, i2 int) { got = append(got, [3]int{o, i1, i2}) })
		bc.eachRow(func(o, i1, i2, n, d1, d2 int) {
			for j := range n {
				rows = append(rows, [3]int{o + j, i1 + j*d1, i2 + j*d2})
			}
		})
		desc := fmt.Sprintf("%v + %v -> %v (walked as rank %d %v)", a, b, out, bc.rank, bc.out[:bc.rank])
		for _, w := range [][][3]int{got, rows} {
			if len(w) != len(want) {
				t.Fatalf("%s: %d positions, want %d", desc, len(w), len(want))
			}
			for i := range want {
				if w[i] != want[i] {
					t.Fatalf("%s: visit %d is %v, want %v", desc, i, w[i], want[i])
				}
			}
		}
	}
}

// TestAddBroadcastMatchesReference runs broadcast ADDs (random shapes, one
// or both inputs repeated along axes, the last one among them) through the
// row forms and the reference's per-element loop: int8 and uint8 in every
// rounding (XNNPACK's form under runtime rounding, the builtin's tables
// otherwise) bit for bit, float32 bit for bit with NaN, ±0, ±Inf and
// overflowing sums.
func TestAddBroadcastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, 1, -1, 6, 0.5, -0.5, 1e-45}
	ran := 0
	for iter := range 600 {
		d := []graph.DType{graph.Int8, graph.UInt8, graph.Float32}[iter%3]
		rnd := roundings[iter/3%3]
		sa, sb, so := randScale(rng), randScale(rng), randScale(rng)
		if d == graph.Float32 {
			sa, sb, so = 0, 0, 0
		}
		a, b, out := randBroadcastPair(rng)
		x := qtensor("a", d, a, sa, randZP(rng, d))
		y := qtensor("b", d, b, sb, randZP(rng, d))
		o := qtensor("o", d, out, so, randZP(rng, d))
		feed := []*Buffer{allocBuf(x), allocBuf(y)}
		for _, f := range feed {
			if d != graph.Float32 {
				fillInts(rng, f)
				continue
			}
			for i := range f.F32 {
				f.F32[i] = float32(rng.NormFloat64() * 4)
				if rng.IntN(4) == 0 {
					f.F32[i] = specials[rng.IntN(len(specials))]
				}
			}
		}
		op := &graph.Op{Kind: graph.OpAdd, Options: &graph.AddOptions{Activation: acts[rng.IntN(len(acts))]}}
		ins := []*graph.Tensor{x, y}
		if _, err := PrepareWith(op, ins, []*graph.Tensor{o}, Options{Rounding: rnd}); err != nil {
			continue // an output scale too small for the builtin rescale
		}
		differential(t, fmt.Sprintf("ADD %v %v + %v -> %v", d, a, b, out), op, ins, o, rnd, feed)
		ran++
	}
	if ran < 500 {
		t.Errorf("only %d cases ran", ran)
	}
}

// BenchmarkAddBroadcast times broadcast ADDs: a per-channel constant
// ([1 40 40 16] + [16], rows of 16), a per-pixel one ([1 40 40 16] +
// [1 40 40 1], the short operand repeated along the row) and an image
// added to every image of a batch ([4 20 20 32] + [1 20 20 32], one long
// row per image after the axes merge), float32, int8 in XNNPACK's form
// (runtime rounding) and the builtin's (double rounding).
func BenchmarkAddBroadcast(b *testing.B) {
	shapes := []struct {
		name    string
		a, b, o []int
	}{
		{"channel", []int{1, 40, 40, 16}, []int{16}, []int{1, 40, 40, 16}},
		{"pixel", []int{1, 40, 40, 16}, []int{1, 40, 40, 1}, []int{1, 40, 40, 16}},
		{"batch", []int{4, 20, 20, 32}, []int{1, 20, 20, 32}, []int{4, 20, 20, 32}},
	}
	forms := []struct {
		name string
		d    graph.DType
		rnd  fixedpoint.Rounding
	}{
		{"f32", graph.Float32, fixedpoint.RuntimeRounding},
		{"i8xnn", graph.Int8, fixedpoint.RuntimeRounding},
		{"i8builtin", graph.Int8, fixedpoint.DoubleRounding},
	}
	rng := rand.New(rand.NewPCG(75, 76))
	for _, s := range shapes {
		for _, f := range forms {
			var sa, sb, so float32
			if f.d != graph.Float32 {
				sa, sb, so = 0.03, 0.05, 0.06
			}
			ins := []*graph.Tensor{qtensor("a", f.d, s.a, sa, -3), qtensor("b", f.d, s.b, sb, 7)}
			out := qtensor("y", f.d, s.o, so, -128)
			feed := []*Buffer{allocBuf(ins[0]), allocBuf(ins[1])}
			for _, fb := range feed {
				fillAny(rng, fb)
			}
			y := allocBuf(out)
			op := &graph.Op{Kind: graph.OpAdd, Options: &graph.AddOptions{Activation: graph.ActRelu}}
			k, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{Rounding: f.rnd})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(s.name+"/"+f.name, func(b *testing.B) {
				for b.Loop() {
					_ = k.Run(feed, []*Buffer{y})
				}
			})
		}
	}
}
