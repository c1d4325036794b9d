package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// AffineQuantize maps a real value to an integer in [lo, hi] the way TFLite's
// QUANTIZE does: round(x / scale) + zeroPoint with float32 division and
// rounding half away from zero, then clamping. Out-of-range values and
// infinities saturate; NaN maps to the zero point (real 0). (C++ leaves
// those conversions undefined; this is what TFLite gives on Arm.)
func AffineQuantize(x, scale float32, zeroPoint, lo, hi int32) int32 {
	q := float64(roundHalfAway32(x / scale))
	var v int64
	switch {
	case q != q:
		v = 0
	case q >= 1<<31:
		v = 1<<31 - 1
	case q < -(1 << 31):
		v = -(1 << 31)
	default:
		v = int64(q)
	}
	v += int64(zeroPoint)
	return int32(min(max(v, int64(lo)), int64(hi)))
}

// QuantizeFloats sets element i of the int8, uint8 or int16 buffer b to
// AffineQuantize(x[i], scale, zeroPoint, lo, hi) with the dtype's range —
// the QUANTIZE kernel's loop, for callers quantizing inputs themselves.
// b must hold at least len(x) elements.
func QuantizeFloats(b *Buffer, x []float32, scale float32, zeroPoint int32) error {
	lo, hi := DTypeRange(b.DType)
	c, fast := newQuantizer(scale, zeroPoint, lo, hi)
	switch b.DType {
	case graph.Int8:
		if len(b.I8) < len(x) {
			break
		}
		if fast {
			quantizeInt8(&c, x, b.I8)
			return nil
		}
		for i, v := range x {
			b.I8[i] = int8(AffineQuantize(v, scale, zeroPoint, lo, hi))
		}
		return nil
	case graph.UInt8:
		if len(b.U8) < len(x) {
			break
		}
		if fast {
			quantizeSlice(&c, x, b.U8)
			return nil
		}
		for i, v := range x {
			b.U8[i] = uint8(AffineQuantize(v, scale, zeroPoint, lo, hi))
		}
		return nil
	case graph.Int16:
		if len(b.I16) < len(x) {
			break
		}
		if fast {
			quantizeSlice(&c, x, b.I16)
			return nil
		}
		for i, v := range x {
			b.I16[i] = int16(AffineQuantize(v, scale, zeroPoint, lo, hi))
		}
		return nil
	default:
		return fmt.Errorf("quantize: cannot quantize floats into a %s buffer", b.DType)
	}
	return fmt.Errorf("quantize: %d values do not fit a %s buffer of shape %v", len(x), b.DType, b.Shape)
}

// quantizeInt8 is quantizeSlice for int8 outputs, with the vector loop
// (when present) taking the runs of 16 values it accepts and the Go loop
// every block it declines (a non-finite or huge quotient) and the tail.
func quantizeInt8(c *quantizer, xs []float32, ys []int8) {
	ys = ys[:len(xs)]
	for len(xs) > 0 {
		n := quantizeI8Vec(c, xs, ys)
		m := min(n+16, len(xs))
		quantizeSlice(c, xs[n:m], ys[n:m])
		xs, ys = xs[m:], ys[m:]
	}
}

// Dequantize maps a stored integer to its real value scale·(q − zeroPoint),
// computed in double precision as TFLite's DEQUANTIZE does.
func Dequantize(q int32, scale float32, zeroPoint int32) float32 {
	return float32(float64(scale) * float64(q-zeroPoint))
}

// getInt returns element i of an integer buffer as int32.
func getInt(b *Buffer, i int) int32 {
	switch b.DType {
	case graph.Int8, graph.Int4:
		return int32(b.I8[i])
	case graph.UInt8:
		return int32(b.U8[i])
	case graph.Int16:
		return int32(b.I16[i])
	case graph.Int32:
		return b.I32[i]
	case graph.Int64:
		return int32(b.I64[i])
	}
	return 0
}

