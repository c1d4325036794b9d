package kernels

import (
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// segCase draws a convolution for the segmented path: stride 1 (strides
// 1..3 one time in four, run one output row per call), odd image
// sizes, Cin 1..17, Cout 1..37, windows 1..5, SAME or VALID, row dilation
// 1..2 (column dilation 2 one time in eight, which falls back too).
func segCase(r *rand.Rand) convCase {
	c := convCase{batch: 1 + r.IntN(3), inH: 1 + r.IntN(9), inW: 1 + r.IntN(9), inC: 1 + r.IntN(17), outC: 1 + r.IntN(37),
		fH: 1 + r.IntN(5), fW: 1 + r.IntN(5), sH: 1, sW: 1, dH: 1 + r.IntN(2), dW: 1, pad: graph.Padding(r.IntN(2))}
	if r.IntN(4) == 0 {
		c.sH, c.sW = 1+r.IntN(3), 1+r.IntN(3)
	}
	if r.IntN(8) == 0 {
		c.dW = 2
	}
	if c.pad == graph.PaddingValid {
		// Keep VALID outputs non-empty most of the time.
		c.inH += (c.fH - 1) * c.dH
		c.inW += (c.fW - 1) * c.dW
	}
	return c
}

// TestConv2DSegmentedInt8MatchesNaive checks the im2col-free int8 path
// bit for bit against TFLite's reference loop (naiveConvAcc + the
// requantization of the chosen arithmetic) and against the im2col path,
// over random shapes, zero points, per-tensor and per-channel scales,
// fused activations and both rounding modes.
func TestConv2DSegmentedInt8MatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	segmented := 0
	const iters = 250
	for iter := 0; iter < iters; iter++ {
		c := segCase(r)
		outH, outW := c.outSize()
		if outH <= 0 || outW <= 0 {
			continue
		}
		rnd := []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding}[r.IntN(3)]
		zpIn := int32(r.IntN(256) - 128)
		zpOut := int32(r.IntN(200) - 100)
		xs := randI8(r, c.batch*c.inH*c.inW*c.inC, 256)
		ws := randI8(r, c.outC*c.fH*c.fW*c.inC, 255)
		nScales := c.outC
		if r.IntN(4) == 0 {
			nScales = 1 // per-tensor
		}
		wScales := make([]float32, nScales)
		for i := range wScales {
			wScales[i] = float32(0.0005 + r.Float64()*0.01)
		}
		bias := make([]int32, c.outC)
		for i := range bias {
			bias[i] = int32(r.IntN(40000) - 20000)
		}
		sIn, sOut := float32(0.02+r.Float64()), float32(0.05+r.Float64())
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}[r.IntN(4)]
		q := int8ConvTrial{c: c, rnd: rnd, zpIn: zpIn, zpOut: zpOut, xs: xs, ws: ws, wScales: wScales, bias: bias, sIn: sIn, sOut: sOut, act: act}
		if q.check(t).seg != nil {
			segmented++
		}
	}
	// The draw is meant to exercise the segmented path; a plan rule that
	// silently rejected most cases would make this test vacuous.
	if segmented < iters/2 {
		t.Errorf("only %d of %d cases took the segmented path", segmented, iters)
	}
}

// randI8 returns n random int8 values, uniform over span values
// centred on zero (256: all of them; 255: −127..127, as weights).
func randI8(r *rand.Rand, n, span int) []int8 {
	xs := make([]int8, n)
	for i := range xs {
		xs[i] = int8(r.IntN(span) - span/2)
	}
	return xs
}

// int8ConvTrial is one random int8 conv of the segmented-path tests:
// shape, rounding, zero points, input xs, weights ws with per-tensor or
// per-channel scales, bias, scales and fused activation.
type int8ConvTrial struct {
	c           convCase
	rnd         fixedpoint.Rounding
	zpIn, zpOut int32
	xs, ws      []int8
	wScales     []float32
	bias        []int32
	sIn, sOut   float32
	act         graph.Activation
}

// check prepares the conv on the segmented and im2col paths, runs the
// segmented one twice (the second run reuses the pooled padded image)
// and requires its output to equal the im2col path's and TFLite's
// reference loop's (naiveConvAcc plus the requantization of the
// rounding) bit for bit. It returns the segmented-path conv.
func (q *int8ConvTrial) check(t *testing.T) *convInt8 {
	t.Helper()
	return q.checkPath(t, pathSegmented)
}

