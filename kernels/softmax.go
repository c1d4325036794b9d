package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// SOFTMAX over the last dimension. Float32 follows TFLite's reference
// (max-subtracted exp in float32). int8 input → int8 (scale 1/256, zero
// point −128) or int16 (scale 1/65536, zero point −32768) output uses
// gemmlowp fixed point: input differences rescaled into Q5.26, exp in Q0.31,
// sum in Q12.19, one reciprocal per row. int16 → int16 (scale 1/32768, zero
// point 0) uses TFLite Micro's two interpolating lookup tables.

// Fixed-point formats of TFLite's int8 softmax.
const (
	softmaxScaledDiffIntegerBits = 5
	softmaxAccumulationIntBits   = 12
)

// prepareSoftmax builds a SOFTMAX kernel (PrepareFunc) with TFLite's
// reference arithmetic (fixedpoint.DoubleRounding).
func prepareSoftmax(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return prepareSoftmaxRounding(op, ins, outs, fixedpoint.DoubleRounding)
}

// prepareSoftmaxRounding is the PrepareFunc body for the arithmetic rnd (see
// heavyPrepareWith).
func prepareSoftmaxRounding(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding) (Kernel, error) {
	beta := float32(1)
	if o, ok := op.Options.(*graph.SoftmaxOptions); ok && o != nil {
		beta = o.Beta
	}
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, fmt.Errorf("%s: needs input and output tensors", op.Kind)
	}
	in, out := ins[0], outs[0]
	if len(in.Shape) == 0 {
		return nil, fmt.Errorf("%s: input %q must have at least one dimension", op.Kind, in.Name)
	}
	if in.NumElements() != out.NumElements() || (len(out.Shape) > 0 && out.Shape[len(out.Shape)-1] != in.Shape[len(in.Shape)-1]) {
		return nil, fmt.Errorf("%s: input %q shape %v and output %q shape %v differ", op.Kind, in.Name, in.Shape, out.Name, out.Shape)
	}
	if math.IsNaN(float64(beta)) || math.IsInf(float64(beta), 0) || (in.DType != graph.Float32 && !(beta > 0)) {
		// TFLite's quantized softmax aborts on such a beta (its multiplier
		// must be positive); refuse it instead.
		return nil, fmt.Errorf("%s: beta %g must be finite (and positive for %s input %q)", op.Kind, beta, in.DType, in.Name)
	}
	depth := in.Shape[len(in.Shape)-1]
	if depth < 1 {
		return nil, fmt.Errorf("%s: input %q has an empty last dimension", op.Kind, in.Name)
	}
	s := &softmax{round: rnd, op: op, depth: depth, beta: beta, inD: in.DType, outD: out.DType}
	switch {
	case in.DType == graph.Float32 && out.DType == graph.Float32:
		return &softmaxFloat{s}, nil
	case in.DType == graph.UInt8 && out.DType == graph.UInt8:
		sIn, _, err := tensorQuant(op, "input", in)
		if err != nil {
			return nil, err
		}
		sOut, zpOut, err := tensorQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		if zpOut != 0 || sOut != 1.0/256 {
			return nil, unsupportedf(op, "uint8 output %q needs scale 1/256 and zero point 0 (got %g, %d)", out.Name, sOut, zpOut)
		}
		s.mult, s.shift = rnd.PreprocessSoftmaxScaling(float64(beta), float64(sIn), softmaxScaledDiffIntegerBits)
		s.diffMin = -int32(fixedpoint.CalculateInputRadius(softmaxScaledDiffIntegerBits, s.shift, 31))
		return &softmaxUint8{s.withExp8()}, nil
	case in.DType == graph.Int8 && (out.DType == graph.Int8 || out.DType == graph.Int16):
		sIn, _, err := tensorQuant(op, "input", in)
		if err != nil {
			return nil, err
		}
		sOut, zpOut, err := tensorQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		if out.DType == graph.Int8 && (zpOut != -128 || sOut != 1.0/256) {
			return nil, unsupportedf(op, "int8 output %q needs scale 1/256 and zero point -128 (got %g, %d)", out.Name, sOut, zpOut)
		}
		if out.DType == graph.Int16 && (zpOut != -32768 || math.Abs(float64(sOut)-1.0/65536) > 0.001/65536) {
			return nil, unsupportedf(op, "int16 output %q of an int8 softmax needs scale 1/65536 and zero point -32768 (got %g, %d)", out.Name, sOut, zpOut)
		}
		s.mult, s.shift = rnd.PreprocessSoftmaxScaling(float64(beta), float64(sIn), softmaxScaledDiffIntegerBits)
		s.diffMin = -int32(fixedpoint.CalculateInputRadius(softmaxScaledDiffIntegerBits, s.shift, 31))
		s.withExp8()
		if out.DType == graph.Int8 {
			return &softmaxInt8{s}, nil
		}
		return &softmaxInt8To16{s}, nil
	case in.DType == graph.Int16 && out.DType == graph.Int16:
		sIn, zpIn, err := tensorQuant(op, "input", in)
		if err != nil {
			return nil, err
		}
		sOut, zpOut, err := tensorQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		if zpIn != 0 || zpOut != 0 || math.Abs(float64(sOut)-1.0/32768) > 0.001/32768 {
			return nil, unsupportedf(op, "int16 softmax needs zero points 0 and output scale 1/32768 (input %q zp %d, output %q scale %g zp %d)",
				in.Name, zpIn, out.Name, sOut, zpOut)
		}
		// Differences are rescaled so that [−65535, 0] covers [−10, 0], the
		// exp table's domain.
		// The runtime's int16 softmax rescales with the reference
		// (double-rounding) multiplier in every rounding mode (measured:
		// single rounding differs by one step now and then); its tables
		// are built in double, TFLite Micro's in float32.
		s.round = fixedpoint.DoubleRounding
		s.mult, s.shift = s.round.QuantizeMultiplier(float64(sIn) * float64(beta) / (10.0 / 65535.0))
		s.expLUT, s.recipLUT = fixedpoint.SoftmaxInt16LUTs()
		if rnd != fixedpoint.DoubleRounding {
			s.expLUT, s.recipLUT = fixedpoint.SoftmaxInt16LUTsDouble()
		}
		return &softmaxInt16{s}, nil
	}
	return nil, unsupported(op, ins, outs, "no SOFTMAX kernel for these dtypes")
}

