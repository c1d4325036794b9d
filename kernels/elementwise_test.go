package kernels_test

// Tests of the light kernels (elementwise, quantize, reshape, pad, concat,
// mean) through the public Prepare entry point, with hand-computed values.
// The shared TFLite reference cases run in package conformance.

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

func tq(name string, dt graph.DType, shape []int, scale float32, zp int64) *graph.Tensor {
	t := &graph.Tensor{Name: name, DType: dt, Shape: shape}
	if scale != 0 {
		t.Quant = &graph.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
	return t
}

// newBuf allocates a buffer for t, copying t's constant data when present.
func newBuf(t *graph.Tensor) *kernels.Buffer {
	b := &kernels.Buffer{DType: t.DType, Shape: t.Shape}
	n := t.NumElements()
	switch t.DType {
	case graph.Float32:
		b.F32 = make([]float32, n)
		if t.IsConst() {
			copy(b.F32, t.Float32s())
		}
	case graph.Int8:
		b.I8 = make([]int8, n)
		if t.IsConst() {
			copy(b.I8, t.Int8s())
		}
	case graph.UInt8:
		b.U8 = make([]uint8, n)
		copy(b.U8, t.Data)
	case graph.Int16:
		b.I16 = make([]int16, n)
		if t.IsConst() {
			copy(b.I16, t.Int16s())
		}
	case graph.Int32:
		b.I32 = make([]int32, n)
		if t.IsConst() {
			copy(b.I32, t.Int32s())
		}
	case graph.Bool:
		b.Bool = make([]bool, n)
		for i := range t.Data {
			b.Bool[i] = t.Data[i] != 0
		}
	}
	return b
}

// run prepares op over ins → out, fills the non-constant inputs with the
// given buffers (in order) and returns the output buffer.
func run(t *testing.T, kind graph.OpKind, opts any, ins []*graph.Tensor, out *graph.Tensor, feed ...*kernels.Buffer) *kernels.Buffer {
	t.Helper()
	op := &graph.Op{Kind: kind, Options: opts}
	k, err := kernels.Prepare(op, ins, []*graph.Tensor{out})
	if err != nil {
		t.Fatalf("%s: prepare: %v", kind, err)
	}
	bufs := make([]*kernels.Buffer, len(ins))
	f := 0
	for i, in := range ins {
		if in.IsConst() {
			bufs[i] = newBuf(in)
			continue
		}
		bufs[i] = feed[f]
		f++
	}
	o := newBuf(out)
	if err := k.Run(bufs, []*kernels.Buffer{o}); err != nil {
		t.Fatalf("%s: run: %v", kind, err)
	}
	return o
}

func i8(shape []int, v ...int8) *kernels.Buffer {
	return &kernels.Buffer{DType: graph.Int8, Shape: shape, I8: v}
}

func f32(shape []int, v ...float32) *kernels.Buffer {
	return &kernels.Buffer{DType: graph.Float32, Shape: shape, F32: v}
}

func eqI8(t *testing.T, what string, got []int8, want ...int8) {
	t.Helper()
	for i := range want {
		if len(got) != len(want) || got[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func eqF32(t *testing.T, what string, got []float32, want ...float32) {
	t.Helper()
	for i := range want {
		if len(got) != len(want) || !(got[i] == want[i] || math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func TestAddInt8GeneralPath(t *testing.T) {
	// All scales 0.5, zero points 0: the sum is exact.
	s := []int{4}
	x, y, o := tq("x", graph.Int8, s, 0.5, 0), tq("y", graph.Int8, s, 0.5, 0), tq("o", graph.Int8, s, 0.5, 0)
	got := run(t, graph.OpAdd, &graph.AddOptions{}, []*graph.Tensor{x, y}, o, i8(s, 2, -3, 100, -100), i8(s, 4, 1, 100, -100))
	eqI8(t, "exact", got.I8, 6, -2, 127, -128)
	// Output scale 1: 1·0.5 + 0 = 0.5 rounds away from zero to 1 (the final
	// RoundingDivideByPOT), −0.5 to −1.
	o = tq("o", graph.Int8, s, 1, 0)
	got = run(t, graph.OpAdd, &graph.AddOptions{}, []*graph.Tensor{x, y}, o, i8(s, 1, -1, 3, 0), i8(s, 0, 0, 0, 5))
	eqI8(t, "ties", got.I8, 1, -1, 2, 3)
	// RELU6 with output zero point -128 clamps to [−128, −128+6].
	o = tq("o", graph.Int8, s, 1, -128)
	got = run(t, graph.OpAdd, &graph.AddOptions{Activation: graph.ActRelu6}, []*graph.Tensor{x, y}, o, i8(s, -4, 4, 20, 6), i8(s, 0, 0, 0, 0))
	eqI8(t, "relu6", got.I8, -128, -126, -122, -125)
}

func TestAddFloatBroadcast(t *testing.T) {
	x, y := tq("x", graph.Float32, []int{2, 1}, 0, 0), tq("y", graph.Float32, []int{3}, 0, 0)
	o := tq("o", graph.Float32, []int{2, 3}, 0, 0)
	got := run(t, graph.OpAdd, &graph.AddOptions{}, []*graph.Tensor{x, y}, o, f32([]int{2, 1}, 10, 20), f32([]int{3}, 1, 2, 3))
	eqF32(t, "broadcast", got.F32, 11, 12, 13, 21, 22, 23)
	got = run(t, graph.OpAdd, &graph.AddOptions{Activation: graph.ActReluN1To1}, []*graph.Tensor{x, y}, o, f32([]int{2, 1}, -5, 0.5), f32([]int{3}, 1, 0, 4))
	eqF32(t, "relu_n1_to_1", got.F32, -1, -1, -1, 1, 0.5, 1)
}

func TestAddInt16Broadcast(t *testing.T) {
	// Scalar second input; scales chosen so values are exact: x·1 + y·2.
	x, y := tq("x", graph.Int16, []int{3}, 1, 0), tq("y", graph.Int16, []int{}, 2, 0)
	o := tq("o", graph.Int16, []int{3}, 1, 0)
	yb := &kernels.Buffer{DType: graph.Int16, I16: []int16{100}}
	xb := &kernels.Buffer{DType: graph.Int16, Shape: []int{3}, I16: []int16{-5, 0, 32700}}
	got := run(t, graph.OpAdd, &graph.AddOptions{}, []*graph.Tensor{x, y}, o, xb, yb)
	if got.I16[0] != 195 || got.I16[1] != 200 || got.I16[2] != 32767 {
		t.Fatalf("int16 add %v, want [195 200 32767]", got.I16)
	}
}

func TestReluInt8Rescales(t *testing.T) {
	// in scale 1 zp 0 → out scale 0.5 zp −128: q = −128 + 2x, lower bound −128.
	s := []int{4}
	in, out := tq("x", graph.Int8, s, 1, 0), tq("y", graph.Int8, s, 0.5, -128)
	got := run(t, graph.OpRelu, nil, []*graph.Tensor{in}, out, i8(s, -3, 0, 10, 127))
	eqI8(t, "relu", got.I8, -128, -128, -108, 126)
	// RELU6: upper bound −128 + round(6/0.5) = −116.
	got = run(t, graph.OpRelu6, nil, []*graph.Tensor{in}, out, i8(s, -3, 2, 5, 100))
	eqI8(t, "relu6", got.I8, -128, -124, -118, -116)
	got = run(t, graph.OpRelu6, nil, []*graph.Tensor{tq("x", graph.Float32, s, 0, 0)}, tq("y", graph.Float32, s, 0, 0), f32(s, -1, 0.5, 6, 7))
	eqF32(t, "relu6 float", got.F32, 0, 0.5, 6, 6)
}

func TestLeakyRelu(t *testing.T) {
	s := []int{4}
	got := run(t, graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: 0.25}, []*graph.Tensor{tq("x", graph.Float32, s, 0, 0)},
		tq("y", graph.Float32, s, 0, 0), f32(s, -4, -0, 2, 0))
	eqF32(t, "float", got.F32, -1, 0, 2, 0)
	// int8: identity multiplier 1, alpha 0.5 on the negative side; zp 10 in, -10 out.
	in, out := tq("x", graph.Int8, s, 0.1, 10), tq("y", graph.Int8, s, 0.1, -10)
	got = run(t, graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: 0.5}, []*graph.Tensor{in}, out, i8(s, 6, 10, 30, -128))
	// 6−10 = −4 → −2 −10 = −12; 0 → −10; 20 → 10; −138 → −69 −10 = −79
	eqI8(t, "int8", got.I8, -12, -10, 10, -79)
}

func TestLogisticInt8(t *testing.T) {
	s := []int{5}
	in, out := tq("x", graph.Int8, s, 0.1, 0), tq("y", graph.Int8, s, 1.0/256, -128)
	got := run(t, graph.OpLogistic, nil, []*graph.Tensor{in}, out, i8(s, -128, -20, 0, 20, 127))
	// sigmoid(0) = 0.5 → 128−128 = 0; sigmoid(±2) = 0.8808/0.1192 → ±98 around 0;
	// ±12.8 saturate near the ends.
	want := []int8{-128, -97, 0, 97, 127}
	for i := range want {
		if d := int(got.I8[i]) - int(want[i]); d < -1 || d > 1 {
			t.Fatalf("logistic int8 %v, want %v ±1", got.I8, want)
		}
	}
	if got.I8[2] != 0 {
		t.Errorf("logistic(0) = %d, want exactly 0", got.I8[2])
	}
}

func TestLogisticFloatAndInt16(t *testing.T) {
	s := []int{4}
	got := run(t, graph.OpLogistic, nil, []*graph.Tensor{tq("x", graph.Float32, s, 0, 0)}, tq("y", graph.Float32, s, 0, 0), f32(s, 0, 20, -20, 1))
	if got.F32[0] != 0.5 || got.F32[1] != 1 || math.Abs(float64(got.F32[2])-2.061e-9) > 1e-11 || math.Abs(float64(got.F32[3])-0.7310586) > 1e-6 {
		t.Errorf("float logistic %v", got.F32)
	}
	// int16: input scale 2^-12 (power-of-two path), output 2^-15.
	in, out := tq("x", graph.Int16, s, 1.0/4096, 0), tq("y", graph.Int16, s, 1.0/32768, 0)
	xb := &kernels.Buffer{DType: graph.Int16, Shape: s, I16: []int16{0, 4096, -4096, 32767}}
	got = run(t, graph.OpLogistic, nil, []*graph.Tensor{in}, out, xb)
	// sigmoid(0)=0.5 → 16384; sigmoid(±1)=0.7311/0.2689 → 23955/8812; 8 → 32756.
	want := []int16{16384, 23955, 8812, 32756}
	for i := range want {
		if d := int(got.I16[i]) - int(want[i]); d < -2 || d > 2 {
			t.Fatalf("int16 logistic %v, want %v ±2", got.I16, want)
		}
	}
}

func TestQuantizeFloat(t *testing.T) {
	s := []int{7}
	in, out := tq("x", graph.Float32, s, 0, 0), tq("y", graph.Int8, s, 0.5, -1)
	nan := float32(math.NaN())
	got := run(t, graph.OpQuantize, nil, []*graph.Tensor{in}, out, f32(s, 0.25, -0.25, 0.75, 100, -100, 1, nan))
	// 0.5→1, −0.5→−1, 1.5→2 (away from zero), then −1; clamp; NaN → the zero point.
	eqI8(t, "int8", got.I8, 0, -2, 1, 127, -128, 1, -1)
	out = tq("y", graph.UInt8, s, 2, 128)
	got = run(t, graph.OpQuantize, nil, []*graph.Tensor{in}, out, f32(s, 1, -1, 3, 1000, -1000, 0, 5))
	want := []uint8{129, 127, 130, 255, 0, 128, 131}
	for i := range want {
		if got.U8[i] != want[i] {
			t.Fatalf("uint8 %v, want %v", got.U8, want)
		}
	}
}

func TestRequantize(t *testing.T) {
	s := []int{4}
	// int8 → uint8 with the same scale and zero point shifted by 128 (xor path).
	got := run(t, graph.OpQuantize, nil, []*graph.Tensor{tq("x", graph.Int8, s, 0.1, -3)}, tq("y", graph.UInt8, s, 0.1, 125), i8(s, -128, -3, 0, 127))
	if got.U8[0] != 0 || got.U8[1] != 125 || got.U8[2] != 128 || got.U8[3] != 255 {
		t.Fatalf("int8→uint8 %v", got.U8)
	}
	// int8 scale 1 → int16 scale 0.25: ×4, new zero point.
	got = run(t, graph.OpQuantize, nil, []*graph.Tensor{tq("x", graph.Int8, s, 1, 1)}, tq("y", graph.Int16, s, 0.25, 7), i8(s, -128, 1, 2, 127))
	if got.I16[0] != -509 || got.I16[1] != 7 || got.I16[2] != 11 || got.I16[3] != 511 {
		t.Fatalf("int8→int16 %v", got.I16)
	}
	// int8 scale 1 → int8 scale 2: halves; TFLite's doubling high multiply
	// rounds 1.5 up to 2 but −1.5 to −1.
	got = run(t, graph.OpQuantize, nil, []*graph.Tensor{tq("x", graph.Int8, s, 1, 0)}, tq("y", graph.Int8, s, 2, 0), i8(s, 3, -3, 4, 5))
	eqI8(t, "int8→int8", got.I8, 2, -1, 2, 3)
}

func TestDequantize(t *testing.T) {
	s := []int{3}
	got := run(t, graph.OpDequantize, nil, []*graph.Tensor{tq("x", graph.Int8, s, 0.5, 2)}, tq("y", graph.Float32, s, 0, 0), i8(s, 2, 3, -128))
	eqF32(t, "dequantize", got.F32, 0, 0.5, -65)
	// Per channel along axis 0 of [2, 2]: row 0 scale 0.5 zp 0, row 1 scale 2 zp 1.
	in := tq("w", graph.Int8, []int{2, 2}, 0, 0)
	in.Quant = &graph.Quantization{Scale: []float32{0.5, 2}, ZeroPoint: []int64{0, 1}, Axis: 0}
	got = run(t, graph.OpDequantize, nil, []*graph.Tensor{in}, tq("y", graph.Float32, []int{2, 2}, 0, 0), i8([]int{2, 2}, 2, -3, 2, -3))
	eqF32(t, "per-channel", got.F32, 1, -1.5, 2, -8)
}

func TestReshapeCopies(t *testing.T) {
	shape := &graph.Tensor{Name: "shape", DType: graph.Int32, Shape: []int{2}, Data: graph.EncodeInt32s([]int32{3, 2})}
	got := run(t, graph.OpReshape, nil, []*graph.Tensor{tq("x", graph.Float32, []int{6}, 0, 0), shape}, tq("y", graph.Float32, []int{3, 2}, 0, 0),
		f32([]int{6}, 1, 2, 3, 4, 5, 6))
	eqF32(t, "reshape", got.F32, 1, 2, 3, 4, 5, 6)
	_, err := kernels.Prepare(&graph.Op{Kind: graph.OpReshape}, []*graph.Tensor{tq("x", graph.Float32, []int{6}, 0, 0)},
		[]*graph.Tensor{tq("y", graph.Float32, []int{4}, 0, 0)})
	if !errors.Is(err, graph.ErrShape) {
		t.Errorf("reshape 6→4 elements: %v", err)
	}
}

func TestPad(t *testing.T) {
	pads := &graph.Tensor{Name: "paddings", DType: graph.Int32, Shape: []int{2, 2}, Data: graph.EncodeInt32s([]int32{1, 0, 0, 2})}
	// int8 PAD fills with the output zero point.
	got := run(t, graph.OpPad, nil, []*graph.Tensor{tq("x", graph.Int8, []int{2, 2}, 0.1, -7), pads}, tq("y", graph.Int8, []int{3, 4}, 0.1, -7),
		i8([]int{2, 2}, 1, 2, 3, 4))
	eqI8(t, "pad int8", got.I8, -7, -7, -7, -7, 1, 2, -7, -7, 3, 4, -7, -7)
	cv := &graph.Tensor{Name: "constant_values", DType: graph.Float32, Shape: []int{}, Data: graph.EncodeFloat32s([]float32{9})}
	got = run(t, graph.OpPadV2, nil, []*graph.Tensor{tq("x", graph.Float32, []int{2, 2}, 0, 0), pads, cv}, tq("y", graph.Float32, []int{3, 4}, 0, 0),
		f32([]int{2, 2}, 1, 2, 3, 4))
	eqF32(t, "padv2 float", got.F32, 9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9)
	_, err := kernels.Prepare(&graph.Op{Kind: graph.OpPad}, []*graph.Tensor{tq("x", graph.Int8, []int{2, 2}, 0.1, 0), pads},
		[]*graph.Tensor{tq("y", graph.Int8, []int{3, 3}, 0.1, 0)})
	if !errors.Is(err, graph.ErrShape) {
		t.Errorf("pad to the wrong shape: %v", err)
	}
}

func TestConcatenation(t *testing.T) {
	a, b := tq("a", graph.Float32, []int{2, 1}, 0, 0), tq("b", graph.Float32, []int{2, 2}, 0, 0)
	got := run(t, graph.OpConcatenation, &graph.ConcatenationOptions{Axis: -1}, []*graph.Tensor{a, b}, tq("y", graph.Float32, []int{2, 3}, 0, 0),
		f32([]int{2, 1}, 1, 2), f32([]int{2, 2}, 10, 11, 20, 21))
	eqF32(t, "axis -1", got.F32, 1, 10, 11, 2, 20, 21)
	// int8 with a different input scale is refused, as the TFLite runtime
	// refuses it; int16 is copied unrescaled, as the runtime copies it.
	a, b = tq("a", graph.Int8, []int{2}, 0.2, 1), tq("b", graph.Int8, []int{1}, 0.1, 0)
	if _, err := kernels.Prepare(&graph.Op{Kind: graph.OpConcatenation, Options: &graph.ConcatenationOptions{Axis: 0}},
		[]*graph.Tensor{a, b}, []*graph.Tensor{tq("y", graph.Int8, []int{3}, 0.1, 0)}); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("int8 inputs of differing scales: %v", err)
	}
	a, b = tq("a", graph.Int16, []int{2}, 0.2, 0), tq("b", graph.Int16, []int{1}, 0.1, 0)
	ia := &kernels.Buffer{DType: graph.Int16, Shape: []int{2}, I16: []int16{11, 32767}}
	ib := &kernels.Buffer{DType: graph.Int16, Shape: []int{1}, I16: []int16{-5}}
	got = run(t, graph.OpConcatenation, &graph.ConcatenationOptions{Axis: 0}, []*graph.Tensor{a, b}, tq("y", graph.Int16, []int{3}, 0.1, 0), ia, ib)
	if got.I16[0] != 11 || got.I16[1] != 32767 || got.I16[2] != -5 {
		t.Errorf("int16 of differing scales: %v, want the inputs copied", got.I16)
	}
	bt := &graph.Tensor{Name: "b", DType: graph.Bool, Shape: []int{2}}
	bb := &kernels.Buffer{DType: graph.Bool, Shape: []int{2}, Bool: []bool{true, false}}
	got = run(t, graph.OpConcatenation, &graph.ConcatenationOptions{}, []*graph.Tensor{bt, bt}, &graph.Tensor{Name: "y", DType: graph.Bool, Shape: []int{4}}, bb, bb)
	if !got.Bool[0] || got.Bool[1] || !got.Bool[2] || got.Bool[3] {
		t.Errorf("bool concat %v", got.Bool)
	}
}

func TestMean(t *testing.T) {
	axes := &graph.Tensor{Name: "axis", DType: graph.Int32, Shape: []int{1}, Data: graph.EncodeInt32s([]int32{1})}
	got := run(t, graph.OpMean, &graph.ReducerOptions{}, []*graph.Tensor{tq("x", graph.Float32, []int{2, 3}, 0, 0), axes}, tq("y", graph.Float32, []int{2}, 0, 0),
		f32([]int{2, 3}, 1, 2, 4, -1, -2, -6))
	eqF32(t, "float", got.F32, 7.0/3, -3)
	// Same quantization: the raw sum is divided, truncating toward zero.
	in, out := tq("x", graph.Int8, []int{2, 3}, 0.5, 3), tq("y", graph.Int8, []int{2}, 0.5, 3)
	got = run(t, graph.OpMean, &graph.ReducerOptions{}, []*graph.Tensor{in, axes}, out, i8([]int{2, 3}, 1, 2, 4, -1, -2, -4))
	eqI8(t, "same scale", got.I8, 2, -2)
	// Different output scale: (sum − 3·zp)·(0.5/0.25)/3, rounded, + zp out.
	out = tq("y", graph.Int8, []int{2}, 0.25, -1)
	got = run(t, graph.OpMean, &graph.ReducerOptions{}, []*graph.Tensor{in, axes}, out, i8([]int{2, 3}, 4, 5, 6, 3, 3, 3))
	// row 0: (15−9)=6 → 6·2/3 = 4 → 3; row 1: 0 → −1
	eqI8(t, "rescaled", got.I8, 3, -1)
}

func TestPrepareUnsupported(t *testing.T) {
	_, err := kernels.Prepare(&graph.Op{Kind: graph.OpKind(777)}, []*graph.Tensor{tq("x", graph.Float32, []int{1}, 0, 0)},
		[]*graph.Tensor{tq("y", graph.Float32, []int{1}, 0, 0)})
	if !errors.Is(err, kernels.ErrUnsupported) || !strings.Contains(err.Error(), "OP(777)") {
		t.Errorf("unknown op: %v", err)
	}
	_, err = kernels.Prepare(&graph.Op{Kind: graph.OpRelu}, []*graph.Tensor{tq("x", graph.Int32, []int{1}, 0, 0)},
		[]*graph.Tensor{tq("y", graph.Int32, []int{1}, 0, 0)})
	if !errors.Is(err, kernels.ErrUnsupported) || !strings.Contains(err.Error(), "RELU (int32 -> int32)") {
		t.Errorf("int32 relu: %v", err)
	}
	_, err = kernels.Prepare(&graph.Op{Kind: graph.OpAdd}, []*graph.Tensor{tq("x", graph.Int8, []int{1}, 0, 0), tq("y", graph.Int8, []int{1}, 0, 0)},
		[]*graph.Tensor{tq("o", graph.Int8, []int{1}, 0, 0)})
	if err == nil || !strings.Contains(err.Error(), "scale") {
		t.Errorf("int8 add without quantization: %v", err)
	}
}

// runWith is run with a choice of arithmetic.
func runWith(t *testing.T, rnd fixedpoint.Rounding, kind graph.OpKind, opts any, in, out *graph.Tensor, x *kernels.Buffer) *kernels.Buffer {
	t.Helper()
	k, err := kernels.PrepareWith(&graph.Op{Kind: kind, Options: opts}, []*graph.Tensor{in}, []*graph.Tensor{out}, kernels.Options{Rounding: rnd})
	if err != nil {
		t.Fatal(err)
	}
	o := newBuf(out)
	if err := k.Run([]*kernels.Buffer{x}, []*kernels.Buffer{o}); err != nil {
		t.Fatal(err)
	}
	return o
}

// The TFLite runtime (RuntimeRounding) rescales 8-bit LEAKY_RELU and QUANTIZE with XNNPACK's
// 8-bit multipliers: ratio 0.2998 becomes 77/256, so 1 → (77+128)>>8 = 0
// and 8 → (616+128)>>8 = 2, while the reference's double rounding gives 1
// (round(0.5996) = 1, then 1/2 rounds away to 1) and 3.
func TestRuntimeArithmetic(t *testing.T) {
	s := []int{2}
	in, out := tq("x", graph.Int8, s, 0.02998, -128), tq("y", graph.Int8, s, 0.1, 0)
	x := i8(s, -127, -120)
	ref := runWith(t, fixedpoint.DoubleRounding, graph.OpQuantize, nil, in, out, x)
	eqI8(t, "requantize reference", ref.I8, 1, 3)
	rt := runWith(t, fixedpoint.RuntimeRounding, graph.OpQuantize, nil, in, out, x)
	eqI8(t, "requantize runtime", rt.I8, 0, 2)
	opts := &graph.LeakyReluOptions{Alpha: 0.5}
	ref = runWith(t, fixedpoint.DoubleRounding, graph.OpLeakyRelu, opts, in, out, x)
	eqI8(t, "leaky reference", ref.I8, 1, 3)
	rt = runWith(t, fixedpoint.RuntimeRounding, graph.OpLeakyRelu, opts, in, out, x)
	eqI8(t, "leaky runtime", rt.I8, 0, 2)
	// int16 keeps the reference arithmetic in both modes.
	in16, out16 := tq("x", graph.Int16, s, 0.02998, 0), tq("y", graph.Int16, s, 0.1, 0)
	x16 := &kernels.Buffer{DType: graph.Int16, Shape: s, I16: []int16{1, 8}}
	rt = runWith(t, fixedpoint.RuntimeRounding, graph.OpLeakyRelu, opts, in16, out16, x16)
	if rt.I16[0] != 1 || rt.I16[1] != 3 {
		t.Errorf("int16 leaky runtime %v, want [1 3]", rt.I16)
	}
	if _, err := kernels.PrepareWith(&graph.Op{Kind: graph.OpRelu}, []*graph.Tensor{in}, []*graph.Tensor{out}, kernels.Options{Rounding: 7}); err == nil {
		t.Error("unknown rounding mode accepted")
	}
}
