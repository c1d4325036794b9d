package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// maxBroadcastRank bounds the rank of broadcasting ops so their index
// arithmetic runs on fixed-size arrays, without allocation (TFLite's limit
// is 6).
const maxBroadcastRank = 8

// broadcast maps output positions to the positions of two inputs whose
// shapes broadcast to the output's (NumPy rules).
type broadcast struct {
	rank   int
	out    [maxBroadcastRank]int
	s1, s2 [maxBroadcastRank]int // input strides; 0 along broadcast dimensions
}

func newBroadcast(a, b, out []int) (*broadcast, error) {
	want, err := graph.BroadcastShapes(a, b)
	if err != nil {
		return nil, err
	}
	if graph.NumElements(want) != graph.NumElements(out) {
		return nil, fmt.Errorf("inputs %v and %v broadcast to %v, but the output is %v", a, b, want, out)
	}
	if len(want) > maxBroadcastRank {
		return nil, fmt.Errorf("rank %d exceeds %d", len(want), maxBroadcastRank)
	}
	bc := &broadcast{rank: len(want)}
	copy(bc.out[:], want)
	strides := func(s []int, dst *[maxBroadcastRank]int) {
		st := 1
		for i := len(want) - 1; i >= 0; i-- {
			j := len(s) - len(want) + i
			if j >= 0 && s[j] != 1 {
				dst[i] = st
				st *= s[j]
			}
		}
	}
	strides(a, &bc.s1)
	strides(b, &bc.s2)
	bc.simplify()
	return bc, nil
}

// simplify drops the output's axes of size 1 and merges each axis into the
// one before it where both inputs step over the pair as over one axis
// (the outer stride is the inner one times the inner size, or both are 0),
// so eachRow's rows are as long as the shapes allow: [2 40 40 16] +
// [1 40 40 16] walks as [2 25600] + [1 25600]. each and eachRow visit the
// same positions in the same order as before.
func (bc *broadcast) simplify() {
	r := 0
	for d := range bc.rank {
		n, a, b := bc.out[d], bc.s1[d], bc.s2[d]
		switch {
		case n == 1:
		case r > 0 && bc.s1[r-1] == a*n && bc.s2[r-1] == b*n:
			bc.out[r-1] *= n
			bc.s1[r-1], bc.s2[r-1] = a, b
		default:
			bc.out[r], bc.s1[r], bc.s2[r] = n, a, b
			r++
		}
	}
	for d := r; d < bc.rank; d++ {
		bc.out[d], bc.s1[d], bc.s2[d] = 0, 0, 0
	}
	bc.rank = r
}

// each calls f(outIndex, in1Index, in2Index) for every output element in
// row-major order.
func (bc *broadcast) each(f func(o, i1, i2 int)) {
	n := 1
	for d := range bc.rank {
		n *= bc.out[d]
	}
	if n == 0 {
		return
	}
	var idx [maxBroadcastRank]int
	i1, i2 := 0, 0
	for o := 0; o < n; o++ {
		f(o, i1, i2)
		for d := bc.rank - 1; d >= 0; d-- {
			idx[d]++
			i1 += bc.s1[d]
			i2 += bc.s2[d]
			if idx[d] < bc.out[d] {
				break
			}
			i1 -= bc.s1[d] * idx[d]
			i2 -= bc.s2[d] * idx[d]
			idx[d] = 0
		}
	}
}

// eachRow calls f once per run of the output's innermost dimension: the n
// output elements from o on, whose inputs are at i1 + j·d1 and i2 + j·d2
// (d1, d2 are 1, or 0 where that input broadcasts along the dimension).
// It visits the same positions as each with a call per row, not per element.
func (bc *broadcast) eachRow(f func(o, i1, i2, n, d1, d2 int)) {
	if bc.rank == 0 {
		f(0, 0, 0, 1, 0, 0)
		return
	}
	last := bc.rank - 1
	n := bc.out[last]
	rows := 1
	for d := range last {
		rows *= bc.out[d]
	}
	if n == 0 || rows == 0 {
		return
	}
	var idx [maxBroadcastRank]int
	i1, i2 := 0, 0
	for r := 0; r < rows; r++ {
		f(r*n, i1, i2, n, bc.s1[last], bc.s2[last])
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			i1 += bc.s1[d]
			i2 += bc.s2[d]
			if idx[d] < bc.out[d] {
				break
			}
			i1 -= bc.s1[d] * idx[d]
			i2 -= bc.s2[d] * idx[d]
			idx[d] = 0
		}
	}
}

