package kernels

import (
	"fmt"
	"sync"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

// CONV_2D: input NHWC, filter OHWI, optional bias [O], output NHWC.
//
// Float32 and int8 (int8/int4 weights) run as im2col + one GEMM per chunk
// of output pixels + a per-channel epilogue. The im2col matrix has one row
// per output pixel laid out (ky, kx, c), which is exactly a row of the OHWI
// filter, so the filter is gemm's B as stored; it is packed once at prepare
// time (gemm.PackF32 / gemm.PackS8) and every Run multiplies against the
// packed copy, so gemm's SIMD micro-kernels apply without touching this
// file. Stride-1 convs with undilated columns skip im2col altogether and
// read the (zero-point-)padded input in place through gemm's segmented
// products (conv_seg.go). 16x8 (int16 activations) runs pair-product
// tiles with TFLite's int32-or-int64 accumulator (conv16x8.go) beside a
// direct reference loop.

// im2colBudget bounds the elements of a chunk's im2col and accumulator
// blocks; a chunk always holds at least one output row so huge filters
// still run.
const im2colBudget = 1 << 18

// convGeom is the spatial geometry of a convolution or pooling window.
type convGeom struct {
	inH, inW, inC    int
	fH, fW           int
	outH, outW, outC int
	strideH, strideW int
	dilH, dilW       int
	padT, padL       int
	inD, outD        graph.DType // buffer dtypes Run expects
}

// k is the length of one im2col row: fH·fW·inC.
func (g *convGeom) k() int { return g.fH * g.fW * g.inC }

// pointwise reports whether the convolution is a 1×1, stride-1, unpadded
// one whose im2col matrix is the input itself.
func (g *convGeom) pointwise() bool {
	return g.fH == 1 && g.fW == 1 && g.strideH == 1 && g.strideW == 1 &&
		g.padT == 0 && g.padL == 0 && g.outH == g.inH && g.outW == g.inW
}

// newConvGeom derives the geometry from NHWC input/output shapes and the
// window. Padding is computed from TFLite's inferred output size while the
// given output shape is what gets iterated (TFLite Micro's behaviour when a
// model's declared output shape differs from inference).
func newConvGeom(op *graph.Op, in, out *graph.Tensor, fH, fW, strideH, strideW, dilH, dilW int, pad graph.Padding) (*convGeom, error) {
	if len(in.Shape) != 4 || len(out.Shape) != 4 {
		return nil, fmt.Errorf("%s: input %q shape %v and output %q shape %v must be 4-D (NHWC)", op.Kind, in.Name, in.Shape, out.Name, out.Shape)
	}
	if strideH < 1 || strideW < 1 {
		return nil, fmt.Errorf("%s: strides %d×%d must be positive", op.Kind, strideH, strideW)
	}
	if dilH == 0 {
		dilH = 1
	}
	if dilW == 0 {
		dilW = 1
	}
	if dilH < 1 || dilW < 1 {
		return nil, fmt.Errorf("%s: dilation %d×%d must be positive", op.Kind, dilH, dilW)
	}
	if fH < 1 || fW < 1 {
		return nil, fmt.Errorf("%s: window %d×%d must be positive", op.Kind, fH, fW)
	}
	for i := 1; i < 4; i++ {
		if in.Shape[i] < 1 || out.Shape[i] < 1 {
			return nil, fmt.Errorf("%s: input %q shape %v and output %q shape %v need positive H, W and C", op.Kind, in.Name, in.Shape, out.Name, out.Shape)
		}
	}
	if in.Shape[0] != out.Shape[0] {
		return nil, fmt.Errorf("%s: input %q batch %d differs from output %q batch %d", op.Kind, in.Name, in.Shape[0], out.Name, out.Shape[0])
	}
	g := &convGeom{
		inH: in.Shape[1], inW: in.Shape[2], inC: in.Shape[3],
		fH: fH, fW: fW,
		outH: out.Shape[1], outW: out.Shape[2], outC: out.Shape[3],
		strideH: strideH, strideW: strideW, dilH: dilH, dilW: dilW,
		inD: in.DType, outD: out.DType,
	}
	infH := graph.ConvOutputSize(pad, g.inH, fH, strideH, dilH)
	infW := graph.ConvOutputSize(pad, g.inW, fW, strideW, dilW)
	g.padT = graph.ConvPadding(pad, g.inH, fH, strideH, dilH, infH)
	g.padL = graph.ConvPadding(pad, g.inW, fW, strideW, dilW, infW)
	return g, nil
}

// prepareConv2D builds a CONV_2D kernel (PrepareFunc) with TFLite's
// reference arithmetic (fixedpoint.DoubleRounding).
func prepareConv2D(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return prepareConv2DRounding(op, ins, outs, fixedpoint.DoubleRounding)
}

// prepareConv2DRounding is the PrepareFunc body for the arithmetic rnd (see
// heavyPrepareWith).
func prepareConv2DRounding(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding) (Kernel, error) {
	return prepareConv2DWith(op, ins, outs, rnd, pathAuto)
}

// prepareConv2DWith is prepareConv2DRounding with the implementation
// chosen by path (tests and benchmarks compare them).
func prepareConv2DWith(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding, path convPath) (Kernel, error) {
	opts, ok := op.Options.(*graph.Conv2DOptions)
	if !ok || opts == nil {
		return nil, fmt.Errorf("%s: missing Conv2DOptions", op.Kind)
	}
	if len(ins) < 2 || ins[0] == nil || ins[1] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, fmt.Errorf("%s: needs input, filter and output tensors", op.Kind)
	}
	in, w, out := ins[0], ins[1], outs[0]
	var bias *graph.Tensor
	if len(ins) > 2 {
		bias = ins[2]
	}
	if len(w.Shape) != 4 {
		return nil, fmt.Errorf("%s: filter %q shape %v must be 4-D (OHWI)", op.Kind, w.Name, w.Shape)
	}
	g, err := newConvGeom(op, in, out, w.Shape[1], w.Shape[2], opts.StrideH, opts.StrideW, opts.DilationH, opts.DilationW, opts.Padding)
	if err != nil {
		return nil, err
	}
	if w.Shape[0] != g.outC {
		return nil, fmt.Errorf("%s: filter %q has %d output channels, output %q has %d", op.Kind, w.Name, w.Shape[0], out.Name, g.outC)
	}
	if w.Shape[3] != g.inC {
		// TFLite allows grouped convolution (filter depth dividing the
		// input depth); qbench's converters never emit it.
		return nil, unsupportedf(op, "filter %q depth %d differs from input %q depth %d (grouped convolution)", w.Name, w.Shape[3], in.Name, g.inC)
	}
	hybrid := in.DType == graph.Float32 && w.DType == graph.Int8
	if path == pathAuto && !hybrid && in.DType != graph.Int16 {
		// Hybrid convs are left alone: their input offset term sums the
		// weights of every tap. int16's direct loop skips padded taps
		// anyway.
		g, w = pruneTaps(g, w)
	}
	switch {
	case hybrid && out.DType == graph.Float32:
		return newConvHybrid(op, g, w, bias, opts.Activation)
	case in.DType == graph.Float32 && out.DType == graph.Float32:
		return newConvFloat(op, g, w, bias, opts.Activation, path)
	case in.DType == graph.Int8 && out.DType == graph.Int8:
		return newConvInt8(rnd, op, g, in, w, bias, out, opts.Activation, path)
	case in.DType == graph.Int16 && out.DType == graph.Int16:
		c, err := newConvInt16(rnd, op, g, in, w, bias, out, opts.Activation)
		if err != nil || path == pathReference {
			return c, err
		}
		return newConvInt16Fast(c, x16Best()), nil
	case in.DType == graph.UInt8 && out.DType == graph.UInt8:
		return newConvU8(rnd, op, g, in, w, bias, out, opts.Activation, path == pathReference)
	}
	return nil, unsupported(op, ins, outs, "no CONV_2D kernel for these dtypes")
}

