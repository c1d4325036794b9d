package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// convPoolCase is a random 8-bit CONV_2D → 2×2 MAX_POOL_2D pair: the conv
// op and its tensors (mid: the conv output), and the pool op writing out.
type convPoolCase struct {
	name         string
	conv, pool   *graph.Op
	in, w, b     *graph.Tensor
	mid, out     *graph.Tensor
	batch        int
	rnd          fixedpoint.Rounding
	convAct      graph.Activation
	poolAct      graph.Activation
	mapped       bool
	f, s, ci, co int
}

// randConvPool draws a pair: int8 (uint8 one time in five), a 3×3 or 1×1
// filter, SAME or VALID, stride 1 (2 now and then), sizes giving an even
// conv output, odd and vector-width channel counts, a fused activation on
// the conv, on the pool, or a rescaling RELU map on the pool
// (MaxPoolMapOptions), batch 1 or 5.
func randConvPool(rng *rand.Rand, i int) convPoolCase {
	d := graph.Int8
	if i%5 == 4 {
		d = graph.UInt8
	}
	c := convPoolCase{rnd: roundings[i%len(roundings)], batch: []int{1, 5}[i/3%2]}
	c.f = []int{3, 1}[i%2]
	c.s = 1
	if i%7 == 6 {
		c.s = 2
	}
	pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[i/2%2]
	// Conv output 2..16 rows and columns, even.
	oh, ow := 2*(1+rng.IntN(8)), 2*(1+rng.IntN(8))
	h, w := oh*c.s, ow*c.s
	if pad == graph.PaddingValid {
		h, w = (oh-1)*c.s+c.f, (ow-1)*c.s+c.f
	}
	c.ci, c.co = 1+rng.IntN(20), 1+rng.IntN(40)
	if i%4 == 1 {
		c.ci, c.co = []int{3, 8, 16}[rng.IntN(3)], []int{16, 32, 64}[rng.IntN(3)]
	}
	if i%13 == 0 {
		oh, ow, h, w, c.ci, c.co, c.s, c.f, pad = 20, 20, 20, 20, 8, 16, 1, 3, graph.PaddingSame
	}
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}
	c.convAct = acts[rng.IntN(3)]
	k := c.f * c.f * c.ci
	sIn := float32(0.005 + 0.05*rng.Float64())
	zIn := randZP(rng, d)
	sW := make([]float32, c.co)
	for j := range sW {
		sW[j] = float32(0.002 + 0.02*rng.Float64())
	}
	if d == graph.UInt8 {
		sW = sW[:1]
	}
	// Accumulators of about sqrt(k)·5400 spread to outputs of about ±50.
	sOut := float32(float64(sIn) * float64(sW[0]) * math.Sqrt(float64(k)) * 5400 / 50 * (0.5 + 1.5*rng.Float64()))
	zMid := randZP(rng, d)
	c.in = qtensor("in", d, []int{c.batch, h, w, c.ci}, sIn, zIn)
	wv := make([]byte, c.co*c.f*c.f*c.ci)
	for j := range wv {
		wv[j] = byte(rng.IntN(256))
		if d == graph.Int8 && wv[j] == 0x80 {
			wv[j] = 0x81 // TFLite int8 filters are symmetric: −127..127
		}
	}
	wzp := make([]int64, len(sW))
	if d == graph.UInt8 {
		wzp[0] = randZP(rng, d)
	}
	c.w = &graph.Tensor{Name: "filter", DType: d, Shape: []int{c.co, c.f, c.f, c.ci}, Data: wv,
		Quant: &graph.Quantization{Scale: sW, ZeroPoint: wzp}}
	bv := make([]int32, c.co)
	bs := make([]float32, len(sW))
	for j := range bv {
		bv[j] = int32(rng.IntN(40001) - 20000)
	}
	for j := range bs {
		bs[j] = sIn * sW[j]
	}
	c.b = constI32("bias", bv, bs)
	c.mid = qtensor("conv_out", d, []int{c.batch, oh, ow, c.co}, sOut, zMid)
	c.conv = &graph.Op{Kind: graph.OpConv2D, Inputs: []int{0, 1, 2}, Outputs: []int{3},
		Options: &graph.Conv2DOptions{Padding: pad, StrideH: c.s, StrideW: c.s, DilationH: 1, DilationW: 1, Activation: c.convAct}}
	po := graph.Pool2DOptions{Padding: graph.PaddingValid, FilterH: 2, FilterW: 2, StrideH: 2, StrideW: 2}
	outShape := []int{c.batch, oh / 2, ow / 2, c.co}
	switch rng.IntN(3) {
	case 0: // plain pool
		c.out = qtensor("pool_out", d, outShape, sOut, zMid)
		c.pool = &graph.Op{Kind: graph.OpMaxPool2D, Options: &po}
	case 1: // pool with a fused activation (fuseActivations' clamp-only RELU)
		po.Activation = acts[1+rng.IntN(2)]
		c.poolAct = po.Activation
		c.out = qtensor("pool_out", d, outShape, sOut, zMid)
		c.pool = &graph.Op{Kind: graph.OpMaxPool2D, Options: &po}
	default: // pool and a RELU that rescales (seed-cnn)
		c.mapped = true
		pm := qtensor("pool_mid", d, outShape, sOut, zMid)
		lo, _ := DTypeRange(d)
		c.out = qtensor("relu_out", d, outShape, sOut*(0.3+0.5*rng.Float32()), int64(lo))
		c.pool = &graph.Op{Kind: graph.OpMaxPool2D, Options: &MaxPoolMapOptions{Pool: po, Map: &graph.Op{Kind: graph.OpRelu}, Mid: pm}}
	}
	c.name = fmt.Sprintf("case %d: %s %d×%d s%d %s %dx%dx%d→%d act %s pool act %s map %v batch %d %s",
		i, d, c.f, c.f, c.s, pad, h, w, c.ci, c.co, c.convAct, c.poolAct, c.mapped, c.batch, c.rnd)
	return c
}

