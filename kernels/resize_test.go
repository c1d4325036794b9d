package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// rzQuant draws a per-tensor quantization for dt with zero points often at
// the extremes (resize copies integers, so only the range matters).
func rzQuant(r *rand.Rand, dt graph.DType) *graph.Quantization {
	s := []float32{float32(0.001 + r.Float64())}
	switch dt {
	case i8T:
		zp := []int64{-128, 127, 0, int64(r.IntN(256) - 128)}[r.IntN(4)]
		return &graph.Quantization{Scale: s, ZeroPoint: []int64{zp}}
	case u8T:
		zp := []int64{0, 255, 128, int64(r.IntN(256))}[r.IntN(4)]
		return &graph.Quantization{Scale: s, ZeroPoint: []int64{zp}}
	case i16T:
		return &graph.Quantization{Scale: s, ZeroPoint: []int64{0}}
	}
	return nil
}

// rzBuild puts resize cases for dtype dt into one model: input x of a
// random odd shape, one RESIZE_* op per output with its own constant size
// and options (exact 2x and 8x upsamples included, which TFLite's builtin
// kernels special-case).
//
// Model 4 is [1, 2, 14, 3] resized to 82x46: there TFLite's 16.16 nearest
// neighbour (its optimized uint8 kernel) picks other pixels than the float
// one (rows 41, columns 23).
func rzBuild(r *rand.Rand, dt graph.DType, mi int) *ewModel {
	g := &graph.Graph{}
	q := rzQuant(r, dt)
	shape := []int{1 + r.IntN(2), 1 + r.IntN(6), 1 + r.IntN(6), 1 + r.IntN(5)}
	if r.IntN(3) == 0 {
		shape[3] = 8 // TFLite's uint8 8x kernel wants channels in eights
	}
	if mi == 4 {
		shape = []int{1, 2, 14, 3}
	}
	x := &graph.Tensor{Name: "x", DType: dt, Shape: shape, Quant: q.Clone()}
	xi := g.AddTensor(x)
	g.Inputs = []int{xi}
	m := &ewModel{g: g, x: x, in: x}
	opts := []graph.ResizeOptions{{}, {AlignCorners: true}, {HalfPixelCenters: true}}
	for ci := range 14 {
		kind := graph.OpResizeBilinear
		if ci%2 == 1 {
			kind = graph.OpResizeNearestNeighbor
		}
		o := opts[r.IntN(len(opts))]
		if kind == graph.OpResizeNearestNeighbor && r.IntN(6) == 0 {
			o = graph.ResizeOptions{AlignCorners: true, HalfPixelCenters: true}
		}
		h, w := 1+r.IntN(13), 1+r.IntN(13)
		switch ci / 2 % 4 {
		case 0:
			if mi == 4 {
				h, w, o = 82, 46, graph.ResizeOptions{}
			}
		case 1:
			h, w = 2*shape[1], 2*shape[2]
		case 2:
			h, w = 8*shape[1], 8*shape[2]
		}
		sz := g.AddTensor(&graph.Tensor{Name: fmt.Sprintf("size%d", ci), DType: i32T, Shape: []int{2},
			Data: graph.EncodeInt32s([]int32{int32(h), int32(w)})})
		name := fmt.Sprintf("%s %dx%d %+v", kind, h, w, o)
		yi := g.AddTensor(&graph.Tensor{Name: fmt.Sprintf("y%d", ci), DType: dt, Shape: []int{shape[0], h, w, shape[3]}, Quant: q.Clone()})
		oc := o
		g.AddOp(kind, []int{xi, sz}, []int{yi}, &oc)
		m.ops = append(m.ops, g.Ops[len(g.Ops)-1])
		m.names = append(m.names, name)
		g.Outputs = append(g.Outputs, yi)
	}
	return m
}

// runResizeArith runs op with the arithmetic forced to a (for the oracle
// test's report of which arithmetic TFLite uses).
func runResizeArith(m *ewModel, op *graph.Op, a resizeArith, sample []byte) ([]byte, error) {
	ins := []*graph.Tensor{m.g.Tensors[op.Inputs[0]], m.g.Tensors[op.Inputs[1]]}
	out := m.g.Tensors[op.Outputs[0]]
	kk, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{})
	if err != nil {
		return nil, err
	}
	k := kk.(*resizeKernel)
	k.arith = a
	k.plan = k.newPlan(out.Shape[1], out.Shape[2])
	y := ewAlloc(out)
	err = k.Run([]*Buffer{ewDecode(m.x.DType, m.x.Shape, sample), ewDecode(i32T, []int{2}, ins[1].Data)}, []*Buffer{y})
	return ewEncode(y), err
}

