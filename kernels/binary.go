package kernels

import (
	"errors"
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// Elementwise binary ops with NumPy broadcasting: MUL, SUB, DIV,
// SQUARED_DIFFERENCE, MINIMUM, MAXIMUM, FLOOR_DIV, FLOOR_MOD, POW (this
// file); comparisons, logical ops, SELECT, ADD_N and PRELU (binary_misc.go).
//
// One kernel type, binKernel, runs them all: prepare picks, per op and
// dtype, the scalar arithmetic (a func of two elements) and the broadcast
// walk is shared. Quantized arithmetic follows TFLite's builtin kernels
// (the reference integer kernels, which TFLite Micro also uses).

// errIntDomain is returned by integer DIV, FLOOR_DIV and FLOOR_MOD and by
// float FLOOR_DIV on a zero divisor and by integer POW on a negative
// exponent (TFLite fails the op there).
var errIntDomain = errors.New("division by zero or negative integer exponent")

// binKernel applies one scalar function per output element. Exactly the
// field matching the output dtype is set.
type binKernel struct {
	bc  *broadcast
	f32 func(a, b float32) float32
	i32 func(a, b int32) (int32, bool) // false: division by zero
	i64 func(a, b int64) (int64, bool)
	q   func(a, b int32) int32 // quantized: raw values in, clamped raw value out
	// raw: int8/uint8/int16 as plain integers (no quantization), result
	// clamped to the dtype; false on a zero divisor.
	raw func(a, b int32) (int32, bool)
	// zeroDivErr: a zero float divisor fails the op (TFLite's FLOOR_DIV).
	zeroDivErr bool
	// flo, fhi clamp float32 results (fused activation); ilo, ihi integer ones.
	flo, fhi float32
	ilo, ihi int64
}

func (k *binKernel) Run(ins, outs []*Buffer) error {
	a, b, o := ins[0], ins[1], outs[0]
	switch o.DType {
	case graph.Float32:
		x, y, z, lo, hi := a.F32, b.F32, o.F32, k.flo, k.fhi
		if k.zeroDivErr {
			for _, v := range y {
				if v == 0 {
					return errIntDomain
				}
			}
		}
		k.bc.eachRow(func(oi, i1, i2, n, d1, d2 int) {
			for j := range n {
				z[oi+j] = min(max(k.f32(x[i1+j*d1], y[i2+j*d2]), lo), hi)
			}
		})
	case graph.Int32:
		x, y, z := a.I32, b.I32, o.I32
		lo, hi := int32(k.ilo), int32(k.ihi)
		ok := true
		k.bc.each(func(oi, i1, i2 int) {
			v, good := k.i32(x[i1], y[i2])
			ok = ok && good
			z[oi] = min(max(v, lo), hi)
		})
		if !ok {
			return errIntDomain
		}
	case graph.Int64:
		x, y, z := a.I64, b.I64, o.I64
		ok := true
		k.bc.each(func(oi, i1, i2 int) {
			v, good := k.i64(x[i1], y[i2])
			ok = ok && good
			z[oi] = min(max(v, k.ilo), k.ihi)
		})
		if !ok {
			return errIntDomain
		}
	case graph.Int8:
		return binQuant(k, a.I8, b.I8, o.I8)
	case graph.UInt8:
		return binQuant(k, a.U8, b.U8, o.U8)
	case graph.Int16:
		return binQuant(k, a.I16, b.I16, o.I16)
	}
	return nil
}

// binQuant is the 8- and 16-bit loop: k.q (quantized) or k.raw (plain
// integers) gets the stored values and returns the clamped result.
func binQuant[T ~int8 | ~uint8 | ~int16](k *binKernel, x, y, z []T) error {
	if k.raw != nil {
		ok := true
		k.bc.each(func(o, i1, i2 int) {
			v, good := k.raw(int32(x[i1]), int32(y[i2]))
			ok = ok && good
			z[o] = T(v)
		})
		if !ok {
			return errIntDomain
		}
		return nil
	}
	q := k.q
	k.bc.eachRow(func(o, i1, i2, n, d1, d2 int) {
		for j := range n {
			z[o+j] = T(q(int32(x[i1+j*d1]), int32(y[i2+j*d2])))
		}
	})
	return nil
}

// binSpec is one binary op's arithmetic per dtype; a nil func means TFLite
// has no kernel for that dtype.
type binSpec struct {
	f32 func(a, b float32) float32
	i32 func(a, b int32) (int32, bool)
	i64 func(a, b int64) (int64, bool)
	// quant builds the quantized arithmetic for an int8, uint8 or int16
	// output (nil: not supported), given the activation-clamped range.
	quant func(p *prep, q binQuantParams) (func(a, b int32) int32, error)
	// raw is the arithmetic on int8/int16 (and uint8 when rawU8) tensors
	// that TFLite treats as plain integers, quantized or not; the result
	// is clamped to the dtype. It replaces quant.
	raw   func(a, b int32) (int32, bool)
	rawU8 bool
	// zeroDivErr: a zero float divisor fails the op.
	zeroDivErr bool
	// activation: the op has a fused activation in ArithOptions.
	activation bool
}

// binQuantParams are the three tensors' quantization and the output clamp.
type binQuantParams struct {
	s1, s2, so float32
	z1, z2, zo int32
	lo, hi     int32
	// broadcast: the input shapes differ (TFLite runs another loop).
	broadcast bool
}

// prepareBinary is the shared prepare of the ops binSpec describes: one
// dtype for both inputs and the output, broadcast shapes, activation range.
func prepareBinary(s *binSpec) func(p *prep) (Kernel, error) {
	return func(p *prep) (Kernel, error) {
		x, y, out := p.in(0), p.in(1), p.out(0)
		if x == nil || y == nil {
			return nil, fmt.Errorf("%s: needs two inputs", p.op.Kind)
		}
		if x.DType != out.DType || y.DType != out.DType {
			return nil, p.unsupported("inputs and output must share one dtype")
		}
		bc, err := newBroadcast(x.Shape, y.Shape, out.Shape)
		if err != nil {
			return nil, fmt.Errorf("%s: %v: %w", p.op.Kind, err, graph.ErrShape)
		}
		act := graph.ActNone
		if s.activation {
			if o, ok := p.op.Options.(*graph.ArithOptions); ok && o != nil {
				act = o.Activation
			}
		}
		k := &binKernel{bc: bc}
		switch out.DType {
		case graph.Float32:
			if s.f32 == nil {
				break
			}
			k.f32, k.zeroDivErr = s.f32, s.zeroDivErr
			if k.flo, k.fhi, err = ActivationRangeFloat(act); err != nil {
				return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
			}
			// Unbounded sides pass infinities (XNNPACK's clamp), which
			// ±MaxFloat32 would catch.
			if k.flo == -math.MaxFloat32 {
				k.flo = float32(math.Inf(-1))
			}
			if k.fhi == math.MaxFloat32 {
				k.fhi = float32(math.Inf(1))
			}
			return k, nil
		case graph.Int32, graph.Int64:
			if (out.DType == graph.Int32 && s.i32 == nil) || (out.DType == graph.Int64 && s.i64 == nil) {
				break
			}
			k.i32, k.i64 = s.i32, s.i64
			lo, hi, err := ActivationRangeFloat(act)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
			}
			k.ilo, k.ihi = math.MinInt64, math.MaxInt64
			if out.DType == graph.Int32 {
				k.ilo, k.ihi = math.MinInt32, math.MaxInt32
			}
			if act != graph.ActNone {
				k.ilo = int64(lo)
				if act != graph.ActRelu {
					k.ihi = int64(hi)
				}
			}
			return k, nil
		case graph.Int8, graph.UInt8, graph.Int16:
			if s.raw != nil {
				if out.DType == graph.UInt8 && !s.rawU8 {
					break
				}
				lo, hi := DTypeRange(out.DType)
				f := s.raw
				k.raw = func(a, b int32) (int32, bool) {
					v, ok := f(a, b)
					return clampQ(v, lo, hi), ok
				}
				return k, nil
			}
			if s.quant == nil {
				break
			}
			q := binQuantParams{broadcast: !sameShape(x.Shape, y.Shape)}
			if q.s1, q.z1, err = requireQuant(p.op, "input1", x); err != nil {
				return nil, err
			}
			if q.s2, q.z2, err = requireQuant(p.op, "input2", y); err != nil {
				return nil, err
			}
			if q.so, q.zo, err = requireQuant(p.op, "output", out); err != nil {
				return nil, err
			}
			if out.DType == graph.Int16 && (q.z1 != 0 || q.z2 != 0 || q.zo != 0) {
				return nil, p.unsupported("int16 needs zero points 0")
			}
			if q.lo, q.hi, err = ActivationRangeQuantized(act, out.DType, q.so, q.zo); err != nil {
				return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
			}
			if k.q, err = s.quant(p, q); err != nil {
				return nil, err
			}
			return k, nil
		}
		return nil, p.unsupported("dtype")
	}
}