// convFloat is a float32 CONV_2D.
type convFloat struct {
	op      *graph.Op
	g       *convGeom
	w       *gemm.PackedF32 // OHWI = [outC][k], packed once
	bias    []float32
	lo, hi  float32
	scratch *scratchPool
	// seg is the im2col-free layout (w then comes from
	// PackF32Segmented), nil for the im2col path.
	seg     *segPlan
	segPool *freeList // *segScratch[float32]
	// rows maps a block's pitch-wide rows to the output (whole-row
	// plans): the product stores valid pixels in place, drops the rest.
	rows *gemm.RowMap
	// wino is the Winograd form (conv_wino.go), nil when not used; the
	// direct path above then runs only the images it hands back, set up
	// by lazy (once, on the first such image) to save its memory.
	wino     *winoPlan
	lazy     func()
	lazyOnce *sync.Once
	shared   *Scratch // the program's Scratch, for a lazily made scratch
}

func newConvFloat(op *graph.Op, g *convGeom, w, bias *graph.Tensor, act graph.Activation, path convPath) (Kernel, error) {
	wv, err := constFloatWeights(op, w, g.outC*g.k())
	if err != nil {
		return nil, err
	}
	bv, err := floatBias(op, bias, g.outC)
	if err != nil {
		return nil, err
	}
	lo, hi, err := ActivationRangeFloat(act)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.Kind, err)
	}
	if bv == nil {
		bv = make([]float32, g.outC) // MulBiasClamp would allocate zeros per call
	}
	if firstF32Applies(g) && (path == pathFirstF32 || path == pathAuto && firstF32Worthwhile(g)) {
		return newConvFirstF32(op, g, wv, bv, lo, hi, firstF32Width(g.outC)), nil
	}
	k := &convFloat{op: op, g: g, bias: bv, lo: lo, hi: hi}
	if winoApplies(g) && (path == pathWinograd || path == pathAuto && winoWorthwhile(g)) {
		// The direct path only serves images with non-finite sums: its
		// packed weights and scratch are made on the first such image.
		k.wino = newWinoPlan(g, wv, bv, lo, hi)
		k.lazy, k.lazyOnce = func() { k.setupDirect(wv, bv, pathAuto) }, new(sync.Once)
		return k, nil
	}
	k.setupDirect(wv, bv, path)
	return k, nil
}

