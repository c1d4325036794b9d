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