func clampQ(v, lo, hi int32) int32 { return min(max(v, lo), hi) }

var mulSpec = binSpec{
	activation: true,
	f32:        func(a, b float32) float32 { return a * b },
	i32:        func(a, b int32) (int32, bool) { return a * b, true },
	i64:        func(a, b int64) (int64, bool) { return a * b, true },
	// TFLite's quantized MUL: the product of the offset inputs rescaled by
	// s1·s2/so. The runtime's XNNPACK delegate takes 8-bit (int8 and uint8,
	// measured) MUL whose scale XNNPACK accepts and rescales in float32
	// (xnnRequant) — except a uint8 MUL whose operands differ in rank (a
	// [7] constant against a 4-D input), which the oracle computes with the
	// builtin kernel (measured on 12 random uint8 models: XNNPACK's
	// arithmetic there put 2 of 210 values one step off, the builtin none,
	// while same-rank broadcasts need XNNPACK's).
	quant: func(p *prep, q binQuantParams) (func(a, b int32) int32, error) {
		scale := q.s1 * q.s2 / q.so // float32, as XNNPACK forms it
		if delegated(p.rnd) && is8Bit(p.out(0).DType) && scale >= 1.0/65536 && scale < 256 &&
			(p.out(0).DType == graph.Int8 || len(p.in(0).Shape) == len(p.in(1).Shape)) {
			return func(a, b int32) int32 {
				return xnnRequant((a-q.z1)*(b-q.z2), scale, q.zo, q.lo, q.hi)
			}, nil
		}
		real := float64(q.s1) * float64(q.s2) / float64(q.so)
		if p.out(0).DType == graph.Int16 && p.rnd != fixedpoint.DoubleRounding {
			// The TFLite runtime's int16 MUL forms the real multiplier
			// in float32 (the scales' product and quotient), then widens
			// it: one step off on 3 of 6,480 values of a 16x8 model
			// otherwise (quant's TestQuantizeImageOpsMatchTFLite).
			real = float64(float32(q.s1*q.s2) / q.so)
		}
		m, sh := fixedpoint.QuantizeMultiplier(real)
		return func(a, b int32) int32 {
			r := fixedpoint.MultiplyByQuantizedMultiplier((a-q.z1)*(b-q.z2), m, sh) + q.zo
			return clampQ(r, q.lo, q.hi)
		}, nil
	},
}