// TestResizeMatchesTFLite runs, per dtype, models of random resizes in the
// real TFLite interpreter and in qbench (runtime rounding): integer
// outputs must be identical, float32 outputs too (XNNPACK's arithmetic is
// reproduced, so the 1e-5 tolerance of the float check is not needed; the
// test logs how many float values are bit-identical). With
// QBENCH_RESIZE_ARITH=1 it also reports, per op, which of qbench's resize
// arithmetics agree with TFLite (how resizeArithFor was chosen).
func TestResizeMatchesTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	explore := os.Getenv("QBENCH_RESIZE_ARITH") == "1"
	const samples = 3
	dir := t.TempDir()
	var ops, agree, values, exactF, totalF int
	for _, dt := range []graph.DType{f32T, i8T, u8T, i16T} {
		for mi := range 5 {
			r := rand.New(rand.NewPCG(21, uint64(dt)*100+uint64(mi)))
			m := rzBuild(r, dt, mi)
			in, want := ewOracleRun(t, or, dir, fmt.Sprintf("rz-%s-%d", dt, mi), r, m, samples)
			step := len(in) / samples
			for oi, op := range m.ops {
				ops++
				out := m.g.Tensors[m.g.Outputs[oi]]
				osz := out.NumElements() * out.DType.Size()
				ok := true
				for s := range samples {
					sample, w := in[s*step:(s+1)*step], want[oi][s*osz:(s+1)*osz]
					got, err := runEwOp(m, op, Options{Rounding: fixedpoint.RuntimeRounding}, sample)
					if err != nil {
						t.Fatalf("%s %s: %v", dt, m.names[oi], err)
					}
					values += out.NumElements()
					if explore && s == 0 {
						var names []string
						for a := rzFloatRef; a <= rzNearestFixed; a++ {
							isFloat := a == rzFloatRef || a == rzFloatOpt || a == rzXNNF32
							isNearest := a == rzNearestRef || a == rzNearestFixed
							if isNearest != (op.Kind == graph.OpResizeNearestNeighbor) || (!isNearest && isFloat != (dt == f32T)) {
								continue
							}
							if g, err := runResizeArith(m, op, a, sample); err == nil && string(g) == string(w) {
								names = append(names, a.String())
							}
						}
						t.Logf("%s %s (x %v): TFLite agrees with %q", dt, m.names[oi], m.x.Shape, names)
					}
					if dt == f32T {
						e, n := floatExact(got, w)
						exactF += e
						totalF += n
					}
					if bad, first := ewCompare(out.DType, got, w); bad > 0 {
						t.Errorf("%s model %d %s (x %v): %d of %d values differ from TFLite; %s", dt, mi, m.names[oi], m.x.Shape, bad, out.NumElements(), first)
						ok = false
						break
					}
				}
				if ok {
					agree++
				}
			}
		}
	}
	t.Logf("%d of %d resize ops agree with TFLite (%d values); float32: %d of %d values bit-identical", agree, ops, values, exactF, totalF)
}

// floatExact counts bit-identical float32 values.
func floatExact(got, want []byte) (exact, n int) {
	g, w := ewDecode(f32T, nil, got), ewDecode(f32T, nil, want)
	for i := range w.F32 {
		if math.Float32bits(g.F32[i]) == math.Float32bits(w.F32[i]) {
			exact++
		}
	}
	return exact, len(w.F32)
}

