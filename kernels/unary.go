package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// Elementwise unary ops and activations: ABS, NEG, SQRT, RSQRT, SQUARE, EXP,
// LOG, SIN, COS, FLOOR, CEIL, ROUND, SIGN, TANH, HARD_SWISH, GELU, ELU,
// RELU_N1_TO_1, RELU_0_TO_1 (this file); CAST, ZEROS_LIKE, LOG_SOFTMAX and
// L2_NORMALIZATION in unary_misc.go.

// unaryKernel applies one scalar function per element; the field matching
// the output dtype is set.
type unaryKernel struct {
	n   int
	f32 func(float32) float32
	i32 func(int32) int32
	i64 func(int64) int64
	q   func(int32) int32 // int8/uint8/int16: stored value in, clamped stored value out
	lut *lut8             // fast path for 8-bit q: q of every input
	// clamp8: lut is a clamp to [lo8, hi8] (lutClamp), run as min/max.
	clamp8   bool
	lo8, hi8 int32
	// minIn: with checkMin, a stored input below it fails the run.
	minIn    int32
	checkMin bool
	kind     graph.OpKind
}

func (k *unaryKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	switch y.DType {
	case graph.Float32:
		ys := y.F32[:k.n]
		for i, v := range x.F32[:k.n] {
			ys[i] = k.f32(v)
		}
	case graph.Int32:
		ys := y.I32[:k.n]
		for i, v := range x.I32[:k.n] {
			ys[i] = k.i32(v)
		}
	case graph.Int64:
		ys := y.I64[:k.n]
		for i, v := range x.I64[:k.n] {
			ys[i] = k.i64(v)
		}
	case graph.Int8, graph.UInt8, graph.Int16:
		if k.checkMin {
			for i := range k.n {
				if v := getInt(x, i); v < k.minIn {
					return fmt.Errorf("%s: input element %d is %d, below the zero point %d: the op is defined for non-negative values only (TFLite fails here too)", k.kind, i, v, k.minIn)
				}
			}
		}
		if k.clamp8 {
			clampBuf8(x, y, k.n, k.lo8, k.hi8)
			return nil
		}
		if k.lut != nil {
			applyLUT8(k.lut, x, y, k.n)
			return nil
		}
		for i := range k.n {
			setInt(y, i, k.q(getInt(x, i)))
		}
	}
	return nil
}

// unarySpec is one unary op's arithmetic per dtype; nil means TFLite has no
// kernel for that dtype.
type unarySpec struct {
	f32 func(float32) float32
	i32 func(int32) int32
	i64 func(int64) int64
	// quant builds the quantized arithmetic from the input and output
	// quantization (int8, uint8 and, where dtypes admits it, int16).
	quant  func(p *prep, q unaryQuant) (func(int32) int32, error)
	qtypes []graph.DType
	// nonNegative: a quantized input below its zero point fails the op,
	// as TFLite's kernel fails it (RSQRT).
	nonNegative bool
}

// unaryQuant is the input and output quantization of a unary op.
type unaryQuant struct {
	si, so float32
	zi, zo int32
	lo, hi int32 // the output dtype's range
}

// f32fn rounds a float64 function's result to float32, as the C float
// overloads (expf, tanhf, ...) return a correctly rounded or nearly so
// result; float outputs are compared with a tolerance.
func f32fn(f func(float64) float64) func(float32) float32 {
	return func(x float32) float32 { return float32(f(float64(x))) }
}

// lutQuant is TFLite's table-building rule for 8-bit activations computed
// in float (LUTPopulate): dequantize in float32, apply f, divide by the
// output scale (as a multiply by its float32 inverse), round half away
// from zero, add the zero point, clamp.
func lutQuant(f func(float32) float32) func(p *prep, q unaryQuant) (func(int32) int32, error) {
	return func(p *prep, q unaryQuant) (func(int32) int32, error) {
		inv := 1 / q.so
		return func(v int32) int32 {
			d := q.si * float32(v-q.zi)
			r := roundHalfAway32(f(d) * inv)
			if !(r > -1e9 && r < 1e9) { // NaN or far out: saturate (TFLite's cast is undefined there)
				if r > 0 {
					return q.hi
				}
				return q.lo
			}
			return clampQ(int32(r)+q.zo, q.lo, q.hi)
		}, nil
	}
}

