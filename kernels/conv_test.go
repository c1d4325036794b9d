package kernels

import (
	"math/rand"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

func TestConv2DReferenceCases(t *testing.T) { runRefDir(t, "conv_2d") }

func qt(name string, d graph.DType, shape []int, scales []float32, zps []int64) *graph.Tensor {
	t := &graph.Tensor{Name: name, DType: d, Shape: shape}
	if scales != nil {
		t.Quant = &graph.Quantization{Scale: scales, ZeroPoint: zps}
	}
	return t
}

func constI8(name string, d graph.DType, shape []int, v []int8, scales []float32) *graph.Tensor {
	t := qt(name, d, shape, scales, make([]int64, len(scales)))
	t.Data = graph.EncodeInt8s(v)
	return t
}

func constF32(name string, shape []int, v []float32) *graph.Tensor {
	return &graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)}
}

func constI32(name string, v []int32, scales []float32) *graph.Tensor {
	t := qt(name, graph.Int32, []int{len(v)}, scales, make([]int64, len(scales)))
	t.Data = graph.EncodeInt32s(v)
	return t
}

func TestConv2DFloatHand(t *testing.T) {
	// 3×3 input 1..9, 2×2 filter of ones, VALID stride 1: window sums.
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, 3, 3, 1}}
	w := constF32("w", []int{1, 2, 2, 1}, []float32{1, 1, 1, 1})
	b := constF32("b", []int{1}, []float32{0.5})
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, 2, 2, 1}}
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingValid, StrideW: 1, StrideH: 1}}
	k, err := prepareConv2D(op, []*graph.Tensor{in, w, b}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	x := &Buffer{DType: graph.Float32, F32: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	y := &Buffer{DType: graph.Float32, F32: make([]float32, 4)}
	if err := k.Run([]*Buffer{x, nil, nil}, []*Buffer{y}); err != nil {
		t.Fatal(err)
	}
	want := []float32{12.5, 16.5, 24.5, 28.5}
	for i := range want {
		if y.F32[i] != want[i] {
			t.Fatalf("VALID conv = %v, want %v", y.F32, want)
		}
	}
	// SAME, 3×3 filter of ones, stride 2, RELU_N1_TO_1 on a negated image:
	// outputs at (0,0),(0,2),(2,0),(2,2) see 4-pixel corners, clamped to −1.
	w3 := constF32("w", []int{1, 3, 3, 1}, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1})
	op.Options = &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 2, StrideH: 2, Activation: graph.ActReluN1To1}
	k, err = prepareConv2D(op, []*graph.Tensor{in, w3, nil}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	x.F32 = []float32{0, 0, 0, 0, 0.25, 0, 0, 0, 0}
	if err := k.Run([]*Buffer{x, nil, nil}, []*Buffer{y}); err != nil {
		t.Fatal(err)
	}
	for i, v := range y.F32 {
		if v != 0.25 {
			t.Fatalf("SAME stride-2 conv output %d = %v, want 0.25 (every window holds the centre)", i, v)
		}
	}
}

func TestConv2DInt8PaddingUsesZeroPoint(t *testing.T) {
	// Real input [1 2; 3 4] stored with zero point 1; SAME 3×3 windows each
	// cover the whole image, so every output is 10 (channel 0) and, with
	// RELU6, clamps to 6. Channel 1 has weights 2 at scale 0.5 (real 1).
	in := qt("in", graph.Int8, []int{1, 2, 2, 1}, []float32{1}, []int64{1})
	wv := make([]int8, 18)
	for i := range wv {
		wv[i] = 1
		if i >= 9 {
			wv[i] = 2
		}
	}
	w := constI8("w", graph.Int8, []int{2, 3, 3, 1}, wv, []float32{1, 0.5})
	out := qt("out", graph.Int8, []int{1, 2, 2, 2}, []float32{1}, []int64{0})
	for _, c := range []struct {
		act  graph.Activation
		want int8
	}{{graph.ActNone, 10}, {graph.ActRelu6, 6}} {
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, Activation: c.act}}
		k, err := prepareConv2D(op, []*graph.Tensor{in, w, nil}, []*graph.Tensor{out})
		if err != nil {
			t.Fatal(err)
		}
		x := &Buffer{DType: graph.Int8, I8: []int8{2, 3, 4, 5}}
		y := &Buffer{DType: graph.Int8, I8: make([]int8, 8)}
		if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
			t.Fatal(err)
		}
		for i, v := range y.I8 {
			if v != c.want {
				t.Fatalf("%s: output %d = %d, want %d (all %v)", c.act, i, v, c.want, y.I8)
			}
		}
	}
}

