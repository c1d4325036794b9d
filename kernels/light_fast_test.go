package kernels

// Differential tests of the light kernels' fast paths (lookup tables,
// specialised loops) against their reference arithmetic, prepared with
// Options.reference: every 8-bit input value, random quantization
// parameters, odd sizes, both roundings.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

var roundings = []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding}

// qtensor is an activation tensor with per-tensor quantization (scale 0:
// none).
func qtensor(name string, dt graph.DType, shape []int, scale float32, zp int64) *graph.Tensor {
	t := &graph.Tensor{Name: name, DType: dt, Shape: shape}
	if scale != 0 {
		t.Quant = &graph.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
	return t
}

// allocBuf allocates a zeroed buffer for t.
func allocBuf(t *graph.Tensor) *Buffer {
	b := &Buffer{DType: t.DType, Shape: t.Shape}
	n := t.NumElements()
	switch t.DType {
	case graph.Float32:
		b.F32 = make([]float32, n)
	case graph.Int8:
		b.I8 = make([]int8, n)
	case graph.UInt8:
		b.U8 = make([]uint8, n)
	case graph.Int16:
		b.I16 = make([]int16, n)
	case graph.Int32:
		b.I32 = make([]int32, n)
	case graph.Bool:
		b.Bool = make([]bool, n)
	}
	return b
}

// fillInts fills an integer buffer: first every value of the dtype in
// order (as many as fit), then random values.
func fillInts(rng *rand.Rand, b *Buffer) {
	lo, hi := DTypeRange(b.DType)
	n := len(b.I8) + len(b.U8) + len(b.I16) + len(b.I32)
	for i := range n {
		v := lo + int32(i)
		if int64(v) > int64(hi) || i >= 256 {
			v = lo + int32(rng.Int64N(int64(hi)-int64(lo)+1))
		}
		setInt(b, i, v)
	}
}

// randScale is a random positive scale over several orders of magnitude.
func randScale(rng *rand.Rand) float32 {
	return float32(math.Exp2(rng.Float64()*12 - 10))
}

// randZP is a random zero point of an 8-bit or 16-bit dtype (int16: 0, as
// TFLite requires).
func randZP(rng *rand.Rand, d graph.DType) int64 {
	switch d {
	case graph.Int8:
		return int64(rng.IntN(256) - 128)
	case graph.UInt8:
		return int64(rng.IntN(256))
	}
	return 0
}

// differential prepares op twice, fast and reference, runs both on the
// same inputs and fails on the first differing output element.
func differential(t *testing.T, what string, op *graph.Op, ins []*graph.Tensor, out *graph.Tensor, rnd fixedpoint.Rounding, feed []*Buffer) {
	t.Helper()
	outs := []*graph.Tensor{out}
	fast, err := PrepareWith(op, ins, outs, Options{Rounding: rnd})
	if err != nil {
		t.Fatalf("%s: prepare: %v", what, err)
	}
	ref, err := PrepareWith(op, ins, outs, Options{Rounding: rnd, reference: true})
	if err != nil {
		t.Fatalf("%s: prepare reference: %v", what, err)
	}
	got, want := allocBuf(out), allocBuf(out)
	if err := fast.Run(feed, []*Buffer{got}); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := ref.Run(feed, []*Buffer{want}); err != nil {
		t.Fatalf("%s: reference: %v", what, err)
	}
	if out.DType == graph.Bool {
		for i := range want.Bool {
			if got.Bool[i] != want.Bool[i] {
				t.Fatalf("%s: element %d: fast %v, reference %v", what, i, got.Bool[i], want.Bool[i])
			}
		}
		return
	}
	if out.DType == graph.Float32 {
		for i := range want.F32 {
			g, w := got.F32[i], want.F32[i]
			if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
				t.Fatalf("%s (%s): element %d: fast %g, reference %g", what, rnd, i, g, w)
			}
		}
		return
	}
	for i := range out.NumElements() {
		if g, w := getInt(got, i), getInt(want, i); g != w {
			in := int32(0)
			if len(feed) > 0 && feed[0].DType != graph.Float32 {
				in = getInt(feed[0], i)
			}
			t.Fatalf("%s (%s): element %d (input %d): fast %d, reference %d", what, rnd, i, in, g, w)
		}
	}
}