var i8u8 = []graph.DType{graph.Int8, graph.UInt8}

var unarySpecs = map[graph.OpKind]*unarySpec{
	graph.OpAbs: {
		f32:   func(x float32) float32 { return float32(math.Abs(float64(x))) },
		quant: quantAbs, qtypes: []graph.DType{graph.Int8, graph.Int16},
	},
	graph.OpNeg: {
		f32: func(x float32) float32 { return -x },
		i32: func(x int32) int32 { return -x },
		i64: func(x int64) int64 { return -x },
	},
	graph.OpSqrt: {f32: f32fn(math.Sqrt)},
	graph.OpRsqrt: {
		f32:   func(x float32) float32 { return 1 / float32(math.Sqrt(float64(x))) },
		quant: quantRsqrt, qtypes: []graph.DType{graph.Int8}, nonNegative: true,
	},
	graph.OpSquare: {f32: func(x float32) float32 { return x * x }},
	graph.OpExp: {
		f32:   f32fn(math.Exp),
		quant: lutQuant(f32fn(math.Exp)), qtypes: []graph.DType{graph.Int8},
	},
	graph.OpLog: {f32: f32fn(math.Log)},
	graph.OpSin: {f32: f32fn(math.Sin)},
	graph.OpCos: {f32: f32fn(math.Cos)},
	graph.OpFloor: {
		f32: f32fn(math.Floor),
	},
	graph.OpCeil: {f32: f32fn(math.Ceil)},
	// TFLite's ROUND rounds half to even.
	graph.OpRound: {f32: f32fn(math.RoundToEven)},
	graph.OpSign: {
		f32: func(x float32) float32 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return x * 0 // keeps NaN
		},
		// (TFLite's SIGN also declares int32 but its kernel fails on it.)
	},
	graph.OpTanh: {
		f32:   f32fn(math.Tanh),
		quant: quantTanh, qtypes: []graph.DType{graph.Int8, graph.UInt8, graph.Int16},
	},
	graph.OpHardSwish: {
		f32:   func(x float32) float32 { return x * min(6, max(0, x+3)) / 6 },
		quant: quantHardSwish, qtypes: i8u8,
	},
	graph.OpElu: {
		f32: func(x float32) float32 {
			if x < 0 {
				return float32(math.Expm1(float64(x)))
			}
			return x
		},
		quant: lutQuant(func(x float32) float32 {
			if x < 0 {
				return float32(math.Exp(float64(x))) - 1
			}
			return x
		}), qtypes: []graph.DType{graph.Int8},
	},
	graph.OpReluN1To1: {
		f32:   func(x float32) float32 { return min(max(x, -1), 1) },
		quant: quantReluX(-1, 1), qtypes: i8u8,
	},
	graph.OpRelu0To1: {
		f32:   func(x float32) float32 { return min(max(x, 0), 1) },
		quant: quantReluX(0, 1), qtypes: i8u8,
	},
}

// geluSpec depends on the op's approximate option.
func geluSpec(approximate bool) *unarySpec {
	exact := func(x float32) float32 {
		return float32(0.5 * float64(x) * (1 + math.Erf(float64(x)*math.Sqrt2/2)))
	}
	approx := func(x float32) float32 {
		v := float64(x)
		return float32(0.5 * v * (1 + math.Tanh(0.7978845608028654*(v+0.044715*v*v*v))))
	}
	f := exact
	if approximate {
		f = approx
	}
	return &unarySpec{f32: f, quant: lutQuant(f), qtypes: i8u8}
}

