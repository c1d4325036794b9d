package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// DEPTHWISE_CONV_2D: input NHWC, filter 1HW(C·M), optional bias [C·M],
// output NHWC with C·M channels; output channel ic·M+m reads input channel
// ic. Each output needs only fH·fW products, too few for a GEMM to pay off,
// so all dtypes run a direct loop that walks the filter taps outermost and
// the channels innermost (contiguous in both input and filter).

// prepareDepthwiseConv2D builds a DEPTHWISE_CONV_2D kernel (PrepareFunc)
// with TFLite's reference arithmetic (fixedpoint.DoubleRounding).
func prepareDepthwiseConv2D(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return prepareDepthwiseConv2DRounding(op, ins, outs, fixedpoint.DoubleRounding)
}

// prepareDepthwiseConv2DRounding is the PrepareFunc body for the arithmetic rnd (see
// heavyPrepareWith).
func prepareDepthwiseConv2DRounding(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding) (Kernel, error) {
	return prepareDepthwiseConv2DWith(op, ins, outs, rnd, false)
}

// prepareDepthwiseConv2DWith is prepareDepthwiseConv2DRounding; ref picks
// the plain loops where a fast form exists (the uint8 reference, no
// vector interior for any dtype).
func prepareDepthwiseConv2DWith(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding, ref bool) (Kernel, error) {
	opts, ok := op.Options.(*graph.DepthwiseConv2DOptions)
	if !ok || opts == nil {
		return nil, fmt.Errorf("%s: missing DepthwiseConv2DOptions", op.Kind)
	}
	if len(ins) < 2 || ins[0] == nil || ins[1] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, fmt.Errorf("%s: needs input, filter and output tensors", op.Kind)
	}
	in, w, out := ins[0], ins[1], outs[0]
	var bias *graph.Tensor
	if len(ins) > 2 {
		bias = ins[2]
	}
	if len(w.Shape) != 4 || w.Shape[0] != 1 {
		return nil, fmt.Errorf("%s: filter %q shape %v must be 1×H×W×(C·M)", op.Kind, w.Name, w.Shape)
	}
	g, err := newConvGeom(op, in, out, w.Shape[1], w.Shape[2], opts.StrideH, opts.StrideW, opts.DilationH, opts.DilationW, opts.Padding)
	if err != nil {
		return nil, err
	}
	if g.inC == 0 || w.Shape[3] != g.outC || g.outC%g.inC != 0 {
		return nil, fmt.Errorf("%s: filter %q has %d channels, output %q %d, input %q %d: want output = filter = input·multiplier",
			op.Kind, w.Name, w.Shape[3], out.Name, g.outC, in.Name, g.inC)
	}
	mult := g.outC / g.inC
	if opts.DepthMultiplier > 0 && opts.DepthMultiplier != mult {
		// TFLite ignores the option and trusts the shapes; so do we, but a
		// disagreement usually means a broken converter, so say so.
		return nil, fmt.Errorf("%s: depth_multiplier %d but filter %q implies %d", op.Kind, opts.DepthMultiplier, w.Name, mult)
	}
	taps := g.fH * g.fW
	d := &depthwise{op: op, g: g, mult: mult}
	d.acc.New = func() any { s := make([]int64, g.outC); return &s }
	d.acc32.New = func() any { s := make([]int32, g.outC); return &s }
	d.rowAcc.New = func() any { s := make([]int32, g.outW*g.outC); return &s }
	switch {
	case in.DType == graph.Float32 && out.DType == graph.Float32 && w.DType == graph.Int8:
		return newDepthwiseHybrid(op, g, mult, w, bias, opts.Activation)
	case in.DType == graph.Float32 && out.DType == graph.Float32:
		if d.wf, err = constFloatWeights(op, w, taps*g.outC); err != nil {
			return nil, err
		}
		if d.bf, err = floatBias(op, bias, g.outC); err != nil {
			return nil, err
		}
		if d.flo, d.fhi, err = ActivationRangeFloat(opts.Activation); err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		d.facc.New = func() any { s := make([]float32, g.outC); return &s }
		if !ref {
			d.vec = newDwVec(dwF32, g, mult, nil, nil, d.wf, 0, d.bf, d.flo, d.fhi)
		}
		return &depthwiseFloat{d}, nil
	case in.DType == graph.Int8 && out.DType == graph.Int8:
		sIn, zpIn, err := tensorQuant(op, "input", in)
		if err != nil {
			return nil, err
		}
		if d.wi, err = constInt8Weights(op, w, taps*g.outC); err != nil {
			return nil, err
		}
		scales, _, err := weightScales(op, w, g.outC, false)
		if err != nil {
			return nil, err
		}
		bv, _, err := intBias(op, bias, g.outC)
		if err != nil {
			return nil, err
		}
		if d.rq, err = newRequant(depthwiseRuntimeRounding(rnd, len(scales), g.outC, bv != nil), op, sIn, scales, out, opts.Activation, bv, g.outC); err != nil {
			return nil, err
		}
		d.inOff = -zpIn
		d.w32 = make([]int32, len(d.wi))
		d.zpTerm = make([]int32, g.outC)
		for i, v := range d.wi {
			d.w32[i] = int32(v)
			d.zpTerm[i%g.outC] += d.inOff * int32(v)
		}
		if !ref {
			if d.grp = newDwGrp(dwS8, g, mult, d.w32, d.zpTerm, byte(int8(zpIn))); d.grp != nil && !d.grp.pays(g) {
				d.grp = nil
			}
			if d.grp == nil {
				d.vec = newDwVec(dwS8, g, mult, d.w32, d.zpTerm, nil, byte(int8(zpIn)), nil, 0, 0)
			}
		}
		return &depthwiseInt8{d}, nil
	case in.DType == graph.Int16 && out.DType == graph.Int16:
		rq, wv, err := prepare16x8(rnd, op, in, w, bias, out, opts.Activation, g.outC, taps*g.outC)
		if err != nil {
			return nil, err
		}
		// TFLite's 16x8 depthwise always accumulates in int64.
		rq.acc64 = true
		d.rq, d.wi = rq, wv
		if f := newDwInt16Fast(d, x16Best()); f != nil && !ref {
			return f, nil
		}
		return &depthwiseInt16{d}, nil
	case in.DType == graph.UInt8 && out.DType == graph.UInt8:
		return newDepthwiseU8(rnd, d, in, w, bias, out, opts.Activation, ref)
	}
	return nil, unsupported(op, ins, outs, "no DEPTHWISE_CONV_2D kernel for these dtypes")
}