var subSpec = binSpec{
	activation: true,
	f32:        func(a, b float32) float32 { return a - b },
	i32:        func(a, b int32) (int32, bool) { return a - b, true },
	i64:        func(a, b int64) (int64, bool) { return a - b, true },
	quant:      quantSub,
}

// quantSub is TFLite's quantized SUB: ADD's general scheme (both inputs at
// twice the larger scale with 20, or for int16 15, bits of headroom) with
// the difference; int16 with power-of-two scales and pot_scale_int16 set
// uses plain rounding shifts instead.
func quantSub(p *prep, q binQuantParams) (func(a, b int32) int32, error) {
	if p.out(0).DType == graph.Int16 {
		if o, ok := p.op.Options.(*graph.ArithOptions); ok && o != nil && o.PotScaleInt16 {
			l1, ok1 := log2Exact(q.s1)
			l2, ok2 := log2Exact(q.s2)
			lo, ok3 := log2Exact(q.so)
			if ok1 && ok2 && ok3 {
				sh1, sh2 := l1-lo, l2-lo
				if sh1 > 0 || sh2 > 0 {
					return nil, p.unsupported("power-of-two int16 SUB needs input scales no larger than the output's")
				}
				return func(a, b int32) int32 {
					r := fixedpoint.RoundingDivideByPOT(a, -sh1) - fixedpoint.RoundingDivideByPOT(b, -sh2)
					return clampQ(r, q.lo, q.hi)
				}, nil
			}
		}
	}
	if delegated(p.rnd) && is8Bit(p.out(0).DType) {
		if f, ok := xnnSub(q); ok {
			return f, nil
		}
	}
	left := 20
	if p.out(0).DType == graph.Int16 {
		left = 15
	}
	twiceMax := 2 * float64(max(q.s1, q.s2))
	m1, sh1, ok1 := fixedpoint.QuantizeMultiplierSmallerThanOneExp(float64(q.s1) / twiceMax)
	m2, sh2, ok2 := fixedpoint.QuantizeMultiplierSmallerThanOneExp(float64(q.s2) / twiceMax)
	mo, sho, ok3 := fixedpoint.QuantizeMultiplierSmallerThanOneExp(twiceMax / (float64(int64(1)<<left) * float64(q.so)))
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("%s: scales %g, %g -> %g give a rescale multiplier of 1 or more", p.op.Kind, q.s1, q.s2, q.so)
	}
	return func(a, b int32) int32 {
		x := fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp((a-q.z1)*(1<<left), m1, sh1)
		y := fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp((b-q.z2)*(1<<left), m2, sh2)
		r := fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp(x-y, mo, sho) + q.zo
		return clampQ(r, q.lo, q.hi)
	}, nil
}

