package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// MAX_POOL_2D and AVERAGE_POOL_2D over NHWC, float32, int8, uint8 and int16. The
// window is clipped to the image (padding never counts), as in TFLite's
// reference kernels; integer averages round half away from zero.

// prepareMaxPool2D builds a MAX_POOL_2D kernel (PrepareFunc).
func prepareMaxPool2D(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return preparePool(op, ins, outs, false)
}

// prepareAveragePool2D builds an AVERAGE_POOL_2D kernel (PrepareFunc).
func prepareAveragePool2D(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return preparePool(op, ins, outs, true)
}

func preparePool(op *graph.Op, ins, outs []*graph.Tensor, avg bool) (Kernel, error) {
	opts, ok := op.Options.(*graph.Pool2DOptions)
	if !ok || opts == nil {
		return nil, fmt.Errorf("%s: missing Pool2DOptions", op.Kind)
	}
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, fmt.Errorf("%s: needs input and output tensors", op.Kind)
	}
	in, out := ins[0], outs[0]
	g, err := newConvGeom(op, in, out, opts.FilterH, opts.FilterW, opts.StrideH, opts.StrideW, 1, 1, opts.Padding)
	if err != nil {
		return nil, err
	}
	if g.outC != g.inC {
		return nil, fmt.Errorf("%s: input %q has %d channels, output %q %d", op.Kind, in.Name, g.inC, out.Name, g.outC)
	}
	if in.DType != out.DType {
		return nil, unsupported(op, ins, outs, "input and output dtypes differ")
	}
	p := &pool{op: op, g: g, avg: avg}
	switch in.DType {
	case graph.Float32:
		if p.flo, p.fhi, err = ActivationRangeFloat(opts.Activation); err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		return &poolFloat{p}, nil
	case graph.Int8, graph.UInt8, graph.Int16:
		sOut, zpOut, err := tensorQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		if p.lo, p.hi, err = ActivationRangeQuantized(opts.Activation, out.DType, sOut, zpOut); err != nil {
			return nil, fmt.Errorf("%s: output %q: %w", op.Kind, out.Name, err)
		}
		switch in.DType {
		case graph.Int8:
			return &poolInt8{p}, nil
		case graph.UInt8:
			return &poolUint8{p}, nil
		}
		return &poolInt16{p}, nil
	}
	return nil, unsupported(op, ins, outs, "no pooling kernel for this dtype")
}

// pool is the state shared by the dtype variants.
type pool struct {
	op       *graph.Op
	g        *convGeom
	avg      bool
	flo, fhi float32
	lo, hi   int32
}

// window returns the clipped window [y0, y1) × [x0, x1) of an output pixel.
func (p *pool) window(oy, ox int) (y0, y1, x0, x1 int) {
	g := p.g
	iy, ix := oy*g.strideH-g.padT, ox*g.strideW-g.padL
	return max(iy, 0), min(iy+g.fH, g.inH), max(ix, 0), min(ix+g.fW, g.inW)
}

// buffers checks the run-time buffers and returns the batch size.
func (p *pool) buffers(ins, outs []*Buffer) (in, out *Buffer, batch int, err error) {
	return convBuffers(p.op, p.g, ins, outs)
}

type poolFloat struct{ *pool }

// Run implements Kernel.
func (p poolFloat) Run(ins, outs []*Buffer) error {
	in, out, batch, err := p.buffers(ins, outs)
	if err != nil {
		return err
	}
	if !p.avg {
		maxPool(p.g, in.F32, out.F32, batch, p.flo, p.fhi)
		return nil
	}
	return avgPool(p.pool, in.F32, out.F32, batch, p.flo, p.fhi)
}

// poolFloatRef is the float pool's scalar loop (per output element over
// its window), the reference of avgPool.
func poolFloatRef(p *pool, src, dst []float32, batch int) error {
	g := p.g
	o := 0
	for b := 0; b < batch; b++ {
		img := src[b*g.inH*g.inW*g.inC : (b+1)*g.inH*g.inW*g.inC]
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				y0, y1, x0, x1 := p.window(oy, ox)
				count := max(y1-y0, 0) * max(x1-x0, 0)
				if p.avg && count <= 0 {
					return fmt.Errorf("%s: output pixel (%d, %d) has an empty window", p.op.Kind, oy, ox)
				}
				row := dst[o : o+g.outC]
				for c := range row {
					var acc float32
					if !p.avg {
						acc = -math.MaxFloat32
					}
					for y := y0; y < y1; y++ {
						for x := x0; x < x1; x++ {
							v := img[(y*g.inW+x)*g.inC+c]
							if p.avg {
								acc += v
							} else {
								acc = max(acc, v)
							}
						}
					}
					if p.avg {
						acc /= float32(count)
					}
					row[c] = min(max(acc, p.flo), p.fhi)
				}
				o += g.outC
			}
		}
	}
	return nil
}