// addKernel implements ADD for float32, int32 and quantized integers.
type addKernel struct {
	bc   *broadcast
	same bool // identical input shapes: a flat loop
	// vec: the float32 and XNNPACK 8-bit loops may run their SIMD and
	// row forms (not with ref, which keeps the per-element loops).
	vec bool
	// float32 / int32 activation bounds
	flo, fhi float32
	ilo, ihi int32
	// quantized parameters (TFLite's general path)
	off1, off2, offOut int32
	leftShift          int
	m1, m2, mOut       int32
	sh1, sh2, shOut    int
	// lut is the builtin 8-bit ADD's fast path: the output byte of every
	// pair of inputs, at uint8(x)<<8 | uint8(y) (64 KiB, one lookup per
	// element instead of two rescales).
	lut *[1 << 16]uint8
	// xnn, when set, is the TFLite runtime's XNNPACK ADD (no tables);
	// xnnSame runs it as one loop over same-shape inputs (not with ref).
	xnn     *xnnAdd
	xnnSame bool
	// add16 is the general int16 ADD without per-element calls (not with
	// ref, which keeps quantAdd).
	add16 *add16Fast
}

// addFinish is finish without branches on the data: the output rescale of a
// sum whose sign varies element to element would mispredict half the time.
type addFinish struct {
	m             int64 // mOut
	e             uint  // −shOut, the rounding right shift, in [0, 31]
	mask          int32 // 2^e − 1
	off, ilo, ihi int32
}

// at equals addKernel.finish(s) for multipliers in (0, 2^31): the
// saturating case of SaturatingRoundingDoublingHighMul (both factors
// −2^31) cannot occur; its nudged truncating division, (ab + 2^30) / 2^31
// for ab ≥ 0 and (ab + 1 − 2^30) / 2^31 below, is ⌊(ab + 2^30) / 2^31⌋
// in both cases (ties round up), an arithmetic shift; and
// RoundingDivideByPOT's "remainder > threshold" is the sign of their
// difference (both lie in [0, 2^31)).
func (f *addFinish) at(s int32) int32 {
	return min(max(f.mul(s)+f.off, f.ilo), f.ihi)
}

// mul is at's rescale alone (no offset, no clamp):
// MultiplyByQuantizedMultiplierSmallerThanOneExp(s, m, −e).
func (f *addFinish) mul(s int32) int32 {
	h := int32((int64(s)*f.m + 1<<30) >> 31)
	rem := h & f.mask
	thr := f.mask>>1 + int32(uint32(h)>>31)
	return h>>f.e + int32(uint32(thr-rem)>>31)
}

// newAddFinish is the branch-free form of a multiplier m and exponent
// shift (≤ 0) from QuantizeMultiplierSmallerThanOneExp, or false where
// at's conditions (m in (0, 2^31), −shift in [0, 31]) do not hold.
func newAddFinish(m int32, shift int, off, lo, hi int32) (addFinish, bool) {
	if m <= 0 || shift > 0 || shift < -31 {
		return addFinish{}, false
	}
	e := uint(-shift)
	return addFinish{m: int64(m), e: e, mask: int32(1)<<e - 1, off: off, ilo: lo, ihi: hi}, true
}

// scale1 and scale2 bring an input to the common scale.
func (k *addKernel) scale1(x int32) int32 {
	return fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp((k.off1+x)*(1<<k.leftShift), k.m1, k.sh1)
}

func (k *addKernel) scale2(y int32) int32 {
	return fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp((k.off2+y)*(1<<k.leftShift), k.m2, k.sh2)
}

// finish rescales a sum at the common scale to the output and clamps.
func (k *addKernel) finish(s int32) int32 {
	r := fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp(s, k.mOut, k.shOut) + k.offOut
	return min(max(r, k.ilo), k.ihi)
}