// convCase is a random convolution configuration for the property tests.
type convCase struct {
	batch, inH, inW, inC, outC, fH, fW, sH, sW, dH, dW int
	pad                                                graph.Padding
}

func randConvCase(r *rand.Rand) convCase {
	c := convCase{batch: 1 + r.Intn(2), inH: 1 + r.Intn(9), inW: 1 + r.Intn(9), inC: 1 + r.Intn(6), outC: 1 + r.Intn(7),
		fH: 1 + r.Intn(3), fW: 1 + r.Intn(3), sH: 1 + r.Intn(2), sW: 1 + r.Intn(3), dH: 1 + r.Intn(2), dW: 1 + r.Intn(2),
		pad: graph.Padding(r.Intn(2))}
	return c
}

func (c convCase) outSize() (int, int) {
	return graph.ConvOutputSize(c.pad, c.inH, c.fH, c.sH, c.dH), graph.ConvOutputSize(c.pad, c.inW, c.fW, c.sW, c.dW)
}

// naiveConvAcc is TFLite's reference loop: for each output and channel the
// sum over in-image taps of w·(x + off), padding skipped.
func naiveConvAcc(c convCase, x []int32, off int32, w []int32, outH, outW int) []int64 {
	padT := graph.ConvPadding(c.pad, c.inH, c.fH, c.sH, c.dH, outH)
	padL := graph.ConvPadding(c.pad, c.inW, c.fW, c.sW, c.dW, outW)
	var acc []int64
	for b := 0; b < c.batch; b++ {
		for oy := 0; oy < outH; oy++ {
			for ox := 0; ox < outW; ox++ {
				for oc := 0; oc < c.outC; oc++ {
					var s int64
					for ky := 0; ky < c.fH; ky++ {
						for kx := 0; kx < c.fW; kx++ {
							iy, ix := oy*c.sH-padT+ky*c.dH, ox*c.sW-padL+kx*c.dW
							if iy < 0 || iy >= c.inH || ix < 0 || ix >= c.inW {
								continue
							}
							for ic := 0; ic < c.inC; ic++ {
								xv := x[((b*c.inH+iy)*c.inW+ix)*c.inC+ic] + off
								s += int64(w[((oc*c.fH+ky)*c.fW+kx)*c.inC+ic]) * int64(xv)
							}
						}
					}
					acc = append(acc, s)
				}
			}
		}
	}
	return acc
}