// poolInt pools an int8 or int16 image: the maximum, or TFLite's integer
// average (sum rounded half away from zero with C's truncating division),
// clamped to the activation range.
func poolInt[T int8 | uint8 | int16](p *pool, src, dst []T, batch int) error {
	g := p.g
	// The fast max path clamps in T; a clamp range outside T (possible
	// only with odd zero points) keeps the int32 clamp and its wrap below.
	if lo, hi, ok := clampIn[T](p.lo, p.hi); !p.avg && ok {
		maxPool(g, src, dst, batch, lo, hi)
		return nil
	}
	if p.avg {
		return avgPool(p, src, dst, batch, p.lo, p.hi)
	}
	return poolIntRef(p, src, dst, batch)
}

// poolIntRef is poolInt's scalar loop (per output element over its
// window): max pools whose clamp range lies outside T, and the reference
// of avgPool.
func poolIntRef[T int8 | uint8 | int16](p *pool, src, dst []T, batch int) error {
	g := p.g
	o := 0
	for b := 0; b < batch; b++ {
		img := src[b*g.inH*g.inW*g.inC : (b+1)*g.inH*g.inW*g.inC]
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				y0, y1, x0, x1 := p.window(oy, ox)
				count := int32(max(y1-y0, 0) * max(x1-x0, 0))
				if p.avg && count == 0 {
					return fmt.Errorf("%s: output pixel (%d, %d) has an empty window", p.op.Kind, oy, ox)
				}
				row := dst[o : o+g.outC]
				for c := range row {
					var acc int32
					if !p.avg {
						acc = math.MinInt32
					}
					for y := y0; y < y1; y++ {
						for x := x0; x < x1; x++ {
							v := int32(img[(y*g.inW+x)*g.inC+c])
							if p.avg {
								acc += v
							} else {
								acc = max(acc, v)
							}
						}
					}
					if p.avg {
						if acc > 0 {
							acc = (acc + count/2) / count
						} else {
							acc = (acc - count/2) / count
						}
					}
					row[c] = T(min(max(acc, p.lo), p.hi))
				}
				o += g.outC
			}
		}
	}
	return nil
}

type poolInt8 struct{ *pool }

// Run implements Kernel.
func (p poolInt8) Run(ins, outs []*Buffer) error {
	in, out, batch, err := p.buffers(ins, outs)
	if err != nil {
		return err
	}
	return poolInt(p.pool, in.I8, out.I8, batch)
}

type poolUint8 struct{ *pool }

// Run implements Kernel.
func (p poolUint8) Run(ins, outs []*Buffer) error {
	in, out, batch, err := p.buffers(ins, outs)
	if err != nil {
		return err
	}
	return poolInt(p.pool, in.U8, out.U8, batch)
}

type poolInt16 struct{ *pool }

// Run implements Kernel.
func (p poolInt16) Run(ins, outs []*Buffer) error {
	in, out, batch, err := p.buffers(ins, outs)
	if err != nil {
		return err
	}
	return poolInt(p.pool, in.I16, out.I16, batch)
}

// clampIn converts an int32 clamp range to T when doing so changes no
// result: lo ≤ hi and both inside T.
func clampIn[T int8 | uint8 | int16](lo, hi int32) (T, T, bool) {
	tmin, tmax := int32(math.MinInt8), int32(math.MaxInt8)
	var z T
	switch any(z).(type) {
	case int16:
		tmin, tmax = math.MinInt16, math.MaxInt16
	case uint8:
		tmin, tmax = 0, math.MaxUint8
	}
	if lo > hi || lo < tmin || hi > tmax {
		return 0, 0, false
	}
	return T(lo), T(hi), true
}

// maxPool is MAX_POOL_2D over NHWC with channel-contiguous inner loops:
// each output pixel's C values are the element-wise maximum of whole
// input pixels (C contiguous values each), so the loops stream memory
// and carry no per-element index arithmetic. The common 2×2 stride-2
// window (where SAME pads nothing on the top and left) gets one fused
// pass over four input pixels; any other window, and the clipped windows
// at a SAME border, take the general pixel-by-pixel form. Results equal
// the scalar loop exactly: max is exact and the clamp to [lo, hi]
// (lo ≥ −MaxFloat32 for floats) subsumes its −MaxFloat32 start.
func maxPool[T float32 | int8 | uint8 | int16](g *convGeom, src, dst []T, batch int, lo, hi T) {
	C := g.inC
	inRow := g.inW * C
	perIn := g.inH * inRow
	perOut := g.outH * g.outW * C
	for b := 0; b < batch; b++ {
		img := src[b*perIn : (b+1)*perIn]
		out := dst[b*perOut : (b+1)*perOut]
		for oy := 0; oy < g.outH; oy++ {
			iy := oy*g.strideH - g.padT
			y0, y1 := max(iy, 0), min(iy+g.fH, g.inH)
			orow := out[oy*g.outW*C : (oy+1)*g.outW*C]
			ox := 0
			if g.fH == 2 && g.fW == 2 && g.strideW == 2 && g.padL == 0 && y1-y0 == 2 {
				// Output pixels whose 2×2 window lies inside the image.
				full := min(g.outW, g.inW/2)
				r0, r1 := img[y0*inRow:(y0+1)*inRow], img[(y0+1)*inRow:(y0+2)*inRow]
				max2x2Row(orow[:full*C], r0[:2*full*C], r1[:2*full*C], C, lo, hi)
				ox = full
			}
			for ; ox < g.outW; ox++ {
				ix := ox*g.strideW - g.padL
				x0, x1 := max(ix, 0), min(ix+g.fW, g.inW)
				maxWindow(orow[ox*C:(ox+1)*C], img, inRow, C, y0, y1, x0, x1, lo, hi)
			}
		}
	}
}

