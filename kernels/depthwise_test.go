package kernels

import (
	"math/rand"
	"runtime/debug"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

func TestDepthwiseConv2DReferenceCases(t *testing.T) { runRefDir(t, "depthwise_conv_2d") }

func TestDepthwiseFloatHand(t *testing.T) {
	// 2×2×1 image, multiplier 2, 2×2 filter: channel 0 sums, channel 1
	// weights the top-left pixel by 10; bias [1, 0]; VALID → one pixel.
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, 2, 2, 1}}
	w := constF32("w", []int{1, 2, 2, 2}, []float32{1, 10, 1, 0, 1, 0, 1, 0})
	b := constF32("b", []int{2}, []float32{1, 0})
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, 1, 1, 2}}
	op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: graph.PaddingValid, StrideW: 1, StrideH: 1, DepthMultiplier: 2}}
	k, err := prepareDepthwiseConv2D(op, []*graph.Tensor{in, w, b}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	y := &Buffer{DType: graph.Float32, F32: make([]float32, 2)}
	if err := k.Run([]*Buffer{{DType: graph.Float32, F32: []float32{1, 2, 3, 4}}}, []*Buffer{y}); err != nil {
		t.Fatal(err)
	}
	if y.F32[0] != 11 || y.F32[1] != 10 {
		t.Errorf("depthwise = %v, want [11 10]", y.F32)
	}
	// A depth_multiplier option that contradicts the shapes is an error.
	op.Options = &graph.DepthwiseConv2DOptions{Padding: graph.PaddingValid, StrideW: 1, StrideH: 1, DepthMultiplier: 3}
	if _, err := prepareDepthwiseConv2D(op, []*graph.Tensor{in, w, b}, []*graph.Tensor{out}); err == nil {
		t.Error("depth_multiplier 3 with a multiplier-2 filter accepted")
	}
}

// naiveDepthwiseAcc is TFLite's reference depthwise loop.
func naiveDepthwiseAcc(c convCase, mult int, x []int32, off int64, w []int32, outH, outW int) []int64 {
	padT := graph.ConvPadding(c.pad, c.inH, c.fH, c.sH, c.dH, outH)
	padL := graph.ConvPadding(c.pad, c.inW, c.fW, c.sW, c.dW, outW)
	outC := c.inC * mult
	var acc []int64
	for b := 0; b < c.batch; b++ {
		for oy := 0; oy < outH; oy++ {
			for ox := 0; ox < outW; ox++ {
				for oc := 0; oc < outC; oc++ {
					ic := oc / mult
					var s int64
					for ky := 0; ky < c.fH; ky++ {
						for kx := 0; kx < c.fW; kx++ {
							iy, ix := oy*c.sH-padT+ky*c.dH, ox*c.sW-padL+kx*c.dW
							if iy < 0 || iy >= c.inH || ix < 0 || ix >= c.inW {
								continue
							}
							s += int64(w[(ky*c.fW+kx)*outC+oc]) * (int64(x[((b*c.inH+iy)*c.inW+ix)*c.inC+ic]) + off)
						}
					}
					acc = append(acc, s)
				}
			}
		}
	}
	return acc
}