// xnnSub is XNNPACK's 8-bit SUBTRACT, which the TFLite runtime's delegate
// takes: its ADD with the second ratio negated, out = (bias + a·ma + b·mb)
// >> shift + zo with 21-bit multipliers from the float32 ratios s1/so and
// −s2/so (shift = 20 − exponent of the larger magnitude, m =
// roundHalfEven(ratio·2^shift), bias = 2^(shift−1) − ma·z1 − mb·z2), so the
// shift rounds half up. ok is false when XNNPACK refuses the scales (a
// ratio outside [2^−10, 2^8)) and the builtin kernel runs.
func xnnSub(q binQuantParams) (f func(a, b int32) int32, ok bool) {
	ra, rb := q.s1/q.so, q.s2/q.so
	in := func(r float32) bool { return r >= 1.0/1024 && r < 256 }
	if !in(ra) || !in(rb) {
		return nil, false
	}
	e := int(math.Float32bits(max(ra, rb))>>23) - 127
	shift := 20 - e
	ma := int32(math.RoundToEven(float64(ra) * math.Ldexp(1, shift)))
	mb := -int32(math.RoundToEven(float64(rb) * math.Ldexp(1, shift)))
	bias := int32(1)<<(shift-1) - ma*q.z1 - mb*q.z2
	return func(a, b int32) int32 {
		return clampQ((bias+a*ma+b*mb)>>shift+q.zo, q.lo, q.hi)
	}, true
}

// log2Exact reports log2(s) when s is a power of two as TFLite's CheckedLog2
// judges it (within 1e-3 of an integer).
func log2Exact(s float32) (int, bool) {
	l := math.Log2(float64(s))
	r := math.Round(l)
	return int(r), math.Abs(l-r) < 1e-3
}

var divSpec = binSpec{
	activation: true,
	f32:        func(a, b float32) float32 { return a / b },
	i32: func(a, b int32) (int32, bool) {
		if b == 0 {
			return 0, false
		}
		return a / b, true
	},
	quant: quantDiv,
}