// quantAdd is the reference arithmetic for one pair of integer elements.
func (k *addKernel) quantAdd(x, y int32) int32 {
	if a := k.xnn; a != nil {
		return min(max((a.bias+x*a.ma+y*a.mb)>>a.shift+k.offOut, k.ilo), k.ihi)
	}
	return k.finish(k.scale1(x) + k.scale2(y))
}

// xnnAdd is XNNPACK's 8-bit ADD (the TFLite runtime's delegate takes int8
// and uint8 ones):
// out = (bias + a·ma + b·mb) >> shift + zpOut, clamped, with multipliers
// of 21 bits formed from the float32 ratios sA/sOut and sB/sOut
// (xnn_init_qs8_add_minmax_*_params): shift = 20 − exponent of the larger
// ratio, m = roundHalfEven(ratio·2^shift), and bias = 2^(shift−1) −
// ma·zpA − mb·zpB, so the shift rounds half up. TFLite's builtin ADD
// brings both inputs to a common scale with 31-bit multipliers instead,
// which differs on a few percent of values.
type xnnAdd struct {
	ma, mb, bias int32
	shift        uint
}

// newXNNAdd returns the XNNPACK form of an 8-bit ADD, or false when
// XNNPACK refuses the scales (a ratio outside [2^−10, 2^8)) and the
// builtin kernel runs.
func newXNNAdd(sA, sB, sOut float32, zA, zB int32) (xnnAdd, bool) {
	ra, rb := sA/sOut, sB/sOut
	ok := func(r float32) bool { return r >= 1.0/1024 && r < 256 }
	if !ok(ra) || !ok(rb) {
		return xnnAdd{}, false
	}
	e := int(math.Float32bits(max(ra, rb))>>23) - 127
	shift := 20 - e
	ma := int32(math.RoundToEven(float64(ra) * math.Ldexp(1, shift)))
	mb := int32(math.RoundToEven(float64(rb) * math.Ldexp(1, shift)))
	return xnnAdd{ma: ma, mb: mb, bias: 1<<(shift-1) - ma*zA - mb*zB, shift: uint(shift)}, true
}

// addXNNSame is quantAdd's XNNPACK form as one loop over same-shape
// inputs (a residual ADD), without the broadcast walk's per-element call.
func addXNNSame[T ~int8 | ~uint8](k *addKernel, x, y, z []T) {
	addXNNRun(k.xnn, k.offOut, k.ilo, k.ihi, x, y, z)
}

// addXNNRun is addXNNSame with the parameters as arguments: the SIMD loop
// over whole blocks, then the Go loop.
func addXNNRun[T ~int8 | ~uint8](a *xnnAdd, zo, lo, hi int32, x, y, z []T) {
	z, y = z[:len(x)], y[:len(x)]
	done := addXNNVec(a, zo, lo, hi, x, y, z)
	x, y, z = x[done:], y[done:], z[done:]
	for i, v := range x {
		z[i] = T(min(max((a.bias+int32(v)*a.ma+int32(y[i])*a.mb)>>a.shift+zo, lo), hi))
	}
}

// addLUT8 is the builtin 8-bit ADD through k.lut.
func addLUT8[T ~int8 | ~uint8](k *addKernel, x, y, z []T) {
	t := k.lut
	if k.same {
		z = z[:len(x)]
		y = y[:len(x)]
		for i, v := range x {
			z[i] = T(t[uint16(uint8(v))<<8|uint16(uint8(y[i]))])
		}
		return
	}
	k.bc.eachRow(func(o, i1, i2, n, d1, d2 int) { addLUTRow(t, x[i1:], y[i2:], z[o:o+n], d1, d2) })
}