// oddShape is a random shape of 256+ elements with odd dimensions, so every
// 8-bit value is covered and loops see tails.
func oddShape(rng *rand.Rand) []int {
	return []int{1, 1 + 2*rng.IntN(8), 17 + 2*rng.IntN(10), 3}
}

func TestLightUnaryFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	type opCase struct {
		kind graph.OpKind
		opts any
	}
	ops := []opCase{
		{graph.OpRelu, nil}, {graph.OpRelu6, nil},
		{graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: 0.1}},
		{graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: 0.3}},
		{graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: -1.5}},
		{graph.OpQuantize, nil},
	}
	ran, skipped := 0, 0
	for _, rnd := range roundings {
		for _, oc := range ops {
			for _, din := range []graph.DType{graph.Int8, graph.UInt8, graph.Int16} {
				douts := []graph.DType{din}
				if oc.kind == graph.OpQuantize {
					douts = []graph.DType{graph.Int8, graph.UInt8, graph.Int16}
				}
				for _, dout := range douts {
					for trial := range 12 {
						shape := oddShape(rng)
						si, so := randScale(rng), randScale(rng)
						zi, zo := randZP(rng, din), randZP(rng, dout)
						switch trial {
						case 0: // identical quantization: the clamp case
							so, zo = si, zi
						case 1: // near-identity ratio
							so = si * (1 + float32(rng.NormFloat64())*1e-3)
						case 2: // the int8↔uint8 shift-by-128 case
							so = si
							if din == graph.Int8 && dout == graph.UInt8 {
								zo = zi + 128
							} else if din == graph.UInt8 && dout == graph.Int8 {
								zo = zi - 128
							}
						}
						in := qtensor("x", din, shape, si, zi)
						out := qtensor("y", dout, shape, so, zo)
						x := allocBuf(in)
						fillInts(rng, x)
						op := &graph.Op{Kind: oc.kind, Options: oc.opts}
						if _, err := PrepareWith(op, []*graph.Tensor{in}, []*graph.Tensor{out}, Options{Rounding: rnd}); err != nil {
							skipped++ // e.g. a rescale ratio QuantizeMultiplier cannot hold
							continue
						}
						differential(t, oc.kind.String()+" "+din.String()+"->"+dout.String(), op, []*graph.Tensor{in}, out, rnd, []*Buffer{x})
						ran++
					}
				}
			}
		}
	}
	if skipped > ran/10 {
		t.Errorf("%d cases ran, %d could not be prepared", ran, skipped)
	}
}

func TestLogisticDequantizeFastMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, rnd := range roundings {
		for range 20 {
			shape := oddShape(rng)
			in := qtensor("x", graph.Int8, shape, randScale(rng), randZP(rng, graph.Int8))
			x := allocBuf(in)
			fillInts(rng, x)
			out := qtensor("y", graph.Int8, shape, 1.0/256, -128)
			differential(t, "LOGISTIC", &graph.Op{Kind: graph.OpLogistic}, []*graph.Tensor{in}, out, rnd, []*Buffer{x})
			in = qtensor("x", graph.UInt8, shape, randScale(rng), randZP(rng, graph.UInt8))
			x = allocBuf(in)
			fillInts(rng, x)
			out = qtensor("y", graph.UInt8, shape, 1.0/256, 0)
			differential(t, "LOGISTIC uint8", &graph.Op{Kind: graph.OpLogistic}, []*graph.Tensor{in}, out, rnd, []*Buffer{x})
			for _, d := range []graph.DType{graph.Int8, graph.UInt8} {
				in := qtensor("x", d, shape, randScale(rng), randZP(rng, d))
				x := allocBuf(in)
				fillInts(rng, x)
				out := qtensor("y", graph.Float32, shape, 0, 0)
				differential(t, "DEQUANTIZE "+d.String(), &graph.Op{Kind: graph.OpDequantize}, []*graph.Tensor{in}, out, rnd, []*Buffer{x})
			}
		}
	}
}

func TestAddFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	shapes := [][2][]int{
		{{1, 5, 7, 3}, {1, 5, 7, 3}},
		{{1, 5, 7, 3}, {3}},
		{{1, 5, 1, 3}, {1, 1, 7, 1}},
		{{2, 1, 9}, {1, 4, 1}},
		{{}, {1, 17}},
		{{33}, {}},
	}
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}
	ran, skipped := 0, 0
	for _, rnd := range roundings {
		for _, d := range []graph.DType{graph.Int8, graph.UInt8, graph.Int16, graph.Float32} {
			for _, sh := range shapes {
				for range 6 {
					a, b := sh[0], sh[1]
					o, err := graph.BroadcastShapes(a, b)
					if err != nil {
						t.Fatal(err)
					}
					var s1, s2, so float32
					if d != graph.Float32 {
						s1, s2, so = randScale(rng), randScale(rng), randScale(rng)
					}
					x := qtensor("a", d, a, s1, randZP(rng, d))
					y := qtensor("b", d, b, s2, randZP(rng, d))
					out := qtensor("o", d, o, so, randZP(rng, d))
					feed := []*Buffer{allocBuf(x), allocBuf(y)}
					if d == graph.Float32 {
						for _, f := range feed {
							for i := range f.F32 {
								f.F32[i] = float32(rng.NormFloat64() * 4)
							}
						}
					} else {
						fillInts(rng, feed[0])
						fillInts(rng, feed[1])
					}
					op := &graph.Op{Kind: graph.OpAdd, Options: &graph.AddOptions{Activation: acts[rng.IntN(len(acts))]}}
					ins := []*graph.Tensor{x, y}
					if _, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{Rounding: rnd}); err != nil {
						skipped++ // an output scale too small for the rescale
						continue
					}
					differential(t, "ADD "+d.String(), op, ins, out, rnd, feed)
					ran++
				}
			}
		}
	}
	if skipped > ran/4 {
		t.Errorf("%d cases ran, %d could not be prepared", ran, skipped)
	}
}

// specialFloats are inputs where QUANTIZE's rounding and clamping are
// decided: ties at ±(k + ½)·scale and their float32 neighbours, the clamp
// bounds, zeros, infinities, NaN, huge and tiny values.
func specialFloats(scale float32, zp int32, lo, hi int32) []float32 {
	xs := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e30, -1e30, 3e9, -3e9}
	for _, k := range []int64{0, 1, 2, 3, 7, 100, int64(lo - zp), int64(hi - zp), int64(lo-zp) - 1, int64(hi-zp) + 1} {
		for _, sgn := range []float32{1, -1} {
			for _, f := range []float32{float32(k), float32(k) + 0.5, float32(k) - 0.5} {
				x := sgn * f * scale
				xs = append(xs, x, math.Nextafter32(x, float32(math.Inf(1))), math.Nextafter32(x, float32(math.Inf(-1))))
			}
		}
	}
	return xs
}

func TestQuantizerMatchesAffineQuantize(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, d := range []graph.DType{graph.Int8, graph.UInt8, graph.Int16} {
		lo, hi := DTypeRange(d)
		for trial := range 40 {
			scale := randScale(rng)
			zp := int32(randZP(rng, d))
			if trial%4 == 3 {
				zp = int32(rng.IntN(1000) - 500) // malformed but accepted zero points
			}
			c, ok := newQuantizer(scale, zp, lo, hi)
			if !ok {
				t.Fatalf("%s: no fast quantizer for zero point %d", d, zp)
			}
			xs := specialFloats(scale, zp, lo, hi)
			for range 2000 {
				xs = append(xs, float32(rng.NormFloat64())*scale*float32(hi-lo)/4)
			}
			// A sweep over float32 bit patterns reaches every exponent.
			for b := uint32(0); b < 1<<32-1<<20; b += 1<<20 + 7 {
				xs = append(xs, math.Float32frombits(b))
			}
			got := make([]int32, len(xs))
			switch d {
			case graph.Int8:
				ys := make([]int8, len(xs))
				quantizeSlice(&c, xs, ys)
				for i, v := range ys {
					got[i] = int32(v)
				}
			case graph.UInt8:
				ys := make([]uint8, len(xs))
				quantizeSlice(&c, xs, ys)
				for i, v := range ys {
					got[i] = int32(v)
				}
			default:
				ys := make([]int16, len(xs))
				quantizeSlice(&c, xs, ys)
				for i, v := range ys {
					got[i] = int32(v)
				}
			}
			for i, x := range xs {
				if w := AffineQuantize(x, scale, zp, lo, hi); got[i] != w {
					t.Fatalf("%s scale %g zp %d: x %g (x/scale %g): fast %d, reference %d", d, scale, zp, x, x/scale, got[i], w)
				}
			}
		}
	}
	if _, ok := newQuantizer(1, math.MaxInt32, math.MinInt16, math.MaxInt16); ok {
		t.Error("a zero point far outside the dtype should fall back to AffineQuantize")
	}
}

func TestQuantizeFloatFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, d := range []graph.DType{graph.Int8, graph.UInt8, graph.Int16} {
		for range 10 {
			scale, zp := randScale(rng), randZP(rng, d)
			lo, hi := DTypeRange(d)
			xs := specialFloats(scale, int32(zp), lo, hi)
			for len(xs) < 301 {
				xs = append(xs, float32(rng.NormFloat64())*scale*100)
			}
			shape := []int{len(xs)}
			in := qtensor("x", graph.Float32, shape, 0, 0)
			out := qtensor("y", d, shape, scale, zp)
			x := &Buffer{DType: graph.Float32, Shape: shape, F32: xs}
			differential(t, "QUANTIZE float32->"+d.String(), &graph.Op{Kind: graph.OpQuantize}, []*graph.Tensor{in}, out, fixedpoint.DoubleRounding, []*Buffer{x})
		}
	}
}

// benchLight times one prepared light op, fast and reference, on an
// 80x80x3 (QUANTIZE) or 40x40x16 (others) tensor of seeded values.
func benchLight(b *testing.B, op *graph.Op, in, out *graph.Tensor) {
	rng := rand.New(rand.NewPCG(21, 22))
	x := allocBuf(in)
	if in.DType == graph.Float32 {
		for i := range x.F32 {
			x.F32[i] = rng.Float32()*2 - 1
		}
	} else {
		fillInts(rng, x)
	}
	y := allocBuf(out)
	for _, ref := range []bool{false, true} {
		name := "fast"
		if ref {
			name = "ref"
		}
		k, err := PrepareWith(op, []*graph.Tensor{in}, []*graph.Tensor{out}, Options{reference: ref})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(in.NumElements()))
			for b.Loop() {
				_ = k.Run([]*Buffer{x}, []*Buffer{y})
			}
		})
	}
}

func BenchmarkLightQuantizeFloat(b *testing.B) {
	s := []int{1, 80, 80, 3}
	benchLight(b, &graph.Op{Kind: graph.OpQuantize}, qtensor("x", graph.Float32, s, 0, 0), qtensor("y", graph.Int8, s, 0.0078, 0))
}

func BenchmarkLightReluInt8(b *testing.B) {
	s := []int{1, 40, 40, 16}
	benchLight(b, &graph.Op{Kind: graph.OpRelu}, qtensor("x", graph.Int8, s, 0.031, 0), qtensor("y", graph.Int8, s, 0.0156, -128))
}

func BenchmarkLightDequantizeInt8(b *testing.B) {
	s := []int{1, 40, 40, 16}
	benchLight(b, &graph.Op{Kind: graph.OpDequantize}, qtensor("x", graph.Int8, s, 0.031, 3), qtensor("y", graph.Float32, s, 0, 0))
}

