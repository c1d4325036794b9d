package interp_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/tflite"
)

// dilatedTol is the float tolerance of a merged dilated convolution
// against TensorFlow's SPACE_TO_BATCH_ND chain, relative to 1+|output|:
// the same products (less the padding ones, all zero) summed in another
// order, a few float32 roundings of unit-scale sums.
const dilatedTol = 1e-5

// dilatedCase describes one chain as TensorFlow's lowering builds it:
// SAME or VALID padding of an fH×fW filter with dilation (dh, dw) over an
// h×w input, plus optional changes to the constants that keep or break
// the equivalence.
type dilatedCase struct {
	dt             graph.DType
	depthwise      bool
	n, h, w, c, oc int
	fH, fW, dh, dw int
	pad            graph.Padding
	extraTop       int // added to the top padding and the top crop (equivalent)
	shiftTop       int // added to the top padding only, output size unchanged (not equivalent)
	stride2        bool
	midOutput      bool // the SPACE_TO_BATCH_ND output is also a graph output
	hybrid         bool // float input, int8 weights
	activation     graph.Activation
	wantMerged     bool
}

// tfPaddings is TensorFlow's required_space_to_batch_paddings for one
// spatial dimension: the base padding of the dilated convolution, the
// end padding grown to a multiple of the block, and the crops undoing it.
func tfPaddings(size, f, d int, pad graph.Padding) (padT, padB, cropT, cropB int) {
	if pad == graph.PaddingSame {
		eff := (f-1)*d + 1
		padT, padB = (eff-1)/2, eff-1-(eff-1)/2
	}
	extra := (d - (size+padT+padB)%d) % d
	return padT, padB + extra, 0, extra
}

