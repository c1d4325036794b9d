package quant

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
)

var tinyRanges = map[string]Range{
	"input": {-1, 1}, "conv": {0, 2.55}, "pool": {0, 2.55}, "flat": {0, 2.55},
	"logits": {-1.28, 1.27}, "probs": {0, 1},
}

func TestApplyInt8Structure(t *testing.T) {
	g := tinyCNN(1)
	q, rep, err := Apply(g, fakeCalibration(g, tinyRanges), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"QUANTIZE", "CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX", "DEQUANTIZE"}
	if got := opKinds(q); !slices.Equal(got, want) {
		t.Fatalf("ops = %v, want %v", got, want)
	}
	in := q.Tensors[q.Inputs[0]]
	out := q.Tensors[q.Outputs[0]]
	if in.Name != "input" || in.DType != graph.Float32 || out.Name != "probs" || out.DType != graph.Float32 {
		t.Fatalf("boundary tensors %q %s / %q %s", in.Name, in.DType, out.Name, out.DType)
	}
	conv := findTensor(t, q, "conv")
	if conv.DType != graph.Int8 || math.Abs(float64(conv.Quant.Scale[0])-0.01) > 1e-9 || conv.Quant.ZeroPoint[0] != -128 {
		t.Errorf("conv output quant %+v", conv.Quant)
	}
	// Max-pool and reshape share their input's parameters.
	for _, n := range []string{"pool", "flat"} {
		x := findTensor(t, q, n)
		if x.Quant.Scale[0] != conv.Quant.Scale[0] || x.Quant.ZeroPoint[0] != conv.Quant.ZeroPoint[0] {
			t.Errorf("%s params %+v differ from conv's", n, x.Quant)
		}
	}
	probs := findTensor(t, q, "probs_int8")
	if probs.Quant.Scale[0] != 1.0/256 || probs.Quant.ZeroPoint[0] != -128 {
		t.Errorf("softmax output %+v, want 1/256, -128", probs.Quant)
	}
	// Weights: per output channel, symmetric, zero point 0.
	fw := findTensor(t, g, "conv_w").Float32s()
	w := findTensor(t, q, "conv_w")
	if w.DType != graph.Int8 || len(w.Quant.Scale) != 3 || w.Quant.Axis != 0 {
		t.Fatalf("conv weights %s %+v", w.DType, w.Quant)
	}
	wq := w.Int8s()
	for c := 0; c < 3; c++ {
		maxAbs := 0.0
		for _, v := range fw[c*18 : (c+1)*18] {
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		}
		if s := w.Quant.Scale[c]; s != float32(maxAbs/127) {
			t.Errorf("channel %d scale %g, want %g", c, s, maxAbs/127)
		}
		for i := c * 18; i < (c+1)*18; i++ {
			if want := math.Round(float64(fw[i]) / float64(w.Quant.Scale[c])); float64(wq[i]) != want {
				t.Fatalf("w[%d] = %d, want %g", i, wq[i], want)
			}
		}
	}
	// Bias: int32 with scale s_in·s_w[c].
	sIn := findTensor(t, q, "input_int8").Quant.Scale[0]
	fb := findTensor(t, g, "conv_b").Float32s()
	b := findTensor(t, q, "conv_b")
	if b.DType != graph.Int32 {
		t.Fatalf("bias dtype %s", b.DType)
	}
	for c, v := range b.Int32s() {
		s := sIn * w.Quant.Scale[c]
		if b.Quant.Scale[c] != s || float64(v) != math.Round(float64(fb[c])/float64(s)) {
			t.Errorf("bias[%d] = %d scale %g, want round(%g/%g)", c, v, b.Quant.Scale[c], fb[c], s)
		}
	}
	if len(rep.Tensors) != 6 || rep.QuantIndex[4] < 0 {
		t.Errorf("report has %d tensors", len(rep.Tensors))
	}
	for _, tr := range rep.Tensors {
		// min/max calibration clips nothing, not even the input whose
		// [-1,1] nudges to zero point -1 (TFLite's behaviour too): -1 then
		// only rounds into the bottom level, counted apart as end level.
		// Softmax's fixed grid ends at 255/256: 1.0 rounds into its top
		// level, which is not clipping either.
		if tr.ClippedFraction > 1e-4 {
			t.Errorf("%s clipped %g with min/max calibration", tr.Name, tr.ClippedFraction)
		}
		if tr.EndLevelFraction < 0 || tr.EndLevelFraction > 1 {
			t.Errorf("%s end level fraction %g", tr.Name, tr.EndLevelFraction)
		}
		if tr.Name == "pool" && tr.Source != "input" || tr.Name == "probs" && tr.Source != "fixed" || tr.Name == "conv" && tr.Source != "minmax" {
			t.Errorf("%s source %q", tr.Name, tr.Source)
		}
	}
	// The float graph is untouched.
	if findTensor(t, g, "conv_w").DType != graph.Float32 {
		t.Error("Apply modified the float graph")
	}
}