func TestConv2DInt8MatchesNaive(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for iter := 0; iter < 300; iter++ {
		c := randConvCase(r)
		outH, outW := c.outSize()
		if outH == 0 || outW == 0 {
			continue
		}
		zpIn := int32(r.Intn(256) - 128)
		zpOut := int64(r.Intn(200) - 100)
		xs := make([]int8, c.batch*c.inH*c.inW*c.inC)
		for i := range xs {
			xs[i] = int8(r.Intn(256) - 128)
		}
		k := c.fH * c.fW * c.inC
		ws := make([]int8, c.outC*k)
		for i := range ws {
			ws[i] = int8(r.Intn(255) - 127)
		}
		wScales := make([]float32, c.outC)
		for i := range wScales {
			wScales[i] = float32(0.001 + r.Float64()*0.02)
		}
		bias := make([]int32, c.outC)
		for i := range bias {
			bias[i] = int32(r.Intn(20000) - 10000)
		}
		sIn, sOut := float32(0.02+r.Float64()), float32(0.05+r.Float64())
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.Intn(3)]
		in := qt("in", graph.Int8, []int{c.batch, c.inH, c.inW, c.inC}, []float32{sIn}, []int64{int64(zpIn)})
		w := constI8("w", graph.Int8, []int{c.outC, c.fH, c.fW, c.inC}, ws, wScales)
		bt := constI32("b", bias, nil)
		out := qt("out", graph.Int8, []int{c.batch, outH, outW, c.outC}, []float32{sOut}, []int64{zpOut})
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: c.sH, StrideW: c.sW, DilationH: c.dH, DilationW: c.dW, Activation: act}}
		kern, err := prepareConv2D(op, []*graph.Tensor{in, w, bt}, []*graph.Tensor{out})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		y := &Buffer{DType: graph.Int8, I8: make([]int8, c.batch*outH*outW*c.outC)}
		if err := kern.Run([]*Buffer{{DType: graph.Int8, I8: xs}}, []*Buffer{y}); err != nil {
			t.Fatal(err)
		}
		x32 := make([]int32, len(xs))
		for i, v := range xs {
			x32[i] = int32(v)
		}
		w32 := make([]int32, len(ws))
		for i, v := range ws {
			w32[i] = int32(v)
		}
		lo, hi, _ := ActivationRangeQuantized(act, graph.Int8, sOut, int32(zpOut))
		for i, a := range naiveConvAcc(c, x32, -zpIn, w32, outH, outW) {
			oc := i % c.outC
			m, s := fixedpoint.QuantizeMultiplier(float64(sIn) * float64(wScales[oc]) / float64(sOut))
			v := fixedpoint.MultiplyByQuantizedMultiplier(int32(a)+bias[oc], m, s) + int32(zpOut)
			v = min(max(v, lo), hi)
			if int32(y.I8[i]) != v {
				t.Fatalf("%+v act %s: output %d = %d, naive %d", c, act, i, y.I8[i], v)
			}
		}
	}
}

func TestConv2DFloatMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	for iter := 0; iter < 200; iter++ {
		c := randConvCase(r)
		outH, outW := c.outSize()
		if outH == 0 || outW == 0 {
			continue
		}
		// Integer-valued floats make the float sums exact in any order.
		xs := make([]float32, c.batch*c.inH*c.inW*c.inC)
		x32 := make([]int32, len(xs))
		for i := range xs {
			x32[i] = int32(r.Intn(21) - 10)
			xs[i] = float32(x32[i])
		}
		ws := make([]float32, c.outC*c.fH*c.fW*c.inC)
		w32 := make([]int32, len(ws))
		for i := range ws {
			w32[i] = int32(r.Intn(21) - 10)
			ws[i] = float32(w32[i])
		}
		in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{c.batch, c.inH, c.inW, c.inC}}
		out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{c.batch, outH, outW, c.outC}}
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: c.sH, StrideW: c.sW, DilationH: c.dH, DilationW: c.dW, Activation: graph.ActRelu}}
		kern, err := prepareConv2D(op, []*graph.Tensor{in, constF32("w", []int{c.outC, c.fH, c.fW, c.inC}, ws)}, []*graph.Tensor{out})
		if err != nil {
			t.Fatal(err)
		}
		y := &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*outH*outW*c.outC)}
		if err := kern.Run([]*Buffer{{DType: graph.Float32, F32: xs}}, []*Buffer{y}); err != nil {
			t.Fatal(err)
		}
		for i, a := range naiveConvAcc(c, x32, 0, w32, outH, outW) {
			if want := float32(max(a, 0)); y.F32[i] != want {
				t.Fatalf("%+v: output %d = %v, naive %v", c, i, y.F32[i], want)
			}
		}
	}
}