// softmax is the state shared by the dtype variants.
type softmax struct {
	round            fixedpoint.Rounding
	op               *graph.Op
	inD, outD        graph.DType
	depth            int
	beta             float32
	mult             int32
	shift            int
	diffMin          int32
	expLUT, recipLUT *fixedpoint.LUT16
	// exp8 is the 8-bit forms' exp of every difference from the row
	// maximum: exp8[−diff] (diff in [−255, 0]), −1 where diff < diffMin.
	// The per-element computation depends on diff alone, so the table
	// gives the same bits; nil runs the computation (the reference).
	exp8 *[256]int32
}

// expOf8 is the 8-bit softmax's exp of a difference diff ≤ 0 from the
// row maximum in Q0.31, false below diffMin (TFLite's kernels skip it).
func (s *softmax) expOf8(diff int32) (int32, bool) {
	if diff < s.diffMin {
		return 0, false
	}
	scaled := s.round.MultiplyByQuantizedMultiplierGreaterThanOne(diff, s.mult, s.shift)
	return fixedpoint.ExpOnNegativeValues(scaled, softmaxScaledDiffIntegerBits), true
}

// withExp8 fills s.exp8 from expOf8 and returns s.
func (s *softmax) withExp8() *softmax {
	t := new([256]int32)
	for d := range t {
		t[d] = -1
		if e, ok := s.expOf8(-int32(d)); ok {
			t[d] = e
		}
	}
	s.exp8 = t
	return s
}

// rows checks the buffers and returns the number of rows.
func (s *softmax) rows(ins, outs []*Buffer) (in, out *Buffer, rows int, err error) {
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, nil, 0, fmt.Errorf("%s: missing input or output buffer", s.op.Kind)
	}
	in, out = ins[0], outs[0]
	n := typedLen(in, s.inD)
	if n%s.depth != 0 {
		return nil, nil, 0, fmt.Errorf("%s: input buffer of %d elements is not a whole number of rows of %d", s.op.Kind, n, s.depth)
	}
	return in, out, n / s.depth, checkLen(s.op, "output", typedLen(out, s.outD), n)
}