func TestQuantizeFloats(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, d := range []graph.DType{graph.Int8, graph.UInt8, graph.Int16} {
		lo, hi := DTypeRange(d)
		// A subnormal scale and a huge zero point take the plain loop.
		for _, sc := range [][2]float32{{0.02, 3}, {randScale(rng), float32(randZP(rng, d))}, {1e-40, 0}, {0.5, 1e8}} {
			scale, zp := sc[0], int32(sc[1])
			xs := specialFloats(scale, zp, lo, hi)
			b := allocBuf(qtensor("x", d, []int{len(xs)}, 0, 0))
			if err := QuantizeFloats(b, xs, scale, zp); err != nil {
				t.Fatal(err)
			}
			for i, x := range xs {
				if g, w := getInt(b, i), AffineQuantize(x, scale, zp, lo, hi); g != w {
					t.Fatalf("%s scale %g zp %d: x %g: got %d, want %d", d, scale, zp, x, g, w)
				}
			}
		}
	}
	if err := QuantizeFloats(&Buffer{DType: graph.Int8, I8: make([]int8, 2)}, make([]float32, 3), 1, 0); err == nil {
		t.Error("3 values into 2 elements accepted")
	}
	if err := QuantizeFloats(&Buffer{DType: graph.Float32, F32: make([]float32, 3)}, make([]float32, 3), 1, 0); err == nil {
		t.Error("float32 destination accepted")
	}
}

// fillAny fills a buffer of any tested dtype with seeded values.
func fillAny(rng *rand.Rand, b *Buffer) {
	switch b.DType {
	case graph.Float32:
		for i := range b.F32 {
			b.F32[i] = float32(rng.NormFloat64() * 8)
		}
	case graph.Bool:
		for i := range b.Bool {
			b.Bool[i] = rng.IntN(2) == 1
		}
	default:
		fillInts(rng, b)
	}
}

var layoutDTypes = []graph.DType{graph.Float32, graph.Int8, graph.UInt8, graph.Int16, graph.Int32, graph.Bool}

func TestPadFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, d := range layoutDTypes {
		for trial := range 30 {
			rank := 1 + rng.IntN(4)
			in := make([]int, rank)
			out := make([]int, rank)
			pads := make([]int32, 2*rank)
			for i := range rank {
				in[i] = rng.IntN(5)
				if trial%5 != 0 {
					in[i]++ // mostly non-empty inputs; some empty ones
				}
				pads[2*i], pads[2*i+1] = int32(rng.IntN(3)), int32(rng.IntN(3))
				out[i] = in[i] + int(pads[2*i]+pads[2*i+1])
			}
			scale := float32(0)
			if d != graph.Float32 && d != graph.Bool && d != graph.Int32 {
				scale = 0.1
			}
			zp := randZP(rng, d)
			x := qtensor("x", d, in, scale, zp)
			y := qtensor("y", d, out, scale, zp)
			p := &graph.Tensor{Name: "paddings", DType: graph.Int32, Shape: []int{rank, 2}, Data: graph.EncodeInt32s(pads)}
			xb := allocBuf(x)
			fillAny(rng, xb)
			differential(t, "PAD "+d.String(), &graph.Op{Kind: graph.OpPad}, []*graph.Tensor{x, p}, y, fixedpoint.DoubleRounding, []*Buffer{xb, nil})
		}
	}
}

func TestConcatenationFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, d := range layoutDTypes {
		for range 30 {
			rank := 1 + rng.IntN(4)
			axis := rng.IntN(rank)
			base := make([]int, rank)
			for i := range base {
				base[i] = 1 + rng.IntN(4)
			}
			var ins []*graph.Tensor
			var feed []*Buffer
			total := 0
			for j := range 1 + rng.IntN(4) {
				s := append([]int(nil), base...)
				s[axis] = rng.IntN(4)
				total += s[axis]
				x := qtensor(fmt.Sprint("x", j), d, s, 0, 0)
				ins = append(ins, x)
				b := allocBuf(x)
				fillAny(rng, b)
				feed = append(feed, b)
			}
			os := append([]int(nil), base...)
			os[axis] = total
			act := graph.ActNone
			if d == graph.Float32 && rng.IntN(2) == 0 {
				act = graph.ActRelu6
			}
			opts := &graph.ConcatenationOptions{Axis: axis - rank*rng.IntN(2), Activation: act}
			differential(t, "CONCATENATION "+d.String(), &graph.Op{Kind: graph.OpConcatenation, Options: opts}, ins, qtensor("y", d, os, 0, 0), fixedpoint.DoubleRounding, feed)
		}
	}
}