func TestConv2DChunkingAndBatch(t *testing.T) {
	// k = 5·5·64 = 1600 → a 163-row chunk; 2 images of 20×20 span several
	// chunks. Compare against the naive loop once.
	c := convCase{batch: 2, inH: 20, inW: 20, inC: 64, outC: 3, fH: 5, fW: 5, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}
	r := rand.New(rand.NewSource(9))
	xs := make([]int8, c.batch*c.inH*c.inW*c.inC)
	x32 := make([]int32, len(xs))
	for i := range xs {
		xs[i] = int8(r.Intn(256) - 128)
		x32[i] = int32(xs[i])
	}
	ws := make([]int8, c.outC*c.fH*c.fW*c.inC)
	w32 := make([]int32, len(ws))
	for i := range ws {
		ws[i] = int8(r.Intn(255) - 127)
		w32[i] = int32(ws[i])
	}
	// Prepared for batch 1: the batch comes from the buffer at run time.
	in := qt("in", graph.Int8, []int{1, 20, 20, 64}, []float32{1}, []int64{3})
	out := qt("out", graph.Int8, []int{1, 20, 20, 3}, []float32{1 << 12}, []int64{0})
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1}}
	kern, err := prepareConv2D(op, []*graph.Tensor{in, constI8("w", graph.Int8, []int{3, 5, 5, 64}, ws, []float32{1}), nil}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	y := &Buffer{DType: graph.Int8, I8: make([]int8, 2*20*20*3)}
	if err := kern.Run([]*Buffer{{DType: graph.Int8, I8: xs}}, []*Buffer{y}); err != nil {
		t.Fatal(err)
	}
	m, s := fixedpoint.QuantizeMultiplier(1.0 / (1 << 12))
	for i, a := range naiveConvAcc(c, x32, -3, w32, 20, 20) {
		v := min(max(fixedpoint.MultiplyByQuantizedMultiplier(int32(a), m, s), -128), 127)
		if int32(y.I8[i]) != v {
			t.Fatalf("output %d = %d, naive %d", i, y.I8[i], v)
		}
	}
	// A buffer that is not a whole number of images is an error, not a panic.
	if err := kern.Run([]*Buffer{{DType: graph.Int8, I8: xs[:100]}}, []*Buffer{y}); err == nil {
		t.Error("short input buffer accepted")
	}
	if err := kern.Run([]*Buffer{{DType: graph.Int8, I8: xs}}, []*Buffer{{DType: graph.Int8, I8: y.I8[:5]}}); err == nil {
		t.Error("short output buffer accepted")
	}
}

func TestConv2DConcurrentAndAllocFree(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	c := convCase{batch: 1, inH: 12, inW: 12, inC: 8, outC: 16, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}
	r := rand.New(rand.NewSource(10))
	ws := make([]int8, c.outC*c.fH*c.fW*c.inC)
	for i := range ws {
		ws[i] = int8(r.Intn(255) - 127)
	}
	in := qt("in", graph.Int8, []int{1, 12, 12, 8}, []float32{0.1}, []int64{-5})
	out := qt("out", graph.Int8, []int{1, 12, 12, 16}, []float32{0.5}, []int64{2})
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1}}
	kern, err := prepareConv2D(op, []*graph.Tensor{in, constI8("w", graph.Int8, []int{16, 3, 3, 8}, ws, []float32{0.01})}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	inputs := make([][]int8, workers)
	want := make([][]int8, workers)
	for wk := range inputs {
		inputs[wk] = make([]int8, 12*12*8)
		for i := range inputs[wk] {
			inputs[wk][i] = int8(r.Intn(256) - 128)
		}
		want[wk] = make([]int8, 12*12*16)
		if err := kern.Run([]*Buffer{{DType: graph.Int8, I8: inputs[wk]}}, []*Buffer{{DType: graph.Int8, I8: want[wk]}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]string, workers)
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func(wk int) {
			defer wg.Done()
			got := make([]int8, len(want[wk]))
			for rep := 0; rep < 20; rep++ {
				if err := kern.Run([]*Buffer{{DType: graph.Int8, I8: inputs[wk]}}, []*Buffer{{DType: graph.Int8, I8: got}}); err != nil {
					errs[wk] = err.Error()
					return
				}
				for i := range got {
					if got[i] != want[wk][i] {
						errs[wk] = "concurrent result differs"
						return
					}
				}
			}
		}(wk)
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Fatal(e)
		}
	}
	ins := []*Buffer{{DType: graph.Int8, I8: inputs[0]}}
	outs := []*Buffer{{DType: graph.Int8, I8: want[0]}}
	// Run itself must not allocate; whatever the GEMM core allocates per
	// call is gemm's business, so allow exactly that.
	ga, gb, gc := make([]int8, 144*72), make([]int8, 16*72), make([]int32, 144*16)
	p := gemm.PackS8(gb, 16, 72, 72)
	gemmAllocs := testing.AllocsPerRun(20, func() { p.Mul(144, ga, 72, 5, gc, 16) })
	// Run's GEMM call is MulRequant when the epilogue is fused.
	rq, err := gemm.NewRequant(fixedpoint.DoubleRounding, nil, make([]int32, 16), make([]int, 16), 0, -128, 127)
	if err != nil {
		t.Fatal(err)
	}
	gout := make([]int8, 144*16)
	gemmAllocs = max(gemmAllocs, testing.AllocsPerRun(20, func() { p.MulRequant(144, ga, 72, 5, rq, gout, 16) }))
	if a := testing.AllocsPerRun(20, func() { _ = kern.Run(ins, outs) }); a > gemmAllocs && !raceEnabled {
		t.Errorf("Run allocates %v times per call, its one PackedS8 GEMM call %v", a, gemmAllocs)
	}
}

