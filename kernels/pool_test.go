package kernels

import (
	"runtime/debug"
	"testing"

	"github.com/qbench/qbench/graph"
)

func TestMaxPool2DReferenceCases(t *testing.T)     { runRefDir(t, "max_pool_2d") }
func TestAveragePool2DReferenceCases(t *testing.T) { runRefDir(t, "average_pool_2d") }

func runPool(t *testing.T, avg bool, opts *graph.Pool2DOptions, in, out *graph.Tensor, x *Buffer) *Buffer {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	t.Helper()
	kind, prep := graph.OpMaxPool2D, prepareMaxPool2D
	if avg {
		kind, prep = graph.OpAveragePool2D, prepareAveragePool2D
	}
	k, err := prep(&graph.Op{Kind: kind, Options: opts}, []*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	y := refBuffer(out.DType, out.Shape, nil)
	ins, outs := []*Buffer{x}, []*Buffer{y}
	if err := k.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(5, func() { _ = k.Run(ins, outs) }); a > 0 && !raceEnabled {
		t.Errorf("pool Run allocates %v times", a)
	}
	return y
}

func TestAveragePoolIntRounding(t *testing.T) {
	// 1×3 windows over one row, VALID stride 1 in W, int8 scale 1 zp 0:
	// [1 2] → (3+1)/2 = 2; [−1 −2] → (−3−1)/2 = −2; [1 2 2] → (5+1)/3 = 2;
	// [−1 −2 −2] → (−5−1)/3 = −2; [1 1 2] → (4+1)/3 = 1.
	cases := []struct {
		x    []int8
		want int8
	}{{[]int8{1, 2}, 2}, {[]int8{-1, -2}, -2}, {[]int8{1, 2, 2}, 2}, {[]int8{-1, -2, -2}, -2}, {[]int8{1, 1, 2}, 1}, {[]int8{-1, -1, -2}, -1}}
	for _, c := range cases {
		n := len(c.x)
		in := qt("in", graph.Int8, []int{1, 1, n, 1}, []float32{1}, []int64{0})
		out := qt("out", graph.Int8, []int{1, 1, 1, 1}, []float32{1}, []int64{0})
		opts := &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: 1, StrideH: 1, FilterW: n, FilterH: 1}
		if y := runPool(t, true, opts, in, out, &Buffer{DType: graph.Int8, I8: c.x}); y.I8[0] != c.want {
			t.Errorf("avg%v = %d, want %d", c.x, y.I8[0], c.want)
		}
	}
}

func TestPoolSamePaddingClipsWindow(t *testing.T) {
	// 2×2 image, 3×3 SAME stride 1: every window is clipped to the image, so
	// each output averages all 4 pixels (padding does not count).
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, 2, 2, 1}}
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, 2, 2, 1}}
	opts := &graph.Pool2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, FilterW: 3, FilterH: 3}
	x := &Buffer{DType: graph.Float32, F32: []float32{1, 2, 3, 6}}
	for _, v := range runPool(t, true, opts, in, out, x).F32 {
		if v != 3 {
			t.Fatalf("clipped average = %v, want 3", v)
		}
	}
	for _, v := range runPool(t, false, opts, in, out, x).F32 {
		if v != 6 {
			t.Fatalf("clipped max = %v, want 6", v)
		}
	}
	// Int16 max pool with RELU6 at scale 0.5: bound 12; negative input
	// clamps up to 0.
	in16 := qt("in", graph.Int16, []int{1, 2, 2, 1}, []float32{0.5}, []int64{0})
	out16 := qt("out", graph.Int16, []int{1, 1, 1, 1}, []float32{0.5}, []int64{0})
	o2 := &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2, Activation: graph.ActRelu6}
	if y := runPool(t, false, o2, in16, out16, &Buffer{DType: graph.Int16, I16: []int16{100, 5, 7, 9}}); y.I16[0] != 12 {
		t.Errorf("int16 max pool RELU6 = %d, want 12", y.I16[0])
	}
	if y := runPool(t, false, o2, in16, out16, &Buffer{DType: graph.Int16, I16: []int16{-100, -5, -7, -9}}); y.I16[0] != 0 {
		t.Errorf("int16 max pool RELU6 of negatives = %d, want 0", y.I16[0])
	}
}