// setupDirect packs the weights wv and prepares the scratch of the direct
// (segmented or im2col) path chosen by path.
func (k *convFloat) setupDirect(wv, bv []float32, path convPath) {
	g := k.g
	k.seg = newSegPlan(g, path)
	if p := k.seg; p != nil {
		if !p.perRow {
			// Each call covers a block of p.rows pitch-wide rows, whose
			// outW-pixel runs the product tiles one by one.
			k.rows = segRowMap(p, g)
			k.w = gemm.PackF32SegmentedMap(k.rows, wv, g.outC, g.k(), g.k(), p.seg)
			k.bias = positiveZeros(bv)
			// No wide block: the row map stores straight into the output.
			k.segPool = &freeList{New: func() any { return &segScratch[float32]{padded: make([]float32, p.padLen(g))} }}
			return
		}
		k.w = gemm.PackF32Segmented(wv, g.outC, g.k(), g.k(), p.seg)
		k.segPool = &freeList{New: func() any { return newSegScratch[float32](p, g, 0) }}
		return
	}
	k.w = gemm.PackF32(wv, g.outC, g.k(), g.k())
	if !g.pointwise() {
		k.scratch = newScratchPool(chunkRows(g.outH*g.outW, g.k(), g.outC)*g.k(), 0, 0)
		k.scratch.share(k.shared)
	}
}

// Run implements Kernel.
func (c *convFloat) Run(ins, outs []*Buffer) error {
	g := c.g
	in, out, batch, err := convBuffers(c.op, g, ins, outs)
	if err != nil {
		return err
	}
	src, dst := in.F32, out.F32
	if c.wino != nil {
		inImg, outImg := g.inH*g.inW*g.inC, g.outH*g.outW*g.outC
		for b := 0; b < batch; b++ {
			s, d := src[b*inImg:(b+1)*inImg], dst[b*outImg:(b+1)*outImg]
			if !c.wino.run(s, d) {
				c.lazyOnce.Do(c.lazy)
				c.direct(1, s, d)
			}
		}
		return nil
	}
	c.direct(batch, src, dst)
	return nil
}

