package kernels

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

var x16Roundings = []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding}

// x16Weights returns n·k int8 weights, full range, and n positive scales.
func x16Weights(r *rand.Rand, n, k int) ([]int8, []float32) {
	w := make([]int8, n*k)
	for i := range w {
		w[i] = int8(r.Intn(256) - 128)
	}
	s := make([]float32, n)
	for i := range s {
		s[i] = 0.001 * (0.5 + r.Float32())
	}
	return w, s
}

// x16Inputs returns n int16 values: full range, or (extreme) mostly the
// most negative value, which with −128 weights makes the sums largest.
func x16Inputs(r *rand.Rand, n int, extreme bool) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(r.Intn(65536) - 32768)
		if extreme && r.Intn(32) != 0 {
			x[i] = -32768
		}
	}
	return x
}

// x16Extreme sets most weights to −128 so that, with x16Inputs' extreme
// values, sums come near ±2^31.
func x16Extreme(r *rand.Rand, w []int8) {
	for i := range w {
		if r.Intn(32) != 0 {
			w[i] = -128
		}
	}
}

// x16Bias returns a bias tensor for n outputs: none, int32 or int64.
func x16Bias(r *rand.Rand, kind, n int) *graph.Tensor {
	switch kind {
	case 1:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.Intn(1<<20) - 1<<19)
		}
		return constI32("b", v, nil)
	case 2:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(r.Intn(1<<30) - 1<<29)
		}
		return &graph.Tensor{Name: "b", DType: graph.Int64, Shape: []int{n}, Data: graph.EncodeInt64s(v)}
	}
	return nil
}

// x16OutScale picks an output scale so that typical sums of k products
// land inside int16 (some saturate, most do not).
func x16OutScale(r *rand.Rand, k int) float32 {
	return float32(1e-3 * 32768 * 128 / 32768 * float64(1+r.Intn(4)) * (1 + float64(k)/16))
}

func x16Equal(t *testing.T, name string, got, want []int16) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: output %d = %d, reference %d", name, i, got[i], want[i])
		}
	}
}

func TestConv16x8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	iters := 120
	if testing.Short() {
		iters = 30
	}
	for it := 0; it < iters; it++ {
		inH, inW, inC := 1+r.Intn(9), 1+r.Intn(9), 1+r.Intn(21)
		fH, fW := 1+r.Intn(min(3, inH)), 1+r.Intn(min(3, inW))
		outC := 1 + r.Intn(70)
		extreme := false
		switch it % 10 {
		case 7: // depth past x16MaxPairs pairs (split int64 sums; int32 wraps)
			inC, fH, fW, inH, inW = 70+r.Intn(9), 3, 3, 3+r.Intn(3), 3+r.Intn(3)
			extreme = true
		case 8: // pointwise, even and odd depth, in place
			fH, fW = 1, 1
		}
		opts := &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1 + r.Intn(2), StrideW: 1 + r.Intn(2), DilationH: 1, DilationW: 1}
		if it%10 == 8 {
			opts.StrideH, opts.StrideW = 1, 1
			if r.Intn(2) == 0 {
				opts.Padding = graph.PaddingValid
			}
		} else if r.Intn(3) == 0 {
			opts.Padding = graph.PaddingValid
		}
		if r.Intn(5) == 0 && fH <= 2 && fW <= 2 && inH >= 3 && inW >= 3 {
			opts.DilationH, opts.DilationW = 2, 1+r.Intn(2)
		}
		batch := []int{1, 3, 64}[r.Intn(3)]
		if inH*inW*inC*outC > 20000 {
			batch = min(batch, 3)
		}
		outH, outW := inH, inW
		if opts.Padding == graph.PaddingValid {
			outH, outW = inH-(fH-1)*opts.DilationH, inW-(fW-1)*opts.DilationW
		}
		outH, outW = (outH+opts.StrideH-1)/opts.StrideH, (outW+opts.StrideW-1)/opts.StrideW
		k := fH * fW * inC
		wv, ws := x16Weights(r, outC, k)
		oscale := x16OutScale(r, k)
		if extreme {
			// Sums near ±2^31: int32 accumulation wraps, int64 must not.
			x16Extreme(r, wv)
			oscale *= 8
		}
		in := qt("in", graph.Int16, []int{1, inH, inW, inC}, []float32{0.5}, []int64{0})
		out := qt("out", graph.Int16, []int{1, outH, outW, outC}, []float32{oscale}, []int64{0})
		w := constI8("w", graph.Int8, []int{outC, fH, fW, inC}, wv, ws)
		bias := x16Bias(r, r.Intn(3), outC)
		if extreme {
			bias = x16Bias(r, 1+it/10%2, outC)
		}
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.Intn(3)]
		opts.Activation = act
		op := &graph.Op{Kind: graph.OpConv2D, Options: opts}
		ins := []*graph.Tensor{in, w, bias}
		x := &Buffer{DType: graph.Int16, I16: x16Inputs(r, batch*inH*inW*inC, extreme)}
		for _, rnd := range x16Roundings {
			ref, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, rnd, pathReference)
			if err != nil {
				t.Fatal(err)
			}
			want := &Buffer{DType: graph.Int16, I16: make([]int16, batch*outH*outW*outC)}
			if err := ref.Run([]*Buffer{x}, []*Buffer{want}); err != nil {
				t.Fatal(err)
			}
			fast, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, rnd, pathAuto)
			if err != nil {
				t.Fatal(err)
			}
			fk, ok := fast.(*convInt16Fast)
			if !ok {
				t.Fatalf("16x8 conv prepared as %T", fast)
			}
			for _, lv := range x16Levels() {
				k := newConvInt16Fast(fk.convInt16, lv)
				got := &Buffer{DType: graph.Int16, I16: make([]int16, len(want.I16))}
				if err := k.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("iter %d %dx%dx%d f%dx%d s%d,%d d%d,%d %v → %d, batch %d, %v, bias %v, level %d",
					it, inH, inW, inC, fH, fW, opts.StrideH, opts.StrideW, opts.DilationH, opts.DilationW, opts.Padding, outC, batch, rnd, bias != nil && bias.DType == graph.Int64, lv)
				x16Equal(t, name, got.I16, want.I16)
			}
		}
	}
}

