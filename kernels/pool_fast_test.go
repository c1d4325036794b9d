package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
)

// refMaxPool is the scalar MAX_POOL_2D loop the kernel had before its
// fast path (TFLite's reference kernel's shape): per output element a
// running max from the lowest value over the clipped window, then the
// clamp, in float64 (exact for every element type). The fast kernel must
// match it bit for bit.
func refMaxPool[T float32 | int8 | int16](g *convGeom, src, dst []T, batch int, lo, hi float64) {
	o := 0
	for b := 0; b < batch; b++ {
		img := src[b*g.inH*g.inW*g.inC:]
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				iy, ix := oy*g.strideH-g.padT, ox*g.strideW-g.padL
				for c := 0; c < g.outC; c++ {
					acc := -math.MaxFloat64
					for y := max(iy, 0); y < min(iy+g.fH, g.inH); y++ {
						for x := max(ix, 0); x < min(ix+g.fW, g.inW); x++ {
							acc = max(acc, float64(img[(y*g.inW+x)*g.inC+c]))
						}
					}
					dst[o] = T(min(max(acc, lo), hi))
					o++
				}
			}
		}
	}
}

// poolCase is one random MAX_POOL_2D configuration.
type poolCase struct {
	batch, h, w, c, f, s int
	pad                  graph.Padding
	act                  graph.Activation
}

func (pc poolCase) String() string {
	return fmt.Sprintf("b%d_%dx%dx%d_f%d_s%d_%v_%v", pc.batch, pc.h, pc.w, pc.c, pc.f, pc.s, pc.pad, pc.act)
}

// prepare builds the kernel and its geometry for dtype d.
func (pc poolCase) prepare(t testing.TB, d graph.DType) (Kernel, *convGeom, *graph.Tensor, *graph.Tensor) {
	oh := graph.ConvOutputSize(pc.pad, pc.h, pc.f, pc.s, 1)
	ow := graph.ConvOutputSize(pc.pad, pc.w, pc.f, pc.s, 1)
	in := &graph.Tensor{Name: "in", DType: d, Shape: []int{pc.batch, pc.h, pc.w, pc.c}}
	out := &graph.Tensor{Name: "out", DType: d, Shape: []int{pc.batch, oh, ow, pc.c}}
	if d != graph.Float32 {
		in = qt("in", d, in.Shape, []float32{0.1}, []int64{0})
		out = qt("out", d, out.Shape, []float32{0.1}, []int64{0})
		if d == graph.Int8 {
			in.Quant.ZeroPoint = []int64{-5}
			out.Quant.ZeroPoint = []int64{-5}
		}
	}
	op := &graph.Op{Kind: graph.OpMaxPool2D, Options: &graph.Pool2DOptions{Padding: pc.pad, StrideH: pc.s, StrideW: pc.s, FilterH: pc.f, FilterW: pc.f, Activation: pc.act}}
	k, err := prepareMaxPool2D(op, []*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		t.Fatalf("%v: %v", pc, err)
	}
	g, err := newConvGeom(op, in, out, pc.f, pc.f, pc.s, pc.s, 1, 1, pc.pad)
	if err != nil {
		t.Fatal(err)
	}
	return k, g, in, out
}

// TestMaxPoolFastMatchesReference compares the channel-contiguous max pool
// with the scalar reference loop on random shapes (odd sizes and channel
// counts, SAME borders, every activation, batches) for float32 (with ±Inf,
// ±0 and NaN in the data), int8 and int16.
func TestMaxPoolFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}
	var cases []poolCase
	for i := 0; i < 150; i++ {
		pc := poolCase{batch: 1 + rng.IntN(2), h: 1 + rng.IntN(9), w: 1 + rng.IntN(9), c: 1 + rng.IntN(19),
			f: 1 + rng.IntN(3), s: 1 + rng.IntN(3), pad: graph.PaddingValid, act: acts[rng.IntN(len(acts))]}
		if i%3 == 0 {
			pc.f, pc.s = 2, 2 // the specialised case
		}
		if rng.IntN(2) == 0 {
			pc.pad = graph.PaddingSame
		}
		if pc.pad == graph.PaddingValid && (pc.h < pc.f || pc.w < pc.f) {
			pc.h, pc.w = pc.h+pc.f, pc.w+pc.f
		}
		cases = append(cases, pc)
	}
	for _, pc := range cases {
		for _, d := range []graph.DType{graph.Float32, graph.Int8, graph.Int16} {
			k, g, in, out := pc.prepare(t, d)
			x := refBuffer(d, in.Shape, nil)
			y := refBuffer(d, out.Shape, nil)
			p := k.(interface{ poolState() *pool }).poolState()
			var lo, hi float64
			switch d {
			case graph.Float32:
				special := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, -math.MaxFloat32}
				for i := range x.F32 {
					x.F32[i] = float32(rng.NormFloat64() * 4)
					if rng.IntN(20) == 0 {
						x.F32[i] = special[rng.IntN(len(special))]
					}
				}
				lo, hi = float64(p.flo), float64(p.fhi)
			case graph.Int8:
				for i := range x.I8 {
					x.I8[i] = int8(rng.IntN(256) - 128)
				}
				lo, hi = float64(p.lo), float64(p.hi)
			case graph.Int16:
				for i := range x.I16 {
					x.I16[i] = int16(rng.IntN(65536) - 32768)
				}
				lo, hi = float64(p.lo), float64(p.hi)
			}
			if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
				t.Fatalf("%v %v: %v", pc, d, err)
			}
			want := refBuffer(d, out.Shape, nil)
			switch d {
			case graph.Float32:
				refMaxPool(g, x.F32, want.F32, pc.batch, lo, hi)
				for i := range y.F32 {
					if math.Float32bits(y.F32[i]) != math.Float32bits(want.F32[i]) {
						t.Fatalf("%v float32: out[%d] = %v, want %v", pc, i, y.F32[i], want.F32[i])
					}
				}
			case graph.Int8:
				refMaxPool(g, x.I8, want.I8, pc.batch, lo, hi)
				for i := range y.I8 {
					if y.I8[i] != want.I8[i] {
						t.Fatalf("%v int8: out[%d] = %d, want %d", pc, i, y.I8[i], want.I8[i])
					}
				}
			case graph.Int16:
				refMaxPool(g, x.I16, want.I16, pc.batch, lo, hi)
				for i := range y.I16 {
					if y.I16[i] != want.I16[i] {
						t.Fatalf("%v int16: out[%d] = %d, want %d", pc, i, y.I16[i], want.I16[i])
					}
				}
			}
		}
	}
}