// checkPath is check with the fast conv prepared on path.
func (q *int8ConvTrial) checkPath(t *testing.T, path convPath) *convInt8 {
	t.Helper()
	c := q.c
	outH, outW := c.outSize()
	in := qt("in", graph.Int8, []int{c.batch, c.inH, c.inW, c.inC}, []float32{q.sIn}, []int64{int64(q.zpIn)})
	w := constI8("w", graph.Int8, []int{c.outC, c.fH, c.fW, c.inC}, q.ws, q.wScales)
	out := qt("out", graph.Int8, []int{c.batch, outH, outW, c.outC}, []float32{q.sOut}, []int64{int64(q.zpOut)})
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: c.sH, StrideW: c.sW, DilationH: c.dH, DilationW: c.dW, Activation: q.act}}
	ins, outs := []*graph.Tensor{in, w, constI32("b", q.bias, nil)}, []*graph.Tensor{out}
	fast, err := prepareConv2DWith(op, ins, outs, q.rnd, path)
	if err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	slow, err := prepareConv2DWith(op, ins, outs, q.rnd, pathIm2col)
	if err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	x := []*Buffer{{DType: graph.Int8, I8: q.xs}}
	got := &Buffer{DType: graph.Int8, I8: make([]int8, c.batch*outH*outW*c.outC)}
	ref := &Buffer{DType: graph.Int8, I8: make([]int8, len(got.I8))}
	for range 2 {
		if err := fast.Run(x, []*Buffer{got}); err != nil {
			t.Fatal(err)
		}
	}
	if err := slow.Run(x, []*Buffer{ref}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.I8, ref.I8) {
		t.Fatalf("%+v %s act %s zp %d/%d: path %d and im2col differ", c, q.rnd, q.act, q.zpIn, q.zpOut, path)
	}
	widen := func(v []int8) []int32 {
		w := make([]int32, len(v))
		for i, x := range v {
			w[i] = int32(x)
		}
		return w
	}
	lo, hi, _ := ActivationRangeQuantized(q.act, graph.Int8, q.sOut, q.zpOut)
	nScales := len(q.wScales)
	for i, a := range naiveConvAcc(c, widen(q.xs), -q.zpIn, widen(q.ws), outH, outW) {
		oc := i % c.outC
		m, s := q.rnd.QuantizeMultiplier(float64(q.sIn) * float64(q.wScales[oc%nScales]) / float64(q.sOut))
		v := min(max(q.rnd.MultiplyByQuantizedMultiplier(int32(a)+q.bias[oc], m, s)+q.zpOut, lo), hi)
		if q.rnd == fixedpoint.RuntimeRounding && q.bias != nil {
			// XNNPACK's float32 requantization (see kernels/xnnpack.go).
			sc := fixedpoint.FP32Scale(q.sIn, q.wScales[oc%nScales], q.sOut)
			v = fixedpoint.FP32Requantize(int32(a)+q.bias[oc], sc, q.zpOut, lo, hi)
		}
		if int32(got.I8[i]) != v {
			t.Fatalf("%+v %s act %s zp %d/%d: output %d = %d, reference %d", c, q.rnd, q.act, q.zpIn, q.zpOut, i, got.I8[i], v)
		}
	}
	return fast.(*convInt8)
}

// TestConv2DSegmentedFloatMatchesNaive checks the float path on
// integer-valued data, where every summation order gives the exact sum:
// results must equal the reference loop exactly (no tolerance needed).
func TestConv2DSegmentedFloatMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	segmented := 0
	const iters = 200
	for iter := 0; iter < iters; iter++ {
		if checkSegFloat(t, r, segCase(r), pathSegmented) {
			segmented++
		}
	}
	if segmented < iters/2 {
		t.Errorf("only %d of %d cases took the segmented path", segmented, iters)
	}
}

// TestConv2DStridedFloatMatchesNaive is the float whole-row strided path
// (pathAuto's choice) on equal strides 2 and 3, including 1×1 windows
// read in place and batches, exactly against the reference loop.
func TestConv2DStridedFloatMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	segmented := 0
	const iters = 200
	for iter := 0; iter < iters; iter++ {
		c := segCase(r)
		c.sH = 2 + r.IntN(2)
		c.sW, c.dW = c.sH, 1
		c.inH, c.inW = c.inH+r.IntN(12), c.inW+r.IntN(12)
		if r.IntN(4) == 0 {
			c.fH, c.fW = 1, 1
		}
		if checkSegFloat(t, r, c, pathAuto) {
			segmented++
		}
	}
	if segmented < iters/2 {
		t.Errorf("only %d of %d cases took the segmented path", segmented, iters)
	}
}