func TestConv2DPrepareErrors(t *testing.T) {
	in := qt("in", graph.Int8, []int{1, 4, 4, 2}, []float32{1}, []int64{0})
	out := qt("out", graph.Int8, []int{1, 4, 4, 3}, []float32{1}, []int64{0})
	w := constI8("w", graph.Int8, []int{3, 1, 1, 2}, make([]int8, 6), []float32{1})
	opts := &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1}
	op := &graph.Op{Kind: graph.OpConv2D, Options: opts}
	bad := []struct {
		name string
		ins  []*graph.Tensor
		outs []*graph.Tensor
		op   *graph.Op
	}{
		{"no options", []*graph.Tensor{in, w}, []*graph.Tensor{out}, &graph.Op{Kind: graph.OpConv2D}},
		{"no filter", []*graph.Tensor{in}, []*graph.Tensor{out}, op},
		{"3-D input", []*graph.Tensor{qt("in", graph.Int8, []int{4, 4, 2}, []float32{1}, []int64{0}), w}, []*graph.Tensor{out}, op},
		{"filter depth", []*graph.Tensor{in, constI8("w", graph.Int8, []int{3, 1, 1, 1}, make([]int8, 3), []float32{1})}, []*graph.Tensor{out}, op},
		{"filter count", []*graph.Tensor{in, constI8("w", graph.Int8, []int{2, 1, 1, 2}, make([]int8, 4), []float32{1})}, []*graph.Tensor{out}, op},
		{"no input quant", []*graph.Tensor{qt("in", graph.Int8, []int{1, 4, 4, 2}, nil, nil), w}, []*graph.Tensor{out}, op},
		{"scale count", []*graph.Tensor{in, constI8("w", graph.Int8, []int{3, 1, 1, 2}, make([]int8, 6), []float32{1, 1})}, []*graph.Tensor{out}, op},
		{"bias length", []*graph.Tensor{in, w, constI32("b", []int32{1, 2}, nil)}, []*graph.Tensor{out}, op},
		{"float bias on int8", []*graph.Tensor{in, w, constF32("b", []int{3}, []float32{1, 2, 3})}, []*graph.Tensor{out}, op},
		{"non-const filter", []*graph.Tensor{in, qt("w", graph.Int8, []int{3, 1, 1, 2}, []float32{1}, []int64{0})}, []*graph.Tensor{out}, op},
		{"mixed dtypes", []*graph.Tensor{in, w}, []*graph.Tensor{qt("out", graph.Int16, []int{1, 4, 4, 3}, []float32{1}, []int64{0})}, op},
		{"zero stride", []*graph.Tensor{in, w}, []*graph.Tensor{out}, &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{StrideW: 0, StrideH: 1}}},
		{"tanh", []*graph.Tensor{in, w}, []*graph.Tensor{out}, &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{StrideW: 1, StrideH: 1, Activation: graph.ActTanh}}},
		{"asymmetric per-channel weights", []*graph.Tensor{in, &graph.Tensor{Name: "w", DType: graph.Int8, Shape: []int{3, 1, 1, 2}, Data: make([]byte, 6),
			Quant: &graph.Quantization{Scale: []float32{1, 1, 1}, ZeroPoint: []int64{0, 1, 0}}}}, []*graph.Tensor{out}, op},
	}
	for _, b := range bad {
		if _, err := prepareConv2D(b.op, b.ins, b.outs); err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
}

