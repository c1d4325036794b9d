package kernels

import (
	"math"

	"github.com/qbench/qbench/graph"
)

// Fast paths shared by the light kernels. Each one computes exactly what
// the kernel's reference arithmetic computes — the tables are filled by
// calling that arithmetic on every possible input — and only removes
// per-element work: dtype switches, fixed-point multiplies, calls.

// is8Bit reports whether d is an 8-bit quantized dtype, whose 256 possible
// values a lookup table can cover.
func is8Bit(d graph.DType) bool { return d == graph.Int8 || d == graph.UInt8 }

// lut8For tabulates f, a single-input op's reference arithmetic returning a
// value already clamped to the output dtype's range, for every value v of
// the 8-bit input dtype in. Entry uint8(v) holds the output's bit pattern,
// so an int8 table is indexed by the input's two's-complement byte.
func lut8For(in graph.DType, f func(v int32) int32) *[256]uint8 {
	var t [256]uint8
	lo, hi := DTypeRange(in)
	for v := lo; v <= hi; v++ {
		t[uint8(v)] = uint8(f(v))
	}
	return &t
}

// lut8 is an 8-bit op's table (see lut8For) and, when one reproduces it,
// its affine form for CPUs whose byte lookup is slow (lut8_affine.go).
type lut8 struct {
	t   [256]uint8
	aff affine8
}

// newLUT8 tabulates f (see lut8For) for an op from the 8-bit dtype in to
// out, and fits the table's affine form where it would run (the fit is
// a search, ≈ 0.1 ms for a table without a form).
func newLUT8(in, out graph.DType, f func(v int32) int32) *lut8 {
	l := &lut8{t: *lut8For(in, f)}
	if useAffine8 {
		l.aff = fitAffine8(&l.t, in, out)
	}
	return l
}

// applyLUT8 maps the first n elements of the 8-bit buffer x through l into
// the 8-bit buffer y (int8 or uint8 on either side).
func applyLUT8(l *lut8, x, y *Buffer, n int) {
	switch {
	case x.DType == graph.Int8 && y.DType == graph.Int8:
		mapLUT8(l, x.I8[:n], y.I8[:n])
	case x.DType == graph.Int8:
		mapLUT8(l, x.I8[:n], y.U8[:n])
	case y.DType == graph.Int8:
		mapLUT8(l, x.U8[:n], y.I8[:n])
	default:
		mapLUT8(l, x.U8[:n], y.U8[:n])
	}
}

// mapLUT8 sets ys[i] = l.t[xs[i]]: the affine form's vector loop where it
// is the faster path (useAffine8) and the table has one, then lookup8 for
// the rest. xs and ys may be the same slice.
func mapLUT8[X, Y ~int8 | ~uint8](l *lut8, xs []X, ys []Y) {
	ys = ys[:len(xs)]
	i := 0
	if useAffine8 {
		i = affine8AVX2Vec(&l.aff, xs, ys)
	}
	lookup8(&l.t, xs[i:], ys[i:])
}

// lookup8 sets ys[i] = t[xs[i]]: the byte-permute loop (AVX-512 VBMI),
// the word-permute loop (AVX-512BW without VBMI) or the VPSHUFB loop
// (AVX2) where the CPU has one, then Go, four elements per iteration (the
// loads are independent, the loop overhead shared).
func lookup8[X, Y ~int8 | ~uint8](t *[256]uint8, xs []X, ys []Y) {
	ys = ys[:len(xs)]
	if lookup8Vec(t, xs, ys) {
		return
	}
	i := lookup8AVX2Vec(t, xs, ys)
	for ; i+4 <= len(xs); i += 4 {
		a, b, c, d := t[uint8(xs[i])], t[uint8(xs[i+1])], t[uint8(xs[i+2])], t[uint8(xs[i+3])]
		ys[i], ys[i+1], ys[i+2], ys[i+3] = Y(a), Y(b), Y(c), Y(d)
	}
	for ; i < len(xs); i++ {
		ys[i] = Y(t[uint8(xs[i])])
	}
}

