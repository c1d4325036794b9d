package kernels

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// meanKernel implements MEAN over constant axes. Each output element sums
// its input elements in increasing input order (as TFLite's ReduceSumImpl
// accumulates), so float results match the reference bit for bit.
type meanKernel struct {
	kept  []int // input offset of the first element of each output
	red   []int // offsets of the reduced elements relative to kept[i]
	count int
	// inner, when > 0, is the length of the runs of outputs whose kept
	// offsets are consecutive (the trailing dimensions are not reduced):
	// float32 then sums a whole run per reduced offset (meanRunsF32)
	// instead of one output at a time through the offset list.
	inner int
	// rows holds red[r]/inner: the reduced rows of a run as row numbers
	// (inner elements each) for sumRowsF32.
	rows []int32
	// quantized
	sameQuant   bool
	zpIn, zpOut int32
	mult        int32
	shift       int
	lo, hi      int32
	rnd         fixedpoint.Rounding
	// fp32, when set, is the TFLite runtime's delegate: XNNPACK's int8
	// global average pooling, which requantizes the sum (minus count·zpIn)
	// in float32 with fpScale = sIn / (sOut·count) (see xnnMeanScale).
	fp32    bool
	fpScale float32
}

func (k *meanKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	if k.count == 0 {
		return nil
	}
	if y.DType == graph.Float32 {
		if k.inner > 0 {
			meanRunsF32(x.F32, y.F32, k.kept, k.rows, k.inner, float32(k.count))
			return nil
		}
		for o, base := range k.kept {
			var s float32
			for _, r := range k.red {
				s += x.F32[base+r]
			}
			y.F32[o] = s / float32(k.count)
		}
		return nil
	}
	for o, base := range k.kept {
		var s int32
		switch x.DType {
		case graph.Int8:
			s = sumAt(x.I8, base, k.red)
		case graph.UInt8:
			s = sumAt(x.U8, base, k.red)
		case graph.Int16:
			s = sumAt(x.I16, base, k.red)
		}
		if k.fp32 {
			setInt(y, o, fixedpoint.FP32Requantize(s-k.zpIn*int32(k.count), k.fpScale, k.zpOut, k.lo, k.hi))
			continue
		}
		if k.sameQuant {
			// Same scale and zero point: TFLite divides the raw sum,
			// truncating toward zero.
			setInt(y, o, s/int32(k.count))
			continue
		}
		v := k.rnd.MultiplyByQuantizedMultiplier(s-k.zpIn*int32(k.count), k.mult, k.shift) + k.zpOut
		setInt(y, o, min(max(v, k.lo), k.hi))
	}
	return nil
}

// meanRunsF32 is the float32 MEAN of Run's reference loop with the
// outputs taken inner at a time: for outputs o..o+inner, whose input
// offsets kept[o]+c are consecutive, it adds the input run of each reduced
// row in order (sumRowsF32), so every output sums the same values in the
// same order from the same +0 (bit-identical), reading the input row by
// row instead of one strided element per output.
func meanRunsF32(x, y []float32, kept []int, rows []int32, inner int, count float32) {
	for o := 0; o+inner <= len(kept); o += inner {
		acc := y[o : o+inner : o+inner]
		clear(acc)
		sumRowsF32(acc, x[kept[o]:], rows, inner)
		for c := range acc {
			acc[c] /= count
		}
	}
}

// sumAt returns the int32 sum of xs[base+r] over the offsets red, in order
// (the dtype resolved once per output element, not per input element).
func sumAt[T ~int8 | ~uint8 | ~int16](xs []T, base int, red []int) int32 {
	var s int32
	for _, r := range red {
		s += int32(xs[base+r])
	}
	return s
}