// checkSegFloat runs a float conv of case c prepared for path on
// integer-valued data and fails t unless it equals the reference loop
// exactly; it reports whether the kernel took the segmented path.
func checkSegFloat(t *testing.T, r *rand.Rand, c convCase, path convPath) bool {
	t.Helper()
	outH, outW := c.outSize()
	if outH <= 0 || outW <= 0 {
		return false
	}
	xs := make([]float32, c.batch*c.inH*c.inW*c.inC)
	x32 := make([]int32, len(xs))
	for i := range xs {
		x32[i] = int32(r.IntN(21) - 10)
		xs[i] = float32(x32[i])
	}
	ws := make([]float32, c.outC*c.fH*c.fW*c.inC)
	w32 := make([]int32, len(ws))
	for i := range ws {
		w32[i] = int32(r.IntN(21) - 10)
		ws[i] = float32(w32[i])
	}
	bias := make([]float32, c.outC)
	for i := range bias {
		bias[i] = float32(r.IntN(41) - 20)
	}
	act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}[r.IntN(4)]
	lo, hi, _ := ActivationRangeFloat(act)
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{c.batch, c.inH, c.inW, c.inC}}
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{c.batch, outH, outW, c.outC}}
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: c.sH, StrideW: c.sW, DilationH: c.dH, DilationW: c.dW, Activation: act}}
	kern, err := prepareConv2DWith(op, []*graph.Tensor{in, constF32("w", []int{c.outC, c.fH, c.fW, c.inC}, ws), constF32("b", []int{c.outC}, bias)},
		[]*graph.Tensor{out}, fixedpoint.DoubleRounding, path)
	if err != nil {
		t.Fatal(err)
	}
	y := &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*outH*outW*c.outC)}
	for rep := 0; rep < 2; rep++ {
		if err := kern.Run([]*Buffer{{DType: graph.Float32, F32: xs}}, []*Buffer{y}); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range naiveConvAcc(c, x32, 0, w32, outH, outW) {
		want := min(max(float32(a)+bias[i%c.outC], lo), hi)
		if y.F32[i] != want {
			t.Fatalf("%+v %v act %s: output %d = %v, reference %v", c, path, act, i, y.F32[i], want)
		}
	}
	return kern.(*convFloat).seg != nil
}