// ---- benchmarks on the study's layer shapes (3×3 SAME, stride 1) ----

var studyLayers = []struct {
	name            string
	h, w, cin, cout int
}{
	{"80x80x3-16", 80, 80, 3, 16},
	{"40x40x16-32", 40, 40, 16, 32},
	{"20x20x32-64", 20, 20, 32, 64},
	{"10x10x64-128", 10, 10, 64, 128},
}

// studyConv prepares a 3×3 SAME RELU conv of one study layer (h×w×cin →
// cout, the given stride) with seeded weights and input, on the given path.
func studyConv(b *testing.B, d graph.DType, h, w, cin, cout, stride int, rnd fixedpoint.Rounding, path convPath) (Kernel, []*Buffer, []*Buffer) {
	r := rand.New(rand.NewSource(1))
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: stride, StrideH: stride, Activation: graph.ActRelu}}
	oh, ow := (h+stride-1)/stride, (w+stride-1)/stride
	nw := cout * 9 * cin
	var in, wt, out *graph.Tensor
	x := &Buffer{DType: d}
	y := &Buffer{DType: d}
	if d == graph.Float32 {
		ws := make([]float32, nw)
		for i := range ws {
			ws[i] = float32(r.NormFloat64())
		}
		in = &graph.Tensor{Name: "in", DType: d, Shape: []int{1, h, w, cin}}
		wt = constF32("w", []int{cout, 3, 3, cin}, ws)
		out = &graph.Tensor{Name: "out", DType: d, Shape: []int{1, oh, ow, cout}}
		x.F32 = make([]float32, h*w*cin)
		for i := range x.F32 {
			x.F32[i] = float32(r.NormFloat64())
		}
		y.F32 = make([]float32, oh*ow*cout)
	} else {
		ws := make([]int8, nw)
		for i := range ws {
			ws[i] = int8(r.Intn(255) - 127)
		}
		sc := make([]float32, cout)
		for i := range sc {
			sc[i] = 0.01
		}
		in = qt("in", d, []int{1, h, w, cin}, []float32{0.05}, []int64{-3})
		wt = constI8("w", d, []int{cout, 3, 3, cin}, ws, sc)
		out = qt("out", d, []int{1, oh, ow, cout}, []float32{0.1}, []int64{-128})
		x.I8 = make([]int8, h*w*cin)
		for i := range x.I8 {
			x.I8[i] = int8(r.Intn(256) - 128)
		}
		y.I8 = make([]int8, oh*ow*cout)
	}
	k, err := prepareConv2DWith(op, []*graph.Tensor{in, wt}, []*graph.Tensor{out}, rnd, path)
	if err != nil {
		b.Fatal(err)
	}
	return k, []*Buffer{x}, []*Buffer{y}
}