func TestDepthwiseMatchesNaive(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	r := rand.New(rand.NewSource(11))
	for iter := 0; iter < 300; iter++ {
		c := randConvCase(r)
		mult := 1 + r.Intn(3)
		outH, outW := c.outSize()
		if outH == 0 || outW == 0 {
			continue
		}
		outC := c.inC * mult
		int16Mode := iter%2 == 1
		n := c.batch * c.inH * c.inW * c.inC
		x32 := make([]int32, n)
		for i := range x32 {
			if int16Mode {
				x32[i] = int32(r.Intn(65536) - 32768)
			} else {
				x32[i] = int32(r.Intn(256) - 128)
			}
		}
		ws := make([]int8, c.fH*c.fW*outC)
		w32 := make([]int32, len(ws))
		for i := range ws {
			ws[i] = int8(r.Intn(255) - 127)
			w32[i] = int32(ws[i])
		}
		wScales := make([]float32, outC)
		for i := range wScales {
			wScales[i] = float32(0.001 + r.Float64()*0.02)
		}
		bias := make([]int64, outC)
		for i := range bias {
			bias[i] = int64(r.Intn(20000) - 10000)
		}
		sIn, sOut := float32(0.02+r.Float64()), float32(0.05+r.Float64())
		var zpIn, zpOut int64
		d := graph.Int8
		var bt *graph.Tensor
		if int16Mode {
			d = graph.Int16
			bt = &graph.Tensor{Name: "b", DType: graph.Int64, Shape: []int{outC}, Data: graph.EncodeInt64s(bias)}
			sOut *= 1000
		} else {
			zpIn, zpOut = int64(r.Intn(256)-128), int64(r.Intn(200)-100)
			b32 := make([]int32, outC)
			for i, v := range bias {
				b32[i] = int32(v)
			}
			bt = constI32("b", b32, nil)
		}
		in := qt("in", d, []int{c.batch, c.inH, c.inW, c.inC}, []float32{sIn}, []int64{zpIn})
		w := constI8("w", graph.Int8, []int{1, c.fH, c.fW, outC}, ws, wScales)
		out := qt("out", d, []int{c.batch, outH, outW, outC}, []float32{sOut}, []int64{zpOut})
		op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: c.pad, StrideH: c.sH, StrideW: c.sW,
			DilationH: c.dH, DilationW: c.dW, DepthMultiplier: mult}}
		kern, err := prepareDepthwiseConv2D(op, []*graph.Tensor{in, w, bt}, []*graph.Tensor{out})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		xb := refBuffer(d, in.Shape, nil)
		for i, v := range x32 {
			if int16Mode {
				xb.I16[i] = int16(v)
			} else {
				xb.I8[i] = int8(v)
			}
		}
		yb := refBuffer(d, out.Shape, nil)
		if err := kern.Run([]*Buffer{xb}, []*Buffer{yb}); err != nil {
			t.Fatal(err)
		}
		got := bufValues(yb)
		lo, hi := DTypeRange(d)
		for i, a := range naiveDepthwiseAcc(c, mult, x32, -zpIn, w32, outH, outW) {
			oc := i % outC
			m, s := fixedpoint.QuantizeMultiplier(float64(sIn) * float64(wScales[oc]) / float64(sOut))
			var v int32
			if int16Mode {
				v = fixedpoint.MultiplyByQuantizedMultiplier64(a+bias[oc], m, s)
			} else {
				v = fixedpoint.MultiplyByQuantizedMultiplier(int32(a)+int32(bias[oc]), m, s) + int32(zpOut)
			}
			v = min(max(v, lo), hi)
			if int32(got[i]) != v {
				t.Fatalf("%+v mult %d %s: output %d = %v, naive %d", c, mult, d, i, got[i], v)
			}
		}
		ins, outs := []*Buffer{xb}, []*Buffer{yb}
		if a := testing.AllocsPerRun(5, func() { _ = kern.Run(ins, outs) }); a > 0 && !raceEnabled {
			t.Fatalf("depthwise Run allocates %v times", a)
		}
	}
}

// BenchmarkDepthwiseInt8 measures a MobileNet-style 3×3 depthwise layer
// (40×40×64, SAME, stride 1, per-channel int8).
func BenchmarkDepthwiseInt8(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	const h, w, c = 40, 40, 64
	ws := make([]int8, 9*c)
	for i := range ws {
		ws[i] = int8(r.Intn(255) - 127)
	}
	sc := make([]float32, c)
	for i := range sc {
		sc[i] = 0.01
	}
	in := qt("in", graph.Int8, []int{1, h, w, c}, []float32{0.05}, []int64{-3})
	out := qt("out", graph.Int8, []int{1, h, w, c}, []float32{0.1}, []int64{-128})
	op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DepthMultiplier: 1, Activation: graph.ActRelu6}}
	k, err := prepareDepthwiseConv2D(op, []*graph.Tensor{in, constI8("w", graph.Int8, []int{1, 3, 3, c}, ws, sc)}, []*graph.Tensor{out})
	if err != nil {
		b.Fatal(err)
	}
	x := refBuffer(graph.Int8, in.Shape, nil)
	for i := range x.I8 {
		x.I8[i] = int8(r.Intn(256) - 128)
	}
	ins, outs := []*Buffer{x}, []*Buffer{refBuffer(graph.Int8, out.Shape, nil)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := k.Run(ins, outs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*9*h*w*c*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