func TestApplyIOTypes(t *testing.T) {
	g := tinyCNN(1)
	cal := fakeCalibration(g, tinyRanges)
	q, _, err := Apply(g, cal, Options{IO: graph.Int8})
	if err != nil {
		t.Fatal(err)
	}
	if k := opKinds(q); k[0] != "CONV_2D" || k[len(k)-1] != "SOFTMAX" {
		t.Errorf("int8 io ops %v", k)
	}
	if in := q.Tensors[q.Inputs[0]]; in.DType != graph.Int8 || in.Name != "input" {
		t.Errorf("int8 input %q %s", in.Name, in.DType)
	}
	if out := q.Tensors[q.Outputs[0]]; out.DType != graph.Int8 || out.Name != "probs" || out.Quant.ZeroPoint[0] != -128 {
		t.Errorf("int8 output %q %s", out.Name, out.DType)
	}
	q, _, err = Apply(g, cal, Options{IO: graph.UInt8})
	if err != nil {
		t.Fatal(err)
	}
	if k := opKinds(q); k[0] != "QUANTIZE" || k[len(k)-1] != "QUANTIZE" {
		t.Errorf("uint8 io ops %v", k)
	}
	in, out := q.Tensors[q.Inputs[0]], q.Tensors[q.Outputs[0]]
	qin := findTensor(t, q, "input_int8")
	if in.DType != graph.UInt8 || in.Quant.ZeroPoint[0] != qin.Quant.ZeroPoint[0]+128 || in.Quant.Scale[0] != qin.Quant.Scale[0] {
		t.Errorf("uint8 input %+v vs int8 %+v", in.Quant, qin.Quant)
	}
	if out.DType != graph.UInt8 || out.Quant.ZeroPoint[0] != 0 {
		t.Errorf("uint8 output %s %+v", out.DType, out.Quant)
	}
	if _, _, err := Apply(g, cal, Options{Mode: Mode16x8, IO: graph.UInt8}); err == nil {
		t.Error("16x8 with uint8 io accepted")
	}
}

