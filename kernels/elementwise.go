package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// reluKernel implements RELU and RELU6. Float clamps; integers rescale from
// the input to the output quantization and clamp to the quantized bounds.
type reluKernel struct {
	flo, fhi float32
	zpIn     int32
	zpOut    int32
	mult     int32
	shift    int
	lo, hi   int32
	n        int
	// Fast paths: an 8-bit input maps through a table of every input's
	// result; an int16 tensor with the input's quantization is a clamp.
	lut   *lut8
	clamp bool
	// clamp8: lut is a clamp of the input to [lo8, hi8] (the rescale is the
	// identity: input and output quantization equal), run as min/max.
	clamp8   bool
	lo8, hi8 int32
	// rnd is the rescale's arithmetic (see prepareRelu).
	rnd fixedpoint.Rounding
}

// quant is the reference arithmetic for one integer element.
func (k *reluKernel) quant(v int32) int32 {
	v = k.zpOut + k.rnd.MultiplyByQuantizedMultiplier(v-k.zpIn, k.mult, k.shift)
	return min(max(v, k.lo), k.hi)
}

func (k *reluKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	switch {
	case y.DType == graph.Float32:
		ys := y.F32[:k.n]
		for i, v := range x.F32[:k.n] {
			ys[i] = min(max(v, k.flo), k.fhi)
		}
	case k.clamp8:
		clampBuf8(x, y, k.n, k.lo8, k.hi8)
	case k.lut != nil:
		applyLUT8(k.lut, x, y, k.n)
	case k.clamp:
		lo, hi := int16(k.lo), int16(k.hi)
		ys := y.I16[:k.n]
		for i, v := range x.I16[:k.n] {
			ys[i] = min(max(v, lo), hi)
		}
	default:
		for i := range k.n {
			setInt(y, i, k.quant(getInt(x, i)))
		}
	}
	return nil
}

func prepareRelu(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding, ref bool) (Kernel, error) {
	in, out := ins[0], outs[0]
	if in.DType != out.DType {
		return nil, unsupported(op, ins, outs, "input and output dtypes differ")
	}
	if err := checkElems(op, in, out); err != nil {
		return nil, err
	}
	top := float32(math.Inf(1))
	if op.Kind == graph.OpRelu6 {
		top = 6
	}
	k := &reluKernel{n: out.NumElements()}
	switch out.DType {
	case graph.Float32:
		k.flo, k.fhi = 0, top
		return k, nil
	case graph.Int8, graph.UInt8, graph.Int16:
	default:
		return nil, unsupported(op, ins, outs, "dtype")
	}
	si, zi, err := requireQuant(op, "input", in)
	if err != nil {
		return nil, err
	}
	so, zo, err := requireQuant(op, "output", out)
	if err != nil {
		return nil, err
	}
	k.zpIn, k.zpOut = zi, zo
	// int16 rescales with the builtin kernels' single rounding in the
	// runtime modes (measured: double rounding gave 1–3 of 7,680 values one
	// step off); 8-bit RELU keeps double rounding with the float32 scale
	// ratio below, which the oracle matches (single rounding put 170 of 960
	// uint8 values one step off; RELU, RELU6, RELU_N1_TO_1 and RELU_0_TO_1
	// on 240 random int8/uint8 quantizations, every input value: 0 of
	// 61,440 differ).
	k.rnd = fixedpoint.DoubleRounding
	if in.DType == graph.Int16 {
		k.rnd = rnd.Builtin()
	}
	// TFLite's ReluPrepare divides the scales in float32 (float operands)
	// before widening the ratio to double.
	k.mult, k.shift = k.rnd.QuantizeMultiplier(float64(si / so))
	qmin, qmax := DTypeRange(out.DType)
	k.lo = max(qmin, zo+int32(roundHalfAway32(0/so)))
	k.hi = qmax
	if op.Kind == graph.OpRelu6 {
		k.hi = min(qmax, zo+int32(roundHalfAway32(top/so)))
	}
	switch {
	case ref:
	case is8Bit(in.DType):
		k.lut = newLUT8(in.DType, out.DType, k.quant)
		k.lo8, k.hi8, k.clamp8 = lutClamp(&k.lut.t, in.DType)
	case si == so && zi == zo:
		// A multiplier of exactly one (2^30, shift 1) returns its input
		// for every int16 difference, in either arithmetic.
		k.clamp = k.mult == 1<<30 && k.shift == 1
	}
	return k, nil
}