// direct is Run's convolution without Winograd.
func (c *convFloat) direct(batch int, src, dst []float32) {
	g := c.g
	m, n, k := batch*g.outH*g.outW, g.outC, g.k()
	// Bias and activation run on each output tile while it is in cache
	// (MulBiasClamp) rather than as a second pass over the output.
	if g.pointwise() {
		c.w.MulBiasClamp(1, m, src, k, c.bias, c.lo, c.hi, dst, n)
		return
	}
	if p := c.seg; p != nil {
		s := c.segPool.Get().(*segScratch[float32])
		defer c.segPool.Put(s)
		if c.rows != nil {
			c.segRows(batch, src, dst, s)
			return
		}
		segImages(p, g, batch, src, dst, s, func(m, lda int, a, out []float32) {
			c.w.MulSegmented(1, m, a, lda, p.segStride, c.bias, c.lo, c.hi, out, n)
		})
		return
	}
	s := c.scratch.get()
	defer c.scratch.put(s)
	chunk := len(s.f) / k
	for r0 := 0; r0 < m; r0 += chunk {
		rows := min(chunk, m-r0)
		im2col(s.f, src, g, r0, rows, 0)
		c.w.MulBiasClamp(1, rows, s.f, k, c.bias, c.lo, c.hi, dst[r0*n:(r0+rows)*n], n)
	}
}

// floatEpilogue adds the per-channel bias and applies the activation clamp
// to a row-major [rows][n] float output.
func floatEpilogue(dst []float32, n int, bias []float32, lo, hi float32) {
	for i := 0; i < len(dst); i += n {
		row := dst[i : i+n]
		for j := range row {
			v := row[j]
			if bias != nil {
				v += bias[j]
			}
			row[j] = min(max(v, lo), hi)
		}
	}
}

// convBuffers checks the run-time buffers of a conv-like op and returns the
// data input, the output and the batch size (taken from the input length,
// so a kernel prepared for batch 1 also runs larger batches).
func convBuffers(op *graph.Op, g *convGeom, ins, outs []*Buffer) (in, out *Buffer, batch int, err error) {
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, nil, 0, fmt.Errorf("%s: missing input or output buffer", op.Kind)
	}
	in, out = ins[0], outs[0]
	perIn := g.inH * g.inW * g.inC
	perOut := g.outH * g.outW * g.outC
	nIn, nOut := typedLen(in, g.inD), typedLen(out, g.outD)
	if perIn == 0 || nIn%perIn != 0 {
		return nil, nil, 0, fmt.Errorf("%s: input buffer of %d elements is not a whole number of %d×%d×%d images", op.Kind, nIn, g.inH, g.inW, g.inC)
	}
	batch = nIn / perIn
	if err := checkLen(op, "output", nOut, batch*perOut); err != nil {
		return nil, nil, 0, err
	}
	return in, out, batch, nil
}

// bufLen is the element count of the slice matching b's dtype.
func bufLen(b *Buffer) int { return typedLen(b, b.DType) }

// typedLen is the element count of b's slice for dtype d (what a kernel
// will index), so a buffer of the wrong dtype fails the length checks
// instead of panicking on a nil slice.
func typedLen(b *Buffer, d graph.DType) int {
	switch d {
	case graph.Float32:
		return len(b.F32)
	case graph.Int8, graph.Int4:
		return len(b.I8)
	case graph.UInt8:
		return len(b.U8)
	case graph.Int16:
		return len(b.I16)
	case graph.Int32:
		return len(b.I32)
	case graph.Int64:
		return len(b.I64)
	case graph.Bool:
		return len(b.Bool)
	}
	return 0
}