// TestSegPlan pins down which geometries take the segmented path and the
// padded layout it uses.
func TestSegPlan(t *testing.T) {
	geom := func(inH, inW, inC, f, stride, dil int, pad graph.Padding, outC int) *convGeom {
		oh := graph.ConvOutputSize(pad, inH, f, stride, dil)
		ow := graph.ConvOutputSize(pad, inW, f, stride, dil)
		return &convGeom{inH: inH, inW: inW, inC: inC, fH: f, fW: f, outH: oh, outW: ow, outC: outC,
			strideH: stride, strideW: stride, dilH: dil, dilW: dil,
			padT: graph.ConvPadding(pad, inH, f, stride, dil, oh), padL: graph.ConvPadding(pad, inW, f, stride, dil, ow),
			inD: graph.Float32, outD: graph.Float32}
	}
	int8Geom := func(g *convGeom) *convGeom {
		g.inD, g.outD = graph.Int8, graph.Int8
		return g
	}
	for _, c := range []struct {
		name           string
		g              *convGeom
		want           bool
		wp, hp         int
		direct         bool
		seg, segStride int
	}{
		{"seed-cnn conv0", geom(80, 80, 3, 3, 1, 1, graph.PaddingSame, 16), true, 82, 82, false, 9, 82 * 3},
		{"seed-cnn conv3 int8", int8Geom(geom(10, 10, 64, 3, 1, 1, graph.PaddingSame, 128)), true, 12, 12, false, 192, 12 * 64},
		// Float: the fused row-mapped product makes 20% dropped pixels
		// at Cout 128 cheaper than im2col, 29% at Cout 512 not.
		{"seed-cnn conv3 float", geom(10, 10, 64, 3, 1, 1, graph.PaddingSame, 128), true, 12, 12, false, 192, 12 * 64},
		{"float 7x7 Cout 512", geom(7, 7, 64, 3, 1, 1, graph.PaddingSame, 512), false, 0, 0, false, 0, 0},
		{"VALID reads the input in place", geom(9, 7, 5, 3, 1, 1, graph.PaddingValid, 4), true, 7, 9, true, 15, 35},
		// Float stride 2: whole-row blocks over the padded image (11×11
		// holds 5×5 SAME windows), a 5×9 input of a 1×1 in place; int8
		// stride 2 keeps im2col.
		{"float stride 2", geom(9, 9, 5, 3, 2, 1, graph.PaddingSame, 4), true, 11, 11, false, 15, 55},
		{"float 1x1 stride 2", geom(9, 9, 5, 1, 2, 1, graph.PaddingSame, 4), true, 9, 9, true, 5, 45},
		{"int8 stride 2", int8Geom(geom(9, 9, 5, 3, 2, 1, graph.PaddingSame, 4)), false, 0, 0, false, 0, 0},
		{"column dilation", geom(9, 9, 5, 3, 1, 2, graph.PaddingSame, 4), false, 0, 0, false, 0, 0},
		{"pointwise", geom(9, 9, 5, 1, 1, 1, graph.PaddingSame, 4), false, 0, 0, false, 0, 0},
		{"padding wastes too much", geom(3, 3, 5, 5, 1, 1, graph.PaddingSame, 4), false, 0, 0, false, 0, 0},
	} {
		p := newSegPlan(c.g, pathAuto)
		if (p != nil) != c.want {
			t.Errorf("%s: segmented = %v, want %v", c.name, p != nil, c.want)
			continue
		}
		if p == nil {
			continue
		}
		if p.wp != c.wp || p.hp != c.hp || p.direct != c.direct || p.seg != c.seg || p.segStride != c.segStride {
			t.Errorf("%s: plan %+v, want wp %d hp %d direct %v seg %d segStride %d", c.name, *p, c.wp, c.hp, c.direct, c.seg, c.segStride)
		}
	}
	// Forcing: pathSegmented takes the wasteful case, pathIm2col nothing.
	small := geom(3, 3, 5, 5, 1, 1, graph.PaddingSame, 4)
	if p := newSegPlan(small, pathSegmented); p == nil || p.wp != 7 || p.hp != 7 {
		t.Errorf("forced 5×5 on 3×3: plan %+v", p)
	}
	if p := newSegPlan(geom(80, 80, 3, 3, 1, 1, graph.PaddingSame, 16), pathIm2col); p != nil {
		t.Errorf("pathIm2col: plan %+v", p)
	}
	// Float strided plans step strideW·inC per pixel and strideH·pitch/
	// strideW A rows per output row.
	if p := newSegPlan(geom(9, 9, 5, 3, 2, 1, graph.PaddingSame, 4), pathAuto); p == nil || p.perRow || p.lda != 10 || p.vpitch != 11 || p.pitch != 11 {
		t.Errorf("float stride 2: plan %+v", p)
	}
	// Forced int8 strided plans run per output row over the padded image.
	if p := newSegPlan(int8Geom(geom(9, 9, 5, 3, 2, 1, graph.PaddingSame, 4)), pathSegmented); p == nil || !p.perRow || p.wp != 11 || p.hp != 11 || p.pitch != 11 || p.wideLen(nil) != 0 {
		t.Errorf("forced int8 stride 2: plan %+v", p)
	}
	// Float strides whose output rows are not a whole number of A rows
	// apart: per row when forced, im2col otherwise.
	g21 := geom(9, 9, 5, 3, 1, 1, graph.PaddingSame, 4)
	g21.strideW, g21.outW = 2, 5
	g21.padL = graph.ConvPadding(graph.PaddingSame, 9, 3, 2, 1, 5)
	if p := newSegPlan(g21, pathSegmented); p == nil || !p.perRow {
		t.Errorf("forced float stride 1×2: plan %+v", p)
	}
	if p := newSegPlan(g21, pathAuto); p != nil {
		t.Errorf("float stride 1×2: plan %+v", p)
	}
	// A 1×k window with row dilation only is still contiguous per row.
	g := &convGeom{inH: 9, inW: 9, inC: 2, fH: 3, fW: 1, outH: 9, outW: 9, outC: 3, strideH: 1, strideW: 1, dilH: 2, dilW: 3, padT: 2}
	if p := newSegPlan(g, pathAuto); p == nil || p.hp != 13 || p.wp != 9 || p.segStride != 2*9*2 {
		t.Errorf("3×1 row-dilated window: plan %+v", p)
	}
}

