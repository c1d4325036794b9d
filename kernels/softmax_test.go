package kernels

import (
	"math"
	"math/rand"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

func TestSoftmaxReferenceCases(t *testing.T) { runRefDir(t, "softmax") }

func runSoftmax(t *testing.T, beta float32, in, out *graph.Tensor, x *Buffer) *Buffer {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	t.Helper()
	k, err := prepareSoftmax(&graph.Op{Kind: graph.OpSoftmax, Options: &graph.SoftmaxOptions{Beta: beta}}, []*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	y := refBuffer(out.DType, out.Shape, nil)
	ins, outs := []*Buffer{x}, []*Buffer{y}
	if err := k.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(5, func() { _ = k.Run(ins, outs) }); a > 0 && !raceEnabled {
		t.Errorf("softmax Run allocates %v times", a)
	}
	return y
}

func TestSoftmaxHand(t *testing.T) {
	// Float: [0, ln 3] → [1/4, 3/4]; beta 2 on [0, ln 3 / 2] gives the same.
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{2, 2}}
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{2, 2}}
	l3 := float32(math.Log(3))
	y := runSoftmax(t, 1, in, out, &Buffer{DType: graph.Float32, F32: []float32{0, l3, 100, 100 + l3}})
	for i, want := range []float32{0.25, 0.75, 0.25, 0.75} {
		if math.Abs(float64(y.F32[i]-want)) > 1e-6 {
			t.Fatalf("float softmax = %v", y.F32)
		}
	}
	y = runSoftmax(t, 2, in, out, &Buffer{DType: graph.Float32, F32: []float32{0, l3 / 2, -5, -5 + l3/2}})
	if math.Abs(float64(y.F32[1]-0.75)) > 1e-6 {
		t.Fatalf("float softmax beta 2 = %v", y.F32)
	}
	// int8 → int8: a uniform row of 4 is 1/4 = 64/256 → −128 + 64 = −64.
	in8 := qt("in", graph.Int8, []int{1, 4}, []float32{0.1}, []int64{0})
	out8 := qt("out", graph.Int8, []int{1, 4}, []float32{1.0 / 256}, []int64{-128})
	y = runSoftmax(t, 1, in8, out8, &Buffer{DType: graph.Int8, I8: []int8{7, 7, 7, 7}})
	for _, v := range y.I8 {
		if v != -64 {
			t.Fatalf("uniform int8 softmax = %v, want all -64", y.I8)
		}
	}
	// A dominant element saturates at 127 and the far ones at −128.
	y = runSoftmax(t, 1, in8, out8, &Buffer{DType: graph.Int8, I8: []int8{127, -128, -128, -128}})
	if y.I8[0] != 127 || y.I8[1] != -128 {
		t.Fatalf("dominant int8 softmax = %v", y.I8)
	}
	// int8 → int16: uniform row of 4 → 16384 − 32768 = −16384.
	out16 := qt("out", graph.Int16, []int{1, 4}, []float32{1.0 / 65536}, []int64{-32768})
	y = runSoftmax(t, 1, in8, out16, &Buffer{DType: graph.Int8, I8: []int8{-3, -3, -3, -3}})
	for _, v := range y.I16 {
		if v != -16384 {
			t.Fatalf("uniform int8→int16 softmax = %v, want all -16384", y.I16)
		}
	}
	// A non-positive beta is refused for quantized input.
	if _, err := prepareSoftmax(&graph.Op{Kind: graph.OpSoftmax, Options: &graph.SoftmaxOptions{Beta: 0}}, []*graph.Tensor{in8}, []*graph.Tensor{out8}); err == nil {
		t.Error("int8 softmax with beta 0 accepted")
	}
	// Bad output quantization is refused.
	if _, err := prepareSoftmax(&graph.Op{Kind: graph.OpSoftmax}, []*graph.Tensor{in8}, []*graph.Tensor{qt("out", graph.Int8, []int{1, 4}, []float32{0.1}, []int64{0})}); err == nil {
		t.Error("int8 softmax with output scale 0.1 accepted")
	}
}