// convInt8 is an int8 CONV_2D with int8 or int4 weights, per-tensor or
// per-channel.
type convInt8 struct {
	op      *graph.Op
	g       *convGeom
	w       *gemm.PackedS8 // OHWI = [outC][k], packed once
	inZP    int32
	rq      *requant
	scratch *scratchPool
	// seg is the im2col-free layout (w then comes from
	// PackS8Segmented), nil for the im2col path.
	seg     *segPlan
	segPool *freeList // *segScratch[int8]
	// fused, when set, runs seg through the fused requantizing kernels
	// (conv_seg_s8.go) instead of segPool's path.
	fused *segS8Fused
	// wide, when set, runs seg through the wide fused kernels
	// (conv_seg_s8w.go: int16 pairs, CPUs without AVX-512).
	wide *segS8Wide
	// at, when set, runs the conv through the wide fused kernels with A
	// rows from a table (conv_at_s8w.go: strided and wasteful convs on
	// CPUs without AVX-512).
	at *atS8Wide
	// pww, when set, runs a pointwise conv through the wide fused
	// kernels (conv_pw.go); w then comes from PackS8SegmentedWide.
	pww *pwS8Wide
	// padCol, when set, runs the im2col path from a padded image
	// (conv_padcol.go).
	padCol *padCol
	// pw, when set, runs a pointwise conv through the fused kernels
	// (conv_pw.go); w then comes from PackS8Segmented.
	pw *pwS8
	// first, when set, runs the direct first-layer kernel
	// (conv_first_s8.go) instead of any of the above.
	first *firstS8
	// q8, when set, runs the AVX-VNNI first-layer kernels
	// (conv_first_q8.go) instead of any of the above.
	q8 *firstQ8
	// wino, when set, runs the exact integer Winograd form
	// (conv_wino_s8.go) instead of any of the above.
	wino *winoS8Plan
	// wino2, when set, runs the exact integer 2-D Winograd form
	// (conv_wino2_s8.go) instead of any of the above.
	wino2 *winoS8Plan2D
	// pooled: the conv writes its output 2×2 max-pooled (setPool2x2).
	pooled bool
	// poolW (the weights, OHWI) and batch keep what setPool2x2 needs to
	// build a 2-D Winograd plan or the pooled AVX-VNNI first-layer
	// kernels for a layer pathAuto runs another way, where the pooled
	// form could take it; nil otherwise.
	poolW []int8
	batch int
}

// convInt8Params checks an int8 conv's tensors and returns its input
// zero point, weights (OHWI) and requantization.
func convInt8Params(rnd fixedpoint.Rounding, op *graph.Op, g *convGeom, in, w, bias, out *graph.Tensor, act graph.Activation) (int32, []int8, *requant, error) {
	sIn, zpIn, err := tensorQuant(op, "input", in)
	if err != nil {
		return 0, nil, nil, err
	}
	if zpIn < -128 || zpIn > 127 {
		return 0, nil, nil, fmt.Errorf("%s: input %q zero point %d outside int8", op.Kind, in.Name, zpIn)
	}
	wv, err := constInt8Weights(op, w, g.outC*g.k())
	if err != nil {
		return 0, nil, nil, err
	}
	scales, _, err := weightScales(op, w, g.outC, false)
	if err != nil {
		return 0, nil, nil, err
	}
	bv, _, err := intBias(op, bias, g.outC)
	if err != nil {
		return 0, nil, nil, err
	}
	rq, err := newRequant(rnd, op, sIn, scales, out, act, bv, g.outC)
	if err != nil {
		return 0, nil, nil, err
	}
	return zpIn, wv, rq, nil
}