func (c *convPoolCase) fusedOp() *graph.Op {
	return &graph.Op{Kind: graph.OpConv2D, Inputs: []int{0, 1, 2}, Outputs: []int{4},
		Options: &ConvPoolOptions{Conv: *c.conv.Options.(*graph.Conv2DOptions), Pool: c.pool, Mid: c.mid}}
}

func (c *convPoolCase) ins() []*graph.Tensor { return []*graph.Tensor{c.in, c.w, c.b} }

// pair runs the conv and the pool op by op on x.
func (c *convPoolCase) pair(t *testing.T, x *Buffer) *Buffer {
	t.Helper()
	o := Options{Rounding: c.rnd}
	ck, err := PrepareWith(c.conv, c.ins(), []*graph.Tensor{c.mid}, o)
	if err != nil {
		t.Fatalf("%s: conv: %v", c.name, err)
	}
	pk, err := PrepareWith(c.pool, []*graph.Tensor{c.mid}, []*graph.Tensor{c.out}, o)
	if err != nil {
		t.Fatalf("%s: pool: %v", c.name, err)
	}
	m, y := allocBuf(c.mid), allocBuf(c.out)
	if err := ck.Run([]*Buffer{x}, []*Buffer{m}); err != nil {
		t.Fatalf("%s: conv: %v", c.name, err)
	}
	if err := pk.Run([]*Buffer{m}, []*Buffer{y}); err != nil {
		t.Fatalf("%s: pool: %v", c.name, err)
	}
	return y
}

// hideNative hides a conv kernel's setPool2x2, if any, so newConvPool
// takes the generic path.
type hideNative struct{ Kernel }

// poolingConv is a test conv kernel with the native path's contract: after
// setPool2x2 (which returns native) its Run writes, for every pooled pixel
// and channel, the max over the 2×2 window of the conv's outputs — here
// the plain conv into a buffer of its own, then a plain max pool with no
// clamp.
type poolingConv struct {
	conv, pool Kernel
	mid        *graph.Tensor
	perIn      int
	native     bool
	set        bool
}

func (p *poolingConv) setPool2x2() bool { p.set = true; return p.native }