func TestSoftmaxQuantizedAccuracy(t *testing.T) {
	// Random rows: the int8 and int16 kernels stay within a couple of output
	// steps of the real softmax of the dequantized input.
	r := rand.New(rand.NewSource(13))
	const depth = 10
	in8 := qt("in", graph.Int8, []int{1, depth}, []float32{0.05}, []int64{3})
	out8 := qt("out", graph.Int8, []int{1, depth}, []float32{1.0 / 256}, []int64{-128})
	in16 := qt("in", graph.Int16, []int{1, depth}, []float32{0.0005}, []int64{0})
	out16 := qt("out", graph.Int16, []int{1, depth}, []float32{1.0 / 32768}, []int64{0})
	for iter := 0; iter < 200; iter++ {
		x8 := make([]int8, depth)
		x16 := make([]int16, depth)
		for i := range x8 {
			x8[i] = int8(r.Intn(256) - 128)
			x16[i] = int16(r.Intn(65536) - 32768)
		}
		real8 := make([]float64, depth)
		real16 := make([]float64, depth)
		for i := range x8 {
			real8[i] = 0.05 * float64(int(x8[i])-3)
			real16[i] = 0.0005 * float64(x16[i])
		}
		y8 := runSoftmax(t, 1, in8, out8, &Buffer{DType: graph.Int8, I8: x8})
		y16 := runSoftmax(t, 1, in16, out16, &Buffer{DType: graph.Int16, I16: x16})
		p8, p16 := softmaxRef(real8), softmaxRef(real16)
		for i := range p8 {
			if d := math.Abs(float64(int(y8.I8[i])+128)/256 - p8[i]); d > 1.5/256 {
				t.Fatalf("int8 softmax %v: [%d] = %d, real %g", x8, i, y8.I8[i], p8[i])
			}
			if d := math.Abs(float64(y16.I16[i])/32768 - p16[i]); d > 32.0/32768 { // LUT interpolation: ≈0.1%, as TFLite Micro
				t.Fatalf("int16 softmax %v: [%d] = %d, real %g", x16, i, y16.I16[i], p16[i])
			}
		}
	}
}

func softmaxRef(x []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	s := 0.0
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// TestSoftmax8ExpTable checks the 8-bit softmax's exp table (and, for
// rows longer than 256, its per-row table of results) against the
// per-element computation (exp8 nil) on random rows, input scales and
// betas, int8 and uint8, int8→int16, in every rounding mode.
func TestSoftmax8ExpTable(t *testing.T) {
	rng := rand.New(rand.NewSource(56))
	for iter := 0; iter < 120; iter++ {
		depth := 1 + rng.Intn(1100)
		rnd := fixedpoint.Rounding(iter % 3)
		beta := float32(0.1 + 3*rng.Float64())
		sIn := float32(0.001 + 0.5*rng.Float64())
		var in, out *graph.Tensor
		switch iter % 3 {
		case 0:
			in, out = qtensor("in", graph.Int8, []int{2, depth}, sIn, int64(rng.Intn(256)-128)), qtensor("out", graph.Int8, []int{2, depth}, 1.0/256, -128)
		case 1:
			in, out = qtensor("in", graph.UInt8, []int{2, depth}, sIn, int64(rng.Intn(256))), qtensor("out", graph.UInt8, []int{2, depth}, 1.0/256, 0)
		default:
			in, out = qtensor("in", graph.Int8, []int{2, depth}, sIn, 0), qtensor("out", graph.Int16, []int{2, depth}, 1.0/65536, -32768)
		}
		op := &graph.Op{Kind: graph.OpSoftmax, Options: &graph.SoftmaxOptions{Beta: beta}}
		k, err := prepareSoftmaxRounding(op, []*graph.Tensor{in}, []*graph.Tensor{out}, rnd)
		if err != nil {
			t.Fatal(err)
		}
		var s *softmax
		switch kk := k.(type) {
		case *softmaxInt8:
			s = kk.softmax
		case *softmaxUint8:
			s = kk.softmax
		case *softmaxInt8To16:
			s = kk.softmax
		}
		if s == nil || s.exp8 == nil {
			t.Fatalf("%T: no exp table", k)
		}
		x := allocBuf(in)
		for i := range x.I8 {
			x.I8[i] = int8(rng.Intn(256) - 128)
		}
		for i := range x.U8 {
			x.U8[i] = uint8(rng.Intn(256))
		}
		got, want := allocBuf(out), allocBuf(out)
		if err := k.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
			t.Fatal(err)
		}
		tab := s.exp8
		s.exp8 = nil
		err = k.Run([]*Buffer{x}, []*Buffer{want})
		s.exp8 = tab
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.I8, want.I8) || !slices.Equal(got.U8, want.U8) || !slices.Equal(got.I16, want.I16) {
			t.Fatalf("iter %d %s→%s depth %d beta %g scale %g %v: table and computation differ", iter, in.DType, out.DType, depth, beta, sIn, rnd)
		}
	}
}