func TestPoolErrors(t *testing.T) {
	in := qt("in", graph.Int8, []int{1, 4, 4, 2}, []float32{1}, []int64{0})
	opts := &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2}
	for name, c := range map[string]struct {
		opts *graph.Pool2DOptions
		out  *graph.Tensor
	}{
		"channels":    {opts, qt("out", graph.Int8, []int{1, 2, 2, 3}, []float32{1}, []int64{0})},
		"dtype":       {opts, qt("out", graph.Int16, []int{1, 2, 2, 2}, []float32{1}, []int64{0})},
		"zero filter": {&graph.Pool2DOptions{StrideW: 1, StrideH: 1}, qt("out", graph.Int8, []int{1, 4, 4, 2}, []float32{1}, []int64{0})},
		"no quant":    {opts, qt("out", graph.Int8, []int{1, 2, 2, 2}, nil, nil)},
	} {
		if _, err := prepareMaxPool2D(&graph.Op{Kind: graph.OpMaxPool2D, Options: c.opts}, []*graph.Tensor{in}, []*graph.Tensor{c.out}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRunRejectsWrongBuffers feeds every heavy kernel buffers of the wrong
// dtype or size: each must return an error, never panic.
func TestRunRejectsWrongBuffers(t *testing.T) {
	i8 := func(shape ...int) *graph.Tensor { return qt("t", graph.Int8, shape, []float32{1}, []int64{0}) }
	type build struct {
		name string
		prep PrepareFunc
		op   *graph.Op
		ins  []*graph.Tensor
		out  *graph.Tensor
	}
	builds := []build{
		{"conv", prepareConv2D, &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{StrideW: 1, StrideH: 1}},
			[]*graph.Tensor{i8(1, 3, 3, 2), constI8("w", graph.Int8, []int{2, 3, 3, 2}, make([]int8, 36), []float32{1})}, i8(1, 3, 3, 2)},
		{"depthwise", prepareDepthwiseConv2D, &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{StrideW: 1, StrideH: 1}},
			[]*graph.Tensor{i8(1, 3, 3, 2), constI8("w", graph.Int8, []int{1, 3, 3, 2}, make([]int8, 18), []float32{1})}, i8(1, 3, 3, 2)},
		{"fc", prepareFullyConnected, &graph.Op{Kind: graph.OpFullyConnected},
			[]*graph.Tensor{i8(2, 3), constI8("w", graph.Int8, []int{4, 3}, make([]int8, 12), []float32{1})}, i8(2, 4)},
		{"maxpool", prepareMaxPool2D, &graph.Op{Kind: graph.OpMaxPool2D, Options: &graph.Pool2DOptions{StrideW: 1, StrideH: 1, FilterW: 2, FilterH: 2}},
			[]*graph.Tensor{i8(1, 3, 3, 2)}, i8(1, 3, 3, 2)},
		{"avgpool", prepareAveragePool2D, &graph.Op{Kind: graph.OpAveragePool2D, Options: &graph.Pool2DOptions{StrideW: 1, StrideH: 1, FilterW: 2, FilterH: 2}},
			[]*graph.Tensor{i8(1, 3, 3, 2)}, i8(1, 3, 3, 2)},
		{"softmax", prepareSoftmax, &graph.Op{Kind: graph.OpSoftmax, Options: &graph.SoftmaxOptions{Beta: 1}},
			[]*graph.Tensor{i8(2, 9)}, qt("o", graph.Int8, []int{2, 9}, []float32{1.0 / 256}, []int64{-128})},
	}
	for _, b := range builds {
		k, err := b.prep(b.op, b.ins, []*graph.Tensor{b.out})
		if err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		good := refBuffer(graph.Int8, b.ins[0].Shape, nil)
		goodOut := refBuffer(graph.Int8, b.out.Shape, nil)
		if err := k.Run([]*Buffer{good}, []*Buffer{goodOut}); err != nil {
			t.Fatalf("%s: good buffers: %v", b.name, err)
		}
		wrong := [][2]*Buffer{
			{refBuffer(graph.Float32, b.ins[0].Shape, nil), goodOut},
			{good, refBuffer(graph.Int16, b.out.Shape, nil)},
			{{DType: graph.Int8, I8: good.I8[:len(good.I8)-1]}, goodOut},
			{good, {DType: graph.Int8, I8: goodOut.I8[:1]}},
			{nil, goodOut},
			{good, nil},
		}
		for i, w := range wrong {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: wrong buffers %d: panic %v", b.name, i, r)
					}
				}()
				if err := k.Run([]*Buffer{w[0]}, []*Buffer{w[1]}); err == nil {
					t.Errorf("%s: wrong buffers %d accepted", b.name, i)
				}
			}()
		}
	}
}