// quantAbs is TFLite's quantized ABS: |v − zi|, rescaled by si/so when the
// quantizations differ.
func quantAbs(p *prep, q unaryQuant) (func(int32) int32, error) {
	if q.si == q.so && q.zi == q.zo {
		return func(v int32) int32 {
			a := v - q.zi
			if a < 0 {
				a = -a
			}
			return clampQ(a+q.zo, q.lo, q.hi)
		}, nil
	}
	// TFLite's AbsPrepare divides the float scales in float32 before
	// widening to double (measured: the ratio formed in double put 183 of
	// 122,880 int8 values and 31 of 368,640 int16 values one step off).
	m, sh := fixedpoint.QuantizeMultiplier(float64(q.si / q.so))
	return func(v int32) int32 {
		a := v - q.zi
		if a < 0 {
			a = -a
		}
		return clampQ(fixedpoint.MultiplyByQuantizedMultiplier(a, m, sh)+q.zo, q.lo, q.hi)
	}, nil
}

// quantReluX is TFLite's quantized RELU_N1_TO_1 / RELU_0_TO_1: rescale to
// the output, clamp to the activation bounds quantized with the output's
// scale (round half away from zero).
func quantReluX(lo, hi float32) func(p *prep, q unaryQuant) (func(int32) int32, error) {
	return func(p *prep, q unaryQuant) (func(int32) int32, error) {
		// The scale ratio in float32, as TFLite's ReluPrepare forms it.
		m, sh := fixedpoint.QuantizeMultiplier(float64(q.si / q.so))
		qlo := max(q.lo, q.zo+int32(roundHalfAway32(lo/q.so)))
		qhi := min(q.hi, q.zo+int32(roundHalfAway32(hi/q.so)))
		return func(v int32) int32 {
			return clampQ(q.zo+fixedpoint.MultiplyByQuantizedMultiplier(v-q.zi, m, sh), qlo, qhi)
		}, nil
	}
}

// quantHardSwish is TFLite's quantized HARD_SWISH: the input at a 2^7
// finer scale, a "reluish" factor relu6(x+3)/6 in Q0.15 and the product
// rescaled, all in 16-bit fixed point.
func quantHardSwish(p *prep, q unaryQuant) (func(int32) int32, error) {
	hires := (1.0 / 128.0) * q.si // float32, as TFLite forms it
	const reluishScale = float32(3.0 / 32768.0)
	om32, oexp := fixedpoint.QuantizeMultiplier(float64(hires / q.so))
	om := downScaleMultiplier16(om32)
	if oexp > 0 {
		return nil, p.unsupported("HARD_SWISH output scale too small for its input scale")
	}
	rm32, rexp := fixedpoint.QuantizeMultiplier(float64(hires / reluishScale))
	rm := downScaleMultiplier16(rm32)
	return func(v int32) int32 {
		in := int16(v - q.zi)
		hi := int16(int32(in) * (1 << 7))
		pre := srdhm16(hi, om)
		reluish := hi
		if rexp > 0 {
			reluish = satLeftShift16(reluish, rexp-1)
		}
		reluish = srdhm16(reluish, rm)
		if rexp > 0 {
			reluish = satLeftShift16(reluish, 1)
		}
		if rexp < 0 {
			reluish = int16(fixedpoint.RoundingDivideByPOT(int32(reluish), -rexp))
		}
		reluish = int16((int32(reluish) + (1 << 15)) >> 1)
		out := int16(fixedpoint.RoundingDivideByPOT(int32(sdhm16(reluish, pre)), -oexp))
		return clampQ(int32(out)+q.zo, q.lo, q.hi)
	}, nil
}

// downScaleMultiplier16 rounds a Q31 multiplier to Q15 (TFLite's
// DownScaleInt32ToInt16Multiplier), saturating near 1.
func downScaleMultiplier16(m int32) int16 {
	if m >= math.MaxInt32-(1<<15) {
		return math.MaxInt16
	}
	return int16((m + 1<<15) >> 16)
}