// depthwise is the state shared by the dtype variants.
type depthwise struct {
	op       *graph.Op
	g        *convGeom
	mult     int
	wf, bf   []float32
	flo, fhi float32
	wi       []int8
	inOff    int32
	rq       *requant
	// w32 is the int8 weights widened once, and zpTerm[c] =
	// −zp_in·Σ_taps w[tap][c], the input-offset part of a full window's
	// sum (int32 arithmetic wraps alike either way), so the interior
	// loop multiplies raw inputs.
	w32, zpTerm []int32
	acc         freeList // *[]int64 (16x8), one accumulator per output channel
	rowAcc      freeList // *[]int32, one output row's accumulators (vec)
	// vec is the interior's vector plan (depthwise_vec.go), nil when it
	// cannot run or ref asks for the plain loops.
	vec *dwVec
	// grp is the integer kinds' tap-grouped plan (depthwise_grp.go),
	// preferred to vec; nil when it cannot run or ref asks for the plain
	// loops.
	grp   *dwGrp
	acc32 freeList // *[]int32 (int8)
	facc  freeList // *[]float32
}

// dwNum is the element types depthwise arithmetic runs on.
type dwNum interface {
	~int8 | ~uint8 | ~int16 | ~int32 | ~int64 | ~float32
}

// dwPixel computes the accumulators of one output pixel whose window starts
// at (iy0, ix0) in the image at offset img: acc[ic·M+m] = Σ_taps
// w[tap][ic·M+m]·(x[tap][ic] + off), taps outside the image skipped.
func dwPixel[X, W, A dwNum](acc []A, src []X, w []W, g *convGeom, img, iy0, ix0, M int, off A) {
	clear(acc)
	C := g.inC
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
			px := src[img+(iy*g.inW+ix)*C:][:C]
			wt := w[(ky*g.fW+kx)*g.outC:][:g.outC]
			if M == 1 {
				// The common case: one output channel per input channel,
				// three equal-length slices the compiler can check once.
				a, wt := acc[:C], wt[:C]
				for c, x := range px {
					a[c] += A(wt[c]) * (A(x) + off)
				}
				continue
			}
			for ic, x := range px {
				xv := A(x) + off
				row := acc[ic*M : ic*M+M]
				for m, wv := range wt[ic*M : ic*M+M] {
					row[m] += A(wv) * xv
				}
			}
		}
	}
}