func (p *poolingConv) Run(ins, outs []*Buffer) error {
	if !p.set || !p.native {
		return p.conv.Run(ins, outs)
	}
	per := p.mid.Shape[1] * p.mid.Shape[2] * p.mid.Shape[3]
	n := typedLen(ins[0], ins[0].DType) / p.perIn
	m := &Buffer{DType: p.mid.DType}
	if m.DType == graph.Int8 {
		m.I8 = make([]int8, n*per)
	} else {
		m.U8 = make([]uint8, n*per)
	}
	if err := p.conv.Run(ins, []*Buffer{m}); err != nil {
		return err
	}
	return p.pool.Run([]*Buffer{m}, outs)
}

// genericConvPools builds c's fused op on the generic path twice: with
// its own conv-output scratch (own) and with the conv output in a block
// of a program's Scratch, which the conv itself draws from too (shared).
// It also returns the non-native pooling conv and pool kernel they use.
func (c *convPoolCase) genericConvPools(t *testing.T) (gc *poolingConv, gpk Kernel, own, shared *convPool) {
	t.Helper()
	gc, gpk = c.poolingConv(t, false)
	own, err := newConvPool(c.fusedOp(), hideNative{gc.conv}, gpk, c.in, c.mid, c.out)
	if err != nil {
		t.Fatal(err)
	}
	sc := NewScratch()
	sk, err := PrepareWith(c.conv, c.ins(), []*graph.Tensor{c.mid}, Options{Rounding: c.rnd, Scratch: sc})
	if err != nil {
		t.Fatal(err)
	}
	if shared, err = newConvPool(c.fusedOp(), hideNative{sk}, gpk, c.in, c.mid, c.out); err != nil {
		t.Fatal(err)
	}
	shared.shared = sc
	return gc, gpk, own, shared
}

// poolingConv prepares the conv and pool of c and a poolingConv over
// them (native or not).
func (c *convPoolCase) poolingConv(t *testing.T, native bool) (*poolingConv, Kernel) {
	t.Helper()
	o := Options{Rounding: c.rnd}
	ck, err := PrepareWith(c.conv, c.ins(), []*graph.Tensor{c.mid}, o)
	if err != nil {
		t.Fatal(err)
	}
	plain := &graph.Op{Kind: graph.OpMaxPool2D, Options: &graph.Pool2DOptions{Padding: graph.PaddingValid, FilterH: 2, FilterW: 2, StrideH: 2, StrideW: 2}}
	pooled := &graph.Tensor{Name: "pooled", DType: c.mid.DType, Shape: c.out.Shape, Quant: c.mid.Quant}
	mk, err := PrepareWith(plain, []*graph.Tensor{c.mid}, []*graph.Tensor{pooled}, o)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := PrepareWith(c.pool, []*graph.Tensor{c.mid}, []*graph.Tensor{c.out}, o)
	if err != nil {
		t.Fatal(err)
	}
	return &poolingConv{conv: ck, pool: mk, mid: c.mid, perIn: c.in.NumElements() / c.batch, native: native}, pk
}

func sameInts(t *testing.T, what string, got, want *Buffer) {
	t.Helper()
	if bufLen(got) != bufLen(want) {
		t.Fatalf("%s: %d elements, want %d", what, bufLen(got), bufLen(want))
	}
	for i := range bufLen(want) {
		if g, w := getInt(got, i), getInt(want, i); g != w {
			t.Fatalf("%s: element %d: fused %d, pair %d", what, i, g, w)
		}
	}
}