func (k *addKernel) Run(ins, outs []*Buffer) error {
	a, b, o := ins[0], ins[1], outs[0]
	switch o.DType {
	case graph.Float32:
		x, y, z := a.F32, b.F32, o.F32
		if k.same {
			z = z[:len(x)]
			y = y[:len(x)]
			if k.vec {
				done := addF32Vec(x, y, z, k.flo, k.fhi)
				x, y, z = x[done:], y[done:], z[done:]
			}
			for i, v := range x {
				z[i] = min(max(v+y[i], k.flo), k.fhi)
			}
			return nil
		}
		if k.vec {
			k.bc.eachRow(func(o, i1, i2, n, d1, d2 int) { addF32Row(x[i1:], y[i2:], z[o:o+n], d1, d2, k.flo, k.fhi) })
			return nil
		}
		k.bc.eachRow(func(o, i1, i2, n, d1, d2 int) {
			for j := range n {
				z[o+j] = min(max(x[i1+j*d1]+y[i2+j*d2], k.flo), k.fhi)
			}
		})
	case graph.Int32:
		x, y, z := a.I32, b.I32, o.I32
		k.bc.each(func(oi, i1, i2 int) { z[oi] = min(max(x[i1]+y[i2], k.ilo), k.ihi) })
	case graph.Int8:
		if k.lut != nil {
			addLUT8(k, a.I8, b.I8, o.I8)
			return nil
		}
		if k.xnnSame {
			addXNNSame(k, a.I8, b.I8, o.I8)
			return nil
		}
		x, y, z := a.I8, b.I8, o.I8
		if k.xnn != nil && k.vec {
			k.bc.eachRow(func(o, i1, i2, n, d1, d2 int) { addXNNRow(k, x[i1:], y[i2:], z[o:o+n], d1, d2) })
			return nil
		}
		k.bc.each(func(oi, i1, i2 int) { z[oi] = int8(k.quantAdd(int32(x[i1]), int32(y[i2]))) })
	case graph.UInt8:
		if k.lut != nil {
			addLUT8(k, a.U8, b.U8, o.U8)
			return nil
		}
		if k.xnnSame {
			addXNNSame(k, a.U8, b.U8, o.U8)
			return nil
		}
		x, y, z := a.U8, b.U8, o.U8
		if k.xnn != nil && k.vec {
			k.bc.eachRow(func(o, i1, i2, n, d1, d2 int) { addXNNRow(k, x[i1:], y[i2:], z[o:o+n], d1, d2) })
			return nil
		}
		k.bc.each(func(oi, i1, i2 int) { z[oi] = uint8(k.quantAdd(int32(x[i1]), int32(y[i2]))) })
	case graph.Int16:
		x, y, z := a.I16, b.I16, o.I16
		if f := k.add16; f != nil {
			if k.same {
				f.run(x, y, z[:len(x)], 1, 1)
				return nil
			}
			k.bc.eachRow(func(o, i1, i2, n, d1, d2 int) { f.run(x[i1:], y[i2:], z[o:o+n], d1, d2) })
			return nil
		}
		k.bc.each(func(oi, i1, i2 int) { z[oi] = int16(k.quantAdd(int32(x[i1]), int32(y[i2]))) })
	}
	return nil
}