// TestFillPadded checks the padded copy against a tap-by-tap one,
// including a declared output smaller than the inferred one (input
// columns past the padded width are dropped).
func TestFillPadded(t *testing.T) {
	// A 5×6 input under a declared 3×3 output of a 3×3 window at
	// padding (1, 1): the padded image is 5×5, so input rows ≥ 4 and
	// columns ≥ 4 are never read.
	g := &convGeom{inH: 5, inW: 6, inC: 2, fH: 3, fW: 3, outH: 3, outW: 3, outC: 1, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padT: 1, padL: 1}
	p := newSegPlan(g, pathSegmented)
	if p == nil {
		t.Fatal("no plan")
	}
	s := newSegScratch(p, g, int8(-9))
	img := make([]int8, 5*6*2)
	for i := range img {
		img[i] = int8(i + 1)
	}
	if p.hp != 5 || p.wp != 5 {
		t.Fatalf("padded %d×%d, want 5×5", p.hp, p.wp)
	}
	fillPadded(s.padded, img, p, g)
	for py := 0; py < p.hp; py++ {
		for px := 0; px < p.wp; px++ {
			for c := 0; c < 2; c++ {
				want := int8(-9)
				if iy, ix := py-1, px-1; iy >= 0 && iy < 5 && ix >= 0 && ix < 6 {
					want = img[(iy*6+ix)*2+c]
				}
				if got := s.padded[(py*p.wp+px)*2+c]; got != want {
					t.Fatalf("padded (%d,%d,%d) = %d, want %d", py, px, c, got, want)
				}
			}
		}
	}
}

// TestConv2DSegmentedAllocFree checks that steady-state segmented Runs
// allocate nothing (pooled scratch, single-thread gemm calls).
func TestConv2DSegmentedAllocFree(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, Activation: graph.ActRelu}}
	for _, d := range []graph.DType{graph.Float32, graph.Int8} {
		var in, w, out *graph.Tensor
		if d == graph.Float32 {
			in = &graph.Tensor{Name: "in", DType: d, Shape: []int{1, 12, 12, 8}}
			w = constF32("w", []int{16, 3, 3, 8}, make([]float32, 16*72))
			out = &graph.Tensor{Name: "out", DType: d, Shape: []int{1, 12, 12, 16}}
		} else {
			in = qt("in", d, []int{1, 12, 12, 8}, []float32{0.1}, []int64{-5})
			w = constI8("w", d, []int{16, 3, 3, 8}, make([]int8, 16*72), []float32{0.01})
			out = qt("out", d, []int{1, 12, 12, 16}, []float32{0.5}, []int64{2})
		}
		k, err := prepareConv2D(op, []*graph.Tensor{in, w}, []*graph.Tensor{out})
		if err != nil {
			t.Fatal(err)
		}
		ins, outs := []*Buffer{refBuffer(d, in.Shape, nil)}, []*Buffer{refBuffer(d, []int{2, 12, 12, 16}, nil)}
		ins[0] = refBuffer(d, []int{2, 12, 12, 8}, nil) // batch 2 on a batch-1 kernel
		if a := testing.AllocsPerRun(10, func() { _ = k.Run(ins, outs) }); a > 0 {
			t.Errorf("%s: segmented Run allocates %v times per call", d, a)
		}
	}
}

// TestConv2DSegmentedDeclaredShape runs convs whose declared output shape
// differs from the inferred one (TFLite Micro iterates the declared one
// with the inferred padding) through both paths: they must agree.
func TestConv2DSegmentedDeclaredShape(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct {
		inH, inW, outH, outW int
		pad                  graph.Padding
	}{
		{7, 7, 5, 6, graph.PaddingSame},
		{7, 7, 8, 9, graph.PaddingSame},
		{7, 8, 4, 4, graph.PaddingValid},
		{7, 8, 6, 7, graph.PaddingValid},
	} {
		ws := randI8(r, 5*3*3*4, 255)
		xs := randI8(r, c.inH*c.inW*4, 256)
		in := qt("in", graph.Int8, []int{1, c.inH, c.inW, 4}, []float32{0.1}, []int64{7})
		out := qt("out", graph.Int8, []int{1, c.outH, c.outW, 5}, []float32{0.3}, []int64{-4})
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideW: 1, StrideH: 1}}
		ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{5, 3, 3, 4}, ws, []float32{0.02})}
		var res [2][]int8
		for i, path := range []convPath{pathSegmented, pathIm2col} {
			k, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, fixedpoint.SingleRounding, path)
			if err != nil {
				t.Fatal(err)
			}
			if (k.(*convInt8).seg != nil) != (path == pathSegmented) {
				t.Fatalf("%+v: path %d not taken", c, path)
			}
			res[i] = make([]int8, c.outH*c.outW*5)
			if err := k.Run([]*Buffer{{DType: graph.Int8, I8: xs}}, []*Buffer{{DType: graph.Int8, I8: res[i]}}); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(res[0], res[1]) {
			t.Errorf("%+v: segmented and im2col paths differ", c)
		}
	}
}