// max2x2Row writes clamp(max) for a run of 2×2 windows: o holds the
// outputs (C values each), a and b the windows' two input rows (2·C
// values per output). Go compiles int8 and float32 max to branches or
// NaN-handling sequences, so those compute in int32, where max is a
// conditional move; the element type is resolved once per row.
func max2x2Row[T float32 | int8 | uint8 | int16](o, a, b []T, C int, lo, hi T) {
	switch o := any(o).(type) {
	case []int8:
		a, b := any(a).([]int8), any(b).([]int8)
		// Pixels of 16 bytes, two at a time, without AVX-512BW.
		if px := max2x2Pix16Vec(o, a, b, C, int8(lo), int8(hi)); px > 0 {
			o, a, b = o[px*C:], a[2*px*C:], b[2*px*C:]
		}
		if max2x2IntVec(o, a, b, C, len(o)/max(C, 1), int8(lo), int8(hi)) {
			return
		}
		l, h := int32(lo), int32(hi)
		for p := 0; p < len(o); p += C {
			op, ap, bp := o[p:p+C], a[2*p:2*p+2*C], b[2*p:2*p+2*C]
			a0, a1, b0, b1 := ap[:C], ap[C:], bp[:C], bp[C:]
			for c := range op {
				op[c] = int8(min(max(int32(a0[c]), int32(a1[c]), int32(b0[c]), int32(b1[c]), l), h))
			}
		}
		return
	case []float32:
		a, b := any(a).([]float32), any(b).([]float32)
		npix := len(o) / max(C, 1)
		l, h := floatKey(float32(lo)), floatKey(float32(hi))
		for px := 0; px < npix; px++ {
			// The vector loop (when present) does the same key arithmetic
			// and stops at a pixel with a NaN, which the Go lines below
			// then handle exactly as they would without it.
			px += max2x2F32Vec(o[px*C:], a[2*px*C:], b[2*px*C:], C, npix-px, l, h)
			if px == npix {
				break
			}
			p := px * C
			op, ap, bp := o[p:p+C], a[2*p:2*p+2*C], b[2*p:2*p+2*C]
			if !max2x2Float(op, ap, bp, float32(lo), float32(hi)) {
				// A NaN: redo this pixel with Go's max, which propagates it.
				max2x2Generic(op, ap, bp, float32(lo), float32(hi))
			}
		}
		return
	case []int16:
		a, b := any(a).([]int16), any(b).([]int16)
		if px := max2x2Pix16Vec(o, a, b, C, int16(lo), int16(hi)); px > 0 {
			o, a, b = o[px*C:], a[2*px*C:], b[2*px*C:]
		}
		if max2x2IntVec(o, a, b, C, len(o)/max(C, 1), int16(lo), int16(hi)) {
			return
		}
		for p := 0; p < len(o); p += C {
			max2x2Generic(o[p:p+C], a[2*p:2*p+2*C], b[2*p:2*p+2*C], int16(lo), int16(hi))
		}
		return
	}
	for p := 0; p < len(o); p += C {
		max2x2Generic(o[p:p+C], a[2*p:2*p+2*C], b[2*p:2*p+2*C], lo, hi)
	}
}

// max2x2Generic is one 2×2 window with Go's max.
func max2x2Generic[T float32 | int8 | uint8 | int16](o, a, b []T, lo, hi T) {
	n := len(o)
	a0, a1, b0, b1 := a[:n], a[n:2*n], b[:n], b[n:2*n]
	for c := range o {
		o[c] = min(max(a0[c], a1[c], b0[c], b1[c], lo), hi)
	}
}

// floatKey maps float32 bits to an int32 whose order is the float order
// (−0 just below +0, as Go's max prefers +0); it is its own inverse.
func floatKey(f float32) int32 {
	k := int32(math.Float32bits(f))
	return k ^ (k >> 31 & math.MaxInt32)
}