// TestMaxPoolNaN checks that a NaN in a float window gives NaN (Go's max,
// like the scalar loop) on both the 2×2 and the general path.
func TestMaxPoolNaN(t *testing.T) {
	for _, pc := range []poolCase{{1, 2, 2, 3, 2, 2, graph.PaddingValid, graph.ActRelu}, {1, 3, 3, 3, 3, 1, graph.PaddingValid, graph.ActNone}} {
		k, _, in, out := pc.prepare(t, graph.Float32)
		x := refBuffer(graph.Float32, in.Shape, nil)
		x.F32[4] = float32(math.NaN())
		y := refBuffer(graph.Float32, out.Shape, nil)
		if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
			t.Fatal(err)
		}
		if !math.IsNaN(float64(y.F32[1])) || y.F32[0] != 0 && pc.act == graph.ActRelu {
			t.Errorf("%v: out = %v, want [0 NaN 0] pattern", pc, y.F32)
		}
	}
}

// TestMaxPoolClampOutsideDType covers the int8 fallback: a RELU whose
// zero-point-derived lower bound exceeds int8 keeps the int32 clamp.
func TestMaxPoolClampOutsideDType(t *testing.T) {
	in := qt("in", graph.Int8, []int{1, 2, 2, 1}, []float32{1}, []int64{200})
	out := qt("out", graph.Int8, []int{1, 1, 1, 1}, []float32{1}, []int64{200})
	opts := &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2, Activation: graph.ActRelu}
	// lo = 200 > hi = 127: the clamp gives 127 whatever the input.
	if y := runPool(t, false, opts, in, out, &Buffer{DType: graph.Int8, I8: []int8{-3, 4, 1, 2}}); y.I8[0] != 127 {
		t.Errorf("max pool with lo > hi = %d, want 127", y.I8[0])
	}
}

// BenchmarkMaxPool runs the seed-cnn's four 2×2 stride-2 pools (80×80×16
// down to 10×10×128) per dtype, the fast kernel against the scalar
// reference loop in the same run (sub-benchmarks fast / ref) so their
// ratio is meaningful on a noisy machine.
func BenchmarkMaxPool(b *testing.B) {
	layers := []poolCase{
		{1, 80, 80, 16, 2, 2, graph.PaddingValid, graph.ActNone},
		{1, 40, 40, 32, 2, 2, graph.PaddingValid, graph.ActNone},
		{1, 20, 20, 64, 2, 2, graph.PaddingValid, graph.ActNone},
		{1, 10, 10, 128, 2, 2, graph.PaddingValid, graph.ActNone},
		{1, 15, 15, 24, 3, 2, graph.PaddingSame, graph.ActRelu},
	}
	for _, d := range []graph.DType{graph.Float32, graph.Int8, graph.Int16} {
		for _, pc := range layers {
			k, g, in, out := pc.prepare(b, d)
			x, y := refBuffer(d, in.Shape, nil), refBuffer(d, out.Shape, nil)
			fillRandom(x, 1)
			p := k.(interface{ poolState() *pool }).poolState()
			b.Run(fmt.Sprintf("%v/%v/fast", d, pc), func(b *testing.B) {
				b.SetBytes(int64(pc.h * pc.w * pc.c))
				for b.Loop() {
					_ = k.Run([]*Buffer{x}, []*Buffer{y})
				}
			})
			b.Run(fmt.Sprintf("%v/%v/ref", d, pc), func(b *testing.B) {
				b.SetBytes(int64(pc.h * pc.w * pc.c))
				for b.Loop() {
					switch d {
					case graph.Float32:
						refMaxPool(g, x.F32, y.F32, 1, float64(p.flo), float64(p.fhi))
					case graph.Int8:
						refMaxPool(g, x.I8, y.I8, 1, float64(p.lo), float64(p.hi))
					case graph.Int16:
						refMaxPool(g, x.I16, y.I16, 1, float64(p.lo), float64(p.hi))
					}
				}
			})
		}
	}
}

