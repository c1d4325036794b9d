package kernels

import (
	"fmt"
	"math/rand"
	"runtime/debug"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

func TestDepthwise16x8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(1608))
	iters := 100
	if testing.Short() {
		iters = 30
	}
	for it := 0; it < iters; it++ {
		inH, inW, C := 1+r.Intn(10), 1+r.Intn(10), 1+r.Intn(70)
		fH, fW := 1+r.Intn(min(5, inH)), 1+r.Intn(min(5, inW))
		mult := 1
		if it%10 == 9 || it%10 == 2 {
			mult = 2 + r.Intn(3) // the fast form spreads the image first
			C = 1 + r.Intn(20)
		}
		if it%10 == 4 { // tall windows, extreme values
			inH, fH, fW = 30+r.Intn(5), 25+r.Intn(5), 1
		}
		opts := &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideH: 1 + r.Intn(2), StrideW: 1 + r.Intn(2), DilationH: 1, DilationW: 1, DepthMultiplier: mult}
		if r.Intn(3) == 0 {
			opts.Padding = graph.PaddingValid
		}
		if r.Intn(5) == 0 && fH <= 2 && fW <= 2 && inH >= 3 && inW >= 3 {
			opts.DilationH, opts.DilationW = 2, 1+r.Intn(2)
		}
		opts.Activation = []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.Intn(3)]
		batch := []int{1, 3, 64}[r.Intn(3)]
		outH, outW := inH, inW
		if opts.Padding == graph.PaddingValid {
			outH, outW = inH-(fH-1)*opts.DilationH, inW-(fW-1)*opts.DilationW
		}
		outH, outW = (outH+opts.StrideH-1)/opts.StrideH, (outW+opts.StrideW-1)/opts.StrideW
		outC := C * mult
		taps := fH * fW
		wv, ws := x16Weights(r, outC, taps) // scales per output channel
		extreme := it%10 == 4
		oscale := x16OutScale(r, taps)
		if extreme {
			x16Extreme(r, wv)
			oscale *= 8
		}
		in := qt("in", graph.Int16, []int{1, inH, inW, C}, []float32{0.5}, []int64{0})
		out := qt("out", graph.Int16, []int{1, outH, outW, outC}, []float32{oscale}, []int64{0})
		w := constI8("w", graph.Int8, []int{1, fH, fW, outC}, wv, ws)
		w.Quant.Axis = 3
		bias := x16Bias(r, r.Intn(3), outC)
		op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: opts}
		ins := []*graph.Tensor{in, w, bias}
		x := &Buffer{DType: graph.Int16, I16: x16Inputs(r, batch*inH*inW*C, extreme)}
		for _, rnd := range x16Roundings {
			ref, err := prepareDepthwiseConv2DWith(op, ins, []*graph.Tensor{out}, rnd, true)
			if err != nil {
				t.Fatal(err)
			}
			want := &Buffer{DType: graph.Int16, I16: make([]int16, batch*outH*outW*outC)}
			if err := ref.Run([]*Buffer{x}, []*Buffer{want}); err != nil {
				t.Fatal(err)
			}
			fast, err := prepareDepthwiseConv2DWith(op, ins, []*graph.Tensor{out}, rnd, false)
			if err != nil {
				t.Fatal(err)
			}
			fk, ok := fast.(*dwInt16Fast)
			if !ok {
				t.Fatalf("16x8 depthwise with multiplier %d prepared as %T", mult, fast)
			}
			for _, lv := range x16Levels() {
				k := newDwInt16Fast(fk.depthwise, lv)
				got := &Buffer{DType: graph.Int16, I16: make([]int16, len(want.I16))}
				if err := k.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("iter %d %dx%dx%d f%dx%d s%d,%d d%d,%d %v, batch %d, %v, level %d",
					it, inH, inW, C, fH, fW, opts.StrideH, opts.StrideW, opts.DilationH, opts.DilationW, opts.Padding, batch, rnd, lv)
				x16Equal(t, name, got.I16, want.I16)
			}
		}
	}
}