func TestFullyConnected16x8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(61))
	for it := 0; it < 80; it++ {
		rows, depth, n := []int{1, 3, 64}[r.Intn(3)]+r.Intn(2), 1+r.Intn(90), 1+r.Intn(100)
		extreme := it%8 == 5
		if extreme {
			depth = 600 + r.Intn(200)
		}
		wv, ws := x16Weights(r, n, depth)
		oscale := x16OutScale(r, depth)
		if extreme {
			x16Extreme(r, wv)
			oscale *= 8
		}
		in := qt("in", graph.Int16, []int{rows, depth}, []float32{0.25}, []int64{0})
		out := qt("out", graph.Int16, []int{rows, n}, []float32{oscale}, []int64{0})
		w := constI8("w", graph.Int8, []int{n, depth}, wv, ws)
		bias := x16Bias(r, r.Intn(3), n)
		op := &graph.Op{Kind: graph.OpFullyConnected, Options: &graph.FullyConnectedOptions{Activation: []graph.Activation{graph.ActNone, graph.ActRelu}[r.Intn(2)]}}
		ins := []*graph.Tensor{in, w, bias}
		x := &Buffer{DType: graph.Int16, I16: x16Inputs(r, rows*depth, extreme)}
		for _, rnd := range x16Roundings {
			ref, err := prepareFullyConnectedWith(op, ins, []*graph.Tensor{out}, rnd, true)
			if err != nil {
				t.Fatal(err)
			}
			want := &Buffer{DType: graph.Int16, I16: make([]int16, rows*n)}
			if err := ref.Run([]*Buffer{x}, []*Buffer{want}); err != nil {
				t.Fatal(err)
			}
			fast, err := prepareFullyConnectedWith(op, ins, []*graph.Tensor{out}, rnd, false)
			if err != nil {
				t.Fatal(err)
			}
			fk, ok := fast.(*fcInt16Fast)
			if !ok {
				t.Fatalf("16x8 fully connected prepared as %T", fast)
			}
			for _, lv := range x16Levels() {
				k := newFCInt16Fast(fk.fc, lv)
				got := &Buffer{DType: graph.Int16, I16: make([]int16, rows*n)}
				if err := k.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
					t.Fatal(err)
				}
				x16Equal(t, fmt.Sprintf("iter %d rows %d depth %d n %d, %v, level %d", it, rows, depth, n, rnd, lv), got.I16, want.I16)
			}
		}
	}
}