// fillRandom fills a float32, int8 or int16 buffer with seeded values over
// the dtype's range (benchmarks on zeros would flatter branchy code).
func fillRandom(x *Buffer, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	for i := range x.F32 {
		x.F32[i] = float32(rng.NormFloat64())
	}
	for i := range x.I8 {
		x.I8[i] = int8(rng.IntN(256) - 128)
	}
	for i := range x.I16 {
		x.I16[i] = int16(rng.IntN(65536) - 32768)
	}
}

// TestAvgPoolMatchesReference compares the channel-contiguous average
// pool with the scalar per-element loop on random shapes (odd sizes,
// windows larger than the image, SAME borders, every activation,
// batches, more channels than the stack accumulator) for float32, int8,
// uint8 and int16: the same bits.
func TestAvgPoolMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for iter := 0; iter < 300; iter++ {
		pc := poolCase{batch: 1 + rng.IntN(2), h: 1 + rng.IntN(12), w: 1 + rng.IntN(12), c: 1 + rng.IntN(70), f: 1 + rng.IntN(5), s: 1 + rng.IntN(3),
			pad: []graph.Padding{graph.PaddingSame, graph.PaddingValid}[rng.IntN(2)], act: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[rng.IntN(3)]}
		if iter%25 == 0 {
			pc.c = 257 + rng.IntN(40)
		}
		if pc.pad == graph.PaddingValid {
			pc.f = min(pc.f, pc.h, pc.w)
		}
		d := []graph.DType{graph.Float32, graph.Int8, graph.UInt8, graph.Int16}[iter%4]
		oh, ow := graph.ConvOutputSize(pc.pad, pc.h, pc.f, pc.s, 1), graph.ConvOutputSize(pc.pad, pc.w, pc.f, pc.s, 1)
		in := &graph.Tensor{Name: "in", DType: d, Shape: []int{pc.batch, pc.h, pc.w, pc.c}}
		out := &graph.Tensor{Name: "out", DType: d, Shape: []int{pc.batch, oh, ow, pc.c}}
		if d != graph.Float32 {
			zp := int64(0)
			if d == graph.UInt8 {
				zp = int64(rng.IntN(256))
			} else if d == graph.Int8 {
				zp = int64(rng.IntN(256) - 128)
			}
			in, out = qt("in", d, in.Shape, []float32{0.1}, []int64{zp}), qt("out", d, out.Shape, []float32{0.1}, []int64{zp})
		}
		op := &graph.Op{Kind: graph.OpAveragePool2D, Options: &graph.Pool2DOptions{Padding: pc.pad, StrideH: pc.s, StrideW: pc.s, FilterH: pc.f, FilterW: pc.f, Activation: pc.act}}
		k, err := prepareAveragePool2D(op, []*graph.Tensor{in}, []*graph.Tensor{out})
		if err != nil {
			t.Fatalf("%v: %v", pc, err)
		}
		x := refBuffer(d, in.Shape, nil)
		for i := range x.F32 {
			x.F32[i] = float32(rng.NormFloat64() * 10)
		}
		for i := range x.I8 {
			x.I8[i] = int8(rng.IntN(256) - 128)
		}
		for i := range x.U8 {
			x.U8[i] = uint8(rng.IntN(256))
		}
		for i := range x.I16 {
			x.I16[i] = int16(rng.IntN(65536) - 32768)
		}
		got, want := refBuffer(d, out.Shape, nil), refBuffer(d, out.Shape, nil)
		if err := k.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
			t.Fatalf("%v: %v", pc, err)
		}
		var p *pool
		switch kk := k.(type) {
		case *poolFloat:
			p = kk.pool
			err = poolFloatRef(p, x.F32, want.F32, pc.batch)
		case *poolInt8:
			p = kk.pool
			err = poolIntRef(p, x.I8, want.I8, pc.batch)
		case *poolUint8:
			p = kk.pool
			err = poolIntRef(p, x.U8, want.U8, pc.batch)
		case *poolInt16:
			p = kk.pool
			err = poolIntRef(p, x.I16, want.I16, pc.batch)
		default:
			t.Fatalf("%T", k)
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range got.F32 {
			if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
				t.Fatalf("%v %v: out[%d] = %v, want %v", pc, d, i, got.F32[i], want.F32[i])
			}
		}
		if !slices.Equal(got.I8, want.I8) || !slices.Equal(got.U8, want.U8) || !slices.Equal(got.I16, want.I16) {
			t.Fatalf("%v %v: integer outputs differ", pc, d)
		}
	}
}