func keyFloat(k int32) float32 { return math.Float32frombits(uint32(k ^ (k >> 31 & math.MaxInt32))) }

// max2x2Float is max2x2 for float32 on order-preserving integer keys. It
// reports false, leaving o partly written, when an input is NaN (whose key
// would order it instead of propagating it).
func max2x2Float(o, a, b []float32, lo, hi float32) bool {
	n := len(o)
	a0, a1, b0, b1 := a[:n], a[n:2*n], b[:n], b[n:2*n]
	l, h := floatKey(lo), floatKey(hi)
	var nan uint32
	for c := range o {
		w, x, y, z := math.Float32bits(a0[c]), math.Float32bits(a1[c]), math.Float32bits(b0[c]), math.Float32bits(b1[c])
		// NaN: exponent all ones and a non-zero mantissa, i.e. the bits
		// without the sign exceed +Inf's; collect that in the top bit.
		nan |= (0x7F800000 - w&0x7FFFFFFF) | (0x7F800000 - x&0x7FFFFFFF) | (0x7F800000 - y&0x7FFFFFFF) | (0x7F800000 - z&0x7FFFFFFF)
		kw, kx := int32(w)^(int32(w)>>31&math.MaxInt32), int32(x)^(int32(x)>>31&math.MaxInt32)
		ky, kz := int32(y)^(int32(y)>>31&math.MaxInt32), int32(z)^(int32(z)>>31&math.MaxInt32)
		o[c] = keyFloat(min(max(kw, kx, ky, kz, l), h))
	}
	return nan>>31 == 0
}

// maxWindow writes clamp(max) over the window [y0, y1) × [x0, x1) of img
// (rows of inRow values, pixels of C) into o; an empty window (possible
// only with an inconsistent output shape) gives lo, as the scalar loop's
// clamp of its starting value does.
func maxWindow[T float32 | int8 | uint8 | int16](o, img []T, inRow, C, y0, y1, x0, x1 int, lo, hi T) {
	for c := range o {
		o[c] = lo
	}
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			px := img[y*inRow+x*C:][:len(o)]
			if o8, ok := any(o).([]int8); ok {
				// int32 max is a conditional move (see max2x2).
				for c, v := range any(px).([]int8) {
					o8[c] = int8(max(int32(o8[c]), int32(v)))
				}
				continue
			}
			for c, v := range px {
				o[c] = max(o[c], v)
			}
		}
	}
	for c, v := range o {
		o[c] = min(v, hi)
	}
}

// poolState exposes the shared state to tests.
func (p *pool) poolState() *pool { return p }

// avgPool is AVERAGE_POOL_2D with channel-contiguous inner loops: each
// output pixel's C sums add whole input pixels of the clipped window in
// (y, x) order, the scalar loop's order for every channel, so float sums
// round alike and integer sums (int32, exact) are the same; then
// TFLite's division (integers: rounded half away from zero, C's
// truncating division) and the clamp to [lo, hi].
func avgPool[T float32 | int8 | uint8 | int16, L float32 | int32](p *pool, src, dst []T, batch int, lo, hi L) error {
	g := p.g
	C := g.inC
	var stack [256]L
	acc := stack[:0]
	if C <= len(stack) {
		acc = stack[:C]
	} else {
		acc = make([]L, C)
	}
	perIn, o := g.inH*g.inW*C, 0
	for b := 0; b < batch; b++ {
		img := src[b*perIn : (b+1)*perIn]
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				y0, y1, x0, x1 := p.window(oy, ox)
				count := max(y1-y0, 0) * max(x1-x0, 0)
				if count <= 0 {
					return fmt.Errorf("%s: output pixel (%d, %d) has an empty window", p.op.Kind, oy, ox)
				}
				clear(acc)
				for y := y0; y < y1; y++ {
					// The window row's pixels are contiguous: the vector
					// loop sums whole blocks of 16 channels over them.
					row := img[(y*g.inW+x0)*C : (y*g.inW+x1)*C]
					cv := sumPixelsVec(acc, row, x1-x0, C)
					if cv == C {
						continue
					}
					for x := 0; x < x1-x0; x++ {
						px := row[x*C+cv : (x+1)*C]
						for c, v := range px {
							acc[cv+c] += L(v)
						}
					}
				}
				row := dst[o : o+C]
				n := L(count)
				for c, a := range acc {
					switch any(a).(type) {
					case int32:
						// Integer: round half away from zero as TFLite.
						if a > 0 {
							a = (a + n/2) / n
						} else {
							a = (a - n/2) / n
						}
					default:
						a /= n
					}
					row[c] = T(min(max(a, lo), hi))
				}
				o += C
			}
		}
	}
	return nil
}