// setInt stores v (already clamped to the dtype's range) at element i.
func setInt(b *Buffer, i int, v int32) {
	switch b.DType {
	case graph.Int8, graph.Int4:
		b.I8[i] = int8(v)
	case graph.UInt8:
		b.U8[i] = uint8(v)
	case graph.Int16:
		b.I16[i] = int16(v)
	case graph.Int32:
		b.I32[i] = v
	case graph.Int64:
		b.I64[i] = int64(v)
	}
}

func isQuantIO(d graph.DType) bool {
	return d == graph.Int8 || d == graph.UInt8 || d == graph.Int16
}

type quantizeKernel struct {
	scale  float32
	zp     int32
	lo, hi int32
	fast   *quantizer // nil: AffineQuantize per element
	// xnnInv, when not 0, is the TFLite runtime's delegate: XNNPACK's
	// conversion (fixedpoint.FP32Quantize) with the float32 1/scale.
	xnnInv float32
	ref    bool // the plain loop only (differential tests)
	// div64: the quotient x/scale is taken in double precision
	// (AffineQuantize64), as the TFLite runtime's int16 QUANTIZE does.
	div64 bool
}

// quantizeXNN sets ys[i] = FP32Quantize(xs[i], inv, zp, lo, hi), with the
// vector loop (unless ref) taking the runs of 16 values it accepts and
// the Go loop every block it declines (a NaN or huge product) and the
// tail.
func quantizeXNN(inv float32, zp, lo, hi int32, xs []float32, ys []int8, ref bool) {
	ys = ys[:len(xs)]
	for len(xs) > 0 {
		n := 0
		if !ref {
			n = quantizeXNNVec(inv, zp, lo, hi, xs, ys)
		}
		m := min(n+16, len(xs))
		if ref {
			m = len(xs)
		}
		for i := n; i < m; i++ {
			ys[i] = int8(fixedpoint.FP32Quantize(xs[i], inv, zp, lo, hi))
		}
		xs, ys = xs[m:], ys[m:]
	}
}

// AffineQuantize64 is AffineQuantize with the quotient x/scale computed in
// double precision, as the TFLite runtime's optimized float→int16 QUANTIZE
// does (measured: float32 division rounds a few quotients onto exact .5
// ties that the double quotient does not reach, and the results differ).
func AffineQuantize64(x, scale float32, zeroPoint, lo, hi int32) int32 {
	q := math.Round(float64(x) / float64(scale))
	var v int64
	switch {
	case q != q:
		v = 0
	case q >= 1<<31:
		v = 1<<31 - 1
	case q < -(1 << 31):
		v = -(1 << 31)
	default:
		v = int64(q)
	}
	v += int64(zeroPoint)
	return int32(min(max(v, int64(lo)), int64(hi)))
}

func (k *quantizeKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0].F32, outs[0]
	if k.xnnInv != 0 {
		quantizeXNN(k.xnnInv, k.zp, k.lo, k.hi, x, y.I8, k.ref)
		return nil
	}
	if k.div64 {
		y16 := y.I16[:len(x)]
		for i, v := range x {
			y16[i] = int16(AffineQuantize64(v, k.scale, k.zp, k.lo, k.hi))
		}
		return nil
	}
	if c := k.fast; c != nil {
		switch y.DType {
		case graph.Int8:
			quantizeInt8(c, x, y.I8)
		case graph.UInt8:
			quantizeSlice(c, x, y.U8)
		case graph.Int16:
			quantizeSlice(c, x, y.I16)
		}
		return nil
	}
	switch y.DType {
	case graph.Int8:
		for i, v := range x {
			y.I8[i] = int8(AffineQuantize(v, k.scale, k.zp, k.lo, k.hi))
		}
	case graph.UInt8:
		for i, v := range x {
			y.U8[i] = uint8(AffineQuantize(v, k.scale, k.zp, k.lo, k.hi))
		}
	case graph.Int16:
		for i, v := range x {
			y.I16[i] = int16(AffineQuantize(v, k.scale, k.zp, k.lo, k.hi))
		}
	}
	return nil
}