// TestConvPoolMatchesPair: the fused conv and pool — prepared through
// PrepareWith, forced onto the generic path, and on the native path with
// the test conv kernel that pools its own output — is bit for bit the
// pair run op by op, on random pairs (see randConvPool), every rounding,
// twice per kernel (the second Run reuses the scratch).
func TestConvPoolMatchesPair(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	n, clamped, mapped, varied := 0, 0, 0, 0
	for i := range 120 {
		c := randConvPool(rng, i)
		fk, err := PrepareWith(c.fusedOp(), c.ins(), []*graph.Tensor{c.out}, Options{Rounding: c.rnd})
		if err != nil {
			t.Fatalf("%s: fused: %v", c.name, err)
		}
		pc, pk := c.poolingConv(t, true)
		native, err := newConvPool(c.fusedOp(), pc, pk, c.in, c.mid, c.out)
		if err != nil {
			t.Fatal(err)
		}
		if !native.native || !pc.set {
			t.Fatalf("%s: the pooling conv kernel did not take the native path", c.name)
		}
		gc, gpk, generic, shared := c.genericConvPools(t)
		declined, err := newConvPool(c.fusedOp(), gc, gpk, c.in, c.mid, c.out)
		if err != nil {
			t.Fatal(err)
		}
		if generic.native || declined.native {
			t.Fatalf("%s: generic kernel on the native path", c.name)
		}
		for range 2 {
			x := allocBuf(c.in)
			fillInts(rng, x)
			want := c.pair(t, x)
			seen := map[int32]bool{}
			for j := range bufLen(want) {
				seen[getInt(want, j)] = true
			}
			if len(seen) >= 8 || len(seen) == bufLen(want) {
				varied++
			}
			for _, k := range []struct {
				what string
				k    Kernel
			}{{"prepared", fk}, {"native", native}, {"generic", generic}, {"declined native", declined}, {"shared scratch", shared}} {
				got := allocBuf(c.out)
				if err := k.k.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
					t.Fatalf("%s: %s: %v", c.name, k.what, err)
				}
				sameInts(t, c.name+": "+k.what, got, want)
			}
		}
		n++
		if native.clamp {
			clamped++
		}
		if native.lut != nil {
			mapped++
		}
	}
	if clamped < 10 || mapped < 20 || varied < 2*n*8/10 {
		t.Errorf("%d cases: only %d clamp and %d map on the native path, %d of %d runs with varied outputs", n, clamped, mapped, varied, 2*n)
	}
	t.Logf("%d cases, %d clamped, %d mapped, %d of %d runs with varied outputs", n, clamped, mapped, varied, 2*n)
}

// TestConvPoolNativeClamp: the native path's clamp is the pool's
// (poolIntRef: in int32, then converted, so a range reaching outside int8
// wraps the same way), over every int8 value.
func TestConvPoolNativeClamp(t *testing.T) {
	for _, lohi := range [][2]int32{{-128, 127}, {-5, 127}, {0, 6}, {-128, -100}, {127, 127}, {-200, 300}, {130, 140}} {
		k := &convPool{dt: graph.Int8, lo: lohi[0], hi: lohi[1]}
		qmin, qmax := DTypeRange(graph.Int8)
		k.clamp = k.lo != qmin || k.hi != qmax
		v := make([]int8, 256)
		for i := range v {
			v[i] = int8(i - 128)
		}
		clampMap(k, v)
		for i, got := range v {
			if want := int8(min(max(int32(i-128), lohi[0]), lohi[1])); got != want {
				t.Fatalf("range %v: %d → %d, want %d", lohi, i-128, got, want)
			}
		}
	}
}