// benchOp times a prepared op, fast and reference, on seeded inputs.
func benchOp(b *testing.B, op *graph.Op, ins []*graph.Tensor, out *graph.Tensor) {
	rng := rand.New(rand.NewPCG(33, 34))
	feed := make([]*Buffer, len(ins))
	for i, t := range ins {
		if t.IsConst() {
			continue
		}
		feed[i] = allocBuf(t)
		fillAny(rng, feed[i])
	}
	y := allocBuf(out)
	for _, ref := range []bool{false, true} {
		k, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{reference: ref})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(map[bool]string{false: "fast", true: "ref"}[ref], func(b *testing.B) {
			for b.Loop() {
				_ = k.Run(feed, []*Buffer{y})
			}
		})
	}
}

func BenchmarkLightAddInt8(b *testing.B) {
	s := []int{1, 40, 40, 16}
	benchOp(b, &graph.Op{Kind: graph.OpAdd, Options: &graph.AddOptions{Activation: graph.ActRelu}},
		[]*graph.Tensor{qtensor("a", graph.Int8, s, 0.03, -3), qtensor("b", graph.Int8, s, 0.05, 7)}, qtensor("y", graph.Int8, s, 0.06, -128))
}

func BenchmarkLightAddInt8Broadcast(b *testing.B) {
	s := []int{1, 40, 40, 16}
	benchOp(b, &graph.Op{Kind: graph.OpAdd, Options: &graph.AddOptions{}},
		[]*graph.Tensor{qtensor("a", graph.Int8, s, 0.03, -3), qtensor("b", graph.Int8, []int{16}, 0.05, 7)}, qtensor("y", graph.Int8, s, 0.06, -128))
}

func BenchmarkLightPadInt8(b *testing.B) {
	pads := &graph.Tensor{Name: "p", DType: graph.Int32, Shape: []int{4, 2}, Data: graph.EncodeInt32s([]int32{0, 0, 1, 1, 1, 1, 0, 0})}
	benchOp(b, &graph.Op{Kind: graph.OpPad}, []*graph.Tensor{qtensor("x", graph.Int8, []int{1, 40, 40, 16}, 0.1, 3), pads}, qtensor("y", graph.Int8, []int{1, 42, 42, 16}, 0.1, 3))
}

func BenchmarkLightConcatInt8(b *testing.B) {
	benchOp(b, &graph.Op{Kind: graph.OpConcatenation, Options: &graph.ConcatenationOptions{Axis: 3}},
		[]*graph.Tensor{qtensor("a", graph.Int8, []int{1, 40, 40, 8}, 0.1, 3), qtensor("b", graph.Int8, []int{1, 40, 40, 8}, 0.1, 3)}, qtensor("y", graph.Int8, []int{1, 40, 40, 16}, 0.1, 3))
}

// TestAddFinishMatchesReference compares the branch-free output rescale
// with the fixed-point functions on sums around every rounding boundary of
// random multipliers and shifts, and on random sums.
func TestAddFinishMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for range 300 {
		k := &addKernel{mOut: int32(1<<30 + rng.Int64N(1<<30)), shOut: -rng.IntN(32), offOut: int32(rng.IntN(256) - 128), ilo: -128, ihi: 127}
		if rng.IntN(4) == 0 {
			k.ilo, k.ihi = math.MinInt32, math.MaxInt32
		}
		e := uint(-k.shOut)
		f := addFinish{m: int64(k.mOut), e: e, mask: int32(1)<<e - 1, off: k.offOut, ilo: k.ilo, ihi: k.ihi}
		try := func(s int32) {
			if g, w := f.at(s), k.finish(s); g != w {
				t.Fatalf("m %d shift %d: sum %d: fast %d, reference %d", k.mOut, k.shOut, s, g, w)
			}
		}
		for range 200 {
			try(int32(rng.Uint32()))
			// Sums whose product lands near a multiple of 2^(31+e) / 2:
			// the ties of both roundings.
			q := rng.Int64N(1<<20) - 1<<19
			s := (q<<(31+e) + int64(1)<<(30+e)) / int64(k.mOut)
			for d := int64(-2); d <= 2; d++ {
				if v := s + d; v >= math.MinInt32 && v <= math.MaxInt32 {
					try(int32(v))
				}
			}
		}
		for _, s := range []int32{0, 1, -1, math.MaxInt32, math.MinInt32, math.MinInt32 + 1} {
			try(s)
		}
	}
}