// leakyReluKernel: x for x ≥ 0, alpha·x below; integers use one multiplier
// for each branch (TFLite's QuantizeLeakyRelu).
type leakyReluKernel struct {
	alpha         float32
	zpIn, zpOut   int32
	mID, mAlpha   int32
	shID, shAlpha int
	lo, hi        int32
	n             int
	// XNNPACK's 8-bit variant: (bias + v·m) >> 8, m = round(256·scale)
	xnn            bool
	xnnPos, xnnNeg int32
	xnnBias        int32
	lut            *lut8 // 8-bit fast path: quant of every input
}

// quant is the reference arithmetic for one integer element.
func (k *leakyReluKernel) quant(v int32) int32 {
	v -= k.zpIn
	if k.xnn {
		m := k.xnnPos
		if v < 0 {
			m = k.xnnNeg
		}
		return min(max((k.xnnBias+v*m)>>8, k.lo), k.hi)
	}
	if v >= 0 {
		v = k.zpOut + fixedpoint.MultiplyByQuantizedMultiplier(v, k.mID, k.shID)
	} else {
		v = k.zpOut + fixedpoint.MultiplyByQuantizedMultiplier(v, k.mAlpha, k.shAlpha)
	}
	return min(max(v, k.lo), k.hi)
}

func (k *leakyReluKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	switch {
	case y.DType == graph.Float32:
		ys := y.F32[:k.n]
		for i, v := range x.F32[:k.n] {
			if v > 0 {
				ys[i] = v
			} else {
				ys[i] = v * k.alpha
			}
		}
	case k.lut != nil:
		applyLUT8(k.lut, x, y, k.n)
	default:
		for i := range k.n {
			setInt(y, i, k.quant(getInt(x, i)))
		}
	}
	return nil
}

func prepareLeakyRelu(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding, ref bool) (Kernel, error) {
	in, out := ins[0], outs[0]
	if in.DType != out.DType {
		return nil, unsupported(op, ins, outs, "input and output dtypes differ")
	}
	if err := checkElems(op, in, out); err != nil {
		return nil, err
	}
	o, ok := op.Options.(*graph.LeakyReluOptions)
	if !ok {
		return nil, fmt.Errorf("%s: options are %T, want *graph.LeakyReluOptions", op.Kind, op.Options)
	}
	k := &leakyReluKernel{alpha: o.Alpha, n: out.NumElements()}
	switch out.DType {
	case graph.Float32:
		return k, nil
	case graph.Int8, graph.UInt8, graph.Int16:
	default:
		return nil, unsupported(op, ins, outs, "dtype")
	}
	si, zi, err := requireQuant(op, "input", in)
	if err != nil {
		return nil, err
	}
	so, zo, err := requireQuant(op, "output", out)
	if err != nil {
		return nil, err
	}
	k.zpIn, k.zpOut = zi, zo
	// TFLite forms both ratios in float32 before widening to double.
	k.mAlpha, k.shAlpha = fixedpoint.QuantizeMultiplier(float64(si * o.Alpha / so))
	k.mID, k.shID = fixedpoint.QuantizeMultiplier(float64(si / so))
	k.lo, k.hi = DTypeRange(out.DType)
	// The TFLite runtime's delegate takes 8-bit LEAKY_RELU when the scales
	// are in the range its 8-bit multipliers cover; XNNPACK rescales with
	// round(256·scale) and a rounding bias, not with Q31 multipliers as the
	// builtin kernel (single, double) does.
	pos := si / so
	neg := pos * o.Alpha
	inRange := func(s float32) bool { return s >= 1.0/256 && s <= 128 }
	if rnd == fixedpoint.RuntimeRounding && out.DType != graph.Int16 && inRange(pos) && inRange(float32(math.Abs(float64(neg)))) {
		k.xnn = true
		k.xnnPos = int32(math.RoundToEven(float64(256 * pos)))
		k.xnnNeg = int32(math.RoundToEven(float64(256 * neg)))
		k.xnnBias = zo<<8 + 0x80
	}
	if !ref && is8Bit(in.DType) {
		k.lut = newLUT8(in.DType, out.DType, k.quant)
	}
	return k, nil
}

