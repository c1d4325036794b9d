package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/gemm"
)

// Hybrid (dynamic-range) CONV_2D and FULLY_CONNECTED: float32 activations
// and outputs, constant int8 weights with one scale. TFLite's hybrid
// kernels (which the runtime runs for these ops; measured: its output on
// mlt_kws_dscnn_f32 differs from the dequantized-float model's by 1e-2)
// quantize each input on the fly — per image for CONV_2D, per row for
// FULLY_CONNECTED — to int8, take exact int32 dot products with the int8
// weights, and rescale each to float: float32(dot)·(s_x·s_w) + bias, then
// the activation clamp. Inputs are quantized symmetrically (max |x| ↦ 127),
// or, for FULLY_CONNECTED with asymmetric_quantize_inputs, to [−128, 127]
// with a zero point, whose share Σw·zp comes off each dot product.

// hybridSymmetricRef quantizes x into dst as TFLite's
// SymmetricQuantizeFloats does (float32 arithmetic, round half away from
// zero, clamp to ±127) and returns the scaling factor max|x|/127 (1 for an
// all-zero x). It is the reference of hybridSymmetric's vector path and
// what runs for NaNs, infinities and extreme ranges.
func hybridSymmetricRef(dst []int8, x []float32) float32 {
	if len(x) == 0 {
		return 1
	}
	lo, hi := x[0], x[0]
	for _, v := range x[1:] {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	r := max(float32(math.Abs(float64(lo))), float32(math.Abs(float64(hi))))
	if r == 0 {
		clear(dst[:len(x)])
		return 1
	}
	inv := 127 / r
	for i, v := range x {
		q := roundHalfAway32(v * inv)
		dst[i] = int8(min(max(q, -127), 127))
	}
	return r / 127
}

// hybridAsymmetricRef quantizes x into dst as TFLite's
// AsymmetricQuantizeFloats does: the range [min(x, 0), max(x, 0)] maps onto
// [−128, 127] (hybridAsymParams), values are round(zp + x/scale) in
// float32. It returns the scale and the zero point (1 and 0 for an
// all-zero x). It is the reference of hybridAsymmetric's vector path and
// what runs for NaNs, infinities and extreme ranges.
func hybridAsymmetricRef(dst []int8, x []float32) (float32, int32) {
	if len(x) == 0 {
		return 1, 0
	}
	lo, hi := x[0], x[0]
	for _, v := range x[1:] {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	sf, zp, ok := hybridAsymParams(lo, hi)
	if !ok {
		clear(dst[:len(x)])
		return 1, 0
	}
	const qmin, qmax = -128.0, 127.0
	inv := 1 / sf
	for i, v := range x {
		q := roundHalfAway32(float32(zp) + float32(v*inv))
		dst[i] = int8(min(max(q, qmin), qmax))
	}
	return sf, zp
}

// hybridAsymParams is AsymmetricQuantizeFloats' scale and zero point for
// the range [min(lo, 0), max(hi, 0)] onto [−128, 127]: the scale computed
// in double and stored as float32, the zero point the one whose rounding
// error is smaller, nudged into range. ok is false for an empty range (the
// input all zeros).
func hybridAsymParams(lo, hi float32) (sf float32, zp int32, ok bool) {
	rmin, rmax := float64(min(0, lo)), float64(max(0, hi))
	if rmin == rmax {
		return 0, 0, false
	}
	const qmin, qmax = -128.0, 127.0
	scale := (rmax - rmin) / (qmax - qmin)
	zpMin, zpMax := qmin-rmin/scale, qmax-rmax/scale
	zpd := zpMax
	if math.Abs(qmin)+math.Abs(rmin/scale) < math.Abs(qmax)+math.Abs(rmax/scale) {
		zpd = zpMin
	}
	switch {
	case zpd <= qmin:
		zp = qmin
	case zpd >= qmax:
		zp = qmax
	default:
		zp = int32(math.Round(zpd))
	}
	return float32(scale), zp, true
}

// hybridWeights checks a hybrid op's constant int8 weights and returns them
// with their scales: one, or n (one per output channel, quantized
// dimension 0 for CONV_2D and FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D);
// zero points must be 0. perChannel reports whether the scales differ,
// which is what makes TFLite take its per-channel hybrid kernels.
func hybridWeights(op *graph.Op, w *graph.Tensor, n, want int) (v []int8, scales []float32, perChannel bool, err error) {
	if w.DType != graph.Int8 {
		return nil, nil, false, unsupportedf(op, "float input with %s weights %q", w.DType, w.Name)
	}
	if v, err = constInt8Weights(op, w, want); err != nil {
		return nil, nil, false, err
	}
	if scales, _, err = weightScales(op, w, n, false); err != nil {
		return nil, nil, false, err
	}
	for _, s := range scales {
		if !validScale(s) {
			return nil, nil, false, fmt.Errorf("%s: weights tensor %q scale %g must be positive and finite", op.Kind, w.Name, s)
		}
		if s != scales[0] {
			perChannel = true
		}
	}
	return v, scales, perChannel, nil
}

// hybridOut finishes one row of hybrid outputs: float32(acc)·sf + bias,
// clamped. The explicit conversion keeps the product and the sum separately
// rounded (no fused multiply-add), as TFLite computes them.
func hybridOut(dst []float32, acc []int32, sf float32, bias []float32, lo, hi float32) {
	dst = dst[:len(acc)]
	bias = bias[:len(acc)]
	for j, a := range acc {
		v := float32(float32(a)*sf) + bias[j]
		dst[j] = min(max(v, lo), hi)
	}
}

// convHybrid is a hybrid CONV_2D. With one weight scale (TFLite's
// EvalHybrid) each image is quantized symmetrically, im2col'd (padding 0,
// the quantized zero) and multiplied by the packed int8 weights; the
// output is float32(dot)·(s_x·s_w) + bias. With differing per-channel
// scales (TFLite's EvalHybridPerChannel) each image is quantized
// asymmetrically, taps outside the image add nothing (im2col pads with the
// zero point, whose share Σw·zp comes off each dot), and the output is
// float32(dot)·(s_w[c]·s_x) + bias, the scales multiplied first (measured
// against the runtime: the other orders differ in the last bit on ~10%).
type convHybrid struct {
	op      *graph.Op
	g       *convGeom
	w       *gemm.PackedS8
	wScale  float32
	chScale []float32 // per-channel scales, nil for the per-tensor kernel
	rowSum  []int32   // Σ_k w[c][k], for the per-channel zero point
	bias    []float32
	lo, hi  float32
	chunk   int
	x       s8Scratch
	pool    *scratchPool
	epi     *hybridEpiPool
	zeroOff []int32 // the per-tensor kernel's zero point share: none
	vec     bool    // hybridEpilogue may take its vector loop
	pim     paddedIm2col
	usePad  bool      // im2col from a padded copy of each image (pim)
	px      s8Scratch // that copy
}

func newConvHybrid(op *graph.Op, g *convGeom, w, bias *graph.Tensor, act graph.Activation) (Kernel, error) {
	wv, scales, perCh, err := hybridWeights(op, w, g.outC, g.outC*g.k())
	if err != nil {
		return nil, err
	}
	bv, err := floatBias(op, bias, g.outC)
	if err != nil {
		return nil, err
	}
	if bv == nil {
		bv = make([]float32, g.outC)
	}
	lo, hi, err := ActivationRangeFloat(act)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.Kind, err)
	}
	if !perCh && len(scales) > 1 {
		return nil, equalScalesErr(op, w)
	}
	rows := chunkRows(g.outH*g.outW, g.k(), g.outC)
	c := &convHybrid{op: op, g: g, w: gemm.PackS8(wv, g.outC, g.k(), g.k()), wScale: scales[0], bias: bv, lo: lo, hi: hi,
		chunk: rows, pool: newScratchPool(0, rows*g.k(), rows*g.outC), epi: newHybridEpiPool(g.outC),
		zeroOff: make([]int32, g.outC), vec: epilogueVecSafe(bv, lo, hi)}
	if !g.pointwise() {
		c.pim, c.usePad = newPaddedIm2col(g)
	}
	if perCh {
		c.chScale = scales
		c.rowSum = rowSums(wv, g.outC, g.k())
	}
	return c, nil
}