// quantDiv is TFLite's quantized DIV: the offset dividend times a Q31
// reciprocal of the offset divisor, normalised by the dividend's headroom,
// rescaled by s1/(s2·so). The runtime's builtin kernel takes uint8 only.
//
// For a negative divisor the runtime the oracle ships negates both
// operands, with shapes equal or broadcast (measured: negating only the
// reciprocal put 1 in 250 values off by up to the whole range, where the
// dividend's headroom differs between x and −x); its final rounding shift
// can then exceed 31 for small dividends, where its WebAssembly build
// computes what rdbpotWide does.
func quantDiv(p *prep, q binQuantParams) (func(a, b int32) int32, error) {
	if p.out(0).DType != graph.UInt8 {
		return nil, p.unsupported("quantized DIV is uint8 only in TFLite")
	}
	// The ratio in float32, as TFLite's DivPrepare forms it from the float
	// scales (measured: the ratio in double missed an exact tie, 5.5 → 5
	// where TFLite gives 6).
	ratio := float32(q.s1 / float32(q.s2*q.so))
	m, sh := fixedpoint.QuantizeMultiplier(float64(ratio))
	runtime := p.rnd != fixedpoint.DoubleRounding
	return func(a, b int32) int32 {
		x, y := a-q.z1, b-q.z2
		if y == 0 {
			// TFLite leaves this undefined (a debug check); saturate by sign.
			if x < 0 {
				return q.lo
			}
			return q.hi
		}
		var inv int32
		var recipShift int
		switch {
		case y > 0:
			inv, recipShift = fixedpoint.GetReciprocal(y, 31)
		default:
			x, y = -x, -y
			inv, recipShift = fixedpoint.GetReciprocal(y, 31)
		}
		head := countLeadingSignBits(x)
		unscaled := fixedpoint.MultiplyByQuantizedMultiplierGreaterThanOne(x, inv, head)
		total := sh - recipShift - head
		var r int32
		if runtime && total < -31 {
			r = rdbpotWide(fixedpoint.SaturatingRoundingDoublingHighMul(unscaled, m), -total)
		} else {
			r = fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp(unscaled, m, total)
		}
		return clampQ(r+q.zo, q.lo, q.hi)
	}, nil
}

// rdbpotWide is RoundingDivideByPOT for exponents 32..63 as TFLite's
// WebAssembly build computes it: the mask (1<<e)−1, formed in 64 bits,
// truncates to −1, and the shift counts modulo 32.
func rdbpotWide(x int32, e int) int32 {
	threshold := int32(-1)
	if x < 0 {
		threshold++
	}
	r := x >> uint(e&31)
	if x > threshold {
		r++
	}
	return r
}

// countLeadingSignBits is the number of bits below the sign bit that equal
// it (31 for 0 and −1).
func countLeadingSignBits(x int32) int {
	if x < 0 {
		x = ^x
	}
	return fixedpoint.CountLeadingZeros32(uint32(x)) - 1
}

var squaredDifferenceSpec = binSpec{
	f32: func(a, b float32) float32 { d := a - b; return d * d },
	i32: func(a, b int32) (int32, bool) { d := a - b; return d * d, true },
	// TFLite's quantized SQUARED_DIFFERENCE: both inputs at twice the
	// larger scale with 7 bits of headroom, the difference
	// squared, rescaled by (2·max scale)²/(2^(2·shift)·so).
	quant: func(p *prep, q binQuantParams) (func(a, b int32) int32, error) {
		// (TFLite Micro and later runtimes also take int16, with no headroom
		// shift; the runtime the oracle ships does not.)
		const left = 7
		if p.out(0).DType != graph.Int8 {
			return nil, p.unsupported("quantized SQUARED_DIFFERENCE is int8 only")
		}
		twiceMax := 2 * float64(max(q.s1, q.s2))
		m1, sh1, ok1 := fixedpoint.QuantizeMultiplierSmallerThanOneExp(float64(q.s1) / twiceMax)
		m2, sh2, ok2 := fixedpoint.QuantizeMultiplierSmallerThanOneExp(float64(q.s2) / twiceMax)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: input scales %g, %g give a multiplier of 1 or more", p.op.Kind, q.s1, q.s2)
		}
		mo, sho := fixedpoint.QuantizeMultiplier(twiceMax * twiceMax / (float64(int64(1)<<(2*left)) * float64(q.so)))
		return func(a, b int32) int32 {
			x := fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp((a-q.z1)*(1<<left), m1, sh1)
			y := fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp((b-q.z2)*(1<<left), m2, sh2)
			d := x - y
			r := fixedpoint.MultiplyByQuantizedMultiplier(d*d, mo, sho) + q.zo
			return clampQ(r, q.lo, q.hi)
		}, nil
	},
}