// TestX16TilesMatchGo checks every vector tile against the Go loop on
// wrapping sums (extreme values, long depths) and odd pair counts.
func TestX16TilesMatchGo(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, lv := range x16Levels() {
		for _, n := range []int{1, 8, 9, 16, 17, 32, 33, 64, 100} {
			tl := x16TileFor(n, lv)
			for _, np := range []int{1, 2, 3, 255, 700} {
				lda := 2*np + r.Intn(3)
				a := x16Inputs(r, tl.mr*lda, np == 700)
				b := make([]int16, np*tl.nr*2)
				for i := range b {
					b[i] = int16(r.Intn(256) - 128)
					if np == 700 {
						b[i] = -128
					}
				}
				want, got := make([]int32, tl.mr*tl.nr), make([]int32, tl.mr*tl.nr)
				x16TileGo(np, a, lda, b, want, tl.mr, tl.nr)
				p := &pack16x8{tile: tl}
				p.mul(np, a, lda, b, got)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("level %d tile %dx%d, %d pairs: c[%d] = %d, Go %d", lv, tl.mr, tl.nr, np, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// benchConv16x8 times one 16x8 conv of kws-like shape (25×5 pixels of 64
// channels, int64 bias) through the kernel prepared with path.
func benchConv16x8(b *testing.B, fH, fW int, path convPath) {
	r := rand.New(rand.NewSource(1))
	const h, w, c = 25, 5, 64
	wv, ws := x16Weights(r, c, fH*fW*c)
	in := qt("in", graph.Int16, []int{1, h, w, c}, []float32{0.5}, []int64{0})
	out := qt("out", graph.Int16, []int{1, h, w, c}, []float32{x16OutScale(r, fH*fW*c)}, []int64{0})
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
	k, err := prepareConv2DWith(op, []*graph.Tensor{in, constI8("w", graph.Int8, []int{c, fH, fW, c}, wv, ws), x16Bias(r, 2, c)}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, path)
	if err != nil {
		b.Fatal(err)
	}
	x := &Buffer{DType: graph.Int16, I16: x16Inputs(r, h*w*c, false)}
	y := &Buffer{DType: graph.Int16, I16: make([]int16, h*w*c)}
	b.ResetTimer()
	for range b.N {
		if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConv16x8(b *testing.B) {
	b.Run("1x1/ref", func(b *testing.B) { benchConv16x8(b, 1, 1, pathReference) })
	b.Run("1x1/fast", func(b *testing.B) { benchConv16x8(b, 1, 1, pathAuto) })
	b.Run("3x3/ref", func(b *testing.B) { benchConv16x8(b, 3, 3, pathReference) })
	b.Run("3x3/fast", func(b *testing.B) { benchConv16x8(b, 3, 3, pathAuto) })
}

// TestX16EpiMatchesApply64 checks the int64 epilogue's Go and vector forms
// against requant.apply64 on full-range sums, large biases and every
// multiplier and shift a layer can have, at odd widths and offsets.
func TestX16EpiMatchesApply64(t *testing.T) {
	r := rand.New(rand.NewSource(64))
	for it := 0; it < 200; it++ {
		n := 1 + r.Intn(70)
		rq := &requant{channels: n, mult: make([]int32, n), shift: make([]int, n), bias64: make([]int64, n), acc64: true,
			outZP: int32(r.Intn(3) - 1), lo: -32768, hi: 32767}
		if r.Intn(2) == 0 {
			rq.lo, rq.hi = 0, int32(r.Intn(32768))
		}
		for c := range n {
			rq.mult[c] = int32(1<<30 + r.Intn(1<<30))
			if r.Intn(10) == 0 {
				rq.mult[c] = 0x7FFF0000 + int32(r.Intn(0xFFFF))
			}
			rq.shift[c] = -r.Intn(40)
			if r.Intn(10) == 0 {
				rq.shift[c] = []int{-60, 1, 14, 15, 20}[r.Intn(5)]
			}
			rq.bias64[c] = r.Int63n(1<<40) - 1<<39
		}
		e := newX16Epi(rq)
		acc := make([]int32, n)
		for i := range acc {
			acc[i] = int32(r.Uint32())
		}
		j0 := r.Intn(n)
		want := make([]int16, n-j0)
		for j := range want {
			want[j] = int16(rq.apply64(int64(acc[j0+j]), j0+j))
		}
		for _, lv := range x16Levels() {
			got := make([]int16, n-j0)
			e.row(got, acc[j0:], j0, lv)
			x16Equal(t, fmt.Sprintf("iter %d n %d from %d, level %d", it, n, j0, lv), got, want)
		}
	}
}