// logisticKernel implements LOGISTIC: float directly, int8 with gemmlowp's
// fixed-point logistic (TFLM's reference; uint8 is the int8 result + 128,
// as in TFLite's uint8 kernel), int16 with TFLite's interpolated 256-entry
// sigmoid table.
type logisticKernel struct {
	n int
	// int8
	zpIn, radius, mult int32
	leftShift          int
	// int16
	mult16, shift16 int32
	table           *[256]uint16
	lut             *lut8 // int8 fast path: k.int8 of every input
}

func (k *logisticKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	switch y.DType {
	case graph.Float32:
		for i, v := range x.F32[:k.n] {
			y.F32[i] = logisticFloat(v)
		}
	case graph.Int8:
		if k.lut != nil {
			applyLUT8(k.lut, x, y, k.n)
			return nil
		}
		for i, v := range x.I8[:k.n] {
			y.I8[i] = k.int8(int32(v))
		}
	case graph.UInt8:
		if k.lut != nil {
			applyLUT8(k.lut, x, y, k.n)
			return nil
		}
		for i, v := range x.U8[:k.n] {
			y.U8[i] = uint8(int32(k.int8(int32(v))) + 128)
		}
	case graph.Int16:
		for i, v := range x.I16[:k.n] {
			y.I16[i] = k.int16(v)
		}
	}
	return nil
}

// logisticFloat follows TFLite's reference: saturate above ~16.6, use exp(x)
// below −9, else 1/(1+exp(−x)) in float32.
func logisticFloat(v float32) float32 {
	const upper, lower = 16.619047164916992188, -9
	switch {
	case v > upper:
		return 1
	case v < lower:
		return float32(math.Exp(float64(v)))
	}
	return 1 / (1 + float32(math.Exp(float64(-v))))
}

func (k *logisticKernel) int8(v int32) int8 {
	in := v - k.zpIn
	switch {
	case in <= -k.radius:
		return math.MinInt8
	case in >= k.radius:
		return math.MaxInt8
	}
	q4 := fixedpoint.MultiplyByQuantizedMultiplier(in, k.mult, k.leftShift)
	q0 := fixedpoint.Logistic(q4, 4)
	r := fixedpoint.RoundingDivideByPOT(q0, 31-8) - 128
	return int8(min(max(r, math.MinInt8), math.MaxInt8))
}

func (k *logisticKernel) int16(v int16) int16 {
	mult, shift := k.mult16, k.shift16
	var round int32
	if shift > 0 {
		round = 1 << (shift - 1)
	}
	in := (int32(v)*mult + round) >> shift
	abs := uint32(in)
	if in < 0 {
		abs = uint32(-in)
	}
	uh := abs >> 9
	var r uint32
	if uh >= 255 {
		r = 0x7fff << 10
	} else {
		ua, ub := uint32(k.table[uh]), uint32(k.table[uh+1])
		r = ua<<9 + (abs&0x1ff)*(ub-ua)
	}
	if in >= 0 {
		r += 1 << 9
	} else {
		r = 1<<(16+9) - r + 1<<9 - 1
	}
	return int16(r >> 10)
}