// TFLite's MAXIMUM is a > b ? a : b and MINIMUM a < b ? a : b, so a NaN in
// the second input wins. Quantized, they compare the stored values and copy
// one, whatever the tensors' quantization (the converter gives all three
// the same).
var minimumSpec = binSpec{
	f32: func(a, b float32) float32 {
		if a < b {
			return a
		}
		return b
	},
	i32:   func(a, b int32) (int32, bool) { return min(a, b), true },
	i64:   func(a, b int64) (int64, bool) { return min(a, b), true },
	raw:   func(a, b int32) (int32, bool) { return min(a, b), true },
	rawU8: true,
}

var maximumSpec = binSpec{
	f32: func(a, b float32) float32 {
		if a > b {
			return a
		}
		return b
	},
	i32:   func(a, b int32) (int32, bool) { return max(a, b), true },
	i64:   func(a, b int64) (int64, bool) { return max(a, b), true },
	raw:   func(a, b int32) (int32, bool) { return max(a, b), true },
	rawU8: true,
}

// floorDivInt is integer division rounding toward negative infinity.
func floorDivInt[T int32 | int64 | int16 | int8](a, b T) (T, bool) {
	if b == 0 {
		return 0, false
	}
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q, true
}

// floorModInt is the remainder with the divisor's sign (TFLite's FloorMod).
func floorModInt[T int32 | int64 | int16 | int8](a, b T) (T, bool) {
	if b == 0 {
		return 0, false
	}
	r := a % b
	if r != 0 && ((b < 0) != (r < 0)) {
		r += b
	}
	return r, true
}

// FLOOR_DIV and FLOOR_MOD: float32 and int32, and int64 for FLOOR_MOD, as in
// the TFLite runtime the oracle ships (later versions add int8/int16).
var floorDivSpec = binSpec{
	f32:        func(a, b float32) float32 { return float32(math.Floor(float64(a / b))) },
	i32:        floorDivInt[int32],
	zeroDivErr: true,
}

var floorModSpec = binSpec{
	f32: func(a, b float32) float32 {
		r := float32(math.Mod(float64(a), float64(b)))
		if r != 0 && ((b < 0) != (r < 0)) {
			r += b
		}
		return r
	},
	i32: floorModInt[int32],
	i64: floorModInt[int64],
}

var powSpec = binSpec{
	f32: func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) },
	i32: func(a, b int32) (int32, bool) {
		// TFLite's IntegerPow: square-and-multiply; negative exponents are
		// rejected (reported here as a failed op).
		if b < 0 {
			return 0, false
		}
		r := int32(1)
		for b > 0 {
			if b&1 != 0 {
				r *= a
			}
			a *= a
			b >>= 1
		}
		return r, true
	},
}

var (
	prepareMul               = prepareBinary(&mulSpec)
	prepareSub               = prepareBinary(&subSpec)
	prepareDiv               = prepareBinary(&divSpec)
	prepareSquaredDifference = prepareBinary(&squaredDifferenceSpec)
	prepareMinimum           = prepareBinary(&minimumSpec)
	prepareMaximum           = prepareBinary(&maximumSpec)
	prepareFloorDiv          = prepareBinary(&floorDivSpec)
	prepareFloorMod          = prepareBinary(&floorModSpec)
	preparePow               = prepareBinary(&powSpec)
)

// delegated reports whether rnd reproduces the TFLite runtime with its
// XNNPACK delegate, which takes some 8-bit ops and rescales them its own way.
func delegated(rnd fixedpoint.Rounding) bool { return rnd == fixedpoint.RuntimeRounding }

// xnnRequant is XNNPACK's fp32 requantization: float32(acc)·scale, clamped
// to the output range less the zero point, rounded half to even, plus the
// zero point.
func xnnRequant(acc int32, scale float32, zp, lo, hi int32) int32 {
	f := float32(acc) * scale
	f = min(max(f, float32(lo-zp)), float32(hi-zp))
	return int32(math.RoundToEven(float64(f))) + zp
}