// dilatedChain builds c's graph: input → SPACE_TO_BATCH_ND → convolution
// → BATCH_TO_SPACE_ND → output, with shapes inferred.
func dilatedChain(t *testing.T, c dilatedCase, rng *rand.Rand) *graph.Graph {
	t.Helper()
	g := &graph.Graph{}
	var inQ, wQ, outQ *graph.Quantization
	wdt := c.dt
	if c.hybrid {
		wdt = graph.Int8
	}
	switch c.dt {
	case graph.Int8:
		inQ = &graph.Quantization{Scale: []float32{0.03}, ZeroPoint: []int64{-5}}
		outQ = &graph.Quantization{Scale: []float32{0.07}, ZeroPoint: []int64{3}}
	case graph.UInt8:
		inQ = &graph.Quantization{Scale: []float32{0.03}, ZeroPoint: []int64{120}}
		outQ = &graph.Quantization{Scale: []float32{0.07}, ZeroPoint: []int64{131}}
	}
	oc := c.oc
	wShape := []int{oc, c.fH, c.fW, c.c}
	if c.depthwise {
		oc = c.c
		wShape = []int{1, c.fH, c.fW, c.c}
	}
	nw := oc * c.fH * c.fW
	if !c.depthwise {
		nw *= c.c
	}
	var w, bias int
	switch wdt {
	case graph.Float32:
		v := make([]float32, nw)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		w = g.AddTensor(&graph.Tensor{Name: "w", DType: graph.Float32, Shape: wShape, Data: graph.EncodeFloat32s(v)})
		b := make([]float32, oc)
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		bias = g.AddTensor(&graph.Tensor{Name: "b", DType: graph.Float32, Shape: []int{oc}, Data: graph.EncodeFloat32s(b)})
	default:
		data := make([]byte, nw)
		for i := range data {
			data[i] = byte(rng.IntN(255) + 1)
		}
		wScale := 0.02
		switch {
		case wdt == graph.UInt8:
			wQ = &graph.Quantization{Scale: []float32{float32(wScale)}, ZeroPoint: []int64{128}}
		case c.hybrid:
			wQ = &graph.Quantization{Scale: []float32{float32(wScale)}, ZeroPoint: []int64{0}}
		default:
			// per channel, along the output-channel axis
			axis := 0
			if c.depthwise {
				axis = 3
			}
			wQ = &graph.Quantization{Axis: axis}
			for k := range oc {
				wQ.Scale = append(wQ.Scale, float32(wScale*(1+0.1*float64(k))))
				wQ.ZeroPoint = append(wQ.ZeroPoint, 0)
			}
		}
		w = g.AddTensor(&graph.Tensor{Name: "w", DType: wdt, Shape: wShape, Data: data, Quant: wQ})
		b := make([]int32, oc)
		for i := range b {
			b[i] = int32(rng.IntN(2001) - 1000)
		}
		var bq *graph.Quantization
		if !c.hybrid {
			bq = &graph.Quantization{Axis: 0}
			for k := range oc {
				s := wQ.Scale[min(k, len(wQ.Scale)-1)]
				bq.Scale = append(bq.Scale, inQ.Scale[0]*s)
				bq.ZeroPoint = append(bq.ZeroPoint, 0)
			}
			bias = g.AddTensor(&graph.Tensor{Name: "b", DType: graph.Int32, Shape: []int{oc}, Data: graph.EncodeInt32s(b), Quant: bq})
		} else {
			f := make([]float32, oc)
			for i := range f {
				f[i] = float32(b[i]) / 1000
			}
			bias = g.AddTensor(&graph.Tensor{Name: "b", DType: graph.Float32, Shape: []int{oc}, Data: graph.EncodeFloat32s(f)})
		}
	}
	pt, pb, ct, cb := tfPaddings(c.h, c.fH, c.dh, c.pad)
	pl, pr, cl, cr := tfPaddings(c.w, c.fW, c.dw, c.pad)
	pt += c.extraTop
	ct += c.extraTop
	if c.shiftTop != 0 {
		// Move the top padding without changing the output size: one
		// more block of padded rows, cropped at the bottom.
		pt += c.shiftTop
		pb += c.dh - c.shiftTop
		cb += c.dh
	}
	ints := func(name string, shape []int, v ...int32) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Int32, Shape: shape, Data: graph.EncodeInt32s(v)})
	}
	act := func(name string, q *graph.Quantization) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: c.dt, Shape: []int{c.n, 1, 1, 1}, Quant: q.Clone()})
	}
	x := act("x", inQ)
	mid := act("stb", inQ)
	conv := act("conv", outQ)
	y := act("y", outQ)
	block := ints("block", []int{2}, int32(c.dh), int32(c.dw))
	g.AddOp(graph.OpSpaceToBatchND, []int{x, block, ints("pads", []int{2, 2}, int32(pt), int32(pb), int32(pl), int32(pr))}, []int{mid}, nil)
	stride := 1
	if c.stride2 {
		stride = 2
	}
	if c.depthwise {
		g.AddOp(graph.OpDepthwiseConv2D, []int{mid, w, bias}, []int{conv},
			&graph.DepthwiseConv2DOptions{Padding: graph.PaddingValid, StrideH: stride, StrideW: stride, DilationH: 1, DilationW: 1, DepthMultiplier: 1, Activation: c.activation})
	} else {
		g.AddOp(graph.OpConv2D, []int{mid, w, bias}, []int{conv},
			&graph.Conv2DOptions{Padding: graph.PaddingValid, StrideH: stride, StrideW: stride, DilationH: 1, DilationW: 1, Activation: c.activation})
	}
	g.AddOp(graph.OpBatchToSpaceND, []int{conv, block, ints("crops", []int{2, 2}, int32(ct), int32(cb), int32(cl), int32(cr))}, []int{y}, nil)
	g.Inputs, g.Outputs = []int{x}, []int{y}
	if c.midOutput {
		g.Outputs = append(g.Outputs, mid)
	}
	if err := graph.InferShapes(g, [][]int{{c.n, c.h, c.w, c.c}}); err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	return g
}

// TestDilatedChainMerged: TensorFlow's dilated-convolution chains become
// one convolution with dilation, bit-identical for int8 and uint8 and
// within dilatedTol for float32, on random shapes (odd sizes, blocks of
// 1 to 4, SAME and VALID, depthwise, fused activations); chains that are
// not equivalent — or whose parts are needed elsewhere — stay as they are.
func TestDilatedChainMerged(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var cases []dilatedCase
	for i := range 48 {
		c := dilatedCase{
			dt: []graph.DType{graph.Float32, graph.Int8, graph.UInt8}[i%3],
			n:  1 + rng.IntN(3), h: 1 + rng.IntN(9), w: 1 + rng.IntN(9), c: 1 + rng.IntN(5), oc: 1 + rng.IntN(7),
			fH: 1 + rng.IntN(3), fW: 1 + rng.IntN(3), dh: 1 + rng.IntN(4), dw: 1 + rng.IntN(4),
			pad:       []graph.Padding{graph.PaddingSame, graph.PaddingValid}[rng.IntN(2)],
			depthwise: i%4 == 3,
		}
		if i%5 == 4 {
			c.extraTop = c.dh // one more block above, cropped again: still equivalent
		}
		if i%7 == 6 {
			c.activation = graph.ActRelu6
		}
		if c.pad == graph.PaddingValid && (c.h < (c.fH-1)*c.dh+1 || c.w < (c.fW-1)*c.dw+1) {
			c.pad = graph.PaddingSame // VALID needs the window to fit
		}
		c.wantMerged = true
		cases = append(cases, c)
	}
	base := dilatedCase{dt: graph.Float32, n: 2, h: 7, w: 5, c: 3, oc: 4, fH: 3, fW: 3, dh: 2, dw: 3, pad: graph.PaddingSame}
	for _, mod := range []func(*dilatedCase){
		func(c *dilatedCase) { c.shiftTop = 1 },     // top padding no longer SAME's
		func(c *dilatedCase) { c.stride2 = true },   // inner stride 2
		func(c *dilatedCase) { c.midOutput = true }, // the phase images are an output
		func(c *dilatedCase) { c.hybrid = true },    // per-batch input scales
	} {
		c := base
		mod(&c)
		cases = append(cases, c)
	}
	for i, c := range cases {
		name := fmt.Sprintf("%d/%s/dw=%v/%dx%dx%dx%d/f%dx%d/d%dx%d/%s", i, c.dt, c.depthwise, c.n, c.h, c.w, c.c, c.fH, c.fW, c.dh, c.dw, c.pad)
		t.Run(name, func(t *testing.T) {
			checkRewrite(t, dilatedChain(t, c, rng), "dilated", func(s interp.Schedule) int { return s.Dilated }, c.wantMerged, c.dt == graph.Float32, rng)
		})
	}
}