// sigmoidTable16 builds the 256-entry table TFLite's int16 LOGISTIC
// interpolates: sigmoid(i/24) in 0.16 fixed point. Linear interpolation
// under a concave curve undershoots, so each entry is lifted by half the
// largest gap between the curve and the chord to the next entry, which is
// what TFLite's table holds; the last entry saturates to 65535.
func sigmoidTable16() *[256]uint16 {
	var t [256]uint16
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for i := range t {
		a, b := float64(i)/24, float64(i+1)/24
		sa, sb := sig(a), sig(b)
		slope := (sb - sa) * 24
		// The gap peaks where sigmoid' = s(1−s) equals the chord's slope.
		sStar := (1 + math.Sqrt(max(0, 1-4*slope))) / 2
		x := min(max(math.Log(sStar/(1-sStar)), a), b)
		gap := sig(x) - (sa + slope*(x-a))
		t[i] = uint16(min(math.Round(65536*(sa+gap/2)), 65535))
	}
	t[255] = 65535
	return &t
}

func prepareLogistic(op *graph.Op, ins, outs []*graph.Tensor, ref bool) (Kernel, error) {
	in, out := ins[0], outs[0]
	if in.DType != out.DType {
		return nil, unsupported(op, ins, outs, "input and output dtypes differ")
	}
	if err := checkElems(op, in, out); err != nil {
		return nil, err
	}
	k := &logisticKernel{n: out.NumElements()}
	switch out.DType {
	case graph.Float32:
		return k, nil
	case graph.Int8, graph.UInt8:
		si, zi, err := requireQuant(op, "input", in)
		if err != nil {
			return nil, err
		}
		so, zo, err := requireQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		// TFLite only insists on the zero point; the kernel's output is in
		// units of 1/256 whatever scale the tensor declares. The uint8
		// kernel's result is the int8 one plus 128.
		want := int32(-128)
		if out.DType == graph.UInt8 {
			want = 0
		}
		if zo != want {
			return nil, unsupported(op, ins, outs, fmt.Sprintf("%s output zero point must be %d, got %d (scale %g)", out.DType, want, zo, so))
		}
		// The input is brought to Q4.27 (4 integer bits); inputs beyond the
		// radius saturate.
		const intBits = 4
		real := float64(si) * float64(int64(1)<<(31-intBits))
		frac, exp := math.Frexp(real)
		k.zpIn = zi
		k.leftShift = exp
		k.mult = int32(math.Round(frac * (1 << 31)))
		maxIn := float64((1<<intBits)-1) * float64(int64(1)<<(31-intBits)) / math.Ldexp(1, exp)
		k.radius = int32(math.Floor(maxIn))
		if !ref {
			k.lut = newLUT8(in.DType, out.DType, func(v int32) int32 { return int32(k.int8(v)) + want + 128 })
		}
		return k, nil
	case graph.Int16:
		si, zi, err := requireQuant(op, "input", in)
		if err != nil {
			return nil, err
		}
		so, zo, err := requireQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		if zi != 0 || zo != 0 || so != 1.0/32768 {
			return nil, unsupported(op, ins, outs, "int16 needs zero points 0 and output scale 2^-15")
		}
		// The table expects the input in units of 1/(3·4096); a power-of-two
		// input scale of 2^-12 maps with multiplier 3 and no shift.
		k.table = sigmoidTable16()
		// TFLite accepts log2(scale) within 1e-3 of an integer as a power of two.
		if l2 := math.Log2(float64(si)); math.Abs(l2-math.Round(l2)) < 1e-3 && math.Round(l2) == -12 {
			k.mult16, k.shift16 = 3, 0
			return k, nil
		}
		m := float64(si) * 4096 * 3
		shift := int32(0)
		for m <= 32767.0/2 && shift <= 30 {
			shift++
			m *= 2
		}
		k.mult16, k.shift16 = int32(m), shift
		return k, nil
	}
	return nil, unsupported(op, ins, outs, "dtype")
}