func newConvInt8(rnd fixedpoint.Rounding, op *graph.Op, g *convGeom, in, w, bias, out *graph.Tensor, act graph.Activation, path convPath) (Kernel, error) {
	zpIn, wv, rq, err := convInt8Params(rnd, op, g, in, w, bias, out, act)
	if err != nil {
		return nil, err
	}
	k := &convInt8{op: op, g: g, inZP: zpIn, rq: rq, batch: in.Shape[0]}
	if path == pathAuto && (wino2PoolCandidate(g, rq) || firstQ8PoolCandidate(g, rq)) {
		k.poolW = wv
	}
	if path == pathAuto || path == pathFirst {
		if k.first = newFirstS8(g, wv, zpIn, rq); k.first != nil {
			return k, nil
		}
	}
	if firstQ8Forced(path, g, rq) {
		k.q8 = buildFirstQ8(g, wv, zpIn, rq, false)
		return k, nil
	}
	if wino2S8Applies(g) && (path == pathWinograd2D || path == pathAuto && wino2S8Worthwhile(g, rq)) {
		// nil past the 2-D overflow bound: the 1-D plan's is 24× larger.
		if k.wino2 = newWinoS8Plan2D(g, wv, zpIn, rq, in.Shape[0]); k.wino2 != nil {
			return k, nil
		}
	}
	if winoS8Applies(g) && (path == pathWinograd || path == pathWinograd2D || path == pathAuto && winoS8Worthwhile(g, rq)) {
		if k.wino = newWinoS8Plan(g, wv, zpIn, rq); k.wino != nil {
			return k, nil
		}
	}
	// On the int16-pair family (AVX2 without AVX-512) the table path
	// reads every conv's windows in place with full tiles: strided ones,
	// and stride-1 ones without the padded rows' dropped pixels that the
	// constant-stride wide path computes (BenchmarkConvInt8Paths: 3×3
	// 32×32×16→16 29.8 → 28.1 cpu-µs per image, 8×8×64→64 34 → 29.5).
	if path == pathAuto && !g.pointwise() && rq.fast != nil {
		if k.at = newAtS8Wide(g, wv, rq.fast, zpIn); k.at != nil {
			k.w = k.at.w
			return k, nil
		}
	}
	// The segmented product has only the fused epilogue, so a Requant
	// gemm rejected keeps the im2col path with the plain-Go epilogue.
	if rq.fast != nil {
		k.seg = newSegPlan(g, path)
	}
	if p := k.seg; p != nil {
		if k.wide = newSegS8Wide(p, g, wv, rq.fast, zpIn); k.wide != nil {
			k.w = k.wide.w
			return k, nil
		}
	}
	if p := k.seg; p != nil {
		// Window rows that are not whole quads (3×3 RGB): conv_seg_s8t.go.
		if w, f := newSegS8Tail(p, g, wv, rq.fast, zpIn); f != nil {
			k.w, k.fused = w, f
			return k, nil
		}
		k.w = gemm.PackS8Segmented(wv, g.outC, g.k(), g.k(), p.seg)
		if k.fused = newSegS8Fused(p, g, k.w, rq.fast, zpIn); k.fused != nil {
			return k, nil
		}
		// Padded taps hold the input zero point: with aOffset = −zp they
		// contribute w·(zp − zp) = 0, as TFLite's skipped taps do.
		pad := int8(zpIn)
		k.segPool = &freeList{New: func() any { return newSegScratch(p, g, pad) }}
		return k, nil
	}
	if g.pointwise() && rq.fast != nil && path != pathReference && path != pathIm2col {
		if k.pww = newPwS8Wide(g, wv, rq.fast); k.pww != nil {
			k.w = k.pww.w
			return k, nil
		}
		w := gemm.PackS8Segmented(wv, g.outC, g.k(), g.k(), g.k())
		if k.pw = newPwS8(g, w, rq.fast); k.pw != nil {
			k.w = w
			return k, nil
		}
	}
	k.w = gemm.PackS8(wv, g.outC, g.k(), g.k())
	rows := chunkRows(g.outH*g.outW, g.k(), g.outC)
	i8Len := rows * g.k()
	if g.pointwise() {
		i8Len = 0
	}
	k.scratch = newScratchPool(0, i8Len, rows*g.outC)
	// pathIm2col keeps the general im2col (tests compare the two).
	if path != pathReference && path != pathIm2col {
		if k.padCol = newPadCol(g, int8(zpIn)); k.padCol != nil && rq.fast != nil {
			// The padded im2col's rows through the fused kernels, as a
			// pointwise conv's input rows (conv_pw.go).
			w := gemm.PackS8Segmented(wv, g.outC, g.k(), g.k(), g.k())
			if k.pw = newPwS8(g, w, rq.fast); k.pw != nil {
				k.w, k.scratch = w, nil
			}
		}
	}
	return k, nil
}