func prepareAdd(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding, ref bool) (Kernel, error) {
	if len(ins) < 2 || ins[1] == nil {
		return nil, fmt.Errorf("%s: needs two inputs", op.Kind)
	}
	x, y, out := ins[0], ins[1], outs[0]
	if x.DType != out.DType || y.DType != out.DType {
		return nil, unsupported(op, ins, outs, "inputs and output must share one dtype")
	}
	act, pot := graph.ActNone, false
	if o, ok := op.Options.(*graph.AddOptions); ok {
		act, pot = o.Activation, o.PotScaleInt16
	}
	bc, err := newBroadcast(x.Shape, y.Shape, out.Shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", op.Kind, err, graph.ErrShape)
	}
	k := &addKernel{bc: bc, same: sameShape(x.Shape, y.Shape), vec: !ref}
	switch out.DType {
	case graph.Float32:
		if k.flo, k.fhi, err = ActivationRangeFloat(act); err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		return k, nil
	case graph.Int32:
		lo, hi, err := ActivationRangeFloat(act)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		k.ilo, k.ihi = math.MinInt32, math.MaxInt32
		if act != graph.ActNone {
			k.ilo = int32(lo)
			if act != graph.ActRelu {
				k.ihi = int32(hi)
			}
		}
		return k, nil
	case graph.Int8, graph.UInt8, graph.Int16:
	default:
		return nil, unsupported(op, ins, outs, "dtype")
	}
	s1, z1, err := requireQuant(op, "input1", x)
	if err != nil {
		return nil, err
	}
	s2, z2, err := requireQuant(op, "input2", y)
	if err != nil {
		return nil, err
	}
	so, zo, err := requireQuant(op, "output", out)
	if err != nil {
		return nil, err
	}
	if out.DType == graph.Int16 {
		if z1 != 0 || z2 != 0 || zo != 0 {
			return nil, unsupported(op, ins, outs, fmt.Sprintf("int16 needs zero points 0 (%q %d, %q %d, %q %d)", x.Name, z1, y.Name, z2, out.Name, zo))
		}
		// pot_scale_int16 asks for TFLite's power-of-two path, which it
		// takes only when all three scales are powers of two; otherwise
		// the general path below runs, as in TFLite.
		if pot {
			if k, ok, err := prepareAddPOT(op, ins, outs, s1, s2, so, act, k.same); ok || err != nil {
				return k, err
			}
		}
	}
	// TFLite's general quantized ADD: both inputs are brought to a common
	// scale of twice the larger input scale with 20 (8-bit) or 15 (16-bit)
	// bits of headroom, summed, then rescaled to the output.
	k.off1, k.off2, k.offOut = -z1, -z2, zo
	k.leftShift = 20
	if out.DType == graph.Int16 {
		k.leftShift = 15
	}
	twiceMax := 2 * float64(max(s1, s2))
	var ok1, ok2, ok3 bool
	k.m1, k.sh1, ok1 = fixedpoint.QuantizeMultiplierSmallerThanOneExp(float64(s1) / twiceMax)
	k.m2, k.sh2, ok2 = fixedpoint.QuantizeMultiplierSmallerThanOneExp(float64(s2) / twiceMax)
	k.mOut, k.shOut, ok3 = fixedpoint.QuantizeMultiplierSmallerThanOneExp(twiceMax / (float64(int64(1)<<k.leftShift) * float64(so)))
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("%s: scales %g, %g -> %g give a rescale multiplier of 1 or more", op.Kind, s1, s2, so)
	}
	if k.ilo, k.ihi, err = ActivationRangeQuantized(act, out.DType, so, zo); err != nil {
		return nil, fmt.Errorf("%s: %w", op.Kind, err)
	}
	if !ref && out.DType == graph.Int16 {
		k.add16 = newAdd16Fast(k)
	}
	if rnd == fixedpoint.RuntimeRounding && is8Bit(out.DType) {
		if x, ok := newXNNAdd(s1, s2, so, z1, z2); ok {
			k.xnn, k.xnnSame = &x, !ref && k.same
			return k, nil
		}
	}
	if !ref && is8Bit(out.DType) && k.mOut > 0 && k.shOut <= 0 && k.shOut >= -31 {
		// The table holds the reference's result for every input pair:
		// each input's rescale (scale1, scale2) once per value, then
		// finish's arithmetic without branches (addFinish, tested equal).
		e := uint(-k.shOut)
		fin := addFinish{m: int64(k.mOut), e: e, mask: int32(1)<<e - 1, off: k.offOut, ilo: k.ilo, ihi: k.ihi}
		var t1, t2 [256]int32
		lo, hi := DTypeRange(out.DType)
		for v := lo; v <= hi; v++ {
			t1[uint8(v)], t2[uint8(v)] = k.scale1(v), k.scale2(v)
		}
		k.lut = new([1 << 16]uint8)
		for a, s1 := range t1 {
			row := k.lut[a<<8 : a<<8+256]
			for b, s2 := range t2 {
				row[b] = uint8(fin.at(s1 + s2))
			}
		}
	}
	return k, nil
}

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
	lut   *[256]uint8
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
		k.lut = lut8For(in.DType, k.quant)
		k.lo8, k.hi8, k.clamp8 = lutClamp(k.lut, in.DType)
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
	lut            *[256]uint8 // 8-bit fast path: quant of every input
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
		k.lut = lut8For(in.DType, k.quant)
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
	lut             *[256]uint8 // int8 fast path: k.int8 of every input
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
			k.lut = lut8For(in.DType, func(v int32) int32 { return int32(k.int8(v)) + want + 128 })
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