type softmaxFloat struct{ *softmax }

// Run implements Kernel.
func (s softmaxFloat) Run(ins, outs []*Buffer) error {
	in, out, rows, err := s.rows(ins, outs)
	if err != nil {
		return err
	}
	for r := 0; r < rows; r++ {
		x := in.F32[r*s.depth : (r+1)*s.depth]
		y := out.F32[r*s.depth : (r+1)*s.depth]
		m := float32(-math.MaxFloat32)
		for _, v := range x {
			m = max(m, v)
		}
		var sum float32
		for i, v := range x {
			e := float32(math.Exp(float64(float32((v - m) * s.beta))))
			y[i] = e
			sum += e
		}
		for i := range y {
			y[i] /= sum
		}
	}
	return nil
}

// int8Row computes one row of TFLite's int8 softmax: it calls emit(c, v)
// with each element's probability in units of 2^−outBits before the output
// offset is added, or with math.MinInt32 for elements whose difference from
// the row maximum is below diffMin (their output is the dtype minimum).
func int8Row[T int8 | uint8](s *softmax, x []T, outBits int, emit func(c int, v int32)) error {
	maxIn := int32(math.MinInt32)
	for _, v := range x {
		maxIn = max(maxIn, int32(v))
	}
	expOf := func(v T) (int32, bool) {
		diff := int32(v) - maxIn
		if t := s.exp8; t != nil {
			e := t[uint8(-diff)] // diff in [−255, 0] for 8-bit inputs
			return e, e >= 0
		}
		return s.expOf8(diff)
	}
	if t := s.exp8; t != nil && len(x) > len(t) {
		return int8RowTable(s, t, x, maxIn, outBits, emit)
	}
	var sum int32 // Q12.19
	for _, v := range x {
		if e, ok := expOf(v); ok {
			sum += fixedpoint.Rescale(e, 0, softmaxAccumulationIntBits)
		}
	}
	recip, bitsOver := fixedpoint.GetReciprocal(sum, softmaxAccumulationIntBits)
	exponent := bitsOver + 31 - outBits
	if exponent < 0 || exponent > 31 {
		return fmt.Errorf("%s: reciprocal exponent %d out of range", s.op.Kind, exponent)
	}
	for c, v := range x {
		e, ok := expOf(v)
		if !ok {
			emit(c, math.MinInt32) // clamps to the output minimum
			continue
		}
		emit(c, fixedpoint.RoundingDivideByPOT(fixedpoint.SaturatingRoundingDoublingHighMul(recip, e), exponent))
	}
	return nil
}

// int8RowTable is int8Row for a row longer than the 256 possible
// differences from its maximum: it counts each difference, forms the sum
// from the counts (int32 sums wrap alike in any order, and a count times
// a term is that many additions), computes each difference's result
// once with int8Row's arithmetic and emits it per element by lookup.
func int8RowTable[T int8 | uint8](s *softmax, t *[256]int32, x []T, maxIn int32, outBits int, emit func(c int, v int32)) error {
	var count [256]int32
	for _, v := range x {
		count[uint8(maxIn-int32(v))]++
	}
	var sum int32 // Q12.19
	for d, e := range t {
		if e >= 0 && count[d] != 0 {
			sum += count[d] * fixedpoint.Rescale(e, 0, softmaxAccumulationIntBits)
		}
	}
	recip, bitsOver := fixedpoint.GetReciprocal(sum, softmaxAccumulationIntBits)
	exponent := bitsOver + 31 - outBits
	if exponent < 0 || exponent > 31 {
		return fmt.Errorf("%s: reciprocal exponent %d out of range", s.op.Kind, exponent)
	}
	var vals [256]int32
	for d, e := range t {
		vals[d] = math.MinInt32 // clamps to the output minimum
		if e >= 0 && count[d] != 0 {
			vals[d] = fixedpoint.RoundingDivideByPOT(fixedpoint.SaturatingRoundingDoublingHighMul(recip, e), exponent)
		}
	}
	for c, v := range x {
		emit(c, vals[uint8(maxIn-int32(v))])
	}
	return nil
}