// equalScalesErr refuses a hybrid CONV_2D whose weights have several
// scales, all equal: TFLite then takes its per-tensor hybrid kernel, which
// reads the tensor's legacy single scale, 0 for such a tensor, so the
// runtime outputs the bias alone (measured).
func equalScalesErr(op *graph.Op, w *graph.Tensor) error {
	return unsupportedf(op, "hybrid weights %q with %d equal per-channel scales: the TFLite runtime's per-tensor hybrid kernel reads their scale as 0 and outputs the bias alone; requantize the weights with one scale", w.Name, len(w.Quant.Scale))
}

// rowSums returns Σ_k w[j·k+i] for each of n rows of k int8 weights.
func rowSums(w []int8, n, k int) []int32 {
	s := make([]int32, n)
	for j := range s {
		for _, v := range w[j*k : (j+1)*k] {
			s[j] += int32(v)
		}
	}
	return s
}

// Run implements Kernel. A pointwise convolution multiplies the quantized
// image itself (its im2col matrix); the epilogue of each image takes one
// vector of output scales (s_x·s_w, or s_w[c]·s_x per channel, the
// product TFLite forms) and of zero-point shares (zp·Σw, 0 per tensor).
func (c *convHybrid) Run(ins, outs []*Buffer) error {
	g := c.g
	in, out, batch, err := convBuffers(c.op, g, ins, outs)
	if err != nil {
		return err
	}
	xp := c.x.get(len(in.F32))
	defer c.x.put(xp)
	xq := *xp
	s := c.pool.get()
	defer c.pool.put(s)
	e := c.epi.get()
	defer c.epi.put(e)
	perIn, perOut := g.inH*g.inW*g.inC, g.outH*g.outW
	n, k := g.outC, g.k()
	direct := g.pointwise()
	var pimg []int8
	if c.usePad {
		pp := c.px.get(c.pim.size(g))
		defer c.px.put(pp)
		pimg = *pp
	}
	for b := 0; b < batch; b++ {
		img := xq[b*perIn : (b+1)*perIn]
		var zp int32
		off := c.zeroOff
		if c.chScale != nil {
			var sf float32
			sf, zp = hybridAsymmetric(img, in.F32[b*perIn:(b+1)*perIn])
			for j, cs := range c.chScale {
				e.sc[j] = cs * sf
				e.off[j] = zp * c.rowSum[j]
			}
			off = e.off
		} else {
			sf := hybridSymmetric(img, in.F32[b*perIn:(b+1)*perIn]) * c.wScale
			for j := range e.sc {
				e.sc[j] = sf
			}
		}
		if c.usePad {
			c.pim.pad(pimg, img, g, int8(zp))
		}
		for p0 := 0; p0 < perOut; p0 += c.chunk {
			rows := min(c.chunk, perOut-p0)
			r0 := b*perOut + p0
			a := s.i8[:rows*k]
			switch {
			case direct:
				a = xq[r0*k : (r0+rows)*k]
			case c.usePad:
				c.pim.rows(s.i8, pimg, g, p0, rows)
			default:
				im2col(s.i8, xq, g, r0, rows, int8(zp))
			}
			acc := s.acc[:rows*n]
			c.w.Mul(rows, a, k, 0, acc, n)
			hybridEpilogue(out.F32[r0*n:(r0+rows)*n], acc, rows, off, e.sc, c.bias, c.lo, c.hi, c.vec)
		}
	}
	return nil
}

