package interp_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// halfConst makes a float16 constant of random values of magnitude 2^-6..2
// (random sign, exponent and mantissa bits), as the converter's float16
// quantization stores weights.
func halfConst(name string, shape []int, rng *rand.Rand) *graph.Tensor {
	t := &graph.Tensor{Name: name, DType: graph.Float16, Shape: shape}
	for range t.NumElements() {
		h := uint16(rng.UintN(2))<<15 | uint16(9+rng.UintN(7))<<10 | uint16(rng.UintN(1024))
		t.Data = binary.LittleEndian.AppendUint16(t.Data, h)
	}
	return t
}

// float16Model is what TFLite's float16 quantization produces for a small
// CNN: every weight and bias a FLOAT16 constant read by a DEQUANTIZE, the
// compute in float32. x[1,8,8,3] → CONV_2D(4, 3x3, SAME, RELU) → RESHAPE
// [1,256] → FULLY_CONNECTED(5) → y.
func float16Model(rng *rand.Rand) *graph.Graph {
	g := &graph.Graph{}
	f32 := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape})
	}
	deq := func(c *graph.Tensor) int {
		ci := g.AddTensor(c)
		o := f32(c.Name+"_dequantize", c.Shape...)
		g.AddOp(graph.OpDequantize, []int{ci}, []int{o}, nil)
		return o
	}
	x := f32("x", 1, 8, 8, 3)
	cw := deq(halfConst("conv_w", []int{4, 3, 3, 3}, rng))
	cb := deq(halfConst("conv_b", []int{4}, rng))
	c := f32("conv", 1, 8, 8, 4)
	g.AddOp(graph.OpConv2D, []int{x, cw, cb}, []int{c}, &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: graph.ActRelu})
	shape := g.AddTensor(&graph.Tensor{Name: "shape", DType: graph.Int32, Shape: []int{2}, Data: graph.EncodeInt32s([]int32{1, 256})})
	r := f32("flat", 1, 256)
	g.AddOp(graph.OpReshape, []int{c, shape}, []int{r}, &graph.ReshapeOptions{NewShape: []int{1, 256}})
	fw := deq(halfConst("fc_w", []int{5, 256}, rng))
	fb := deq(halfConst("fc_b", []int{5}, rng))
	y := f32("y", 1, 5)
	g.AddOp(graph.OpFullyConnected, []int{r, fw, fb}, []int{y}, &graph.FullyConnectedOptions{})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	return g
}

// TestFloat16ModelMatchesTFLite writes a float16-quantized model, reads it
// back, and runs it in qbench (its DEQUANTIZEs folded at load into float32
// constants) and in TFLite on the same inputs. Tolerance: every output
// within 1e-6 of the range of TFLite's outputs (float32 sums in a
// different order).
func TestFloat16ModelMatchesTFLite(t *testing.T) {
	sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	rng := rand.New(rand.NewPCG(16, 16))
	path := filepath.Join(t.TempDir(), "f16.tflite")
	if err := tflite.WriteFile(path, float16Model(rng)); err != nil {
		t.Fatal(err)
	}
	g, err := tflite.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding})
	if err != nil {
		t.Fatal(err)
	}
	if rep := p.Folded().String(); rep != "folded 4 ops (DEQUANTIZE ×4)" {
		t.Errorf("fold report %q, want the 4 DEQUANTIZEs folded", rep)
	}
	in := randomInput(rng, p.InputTensor(0), 8, -1, 1)
	got, err := p.NewExecutor().RunRaw(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := or.Run(path, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 8*5*4 {
		t.Fatalf("qbench gave %d bytes, TFLite %d, want %d", len(got), len(want), 8*5*4)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 0; i < len(want); i += 4 {
		v := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[i:])))
		lo, hi = min(lo, v), max(hi, v)
	}
	tol := 1e-6 * (hi - lo)
	worst := 0.0
	for i := 0; i < len(want); i += 4 {
		a := float64(math.Float32frombits(binary.LittleEndian.Uint32(got[i:])))
		b := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[i:])))
		d := math.Abs(a - b)
		if !(d <= tol) {
			t.Errorf("output %d: qbench %g, TFLite %g (tolerance %g)", i/4, a, b, tol)
		}
		worst = max(worst, d)
	}
	t.Logf("40 outputs, range [%g, %g], worst difference %g (%.3g of the range)", lo, hi, worst, worst/(hi-lo))
}

// TestFloat16InputDequantized runs a DEQUANTIZE whose float16 operand is a
// graph input (not folded): raw input bytes are binary16, output exact.
func TestFloat16InputDequantized(t *testing.T) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x16", DType: graph.Float16, Shape: []int{1, 4}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 4}})
	g.AddOp(graph.OpDequantize, []int{x}, []int{y}, nil)
	g.Inputs, g.Outputs = []int{x}, []int{y}
	p, err := interp.Compile(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.NewExecutor().RunRaw([]byte{0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc, 0xff, 0x7b})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 5.9604645e-08, float32(math.Inf(-1)), 65504}
	for i, w := range want {
		if v := math.Float32frombits(binary.LittleEndian.Uint32(got[4*i:])); v != w {
			t.Errorf("output %d: %g, want %g", i, v, w)
		}
	}
	// Any other op on a float16 tensor is refused at compile, naming it.
	g.Ops[0].Kind = graph.OpRelu
	g.Tensors[y].DType = graph.Float16
	if _, err := interp.Compile(g, interp.Options{}); err == nil || !strings.Contains(err.Error(), "RELU") || !strings.Contains(err.Error(), "x16") {
		t.Errorf("RELU on float16 compiled or error does not name op and tensor: %v", err)
	}
}