func TestApplyKeepFloat(t *testing.T) {
	g := tinyCNN(1)
	q, rep, err := Apply(g, fakeCalibration(g, tinyRanges), Options{KeepFloat: []int{1, 3}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"QUANTIZE", "CONV_2D", "DEQUANTIZE", "MAX_POOL_2D", "QUANTIZE", "RESHAPE", "DEQUANTIZE", "FULLY_CONNECTED", "QUANTIZE", "SOFTMAX", "DEQUANTIZE"}
	if got := opKinds(q); !slices.Equal(got, want) {
		t.Fatalf("ops = %v\nwant %v", got, want)
	}
	fc := q.Ops[7]
	if q.Tensors[fc.Inputs[1]].DType != graph.Float32 || q.Tensors[fc.Outputs[0]].DType != graph.Float32 {
		t.Error("kept FULLY_CONNECTED is not float")
	}
	if !slices.Equal(rep.KeepFloat, []int{1, 3}) {
		t.Errorf("report keep_float %v", rep.KeepFloat)
	}
	if _, _, err := Apply(g, fakeCalibration(g, tinyRanges), Options{KeepFloat: []int{9}}); err == nil {
		t.Error("out-of-range keep-float index accepted")
	}
}

func TestApplyUnsupportedOp(t *testing.T) {
	g := tinyCNN(1)
	// Put a PADV2 (float pad value, no integer form here) after the input.
	x := g.AddTensor(act("padded", 1, 4, 4, 2))
	pads := g.AddTensor(&graph.Tensor{Name: "pads", Shape: []int{4, 2}, DType: graph.Int32, Data: graph.EncodeInt32s(make([]int32, 8))})
	val := g.AddTensor(&graph.Tensor{Name: "value", Shape: []int{}, DType: graph.Float32, Data: graph.EncodeFloat32s([]float32{0})})
	op := &graph.Op{Kind: graph.OpPadV2, Inputs: []int{g.Inputs[0], pads, val}, Outputs: []int{x}}
	g.Ops = append([]*graph.Op{op}, g.Ops...)
	g.Ops[1].Inputs[0] = x
	_, _, err := Apply(g, fakeCalibration(g, tinyRanges), Options{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "op 0 (PADV2)") {
		t.Fatalf("err = %v, want unsupported naming op 0 (PADV2)", err)
	}
	// Keeping it float makes the graph quantizable.
	if _, _, err := Apply(g, fakeCalibration(g, tinyRanges), Options{KeepFloat: []int{0}}); err != nil {
		t.Fatalf("keep-float PADV2: %v", err)
	}
}

func TestApply16x8(t *testing.T) {
	g := tinyCNN(1)
	q, _, err := Apply(g, fakeCalibration(g, tinyRanges), Options{Mode: Mode16x8})
	if err != nil {
		t.Fatal(err)
	}
	in := findTensor(t, q, "input_int16")
	if in.DType != graph.Int16 || in.Quant.ZeroPoint[0] != 0 || in.Quant.Scale[0] != float32(1.0/32767) {
		t.Errorf("16x8 input %s %+v", in.DType, in.Quant)
	}
	if b := findTensor(t, q, "fc_b"); b.DType != graph.Int64 {
		t.Errorf("16x8 bias is %s", b.DType)
	}
	if w := findTensor(t, q, "fc_w"); w.DType != graph.Int8 {
		t.Errorf("16x8 weights are %s", w.DType)
	}
	if p := findTensor(t, q, "probs_int16"); p.Quant.Scale[0] != 1.0/32768 || p.Quant.ZeroPoint[0] != 0 {
		t.Errorf("16x8 softmax %+v", p.Quant)
	}
}

func TestBiasCorrectionHand(t *testing.T) {
	g := &graph.Graph{}
	in := g.AddTensor(act("x", 1, 2))
	w := g.AddTensor(&graph.Tensor{Name: "w", Shape: []int{1, 2}, DType: graph.Float32, Data: graph.EncodeFloat32s([]float32{0.3, 1.0})})
	b := g.AddTensor(&graph.Tensor{Name: "b", Shape: []int{1}, DType: graph.Float32, Data: graph.EncodeFloat32s([]float32{0.5})})
	y := g.AddTensor(act("y", 1, 1))
	g.AddOp(graph.OpFullyConnected, []int{in, w, b}, []int{y}, &graph.FullyConnectedOptions{})
	g.Inputs, g.Outputs = []int{in}, []int{y}
	cal := fakeCalibration(g, map[string]Range{"x": {0, 10}, "y": {-4, 12}})
	cal.ChannelMeans[in] = []float64{2, 5}
	plain, _, err := Apply(g, cal, Options{})
	if err != nil {
		t.Fatal(err)
	}
	corr, _, err := Apply(g, cal, Options{BiasCorrection: true})
	if err != nil {
		t.Fatal(err)
	}
	// Channel scale 1/127: 0.3 → 38 → 0.299213 (error −0.000787); 1.0 is
	// exact. Mean extra output −0.000787·2, so the bias grows by 0.001575.
	bs := float64(findTensor(t, plain, "b").Quant.Scale[0])
	p := float64(findTensor(t, plain, "b").Int32s()[0])
	c := float64(findTensor(t, corr, "b").Int32s()[0])
	ws := float64(float32(1.0 / 127))
	want := 0.5 - (38*ws-float64(float32(0.3)))*2
	if math.Abs(c-math.Round(want/bs)) > 0 || c <= p {
		t.Errorf("corrected bias %g (plain %g), want %g", c, p, math.Round(want/bs))
	}
}

func TestFixedParamsReproduceModel(t *testing.T) {
	g := tinyCNN(1)
	for _, opts := range []Options{{}, {PerTensor: true, IO: graph.Int8}, {Mode: Mode16x8}} {
		q, _, err := Apply(g, fakeCalibration(g, tinyRanges), opts)
		if err != nil {
			t.Fatal(err)
		}
		o := OptionsOf(q)
		if o.PerTensor != opts.PerTensor || o.Mode != opts.Mode {
			t.Errorf("OptionsOf: per-tensor %v mode %s, want %v %s", o.PerTensor, o.Mode, opts.PerTensor, opts.Mode)
		}
		// No calibration at all: every parameter comes from the model.
		q2, _, err := Apply(g, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(q2.Tensors) != len(q.Tensors) {
			t.Fatalf("rebuilt graph has %d tensors, want %d", len(q2.Tensors), len(q.Tensors))
		}
		for i, x := range q.Tensors {
			y := q2.Tensors[i]
			if x.Name != y.Name || x.DType != y.DType || !slices.Equal(x.Data, y.Data) ||
				(x.Quant != nil) != (y.Quant != nil) || x.Quant != nil && !slices.Equal(x.Quant.Scale, y.Quant.Scale) {
				t.Fatalf("tensor %d %q differs after rebuilding from the model's parameters", i, x.Name)
			}
		}
	}
}