// inside reports whether the window starting at (iy0, ix0) lies wholly
// inside the image, so no tap needs a bounds check.
func (d *depthwise) inside(iy0, ix0 int) bool {
	g := d.g
	return iy0 >= 0 && ix0 >= 0 && iy0+(g.fH-1)*g.dilH < g.inH && ix0+(g.fW-1)*g.dilW < g.inW
}

// dwTaps adds one interior output pixel's products to acc for depth
// multiplier 1: for each tap, acc[c] += w[tap][c]·x[tap][c] over the C
// contiguous channels of the input pixel at src[base+…]. Compared with
// dwPixel it skips the per-tap bounds checks and (for int8, whose
// offset term the caller pre-loads into acc) the per-product offset add.
func dwTaps[X, W, A dwNum](acc []A, src []X, w []W, g *convGeom, base int) {
	C := g.inC
	acc = acc[:C]
	if g.fH == 3 && g.fW == 3 {
		dwTaps3x3(acc, src, w, g, base)
		return
	}
	for ky := 0; ky < g.fH; ky++ {
		row := base + ky*g.dilH*g.inW*C
		for kx := 0; kx < g.fW; kx++ {
			px := src[row+kx*g.dilW*C:][:C]
			wt := w[(ky*g.fW+kx)*C:][:C]
			for c, x := range px {
				acc[c] += A(wt[c]) * A(x)
			}
		}
	}
}

// dwTaps3x3 is dwTaps for the common 3×3 window: the nine products of a
// channel are summed in a register (in tap order, so float results are
// unchanged) instead of nine load-add-store passes over acc.
func dwTaps3x3[X, W, A dwNum](acc []A, src []X, w []W, g *convGeom, base int) {
	C := len(acc)
	rs, cs := g.dilH*g.inW*C, g.dilW*C
	x0, x1, x2 := src[base:][:C], src[base+cs:][:C], src[base+2*cs:][:C]
	x3, x4, x5 := src[base+rs:][:C], src[base+rs+cs:][:C], src[base+rs+2*cs:][:C]
	x6, x7, x8 := src[base+2*rs:][:C], src[base+2*rs+cs:][:C], src[base+2*rs+2*cs:][:C]
	w0, w1, w2 := w[0:C], w[C:2*C], w[2*C:3*C]
	w3, w4, w5 := w[3*C:4*C], w[4*C:5*C], w[5*C:6*C]
	w6, w7, w8 := w[6*C:7*C], w[7*C:8*C], w[8*C:9*C]
	for c := range acc {
		a := acc[c]
		a += A(w0[c]) * A(x0[c])
		a += A(w1[c]) * A(x1[c])
		a += A(w2[c]) * A(x2[c])
		a += A(w3[c]) * A(x3[c])
		a += A(w4[c]) * A(x4[c])
		a += A(w5[c]) * A(x5[c])
		a += A(w6[c]) * A(x6[c])
		a += A(w7[c]) * A(x7[c])
		a += A(w8[c]) * A(x8[c])
		acc[c] = a
	}
}