// fcHybrid is a hybrid FULLY_CONNECTED: each input row is quantized
// (symmetrically, or asymmetrically with its zero point's share taken off
// through the weights' row sums).
type fcHybrid struct {
	*fc
	ws8    *gemm.PackedS8
	wScale float32
	rowSum []int32
	asym   bool
	x      s8Scratch
}

func newFCHybrid(f *fc, w, bias *graph.Tensor, act graph.Activation, asym bool, rows int) (Kernel, error) {
	wv, scales, _, err := hybridWeights(f.op, w, f.n, f.n*f.depth)
	if err != nil {
		return nil, err
	}
	if len(scales) > 1 {
		// The runtime's hybrid FULLY_CONNECTED multiplies by the tensor's
		// legacy single scale, which TFLite sets to 0 for a tensor with
		// several: its output is the bias alone (measured).
		return nil, unsupportedf(f.op, "hybrid weights %q with %d per-channel scales: the TFLite runtime's hybrid kernel reads their scale as 0 and outputs the bias alone; requantize the weights with one scale", w.Name, len(scales))
	}
	ws := scales[0]
	if f.bf, err = floatBias(f.op, bias, f.n); err != nil {
		return nil, err
	}
	if f.bf == nil {
		f.bf = make([]float32, f.n)
	}
	if f.flo, f.fhi, err = ActivationRangeFloat(act); err != nil {
		return nil, fmt.Errorf("%s: %w", f.op.Kind, err)
	}
	h := &fcHybrid{fc: f, wScale: ws, asym: asym, rowSum: make([]int32, f.n)}
	f.chunk = max(1, min(fcChunkRows, im2colBudget/f.n))
	h.ws8 = gemm.PackS8Rows(max(1, min(rows, f.chunk)), wv, f.n, f.depth, f.depth)
	for j := 0; j < f.n; j++ {
		for _, v := range wv[j*f.depth : (j+1)*f.depth] {
			h.rowSum[j] += int32(v)
		}
	}
	f.acc.New = func() any { s := make([]int32, f.n); return &s }
	return h, nil
}

// Run implements Kernel.
func (h *fcHybrid) Run(ins, outs []*Buffer) error {
	in, out, m, err := h.rows(ins, outs)
	if err != nil {
		return err
	}
	ap := h.acc.Get().(*[]int32)
	defer h.acc.Put(ap)
	acc := *ap
	xp := h.x.get(h.depth)
	defer h.x.put(xp)
	xq := *xp
	n, k := h.n, h.depth
	for i := 0; i < m; i++ {
		x := in.F32[i*k : (i+1)*k]
		var sf float32
		var zp int32
		if h.asym {
			sf, zp = hybridAsymmetric(xq, x)
		} else {
			sf = hybridSymmetric(xq, x)
		}
		sf *= h.wScale
		h.ws8.Mul(1, xq, k, 0, acc, n)
		if zp != 0 {
			for j := range acc {
				acc[j] -= h.rowSum[j] * zp
			}
		}
		hybridOut(out.F32[i*n:(i+1)*n], acc, sf, h.bf, h.flo, h.fhi)
	}
	return nil
}