// benchConv runs each study layer (stride 1, or the given stride) through the segmented (im2col-free)
// path, the im2col path and, for int8, im2col with the plain-Go
// requantization pass instead of the fused epilogue, all in one run so
// their ratios are meaningful on a noisy machine. GFLOP/s counts a
// multiply-add as 2 operations, for int8 too.
func benchConv(b *testing.B, d graph.DType, stride int) {
	paths := []string{"segmented", "im2col"}
	if d == graph.Int8 {
		paths = append(paths, "im2col-separate")
	}
	if d == graph.Float32 && stride == 1 {
		paths = append(paths, "winograd")
	}
	for _, l := range studyLayers {
		for _, path := range paths {
			b.Run(l.name+"/"+path, func(b *testing.B) {
				impl := pathIm2col
				switch path {
				case "segmented":
					impl = pathSegmented
				case "winograd":
					impl = pathWinograd
				}
				k, ins, outs := studyConv(b, d, l.h, l.w, l.cin, l.cout, stride, fixedpoint.DoubleRounding, impl)
				if path == "im2col-separate" {
					k.(*convInt8).rq.fast = nil
				}
				oh, ow := (l.h+stride-1)/stride, (l.w+stride-1)/stride
				flops := 2 * float64(oh*ow) * float64(l.cout) * float64(9*l.cin)
				for b.Loop() {
					if err := k.Run(ins, outs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkConv2DFloat32 measures float32 CONV_2D, segmented, im2col and
// Winograd F(4,3) (GFLOP/s counts the direct product's operations).
func BenchmarkConv2DFloat32(b *testing.B) { benchConv(b, graph.Float32, 1) }

// BenchmarkConv2DInt8 measures per-channel int8 CONV_2D, segmented and
// im2col (fused and separate requantization).
func BenchmarkConv2DInt8(b *testing.B) { benchConv(b, graph.Int8, 1) }

// BenchmarkConv2DStride2 is the study layers at stride 2, where the
// segmented path runs one output row per GEMM call.
func BenchmarkConv2DStride2(b *testing.B) {
	b.Run("float32", func(b *testing.B) { benchConv(b, graph.Float32, 2) })
	b.Run("int8", func(b *testing.B) { benchConv(b, graph.Int8, 2) })
}

func TestFloatAndInt16RunAllocFree(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	// Float conv (im2col path), float fully connected, 16x8 conv.
	fin := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, 6, 6, 3}}
	fout := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, 6, 6, 4}}
	cop := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1}}
	fconv, err := prepareConv2D(cop, []*graph.Tensor{fin, constF32("w", []int{4, 3, 3, 3}, make([]float32, 108))}, []*graph.Tensor{fout})
	if err != nil {
		t.Fatal(err)
	}
	in16 := qt("in", graph.Int16, []int{1, 6, 6, 3}, []float32{1}, []int64{0})
	out16 := qt("out", graph.Int16, []int{1, 6, 6, 4}, []float32{1}, []int64{0})
	conv16, err := prepareConv2D(cop, []*graph.Tensor{in16, constI8("w", graph.Int8, []int{4, 3, 3, 3}, make([]int8, 108), []float32{1})}, []*graph.Tensor{out16})
	if err != nil {
		t.Fatal(err)
	}
	fcin := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{2, 8}}
	fcout := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{2, 5}}
	ffc, err := prepareFullyConnected(&graph.Op{Kind: graph.OpFullyConnected}, []*graph.Tensor{fcin, constF32("w", []int{5, 8}, make([]float32, 40))}, []*graph.Tensor{fcout})
	if err != nil {
		t.Fatal(err)
	}
	// The float kernels make one gemm MulBiasClamp call per Run; what
	// that call allocates is gemm's business, so allow exactly that.
	pw := gemm.PackF32(make([]float32, 40), 5, 8, 8)
	ga, gc, gbias := make([]float32, 16), make([]float32, 10), make([]float32, 5)
	gemmAllocs := testing.AllocsPerRun(10, func() { pw.MulBiasClamp(1, 2, ga, 8, gbias, 0, 6, gc, 5) })
	for _, c := range []struct {
		name    string
		k       Kernel
		in, out *graph.Tensor
		allowed float64
	}{{"float conv", fconv, fin, fout, gemmAllocs}, {"16x8 conv", conv16, in16, out16, 0}, {"float fc", ffc, fcin, fcout, gemmAllocs}} {
		ins := []*Buffer{refBuffer(c.in.DType, c.in.Shape, nil)}
		outs := []*Buffer{refBuffer(c.out.DType, c.out.Shape, nil)}
		if a := testing.AllocsPerRun(10, func() { _ = c.k.Run(ins, outs) }); a > c.allowed {
			t.Errorf("%s: Run allocates %v times (allowed %v)", c.name, a, c.allowed)
		}
	}
}