// requantizeKernel converts between integer types and scales (TFLite's
// Requantize): out = MultiplyByQuantizedMultiplier(in − zpIn) + zpOut.
type requantizeKernel struct {
	mult      int32
	shift     int
	zpIn      int32
	zpOut     int32
	lo, hi    int32
	n         int
	xorFast   bool // same scale, int8↔uint8 with a zero-point shift of 128
	sameScale bool
	// XNNPACK's 8-bit variant: (bias + v·m) >> 8, m = round(256·scale)
	xnn           bool
	xnnM, xnnBias int32
	lut           *lut8       // 8-bit to 8-bit fast path: quant of every input
	loop          requantLoop // other integer types: quant in a typed loop
}

// quant is the reference arithmetic for one element (not the xorFast
// case, which is exact by construction).
func (k *requantizeKernel) quant(v int32) int32 {
	if k.xnn {
		return min(max((k.xnnBias+(v-k.zpIn)*k.xnnM)>>8, k.lo), k.hi)
	}
	v = fixedpoint.MultiplyByQuantizedMultiplier(v-k.zpIn, k.mult, k.shift) + k.zpOut
	return min(max(v, k.lo), k.hi)
}

func (k *requantizeKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	if k.xorFast {
		if x.DType == graph.Int8 {
			for i, v := range x.I8 {
				y.U8[i] = uint8(v) ^ 0x80
			}
		} else {
			for i, v := range x.U8 {
				y.I8[i] = int8(v ^ 0x80)
			}
		}
		return nil
	}
	if k.lut != nil {
		applyLUT8(k.lut, x, y, k.n)
		return nil
	}
	if k.loop != nil {
		k.loop(k, x, y, k.n)
		return nil
	}
	for i := range k.n {
		setInt(y, i, k.quant(getInt(x, i)))
	}
	return nil
}

func prepareQuantize(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding, ref bool) (Kernel, error) {
	in, out := ins[0], outs[0]
	if err := checkElems(op, in, out); err != nil {
		return nil, err
	}
	if out.Quant.PerChannel() {
		return nil, unsupported(op, ins, outs, "per-channel output quantization")
	}
	switch {
	case in.DType == graph.Float32 && isQuantIO(out.DType):
		s, zp, err := requireQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		lo, hi := DTypeRange(out.DType)
		k := &quantizeKernel{scale: s, zp: zp, lo: lo, hi: hi}
		if rnd == fixedpoint.RuntimeRounding && out.DType == graph.Int8 {
			// The delegate takes float to int8 QUANTIZE (XNNPACK's
			// convert_nc_f32_qs8, which multiplies by 1/scale).
			k.xnnInv, k.ref = 1/s, ref
			return k, nil
		}
		if out.DType == graph.Int16 && rnd != fixedpoint.DoubleRounding {
			// The runtime's int16 kernel divides in double; TFLite Micro's
			// reference (DoubleRounding) in float32.
			k.div64 = true
			return k, nil
		}
		if c, ok := newQuantizer(s, zp, lo, hi); ok && !ref {
			k.fast = &c
		}
		return k, nil
	case (isQuantIO(in.DType) || in.DType == graph.Int32) && (isQuantIO(out.DType) || out.DType == graph.Int32):
		si, zi, err := requireQuant(op, "input", in)
		if err != nil {
			return nil, err
		}
		so, zo, err := requireQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		m, sh := fixedpoint.QuantizeMultiplier(float64(si) / float64(so))
		lo, hi := DTypeRange(out.DType)
		k := &requantizeKernel{mult: m, shift: sh, zpIn: zi, zpOut: zo, lo: lo, hi: hi, n: out.NumElements()}
		k.sameScale = m == 1<<30 && sh == 1
		if k.sameScale && ((in.DType == graph.Int8 && out.DType == graph.UInt8 && zi-zo == -128) ||
			(in.DType == graph.UInt8 && out.DType == graph.Int8 && zi-zo == 128)) {
			k.xorFast = true
		}
		// The TFLite runtime's delegate takes 8-bit to same-type 8-bit
		// requantization when the scale ratio is within its 8-bit
		// multiplier's range; XNNPACK rescales with round(256·ratio) and a
		// rounding bias. The builtin kernel (single, double) does not.
		ratio := si / so
		if rnd == fixedpoint.RuntimeRounding && !k.xorFast && in.DType == out.DType &&
			(in.DType == graph.Int8 || in.DType == graph.UInt8) && ratio >= 1.0/256 && ratio <= 128 {
			k.xnn = true
			k.xnnM = int32(math.RoundToEven(float64(256 * ratio)))
			k.xnnBias = zo<<8 + 0x80
		}
		if !ref && !k.xorFast && is8Bit(in.DType) && is8Bit(out.DType) {
			k.lut = newLUT8(in.DType, out.DType, k.quant)
		}
		if !ref && k.lut == nil {
			if in.DType == graph.Int16 {
				k.loop = requantTable16(k, out.DType)
			}
			if k.loop == nil {
				k.loop = requantLoopFor(k, in.DType, out.DType)
			}
		}
		return k, nil
	}
	return nil, unsupported(op, ins, outs, "no QUANTIZE conversion between these types")
}