// TestConvPoolFits: what the rewrite may fuse, and why not.
func TestConvPoolFits(t *testing.T) {
	conv := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1}}
	po := func(f, s int, pad graph.Padding) *graph.Op {
		return &graph.Op{Kind: graph.OpMaxPool2D, Options: &graph.Pool2DOptions{Padding: pad, FilterH: f, FilterW: f, StrideH: s, StrideW: s}}
	}
	pool := po(2, 2, graph.PaddingValid)
	in := qtensor("x", graph.Int8, []int{1, 8, 8, 3}, 0.1, 0)
	w := qtensor("w", graph.Int8, []int{4, 3, 3, 3}, 0.1, 0)
	mid := qtensor("c", graph.Int8, []int{1, 8, 8, 4}, 0.1, 0)
	out := qtensor("p", graph.Int8, []int{1, 4, 4, 4}, 0.1, 0)
	with := func(t *graph.Tensor, d graph.DType, shape []int) *graph.Tensor {
		c := *t
		if d != graph.Unknown {
			c.DType = d
		}
		if shape != nil {
			c.Shape = shape
		}
		return &c
	}
	u := graph.Unknown
	mapped := &graph.Op{Kind: graph.OpMaxPool2D, Options: &MaxPoolMapOptions{Pool: *pool.Options.(*graph.Pool2DOptions), Map: &graph.Op{Kind: graph.OpRelu}, Mid: out}}
	for _, c := range []struct {
		name        string
		conv, pool  *graph.Op
		in, w, m, o *graph.Tensor
		want        string // "" fits, else part of the error
	}{
		{"int8", conv, pool, in, w, mid, out, ""},
		{"mapped pool", conv, mapped, in, w, mid, out, ""},
		{"uint8", conv, pool, with(in, graph.UInt8, nil), with(w, graph.UInt8, nil), with(mid, graph.UInt8, nil), with(out, graph.UInt8, nil), ""},
		{"float", conv, pool, with(in, graph.Float32, nil), with(w, graph.Float32, nil), with(mid, graph.Float32, nil), with(out, graph.Float32, nil), "want int8 or uint8"},
		{"int16", conv, pool, with(in, graph.Int16, nil), w, with(mid, graph.Int16, nil), with(out, graph.Int16, nil), "want int8 or uint8"},
		{"int4 filter", conv, pool, in, with(w, graph.Int4, nil), mid, out, "want one dtype"},
		{"int16 out", conv, pool, in, w, mid, with(out, graph.Int16, nil), "want one dtype"},
		{"depthwise", &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{}}, pool, in, w, mid, out, "not CONV_2D"},
		{"conv options", &graph.Op{Kind: graph.OpConv2D}, pool, in, w, mid, out, "not *graph.Conv2DOptions"},
		{"avg pool", conv, &graph.Op{Kind: graph.OpAveragePool2D, Options: pool.Options}, in, w, mid, out, "not MAX_POOL_2D"},
		{"pool options", conv, &graph.Op{Kind: graph.OpMaxPool2D}, in, w, mid, out, "pool options"},
		{"3×3 pool", conv, po(3, 2, graph.PaddingValid), in, w, mid, out, "want 2×2 stride 2×2 VALID"},
		{"stride 1 pool", conv, po(2, 1, graph.PaddingValid), in, w, mid, with(out, u, []int{1, 7, 7, 4}), "want 2×2 stride 2×2 VALID"},
		{"SAME pool", conv, po(2, 2, graph.PaddingSame), in, w, mid, out, "want 2×2 stride 2×2 VALID"},
		{"odd H", conv, pool, in, w, with(mid, u, []int{1, 7, 8, 4}), with(out, u, []int{1, 3, 4, 4}), "even H and W"},
		{"odd W", conv, pool, in, w, with(mid, u, []int{1, 8, 9, 4}), out, "even H and W"},
		{"3-D", conv, pool, in, w, with(mid, u, []int{8, 8, 4}), out, "4-D"},
		{"pooled shape", conv, pool, in, w, mid, with(out, u, []int{1, 4, 4, 5}), "not conv output"},
		{"nil", conv, pool, in, nil, mid, out, "missing"},
	} {
		err := ConvPoolFits(c.conv, c.in, c.w, c.m, c.pool, c.o)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want nil", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// TestConvPoolBadBuffers: buffers of the wrong size or dtype, or missing,
// give errors naming the op and the tensor, on both paths; never a panic.
func TestConvPoolBadBuffers(t *testing.T) {
	rng := rand.New(rand.NewPCG(83, 84))
	c := randConvPool(rng, 0)
	pc, pk := c.poolingConv(t, true)
	native, err := newConvPool(c.fusedOp(), pc, pk, c.in, c.mid, c.out)
	if err != nil {
		t.Fatal(err)
	}
	fk, err := PrepareWith(c.fusedOp(), c.ins(), []*graph.Tensor{c.out}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, y := allocBuf(c.in), allocBuf(c.out)
	short := &Buffer{DType: c.out.DType, I8: y.I8[:len(y.I8)-1], U8: y.U8}
	odd := &Buffer{DType: c.in.DType, I8: x.I8[:len(x.I8)-1], U8: x.U8}
	f32 := &Buffer{DType: graph.Float32, F32: make([]float32, len(x.I8))}
	outName := fmt.Sprintf("output %q", c.out.Name)
	for _, k := range []Kernel{fk, native} {
		for _, b := range []struct {
			ins, outs []*Buffer
			want      string
		}{
			{nil, []*Buffer{y}, `input "in"`},
			{[]*Buffer{nil}, []*Buffer{y}, `input "in"`},
			{[]*Buffer{x}, nil, outName},
			{[]*Buffer{x}, []*Buffer{short}, outName},
			{[]*Buffer{odd}, []*Buffer{y}, `input "in"`},
			{[]*Buffer{f32}, []*Buffer{y}, `input "in" buffer is float32`},
			{[]*Buffer{x}, []*Buffer{{DType: graph.Float32, F32: make([]float32, len(y.I8))}}, outName + " buffer is float32"},
		} {
			err := k.Run(b.ins, b.outs)
			if err == nil || !strings.Contains(err.Error(), "CONV_2D") || !strings.Contains(err.Error(), b.want) {
				t.Errorf("%T: %v, want an error naming CONV_2D and %s", k, err, b.want)
			}
		}
	}
	if c.in.DType != graph.Int8 {
		t.Fatalf("case 0 changed: %s", c.name)
	}
}

// TestConvPoolPrepareErrors: a fused op whose conv output is odd, whose
// options miss the pool or the intermediate, or whose output is not the
// pooled shape fails to prepare with an error.
func TestConvPoolPrepareErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(85, 86))
	c := randConvPool(rng, 0)
	ins := c.ins()
	for name, mut := range map[string]func(o *ConvPoolOptions) []*graph.Tensor{
		"no pool": func(o *ConvPoolOptions) []*graph.Tensor { o.Pool = nil; return []*graph.Tensor{c.out} },
		"no mid":  func(o *ConvPoolOptions) []*graph.Tensor { o.Mid = nil; return []*graph.Tensor{c.out} },
		"output shape": func(o *ConvPoolOptions) []*graph.Tensor {
			bad := *c.out
			bad.Shape = []int{c.batch, 1, 1, c.co + 1}
			return []*graph.Tensor{&bad}
		},
		"stride": func(o *ConvPoolOptions) []*graph.Tensor { o.Conv.StrideH = 7; return []*graph.Tensor{c.out} },
	} {
		op := c.fusedOp()
		outs := mut(op.Options.(*ConvPoolOptions))
		if _, err := PrepareWith(op, ins, outs, Options{}); err == nil {
			t.Errorf("%s: prepared", name)
		}
	}
	var nilOpts *ConvPoolOptions
	if nilOpts.Conv2D() != nil || nilOpts.Pool2D() != nil {
		t.Error("nil options give options")
	}
}