// srdhm16 is gemmlowp's 16-bit SaturatingRoundingDoublingHighMul.
func srdhm16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	ab := int32(a) * int32(b)
	nudge := int32(1 << 14)
	if ab < 0 {
		nudge = 1 - 1<<14
	}
	return int16((ab + nudge) / (1 << 15))
}

// sdhm16 is TFLite's non-rounding 16-bit SaturatingDoublingHighMul.
func sdhm16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	return int16((int32(a) * int32(b)) / (1 << 15))
}

func satLeftShift16(v int16, n int) int16 {
	r := int64(v) * (1 << n)
	return int16(min(max(r, math.MinInt16), math.MaxInt16))
}

func prepareUnary(p *prep) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	s := unarySpecs[p.op.Kind]
	if p.op.Kind == graph.OpGelu {
		o, _ := p.op.Options.(*graph.GeluOptions)
		s = geluSpec(o != nil && o.Approximate)
	}
	if s == nil {
		return nil, p.unsupported(whyNoKernel)
	}
	if in.DType != out.DType {
		return nil, p.unsupported("input and output dtypes differ")
	}
	if err := checkElems(p.op, in, out); err != nil {
		return nil, err
	}
	k := &unaryKernel{n: out.NumElements(), f32: s.f32, i32: s.i32, i64: s.i64}
	switch out.DType {
	case graph.Float32:
		if s.f32 != nil {
			return k, nil
		}
	case graph.Int32:
		if s.i32 != nil {
			return k, nil
		}
	case graph.Int64:
		if s.i64 != nil {
			return k, nil
		}
	case graph.Int8, graph.UInt8, graph.Int16:
		if s.quant == nil || !hasDType(s.qtypes, out.DType) {
			break
		}
		var q unaryQuant
		var err error
		if q.si, q.zi, err = requireQuant(p.op, "input", in); err != nil {
			return nil, err
		}
		if q.so, q.zo, err = requireQuant(p.op, "output", out); err != nil {
			return nil, err
		}
		q.lo, q.hi = DTypeRange(out.DType)
		if k.q, err = s.quant(p, q); err != nil {
			return nil, err
		}
		k.minIn, k.checkMin, k.kind = q.zi, s.nonNegative, p.op.Kind
		if !p.ref && is8Bit(in.DType) {
			k.lut = newLUT8(in.DType, out.DType, k.q)
			if in.DType == out.DType && !k.checkMin {
				k.lo8, k.hi8, k.clamp8 = lutClamp(&k.lut.t, in.DType)
			}
		}
		return k, nil
	}
	return nil, p.unsupported("dtype")
}

func hasDType(ds []graph.DType, d graph.DType) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// unaryDTypes lists the dtypes prepareUnary accepts for kind (tests walk it).
func unaryDTypes(kind graph.OpKind) []graph.DType {
	s := unarySpecs[kind]
	if kind == graph.OpGelu {
		s = geluSpec(false)
	}
	if s == nil {
		return nil
	}
	var ds []graph.DType
	if s.f32 != nil {
		ds = append(ds, graph.Float32)
	}
	if s.i32 != nil {
		ds = append(ds, graph.Int32)
	}
	if s.i64 != nil {
		ds = append(ds, graph.Int64)
	}
	if s.quant != nil {
		ds = append(ds, s.qtypes...)
	}
	return ds
}