func prepareMean(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding) (Kernel, error) {
	if len(ins) < 2 || ins[1] == nil {
		return nil, fmt.Errorf("%s: needs an axis input", op.Kind)
	}
	in, out := ins[0], outs[0]
	if in.DType != out.DType {
		return nil, unsupported(op, ins, outs, "input and output dtypes differ")
	}
	axes64, ok := constInt64s(ins[1])
	if !ok {
		return nil, unsupported(op, ins, outs, fmt.Sprintf("axis tensor %q must be a constant int32/int64 tensor", ins[1].Name))
	}
	axes := make([]int, len(axes64))
	for i, a := range axes64 {
		axes[i] = int(a)
	}
	rank := len(in.Shape)
	red, err := graph.ReduceAxes(axes, rank)
	if err != nil {
		return nil, fmt.Errorf("%s: axis tensor %q: %v", op.Kind, ins[1].Name, err)
	}
	k := &meanKernel{kept: []int{0}, red: []int{0}, count: 1}
	nOut := 1
	stride := 1
	// Walk dimensions innermost first, expanding the offset lists so both
	// end up in row-major order.
	for d := rank - 1; d >= 0; d-- {
		n := in.Shape[d]
		if red[d] {
			k.count *= n
			k.red = expand(k.red, n, stride)
		} else {
			nOut *= n
			k.kept = expand(k.kept, n, stride)
		}
		stride *= n
	}
	if nOut != out.NumElements() {
		return nil, fmt.Errorf("%s: reducing %v over axes %v leaves %d elements, output %q %v has %d: %w",
			op.Kind, in.Shape, axes, nOut, out.Name, out.Shape, out.NumElements(), graph.ErrShape)
	}
	switch out.DType {
	case graph.Float32:
		k.inner, k.rows = rowRuns(in.Shape, red, k.kept, k.red)
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
	k.lo, k.hi = DTypeRange(out.DType)
	if sc, ok := xnnMeanScale(rnd, in, out, red, si, so, k.count); ok {
		k.fp32, k.fpScale = true, sc
		return k, nil
	}
	rnd = rnd.Builtin()
	k.rnd = rnd
	// TFLite's reference kernels (and the runtime's int16 MEAN) divide the
	// raw sum when nothing needs rescaling; the runtime's 8-bit path always
	// rescales.
	if si == so && zi == zo && (rnd == fixedpoint.DoubleRounding || out.DType == graph.Int16) {
		k.sameQuant = true
		return k, nil
	}
	// TFLite folds 1/count into the multiplier: shift it left by
	// floor(log2(count)) (bounded) and divide by count.
	m, sh := rnd.QuantizeMultiplier(float64(si) / float64(so))
	if k.count > 0 {
		s := 63 - bits.LeadingZeros64(uint64(k.count))
		s = min(s, 32, 31+sh)
		m = int32((int64(m) << s) / int64(k.count))
		sh -= s
	}
	k.mult, k.shift = m, sh
	return k, nil
}

// rowRuns plans a float reduction of shape over the axes red (kept and
// offs its output and reduced offsets) as row sums: inner is the length
// of the trailing run of kept dimensions (outputs inner at a time have
// consecutive input offsets), rows the reduced offsets as row numbers of
// inner elements. inner is 0 when the plan does not pay (runs shorter
// than 4) or does not fit (an offset too large for int32).
func rowRuns(shape []int, red []bool, kept, offs []int) (inner int, rows []int32) {
	inner = 1
	for d := len(shape) - 1; d >= 0 && !red[d]; d-- {
		inner *= shape[d]
	}
	if inner < 4 || len(kept)%inner != 0 {
		return 0, nil
	}
	rows = make([]int32, len(offs))
	for r, o := range offs {
		if o%inner != 0 || o/inner > math.MaxInt32 {
			return 0, nil
		}
		rows[r] = int32(o / inner)
	}
	return inner, rows
}

// sumRunsF32 is meanRunsF32 without the division: SUM's float32 loop.
func sumRunsF32(x, y []float32, kept []int, rows []int32, inner int) {
	for o := 0; o+inner <= len(kept); o += inner {
		acc := y[o : o+inner : o+inner]
		clear(acc)
		sumRowsF32(acc, x[kept[o]:], rows, inner)
	}
}

// expand returns, for each of n steps along a dimension of the given stride,
// every offset in base shifted by step·stride (outer loop over the new dim).
func expand(base []int, n, stride int) []int {
	r := make([]int, 0, len(base)*n)
	for i := range n {
		for _, b := range base {
			r = append(r, i*stride+b)
		}
	}
	return r
}