// checkRewrite compiles g with and without the rewrites, wants count of
// the rewritten schedule to be 1 when rewritten is true (0 otherwise; what
// names what count counts) and compares the two programs' runs.
func checkRewrite(t *testing.T, g *graph.Graph, what string, count func(interp.Schedule) int, rewritten, float bool, rng *rand.Rand) {
	t.Helper()
	fast, err := interp.Compile(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := interp.Compile(g, interp.Options{NoRewrite: true})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	if rewritten {
		want = 1
	}
	if s := fast.Schedule(); count(s) != want {
		t.Fatalf("schedule %+v, want %d %s", s, want, what)
	}
	compareRuns(t, fast, plain, float, rng)
}

// compareRuns feeds fast and plain the same random inputs and compares
// every output: bit for bit, or within dilatedTol for float32.
func compareRuns(t *testing.T, fast, plain *interp.Program, float bool, rng *rand.Rand) {
	t.Helper()
	ef, ep := fast.NewExecutor(), plain.NewExecutor()
	for range 2 {
		for i := range fast.NumInputs() {
			x := make([]float32, fast.InputTensor(i).NumElements())
			for j := range x {
				x[j] = rng.Float32()*4 - 2
			}
			if err := ef.SetInputFloat(i, x); err != nil {
				t.Fatal(err)
			}
			if err := ep.SetInputFloat(i, x); err != nil {
				t.Fatal(err)
			}
		}
		if err := ef.Run(); err != nil {
			t.Fatal(err)
		}
		if err := ep.Run(); err != nil {
			t.Fatal(err)
		}
		for i := range fast.NumOutputs() {
			if !float {
				if a, b := ef.AppendOutputBytes(i, nil), ep.AppendOutputBytes(i, nil); !bytes.Equal(a, b) {
					t.Fatalf("output %d: merged %v, chain %v", i, a, b)
				}
				continue
			}
			a, b := ef.OutputFloat(i, nil), ep.OutputFloat(i, nil)
			for j := range a {
				if d := math.Abs(float64(a[j] - b[j])); !(d <= dilatedTol*(1+math.Abs(float64(b[j])))) {
					t.Fatalf("output %d element %d: merged %g, chain %g", i, j, a[j], b[j])
				}
			}
		}
	}
}

// TestDilatedConvZooModel: tfls_dilated_conv (a 3×3 convolution with
// dilation 6 on a 1×1 image, as converters write it, then a BiasAdd) runs
// as one convolution at batch 1 and 64, within dilatedTol of the chain.
func TestDilatedConvZooModel(t *testing.T) {
	path := testshared.Dir(t, "models", "zoo", "tfls_dilated_conv.tflite")
	g, err := tflite.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range []int{1, 64} {
		fast, err := interp.Compile(g, interp.Options{Batch: b})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := interp.Compile(g, interp.Options{Batch: b, NoRewrite: true})
		if err != nil {
			t.Fatal(err)
		}
		if s := fast.Schedule(); s.Dilated != 1 || s.BiasAdds != 1 || s.Ops != 1 {
			t.Fatalf("batch %d: schedule %+v, want the chain and its bias ADD merged (1 op left)", b, s)
		}
		compareRuns(t, fast, plain, true, rng)
	}
}
