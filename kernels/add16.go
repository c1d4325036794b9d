package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// checkedLog2 is TFLite's CheckedLog2: log2(x) rounded, and whether x is
// within 10^-3 (in the exponent) of that power of two. The logarithm is
// taken in float32 as TFLite does.
func checkedLog2(x float32) (int, bool) {
	l := float32(math.Log(float64(x))) * (1 / float32(math.Log(2)))
	r := roundHalfAway32(l)
	return int(r), math.Abs(float64(l-r)) < 1e-3
}

// addPOTKernel is TFLite's power-of-two int16 ADD (pot_scale_int16 with
// power-of-two scales and zero points 0): one input has the output's
// scale, the other a smaller one and is brought to it by a rounding right
// shift; the sum saturates to int16, then the activation clamp.
type addPOTKernel struct {
	shiftFirst bool // input 0 is the shifted one
	rshift     int
	lo, hi     int32
}

// prepareAddPOT returns the power-of-two kernel when all three scales are
// powers of two (ok false otherwise: the general path applies), or an
// error for what TFLite's power-of-two path refuses.
func prepareAddPOT(op *graph.Op, ins, outs []*graph.Tensor, s1, s2, so float32, act graph.Activation, same bool) (Kernel, bool, error) {
	l1, ok1 := checkedLog2(s1)
	l2, ok2 := checkedLog2(s2)
	lo, ok3 := checkedLog2(so)
	if !ok1 || !ok2 || !ok3 {
		return nil, false, nil
	}
	sh1, sh2 := l1-lo, l2-lo
	if (sh1 != 0 && sh2 != 0) || sh1 > 0 || sh2 > 0 {
		return nil, true, unsupported(op, ins, outs, fmt.Sprintf("power-of-two int16 scaling needs one input at the output's scale and the other at most that (input shifts %d, %d)", sh1, sh2))
	}
	if !same || !sameShape(ins[0].Shape, outs[0].Shape) {
		return nil, true, unsupported(op, ins, outs, "power-of-two int16 scaling with broadcasting")
	}
	ilo, ihi, err := ActivationRangeQuantized(act, graph.Int16, so, 0)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", op.Kind, err)
	}
	k := &addPOTKernel{shiftFirst: sh1 != 0, rshift: -sh1 - sh2, lo: ilo, hi: ihi}
	if sh1 == 0 && sh2 == 0 {
		k.shiftFirst = false
	}
	return k, true, nil
}

// Run implements Kernel.
func (k *addPOTKernel) Run(ins, outs []*Buffer) error {
	a, b, z := ins[0].I16, ins[1].I16, outs[0].I16
	if k.shiftFirst {
		a, b = b, a
	}
	z = z[:len(a)]
	b = b[:len(a)]
	for i, v := range a {
		s := int32(v) + fixedpoint.RoundingDivideByPOT(int32(b[i]), k.rshift)
		s = min(max(s, math.MinInt16), math.MaxInt16)
		z[i] = int16(min(max(s, k.lo), k.hi))
	}
	return nil
}

// add16Fast is addKernel.quantAdd for int16 (zero points 0, inputs
// shifted left by 15) in the branch-free arithmetic of addFinish: each
// input's rescale, the sum, the output's rescale and clamp, in a loop
// with no call per element. The rescales are the reference's
// MultiplyByQuantizedMultiplierSmallerThanOneExp exactly (addFinish.mul,
// tested equal over random and tie-adjacent sums).
type add16Fast struct {
	f1, f2, fo addFinish
	// consts is the AVX2 loop's constant table (add16Consts); goOnly
	// keeps the Go loop (tests compare the two).
	consts *[add16Rows][8]int32
	goOnly bool
}

// add16Rows is the number of rows of add16AVX2's constant table.
const add16Rows = 19

// add16Consts lays out the constants of add16AVX2 (ew_avx2_amd64.s), one
// row of 8 int32 lanes each, in the order of internal/asmgen/ewavx2's
// cML1 … c30: per input the multiplier split into its low 16 bits and
// the rest (the loop forms x·m as two int32 products), the rounding mask,
// half of it and the shift; the output multiplier, mask, half, shift,
// zero point and clamp bounds; 2^15 in every lane and 2^30 in every
// 64-bit lane.
func add16Consts(f1, f2, fo addFinish) *[add16Rows][8]int32 {
	var t [add16Rows][8]int32
	fill := func(r int, v int32) {
		for i := range t[r] {
			t[r][i] = v
		}
	}
	for i, f := range []addFinish{f1, f2} {
		r := 5 * i
		fill(r, int32(f.m&0xFFFF))
		fill(r+1, int32(f.m>>16))
		fill(r+2, f.mask)
		fill(r+3, f.mask>>1)
		t[r+4][0] = int32(f.e)
	}
	fill(10, int32(fo.m))
	fill(11, fo.mask)
	fill(12, fo.mask>>1)
	t[13][0] = int32(fo.e)
	fill(14, fo.off)
	fill(15, fo.ilo)
	fill(16, fo.ihi)
	fill(17, 1<<15)
	for i := 0; i < 8; i += 2 {
		t[18][i] = 1 << 30
	}
	return &t
}

// newAdd16Fast returns the fast form of k's int16 arithmetic, or nil where
// a multiplier or shift lies outside addFinish's range (the reference loop
// then runs).
func newAdd16Fast(k *addKernel) *add16Fast {
	if k.off1 != 0 || k.off2 != 0 || k.leftShift != 15 {
		return nil
	}
	f1, ok1 := newAddFinish(k.m1, k.sh1, 0, math.MinInt32, math.MaxInt32)
	f2, ok2 := newAddFinish(k.m2, k.sh2, 0, math.MinInt32, math.MaxInt32)
	fo, ok3 := newAddFinish(k.mOut, k.shOut, k.offOut, k.ilo, k.ihi)
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	return &add16Fast{f1: f1, f2: f2, fo: fo, consts: add16Consts(f1, f2, fo)}
}

// run sets z[j] = quantAdd(x[j·d1], y[j·d2]) for every j of z (d1, d2 are
// 1, or 0 for an input broadcast along the row).
func (a *add16Fast) run(x, y, z []int16, d1, d2 int) {
	f1, f2, fo := a.f1, a.f2, a.fo
	if d1 == 1 && d2 == 1 {
		x, y = x[:len(z)], y[:len(z)]
		if !a.goOnly {
			done := add16Vec(a, x, y, z)
			x, y, z = x[done:], y[done:], z[done:]
		}
		for j := range z {
			z[j] = int16(fo.at(f1.mul(int32(x[j])<<15) + f2.mul(int32(y[j])<<15)))
		}
		return
	}
	for j := range z {
		z[j] = int16(fo.at(f1.mul(int32(x[j*d1])<<15) + f2.mul(int32(y[j*d2])<<15)))
	}
}