// quantRsqrt is TFLite's int8 RSQRT: for v = x − zi > 0, 1/√v as an
// inverse-sqrt multiplier (InvSqrtQuantizedMultiplierExp) applied to 1
// with 20 extra bits, then rescaled by 1/(√si·so) with those bits taken
// back; v = 0 gives the output maximum. The rescale ratio is formed as
// TFLite forms it: √si and its product with so in float32, the
// reciprocal in double.
func quantRsqrt(p *prep, q unaryQuant) (func(int32) int32, error) {
	const extra = 20
	root := float32(math.Sqrt(float64(q.si)))
	m, sh := fixedpoint.QuantizeMultiplier(1 / float64(root*q.so))
	rnd := rsqrtRounding
	return func(v int32) int32 {
		d := v - q.zi
		if d <= 0 {
			return q.hi // d < 0 fails the run before (nonNegative)
		}
		im, ish := fixedpoint.InvSqrtQuantizedMultiplierExp(d)
		data := rnd.MultiplyByQuantizedMultiplier(1, im, ish+extra)
		return clampQ(rnd.MultiplyByQuantizedMultiplier(data, m, sh-extra)+q.zo, q.lo, q.hi)
	}, nil
}

// rsqrtRounding is the rescaling arithmetic of TFLite's int8 RSQRT in the
// oracle's runtime (measured).
var rsqrtRounding = fixedpoint.DoubleRounding

// quantTanh is TFLite's quantized TANH: the 8-bit forms tabulate tanh in
// float (lutQuant); int16 interpolates the 16-bit sigmoid table, since
// tanh(x) = 2·sigmoid(2x) − 1 (quantTanh16).
func quantTanh(p *prep, q unaryQuant) (func(int32) int32, error) {
	if p.out(0).DType != graph.Int16 {
		return lutQuant(f32fn(math.Tanh))(p, q)
	}
	return quantTanh16(p, q)
}

// quantTanh16 is TFLite's int16 TANH: zero points 0 and output scale
// 2^−15. An input scale of 2^−12 or 2^−11 runs gemmlowp's 16-bit tanh on
// Q3.12; any other brings the input to units of 1/(3·4096) by a multiplier
// and right shift chosen as TanhPrepare does, then interpolates the
// sigmoid table at twice the argument and maps it to [−1, 1].
func quantTanh16(p *prep, q unaryQuant) (func(int32) int32, error) {
	if q.zi != 0 || q.zo != 0 {
		return nil, p.unsupported("int16 TANH needs zero points 0")
	}
	if l2 := math.Log2(float64(q.so)); math.Abs(l2+15) > 1e-3 {
		return nil, p.unsupported(fmt.Sprintf("int16 TANH needs output scale 2^-15, got %g", q.so))
	}
	var mult, shift int32
	l2 := math.Log2(float64(q.si))
	if pot := math.Round(l2); math.Abs(l2-pot) < 1e-3 && (pot == -12 || pot == -11) {
		// The runtime's optimized kernel takes a power-of-two input
		// scale: gemmlowp's 16-bit tanh on Q3.12 (measured: the table
		// form put 132 of 210 values off there).
		left := int(12 + pot)
		return func(v int32) int32 {
			a := fixedpoint.SaturatingRoundingMultiplyByPOT16(int16(v), left)
			return int32(fixedpoint.Tanh16(a, 3))
		}, nil
	}
	m := float64(q.si) * 4096 * 3
	for m <= 32767.0/2 && shift <= 30 {
		shift++
		m *= 2
	}
	mult = int32(m)
	table := sigmoidTable16()
	var round int32
	if shift > 0 {
		round = 1 << (shift - 1)
	}
	return func(v int32) int32 {
		in := (v*mult + round) >> shift
		abs := uint32(in)
		if in < 0 {
			abs = uint32(-in)
		}
		var r int32
		if uh := abs >> 8; uh >= 255 {
			r = 0xffff << 8
		} else {
			ua, ub := uint32(table[uh]), uint32(table[uh+1])
			r = int32(ua<<8 + (abs&0xff)*(ub-ua))
		}
		if in >= 0 {
			r = r - 1<<23 + 1<<7
		} else {
			r = -r + 1<<23 + 1<<7 - 1
		}
		return clampQ(r>>8, q.lo, q.hi)
	}, nil
}