type softmaxInt8 struct{ *softmax }

// Run implements Kernel.
func (s softmaxInt8) Run(ins, outs []*Buffer) error {
	in, out, rows, err := s.rows(ins, outs)
	if err != nil {
		return err
	}
	for r := 0; r < rows; r++ {
		y := out.I8[r*s.depth : (r+1)*s.depth]
		err := int8Row(s.softmax, in.I8[r*s.depth:(r+1)*s.depth], 8, func(c int, v int32) {
			if v != math.MinInt32 {
				v += math.MinInt8
			}
			y[c] = int8(min(max(v, math.MinInt8), math.MaxInt8))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type softmaxUint8 struct{ *softmax }

// Run implements Kernel.
func (s softmaxUint8) Run(ins, outs []*Buffer) error {
	in, out, rows, err := s.rows(ins, outs)
	if err != nil {
		return err
	}
	for r := 0; r < rows; r++ {
		y := out.U8[r*s.depth : (r+1)*s.depth]
		err := int8Row(s.softmax, in.U8[r*s.depth:(r+1)*s.depth], 8, func(c int, v int32) {
			y[c] = uint8(min(max(v, 0), math.MaxUint8))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type softmaxInt8To16 struct{ *softmax }

// Run implements Kernel.
func (s softmaxInt8To16) Run(ins, outs []*Buffer) error {
	in, out, rows, err := s.rows(ins, outs)
	if err != nil {
		return err
	}
	for r := 0; r < rows; r++ {
		y := out.I16[r*s.depth : (r+1)*s.depth]
		err := int8Row(s.softmax, in.I8[r*s.depth:(r+1)*s.depth], 16, func(c int, v int32) {
			if v != math.MinInt32 {
				v += math.MinInt16
			}
			y[c] = int16(min(max(v, math.MinInt16), math.MaxInt16))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type softmaxInt16 struct{ *softmax }

// Run implements Kernel.
func (s softmaxInt16) Run(ins, outs []*Buffer) error {
	in, out, rows, err := s.rows(ins, outs)
	if err != nil {
		return err
	}
	for r := 0; r < rows; r++ {
		x := in.I16[r*s.depth : (r+1)*s.depth]
		y := out.I16[r*s.depth : (r+1)*s.depth]
		maxIn := int32(math.MinInt16)
		for _, v := range x {
			maxIn = max(maxIn, int32(v))
		}
		// Cache the exps (Q0.15) in the output row, as TFLite does.
		var sum int32 // Q16.15
		for i, v := range x {
			scaled := s.round.MultiplyByQuantizedMultiplier(int32(v)-maxIn, s.mult, s.shift)
			sym := min(max(scaled+32767, math.MinInt16), math.MaxInt16)
			e := s.expLUT.Lookup(int16(sym))
			y[i] = e
			sum += int32(e)
		}
		headroomPlusOne := fixedpoint.CountLeadingZeros32(uint32(sum))
		if headroomPlusOne < 1 || headroomPlusOne > 31 {
			return fmt.Errorf("%s: sum of exps %d out of range", s.op.Kind, sum)
		}
		shiftedSum := int32((int64(sum)<<uint(headroomPlusOne-1) + 1<<13) >> 14)
		// The table computes 1/(1+x) on a symmetric input: x = sum − 1,
		// recentred from [0, 65535] to [−32768, 32767].
		sym := min(max(shiftedSum-(1<<15+1<<16), math.MinInt16), math.MaxInt16)
		recip := int64(s.recipLUT.Lookup(int16(sym)))
		rightShift := uint(31 - headroomPlusOne)
		round := int64(0)
		if rightShift > 0 {
			round = int64(1) << (rightShift - 1)
		}
		for i, e := range y {
			v := int32((int64(e)*recip + round) >> rightShift)
			y[i] = int16(min(max(v, 0), math.MaxInt16))
		}
	}
	return nil
}