// rzOne is a one-op resize of x (shape in) to size, with a constant size
// unless dynamic.
func rzOne(kind graph.OpKind, dt graph.DType, in []int, h, w int, o graph.ResizeOptions, dynamic bool) (*graph.Op, []*graph.Tensor, *graph.Tensor) {
	q := rzQuant(rand.New(rand.NewPCG(1, 2)), dt)
	x := &graph.Tensor{Name: "x", DType: dt, Shape: in, Quant: q}
	sz := &graph.Tensor{Name: "size", DType: i32T, Shape: []int{2}}
	if !dynamic {
		sz.Data = graph.EncodeInt32s([]int32{int32(h), int32(w)})
	}
	y := &graph.Tensor{Name: "y", DType: dt, Shape: []int{in[0], h, w, in[3]}, Quant: q.Clone()}
	return &graph.Op{Kind: kind, Options: &o}, []*graph.Tensor{x, sz}, y
}

func rzRun(t *testing.T, op *graph.Op, ins []*graph.Tensor, y *graph.Tensor, rnd fixedpoint.Rounding, x *Buffer, size []int32) *Buffer {
	t.Helper()
	k, err := PrepareWith(op, ins, []*graph.Tensor{y}, Options{Rounding: rnd})
	if err != nil {
		t.Fatal(err)
	}
	out := ewAlloc(y)
	if err := k.Run([]*Buffer{x, {DType: i32T, Shape: []int{2}, I32: size}}, []*Buffer{out}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestResizeReferenceValues checks each arithmetic on values worked out by
// hand: a 1x2 image [0, 100] widened to 4 columns.
func TestResizeReferenceValues(t *testing.T) {
	cases := []struct {
		kind graph.OpKind
		dt   graph.DType
		o    graph.ResizeOptions
		rnd  fixedpoint.Rounding
		want []int32
	}{
		// Positions 0, .5, 1, 1.5 (clamped to the last column).
		{graph.OpResizeBilinear, i16T, graph.ResizeOptions{}, fixedpoint.RuntimeRounding, []int32{0, 50, 100, 100}},
		{graph.OpResizeBilinear, u8T, graph.ResizeOptions{}, fixedpoint.SingleRounding, []int32{0, 50, 100, 100}},
		// align_corners: positions 0, 1/3, 2/3, 1. The 10-bit scale is
		// round(1024/3) = 341, so 1/3 is 341/1024: 33.30 → 33, 66.6 → 67.
		{graph.OpResizeBilinear, i8T, graph.ResizeOptions{AlignCorners: true}, fixedpoint.SingleRounding, []int32{0, 33, 67, 100}},
		// XNNPACK: alpha 1/3 → round(682.67) = 683/2048: 100·683/2048 = 33.35 → 33.
		{graph.OpResizeBilinear, i8T, graph.ResizeOptions{AlignCorners: true}, fixedpoint.RuntimeRounding, []int32{0, 33, 67, 100}},
		// half_pixel_centers: positions -.25 (clamped), .25, .75, 1.25.
		{graph.OpResizeBilinear, u8T, graph.ResizeOptions{HalfPixelCenters: true}, fixedpoint.SingleRounding, []int32{0, 25, 75, 100}},
		{graph.OpResizeBilinear, u8T, graph.ResizeOptions{HalfPixelCenters: true}, fixedpoint.RuntimeRounding, []int32{0, 25, 75, 100}},
		{graph.OpResizeNearestNeighbor, i8T, graph.ResizeOptions{}, fixedpoint.DoubleRounding, []int32{0, 0, 100, 100}},
		// align_corners rounds 1/3 → 0 and 2/3 → 1.
		{graph.OpResizeNearestNeighbor, u8T, graph.ResizeOptions{AlignCorners: true}, fixedpoint.SingleRounding, []int32{0, 0, 100, 100}},
		// half_pixel_centers: floor(.25), floor(.75), floor(1.25), floor(1.75).
		{graph.OpResizeNearestNeighbor, i16T, graph.ResizeOptions{HalfPixelCenters: true}, fixedpoint.RuntimeRounding, []int32{0, 0, 100, 100}},
	}
	for _, c := range cases {
		op, ins, y := rzOne(c.kind, c.dt, []int{1, 1, 2, 1}, 1, 4, c.o, false)
		x := &Buffer{DType: c.dt, Shape: ins[0].Shape}
		switch c.dt {
		case i8T:
			x.I8 = []int8{0, 100}
		case u8T:
			x.U8 = []uint8{0, 100}
		case i16T:
			x.I16 = []int16{0, 100}
		}
		out := rzRun(t, op, ins, y, c.rnd, x, []int32{1, 4})
		for i, w := range c.want {
			if got := getInt(out, i); got != w {
				t.Errorf("%s %s %+v %s: element %d = %d, want %d", c.kind, c.dt, c.o, c.rnd, i, got, w)
			}
		}
	}
	// Float: the three arithmetics agree on a ramp upsampled with
	// align_corners (every weight is exact in float32 there).
	for _, rnd := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
		op, ins, y := rzOne(graph.OpResizeBilinear, f32T, []int{1, 1, 2, 1}, 1, 5, graph.ResizeOptions{AlignCorners: true}, false)
		out := rzRun(t, op, ins, y, rnd, &Buffer{DType: f32T, Shape: ins[0].Shape, F32: []float32{0, 8}}, []int32{1, 5})
		if fmt.Sprint(out.F32) != "[0 2 4 6 8]" {
			t.Errorf("float %s: %v, want [0 2 4 6 8]", rnd, out.F32)
		}
	}
}

// TestResizeDynamicSize runs resizes whose size input is known only at run
// time, or was folded at load from ops TFLite runs: the result equals the constant-size kernel of the builtin
// arithmetic (the delegate takes only static sizes), and a size that
// contradicts the planned output is an error, not a wrong result.
func TestResizeDynamicSize(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dt := range []graph.DType{f32T, i8T, u8T, i16T} {
		for _, kind := range []graph.OpKind{graph.OpResizeBilinear, graph.OpResizeNearestNeighbor} {
			for _, o := range []graph.ResizeOptions{{}, {AlignCorners: true}, {HalfPixelCenters: true}} {
				in := []int{2, 3, 5, 3}
				xt := &graph.Tensor{DType: dt, Shape: in}
				x := ewDecode(dt, in, ewInput(r, xt, 1))
				op, ins, y := rzOne(kind, dt, in, 7, 4, o, true)
				got := rzRun(t, op, ins, y, fixedpoint.RuntimeRounding, x, []int32{7, 4})
				op, cins, cy := rzOne(kind, dt, in, 7, 4, o, false)
				want := rzRun(t, op, cins, cy, fixedpoint.SingleRounding, x, []int32{7, 4})
				if bad, first := ewCompare(dt, ewEncode(got), ewEncode(want)); bad > 0 {
					t.Errorf("%s %s %+v: dynamic size differs from the builtin kernel: %s", kind, dt, o, first)
				}
				// A size interp.Fold computed is dynamic in TFLite too.
				cins[1].Folded = true
				folded := rzRun(t, op, cins, cy, fixedpoint.RuntimeRounding, x, []int32{7, 4})
				if bad, first := ewCompare(dt, ewEncode(folded), ewEncode(want)); bad > 0 {
					t.Errorf("%s %s %+v: folded size differs from the builtin kernel: %s", kind, dt, o, first)
				}
				k, err := PrepareWith(op, ins, []*graph.Tensor{y}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				err = k.Run([]*Buffer{x, {DType: i32T, Shape: []int{2}, I32: []int32{7, 5}}}, []*Buffer{ewAlloc(y)})
				if err == nil {
					t.Errorf("%s %s: size [7 5] for a planned [2 7 4 3] output ran", kind, dt)
				}
			}
		}
	}
}

// TestResizeTableCovered walks opTable for the resize kinds: the dtypes the
// oracle test covers prepare, the others are refused with ErrUnsupported.
func TestResizeTableCovered(t *testing.T) {
	for _, kind := range []graph.OpKind{graph.OpResizeBilinear, graph.OpResizeNearestNeighbor} {
		if opTable[kind] == nil {
			t.Fatalf("%s: not in opTable", kind)
		}
		for _, dt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT} {
			op, ins, y := rzOne(kind, dt, []int{1, 2, 3, 1}, 4, 5, graph.ResizeOptions{}, false)
			_, err := PrepareWith(op, ins, []*graph.Tensor{y}, Options{})
			covered := dt == f32T || dt == i8T || dt == u8T || dt == i16T
			switch {
			case covered && err != nil:
				t.Errorf("%s %s: %v", kind, dt, err)
			case !covered && !errors.Is(err, ErrUnsupported):
				t.Errorf("%s %s: want ErrUnsupported, got %v", kind, dt, err)
			}
		}
	}
}