// Run implements Kernel.
func (c *convInt8) Run(ins, outs []*Buffer) error {
	if c.pooled {
		return c.runPooled(ins, outs)
	}
	g := c.g
	in, out, batch, err := convBuffers(c.op, g, ins, outs)
	if err != nil {
		return err
	}
	src, dst := in.I8, out.I8
	m, n, k := batch*g.outH*g.outW, g.outC, g.k()
	if c.first != nil {
		c.first.run(g, batch, src, dst, convFirstS8Tile)
		return nil
	}
	if c.q8 != nil {
		c.q8.run(g, batch, src, dst, convFirstQ8Tile)
		return nil
	}
	if c.wino2 != nil {
		c.wino2.run(batch, src, dst)
		return nil
	}
	if c.wino != nil {
		c.wino.run(batch, src, dst)
		return nil
	}
	if c.fused != nil {
		c.runSegS8Fused(batch, src, dst)
		return nil
	}
	if c.wide != nil {
		c.runSegS8Wide(batch, src, dst)
		return nil
	}
	if c.at != nil {
		c.runAtS8Wide(batch, src, dst)
		return nil
	}
	if c.pww != nil {
		c.runPwS8Wide(m, src, dst)
		return nil
	}
	if c.pw != nil && c.padCol != nil {
		c.runPadColFused(batch, src, dst)
		return nil
	}
	if c.pw != nil {
		c.runPwS8(m, src, dst)
		return nil
	}
	if g.pointwise() && c.rq.fast != nil {
		// One product over the batch's pixels: MulRequant tiles and
		// chunks them itself (per-image calls cost a partial row tile
		// and the call overhead per image).
		c.w.MulRequant(m, src, k, -c.inZP, c.rq.fast, dst, n)
		return nil
	}
	if p := c.seg; p != nil {
		s := c.segPool.Get().(*segScratch[int8])
		defer c.segPool.Put(s)
		segImages(p, g, batch, src, dst, s, func(m, lda int, a, out []int8) {
			c.w.MulRequantSegmented(1, m, a, lda, p.segStride, -c.inZP, c.rq.fast, out, n)
		})
		return nil
	}
	s := c.scratch.get()
	defer c.scratch.put(s)
	if c.padCol != nil {
		c.runPadCol(batch, src, dst, s)
		return nil
	}
	chunk := len(s.acc) / n
	for r0 := 0; r0 < m; r0 += chunk {
		rows := min(chunk, m-r0)
		if g.pointwise() {
			c.productOf(rows, src[r0*k:], s, dst[r0*n:(r0+rows)*n])
			continue
		}
		im2col(s.i8, src, g, r0, rows, int8(c.inZP))
		c.product(rows, s, dst[r0*n:(r0+rows)*n])
	}
	return nil
}

// product multiplies the rows of im2col matrix s.i8 by the weights into
// dst (rows × outC int8 outputs).
func (c *convInt8) product(rows int, s *convScratch, dst []int8) {
	c.productOf(rows, s.i8, s, dst)
}

// productOf is product with the A matrix a (k values per row).
func (c *convInt8) productOf(rows int, a []int8, s *convScratch, dst []int8) {
	n, k := c.g.outC, c.g.k()
	if c.rq.fast != nil {
		// The epilogue runs on each tile of accumulators while it is
		// in cache, instead of a second pass over s.acc.
		c.w.MulRequant(rows, a, k, -c.inZP, c.rq.fast, dst, n)
		return
	}
	c.w.Mul(rows, a, k, -c.inZP, s.acc, n)
	requantRows(dst, s.acc[:rows*n], n, c.rq)
}

// requantRows runs the int32 epilogue over a row-major [rows][n] block
// (one call of the vector loop for the whole block).
func requantRows(dst []int8, acc []int32, n int, rq *requant) {
	rq.rowsInt8(dst[:len(acc)], acc, len(acc)/n)
}