// lutClamp reports whether the table t of a same-dtype 8-bit op (d, int8
// or uint8) is a clamp, t[v] = min(max(v, lo), hi) for every input v, and
// returns the bounds: a RELU whose input and output quantization are equal
// (the reference's rescale is then the identity) reduces to it. The table
// itself is the reference's result for every input, so the clamp is
// bit-identical whenever this holds, in every rounding mode.
func lutClamp(t *[256]uint8, d graph.DType) (lo, hi int32, ok bool) {
	qmin, qmax := DTypeRange(d)
	out := func(v int32) int32 {
		if d == graph.Int8 {
			return int32(int8(t[uint8(v)]))
		}
		return int32(t[uint8(v)])
	}
	lo, hi = out(qmin), out(qmax)
	if lo > hi {
		return 0, 0, false
	}
	for v := qmin; v <= qmax; v++ {
		if out(v) != min(max(v, lo), hi) {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

// clampBuf8 clamps the first n values of the 8-bit buffer x into y (the
// same dtype) to [lo, hi], bounds within that dtype (from lutClamp).
func clampBuf8(x, y *Buffer, n int, lo, hi int32) {
	if y.DType == graph.Int8 {
		clamp8(x.I8[:n], y.I8[:n], int8(lo), int8(hi))
		return
	}
	clamp8(x.U8[:n], y.U8[:n], uint8(lo), uint8(hi))
}

// clamp8 sets ys[i] = min(max(xs[i], lo), hi): the AVX2 loop over whole
// blocks of 32, then Go (int32 min and max compile to conditional moves).
func clamp8[T int8 | uint8](xs, ys []T, lo, hi T) {
	ys = ys[:len(xs)]
	done := clamp8Vec(xs, ys, lo, hi)
	xs, ys = xs[done:], ys[done:]
	l, h := int32(lo), int32(hi)
	for i, v := range xs {
		ys[i] = T(min(max(int32(v), l), h))
	}
}

// dequantLUT8 tabulates Dequantize for every value of an 8-bit dtype.
func dequantLUT8(in graph.DType, scale float32, zp int32) *[256]float32 {
	var t [256]float32
	lo, hi := DTypeRange(in)
	for v := lo; v <= hi; v++ {
		t[uint8(v)] = Dequantize(v, scale, zp)
	}
	return &t
}

// lookupF32 sets ys[i] = t[xs[i]].
func lookupF32[X ~int8 | ~uint8](t *[256]float32, xs []X, ys []float32) {
	ys = ys[:len(xs)]
	for i, v := range xs {
		ys[i] = t[uint8(v)]
	}
}

// quantizer is AffineQuantize restructured for a loop over many values:
// exact, not an approximation — the division is the same float32 division
// — but without data-dependent branches on typical inputs (half of them
// round up and half down; a branch on that is mispredicted every other
// element).
type quantizer struct {
	scale  float32
	zp     int32
	lo, hi int32
}

// newQuantizer prepares the fast form of AffineQuantize(·, scale, zp, lo,
// hi); ok is false for a zero point so large that adding it could
// overflow (callers then use AffineQuantize).
func newQuantizer(scale float32, zp, lo, hi int32) (quantizer, bool) {
	if zp < -(1<<24) || zp > 1<<24 || lo > hi {
		return quantizer{}, false
	}
	return quantizer{scale: scale, zp: zp, lo: lo, hi: hi}, true
}

// quantizeSlice sets ys[i] = AffineQuantize(xs[i], c.scale, c.zp, c.lo, c.hi).
//
// Why it agrees: NaN, infinities and quotients of 2^30 or more take
// AffineQuantize itself (a branch that typical data never takes). Below
// that, g = x/scale widened to float64 is exact and so is g ± ½ (53-bit
// significand), so truncating it rounds half away from zero exactly, as
// AffineQuantize's math.Round does; the result and zp fit in an int32.
func quantizeSlice[Y ~int8 | ~uint8 | ~int16](c *quantizer, xs []float32, ys []Y) {
	ys = ys[:len(xs)]
	scale, zp, lo, hi := c.scale, c.zp, c.lo, c.hi
	for i, x := range xs {
		g := float64(x / scale)
		if !(math.Abs(g) < 1<<30) {
			ys[i] = Y(AffineQuantize(x, scale, zp, lo, hi))
			continue
		}
		r := int32(g+math.Copysign(0.5, g)) + zp
		ys[i] = Y(min(max(r, lo), hi))
	}
}