// TestConvPoolRunAllocFree: after the first Run the generic path reuses
// its scratch, its own or the program's Scratch — no allocation per Run.
func TestConvPoolRunAllocFree(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	rng := rand.New(rand.NewPCG(87, 88))
	c := randConvPool(rng, 3) // batch 5
	_, _, k, ks := c.genericConvPools(t)
	x, y := allocBuf(c.in), allocBuf(c.out)
	ins, outs := []*Buffer{x}, []*Buffer{y}
	for _, k := range []*convPool{k, ks} {
		if err := k.Run(ins, outs); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(5, func() { _ = k.Run(ins, outs) }); n != 0 {
			t.Errorf("shared scratch %v: Run allocates %.0f times", k.shared != nil, n)
		}
	}
	if c.batch != 5 {
		t.Fatalf("case 3 is batch %d", c.batch)
	}
}

// TestConvPoolShapes: graph.InferShapes gives a fused op the pooled conv
// output shape.
func TestConvPoolShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(89, 90))
	for i := range 12 {
		c := randConvPool(rng, i)
		g := &graph.Graph{Tensors: []*graph.Tensor{c.in, c.w, c.b, c.mid, {Name: "y", DType: c.out.DType, Quant: c.out.Quant}}}
		g.Inputs = []int{0}
		g.Ops = []*graph.Op{c.fusedOp()}
		g.Outputs = []int{4}
		if err := graph.InferShapes(g, [][]int{c.in.Shape}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !sameShape(g.Tensors[4].Shape, c.out.Shape) {
			t.Errorf("%s: shape %v, want %v", c.name, g.Tensors[4].Shape, c.out.Shape)
		}
	}
}