// convInt16 is a 16x8 CONV_2D: int16 activations (zero point 0), int8
// weights, optional int32 or int64 bias. As in TFLite, the accumulator is
// int64 (requantized with the 64-bit MultiplyByQuantizedMultiplier) when
// the bias is int64, and int32 otherwise.
type convInt16 struct {
	op *graph.Op
	g  *convGeom
	w  []int8
	rq *requant
}

func newConvInt16(rnd fixedpoint.Rounding, op *graph.Op, g *convGeom, in, w, bias, out *graph.Tensor, act graph.Activation) (*convInt16, error) {
	rq, wv, err := prepare16x8(rnd, op, in, w, bias, out, act, g.outC, g.outC*g.k())
	if err != nil {
		return nil, err
	}
	return &convInt16{op: op, g: g, w: wv, rq: rq}, nil
}

// prepare16x8 checks and computes what every 16x8 kernel shares: symmetric
// int16 input and output, int8 weights, the epilogue.
func prepare16x8(rnd fixedpoint.Rounding, op *graph.Op, in, w, bias, out *graph.Tensor, act graph.Activation, n, wLen int) (*requant, []int8, error) {
	sIn, zpIn, err := tensorQuant(op, "input", in)
	if err != nil {
		return nil, nil, err
	}
	_, zpOut, err := tensorQuant(op, "output", out)
	if err != nil {
		return nil, nil, err
	}
	if zpIn != 0 || zpOut != 0 {
		return nil, nil, unsupportedf(op, "int16 input %q and output %q need zero point 0 (got %d, %d)", in.Name, out.Name, zpIn, zpOut)
	}
	if w.DType != graph.Int8 {
		return nil, nil, unsupportedf(op, "16x8 mode needs int8 weights, %q is %s", w.Name, w.DType)
	}
	wv, err := constInt8Weights(op, w, wLen)
	if err != nil {
		return nil, nil, err
	}
	scales, _, err := weightScales(op, w, n, false)
	if err != nil {
		return nil, nil, err
	}
	bv, is64, err := intBias(op, bias, n)
	if err != nil {
		return nil, nil, err
	}
	rq, err := newRequant(rnd, op, sIn, scales, out, act, bv, n)
	if err != nil {
		return nil, nil, err
	}
	rq.acc64 = is64
	return rq, wv, nil
}

// Run implements Kernel.
func (c *convInt16) Run(ins, outs []*Buffer) error {
	g := c.g
	in, out, batch, err := convBuffers(c.op, g, ins, outs)
	if err != nil {
		return err
	}
	src, dst := in.I16, out.I16
	k := g.k()
	inRow := g.inW * g.inC
	o := 0
	for b := 0; b < batch; b++ {
		img := src[b*g.inH*inRow : (b+1)*g.inH*inRow]
		for oy := 0; oy < g.outH; oy++ {
			iy0 := oy*g.strideH - g.padT
			for ox := 0; ox < g.outW; ox++ {
				ix0 := ox*g.strideW - g.padL
				for oc := 0; oc < g.outC; oc++ {
					wrow := c.w[oc*k : (oc+1)*k]
					var acc int64
					for ky := 0; ky < g.fH; ky++ {
						iy := iy0 + ky*g.dilH
						if iy < 0 || iy >= g.inH {
							continue
						}
						for kx := 0; kx < g.fW; kx++ {
							ix := ix0 + kx*g.dilW
							if ix < 0 || ix >= g.inW {
								continue
							}
							px := img[iy*inRow+ix*g.inC : iy*inRow+(ix+1)*g.inC]
							wk := wrow[(ky*g.fW+kx)*g.inC:]
							for ic, x := range px {
								acc += int64(wk[ic]) * int64(x)
							}
						}
					}
					var v int32
					if c.rq.acc64 {
						v = c.rq.apply64(acc, oc)
					} else {
						// int32 accumulation wraps as TFLite's would.
						v = c.rq.apply32(int32(acc), oc)
					}
					dst[o] = int16(v)
					o++
				}
			}
		}
	}
	return nil
}