type dequantizeKernel struct {
	scale float32
	zp    int32
	n     int
	// per-channel: channel c of element i is (i / inner) % len(scales)
	scales []float32
	zps    []int32
	inner  int
	lut    *[256]float32 // 8-bit per-tensor fast path: every input's value
}

func (k *dequantizeKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0].F32
	if k.scales != nil {
		nc := len(k.scales)
		for i := range k.n {
			c := (i / k.inner) % nc
			// TFLite's PerChannelDequantize multiplies in float32.
			y[i] = float32(getInt(x, i)-k.zps[c]) * k.scales[c]
		}
		return nil
	}
	if k.lut != nil {
		if x.DType == graph.Int8 {
			lookupF32(k.lut, x.I8[:k.n], y)
		} else {
			lookupF32(k.lut, x.U8[:k.n], y)
		}
		return nil
	}
	for i := range k.n {
		y[i] = Dequantize(getInt(x, i), k.scale, k.zp)
	}
	return nil
}

func prepareDequantize(op *graph.Op, ins, outs []*graph.Tensor, ref bool) (Kernel, error) {
	in, out := ins[0], outs[0]
	if in.DType == graph.Float16 && out.DType == graph.Float32 {
		if err := checkElems(op, in, out); err != nil {
			return nil, err
		}
		return &dequantizeHalfKernel{n: out.NumElements()}, nil
	}
	if out.DType != graph.Float32 || !(isQuantIO(in.DType) || in.DType == graph.Int32) {
		return nil, unsupported(op, ins, outs, "DEQUANTIZE needs an integer input and a float32 output")
	}
	if err := checkElems(op, in, out); err != nil {
		return nil, err
	}
	if q := in.Quant; q.PerChannel() {
		if q.Axis < 0 || q.Axis >= len(in.Shape) || in.Shape[q.Axis] != len(q.Scale) || len(q.ZeroPoint) != len(q.Scale) {
			return nil, fmt.Errorf("%s: input %q: %d per-channel scales do not fit dimension %d of %v", op.Kind, in.Name, len(q.Scale), q.Axis, in.Shape)
		}
		k := &dequantizeKernel{n: out.NumElements(), scales: q.Scale, inner: 1}
		for d := q.Axis + 1; d < len(in.Shape); d++ {
			k.inner *= in.Shape[d]
		}
		for _, z := range q.ZeroPoint {
			k.zps = append(k.zps, int32(z))
		}
		return k, nil
	}
	s, zp, ok := QuantParams(in)
	if !ok {
		return nil, fmt.Errorf("%s: input tensor %q has no quantization parameters", op.Kind, in.Name)
	}
	k := &dequantizeKernel{scale: s, zp: zp, n: out.NumElements()}
	if !ref && is8Bit(in.DType) {
		k.lut = dequantLUT8(in.DType, s, zp)
	}
	return k, nil
}