// BenchmarkDepthwise16x8 compares the reference loop with the fast form,
// depth multiplier 1 (64 channels) and 4 (16 channels spread to 64).
func BenchmarkDepthwise16x8(b *testing.B) {
	for _, v := range []struct {
		ref  bool
		mult int
	}{{true, 1}, {false, 1}, {true, 4}, {false, 4}} {
		b.Run(fmt.Sprintf("%s/m%d", map[bool]string{true: "ref", false: "fast"}[v.ref], v.mult), func(b *testing.B) {
			r := rand.New(rand.NewSource(1))
			const h, w, c = 25, 5, 64
			inC := c / v.mult
			wv, ws := x16Weights(r, c, 9)
			in := qt("in", graph.Int16, []int{1, h, w, inC}, []float32{0.5}, []int64{0})
			out := qt("out", graph.Int16, []int{1, h, w, c}, []float32{x16OutScale(r, 9)}, []int64{0})
			wt := constI8("w", graph.Int8, []int{1, 3, 3, c}, wv, ws)
			wt.Quant.Axis = 3
			op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, DepthMultiplier: v.mult, Activation: graph.ActRelu}}
			k, err := prepareDepthwiseConv2DWith(op, []*graph.Tensor{in, wt, x16Bias(r, 2, c)}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, v.ref)
			if err != nil {
				b.Fatal(err)
			}
			x := &Buffer{DType: graph.Int16, I16: x16Inputs(r, h*w*inC, false)}
			y := &Buffer{DType: graph.Int16, I16: make([]int16, h*w*c)}
			b.ResetTimer()
			for range b.N {
				if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestX16RunAllocFree checks that the 16x8 fast kernels (conv in place
// and through im2col, depthwise, fully connected) allocate nothing per Run
// once their scratch pools are warm.
func TestX16RunAllocFree(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // a GC empties sync.Pools
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	r := rand.New(rand.NewSource(3))
	in := qt("in", graph.Int16, []int{1, 5, 5, 16}, []float32{0.5}, []int64{0})
	b64 := func(n int) *graph.Tensor { return x16Bias(r, 2, n) }
	type tc struct {
		name string
		op   *graph.Op
		ins  []*graph.Tensor
		out  *graph.Tensor
	}
	w3, s3 := x16Weights(r, 16, 9*16)
	w1, s1 := x16Weights(r, 16, 16)
	wd, sd := x16Weights(r, 16, 9)
	dwt := constI8("w", graph.Int8, []int{1, 3, 3, 16}, wd, sd)
	dwt.Quant.Axis = 3
	wf, sf := x16Weights(r, 10, 400)
	out := qt("out", graph.Int16, []int{1, 5, 5, 16}, []float32{1}, []int64{0})
	same := &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1}
	cases := []tc{
		{"conv 3x3", &graph.Op{Kind: graph.OpConv2D, Options: same}, []*graph.Tensor{in, constI8("w", graph.Int8, []int{16, 3, 3, 16}, w3, s3), b64(16)}, out},
		{"conv 1x1", &graph.Op{Kind: graph.OpConv2D, Options: same}, []*graph.Tensor{in, constI8("w", graph.Int8, []int{16, 1, 1, 16}, w1, s1), b64(16)}, out},
		{"depthwise", &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, DepthMultiplier: 1}},
			[]*graph.Tensor{in, dwt, b64(16)}, out},
		{"fully connected", &graph.Op{Kind: graph.OpFullyConnected}, []*graph.Tensor{qt("in", graph.Int16, []int{1, 400}, []float32{0.5}, []int64{0}), constI8("w", graph.Int8, []int{10, 400}, wf, sf), b64(10)},
			qt("out", graph.Int16, []int{1, 10}, []float32{1}, []int64{0})},
	}
	for _, c := range cases {
		var k Kernel
		var err error
		switch c.op.Kind {
		case graph.OpConv2D:
			k, err = prepareConv2DWith(c.op, c.ins, []*graph.Tensor{c.out}, fixedpoint.RuntimeRounding, pathAuto)
		case graph.OpDepthwiseConv2D:
			k, err = prepareDepthwiseConv2DWith(c.op, c.ins, []*graph.Tensor{c.out}, fixedpoint.RuntimeRounding, false)
		default:
			k, err = prepareFullyConnectedWith(c.op, c.ins, []*graph.Tensor{c.out}, fixedpoint.RuntimeRounding, false)
		}
		if err != nil {
			t.Fatal(err)
		}
		switch k.(type) {
		case *convInt16Fast, *dwInt16Fast, *fcInt16Fast:
		default:
			t.Fatalf("%s: prepared as %T", c.name, k)
		}
		ins := []*Buffer{refBuffer(graph.Int16, c.ins[0].Shape, nil)}
		outs := []*Buffer{refBuffer(graph.Int16, c.out.Shape, nil)}
		if a := testing.AllocsPerRun(10, func() { _ = k.Run(ins, outs) }); a > 0 {
			t.Errorf("%s: Run allocates %v times", c.name, a)
		}
	}
}