type depthwiseFloat struct{ *depthwise }

// Run implements Kernel.
func (d depthwiseFloat) Run(ins, outs []*Buffer) error {
	g := d.g
	in, out, batch, err := convBuffers(d.op, g, ins, outs)
	if err != nil {
		return err
	}
	ap := d.facc.Get().(*[]float32)
	defer d.facc.Put(ap)
	acc := *ap
	if d.vec != nil {
		runDwVecFloat(d.depthwise, d.vec, in.F32, out.F32, batch)
		return nil
	}
	o := 0
	for b := 0; b < batch; b++ {
		img := b * g.inH * g.inW * g.inC
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				iy0, ix0 := oy*g.strideH-g.padT, ox*g.strideW-g.padL
				if d.mult == 1 && d.inside(iy0, ix0) {
					clear(acc)
					dwTaps(acc, in.F32, d.wf, g, img+(iy0*g.inW+ix0)*g.inC)
				} else {
					dwPixel(acc, in.F32, d.wf, g, img, iy0, ix0, d.mult, 0)
				}
				row := out.F32[o : o+g.outC]
				copy(row, acc)
				floatEpilogue(row, g.outC, d.bf, d.flo, d.fhi)
				o += g.outC
			}
		}
	}
	return nil
}

type depthwiseInt8 struct{ *depthwise }

// Run implements Kernel.
func (d depthwiseInt8) Run(ins, outs []*Buffer) error {
	g := d.g
	in, out, batch, err := convBuffers(d.op, g, ins, outs)
	if err != nil {
		return err
	}
	if d.grp != nil {
		runDwGrp(d.depthwise, d.grp, in.I8, out.I8, batch, d.rq, nil)
		return nil
	}
	if d.vec != nil {
		runDwVecInt(d.depthwise, d.vec, in.I8, out.I8, batch, d.rq, nil)
		return nil
	}
	ap := d.acc32.Get().(*[]int32)
	defer d.acc32.Put(ap)
	acc := *ap
	o := 0
	for b := 0; b < batch; b++ {
		img := b * g.inH * g.inW * g.inC
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				// int32 accumulation wraps exactly as TFLite's does.
				iy0, ix0 := oy*g.strideH-g.padT, ox*g.strideW-g.padL
				if d.mult == 1 && d.inside(iy0, ix0) {
					copy(acc, d.zpTerm)
					dwTaps(acc, in.I8, d.w32, g, img+(iy0*g.inW+ix0)*g.inC)
				} else {
					dwPixel(acc, in.I8, d.wi, g, img, iy0, ix0, d.mult, d.inOff)
				}
				d.rq.rowInt8(out.I8[o:o+g.outC], acc)
				o += g.outC
			}
		}
	}
	return nil
}

type depthwiseInt16 struct{ *depthwise }

// Run implements Kernel.
func (d depthwiseInt16) Run(ins, outs []*Buffer) error {
	g := d.g
	in, out, batch, err := convBuffers(d.op, g, ins, outs)
	if err != nil {
		return err
	}
	ap := d.acc.Get().(*[]int64)
	defer d.acc.Put(ap)
	acc := *ap
	o := 0
	for b := 0; b < batch; b++ {
		img := b * g.inH * g.inW * g.inC
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				dwPixel(acc, in.I16, d.wi, g, img, oy*g.strideH-g.padT, ox*g.strideW-g.padL, d.mult, 0)
				row := out.I16[o : o+g.outC]
				for c, v := range acc {
					row[c] = int16(d.rq.apply64(v, c))
				}
				o += g.outC
			}
		}
	}
	return nil
}
