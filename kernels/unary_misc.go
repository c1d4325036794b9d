package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// CAST, ZEROS_LIKE, LOG_SOFTMAX and L2_NORMALIZATION.

// castKernel converts element by element as C++'s static_cast does:
// integers wrap to the narrower type, floats truncate toward zero, bool is
// v != 0 one way and 0/1 the other. Quantization is ignored (TFLite's CAST
// copies values, not real numbers).
type castKernel struct{ n int }

// castDTypes are the dtypes CAST converts between (any pair).
var castDTypes = []graph.DType{graph.Float32, graph.Int8, graph.UInt8, graph.Int16, graph.Int32, graph.Int64, graph.Bool}

func (k *castKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	if x.DType == graph.Float32 {
		for i, v := range x.F32[:k.n] {
			switch y.DType {
			case graph.Float32:
				y.F32[i] = v
			case graph.Bool:
				y.Bool[i] = v != 0
			default:
				setWrapped(y, i, floatToInt(v, y.DType))
			}
		}
		return nil
	}
	for i := range k.n {
		var v int64
		switch x.DType {
		case graph.Int8:
			v = int64(x.I8[i])
		case graph.UInt8:
			v = int64(x.U8[i])
		case graph.Int16:
			v = int64(x.I16[i])
		case graph.Int32:
			v = int64(x.I32[i])
		case graph.Int64:
			v = x.I64[i]
		case graph.Bool:
			if x.Bool[i] {
				v = 1
			}
		}
		switch y.DType {
		case graph.Float32:
			y.F32[i] = float32(v)
		case graph.Bool:
			y.Bool[i] = v != 0
		default:
			setWrapped(y, i, v)
		}
	}
	return nil
}

// floatToInt truncates toward zero as the TFLite runtime's WebAssembly
// build does (C++ leaves out-of-range values undefined): saturating
// conversion to int64 for int64, to uint32 for uint8 (so negative values
// give 0), to int32 otherwise, then wrapping to the target width; NaN
// gives 0.
func floatToInt(v float32, to graph.DType) int64 {
	lo, hi := float32(math.MinInt32), float32(math.MaxInt32)
	switch to {
	case graph.Int64:
		lo, hi = math.MinInt64, math.MaxInt64
	case graph.UInt8:
		lo, hi = 0, math.MaxUint32
	}
	switch {
	case v != v:
		return 0
	case v <= lo:
		return int64(lo)
	case v >= hi:
		if to == graph.Int64 {
			return math.MaxInt64
		}
		return int64(hi)
	}
	return int64(v)
}

// setWrapped stores v in an integer buffer, wrapping to its width.
func setWrapped(b *Buffer, i int, v int64) {
	switch b.DType {
	case graph.Int8:
		b.I8[i] = int8(v)
	case graph.UInt8:
		b.U8[i] = uint8(v)
	case graph.Int16:
		b.I16[i] = int16(v)
	case graph.Int32:
		b.I32[i] = int32(v)
	case graph.Int64:
		b.I64[i] = v
	}
}

func prepareCast(p *prep) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	if !hasDType(castDTypes, in.DType) || !hasDType(castDTypes, out.DType) {
		return nil, p.unsupported("dtype")
	}
	if err := checkElems(p.op, in, out); err != nil {
		return nil, err
	}
	return &castKernel{n: out.NumElements()}, nil
}

// zerosKernel fills its output with zeros.
type zerosKernel struct{ n int }

func (k *zerosKernel) Run(ins, outs []*Buffer) error {
	y := outs[0]
	switch y.DType {
	case graph.Float32:
		clear(y.F32[:k.n])
	case graph.Int32:
		clear(y.I32[:k.n])
	case graph.Int64:
		clear(y.I64[:k.n])
	}
	return nil
}

func prepareZerosLike(p *prep) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	if in.DType != out.DType {
		return nil, p.unsupported("input and output dtypes differ")
	}
	switch out.DType {
	case graph.Float32, graph.Int32, graph.Int64:
	default:
		return nil, p.unsupported("dtype")
	}
	if err := checkElems(p.op, in, out); err != nil {
		return nil, err
	}
	return &zerosKernel{n: out.NumElements()}, nil
}

// rowKernel runs a function over each row of the innermost dimension.
type rowKernel struct {
	rows, depth int
	f32         func(x, y []float32)
	q           func(x, y []int32) // quantized: stored values
}

func (k *rowKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	d := k.depth
	if y.DType == graph.Float32 {
		for r := range k.rows {
			k.f32(x.F32[r*d:(r+1)*d], y.F32[r*d:(r+1)*d])
		}
		return nil
	}
	xs, ys := make([]int32, d), make([]int32, d)
	for r := range k.rows {
		for c := range d {
			xs[c] = getInt(x, r*d+c)
		}
		k.q(xs, ys)
		for c := range d {
			setInt(y, r*d+c, ys[c])
		}
	}
	return nil
}

// rowShape returns the number of rows and the innermost dimension.
func rowShape(p *prep) (rows, depth int, err error) {
	in, out := p.in(0), p.out(0)
	if err := checkElems(p.op, in, out); err != nil {
		return 0, 0, err
	}
	if len(in.Shape) == 0 {
		return 0, 0, fmt.Errorf("%s: input %q is a scalar: %w", p.op.Kind, in.Name, graph.ErrShape)
	}
	depth = in.Shape[len(in.Shape)-1]
	if depth == 0 {
		return 0, 0, nil
	}
	return in.NumElements() / depth, depth, nil
}

// logSoftmaxF32 is x − max − log Σ exp(x − max), in float32 with a float64
// sum of exponentials.
func logSoftmaxF32(x, y []float32) {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v - m))
	}
	l := float32(math.Log(s))
	for i, v := range x {
		y[i] = v - m - l
	}
}

func prepareLogSoftmax(p *prep) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	if in.DType != out.DType {
		return nil, p.unsupported("input and output dtypes differ")
	}
	rows, depth, err := rowShape(p)
	if err != nil {
		return nil, err
	}
	k := &rowKernel{rows: rows, depth: depth, f32: logSoftmaxF32}
	switch out.DType {
	case graph.Float32:
		return k, nil
	case graph.Int8, graph.UInt8:
		return prepareLogSoftmaxQuant(p, k)
	}
	return nil, p.unsupported("dtype")
}

// l2NormF32 divides a row by its L2 norm (at least 1e-6, as TFLite).
func l2NormF32(x, y []float32) {
	var s float32
	for _, v := range x {
		s += v * v
	}
	n := max(float32(math.Sqrt(float64(s))), 1e-6)
	for i, v := range x {
		y[i] = v / n
	}
}

func prepareL2Normalization(p *prep) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	if in.DType != out.DType {
		return nil, p.unsupported("input and output dtypes differ")
	}
	if o, ok := p.op.Options.(*graph.L2NormOptions); ok && o != nil && o.Activation != graph.ActNone {
		return nil, p.unsupported("fused activation " + o.Activation.String())
	}
	rows, depth, err := rowShape(p)
	if err != nil {
		return nil, err
	}
	k := &rowKernel{rows: rows, depth: depth, f32: l2NormF32}
	switch out.DType {
	case graph.Float32:
		return k, nil
	case graph.Int8, graph.UInt8:
		return prepareL2NormQuant(p, k)
	}
	return nil, p.unsupported("dtype")
}

// prepareLogSoftmaxQuant is TFLite's 8-bit LOG_SOFTMAX as the runtime's
// optimized kernel computes it for uint8 and int8 alike: exp(−s·d)
// tabulated in float32 for every difference d from the row maximum, the
// row's float32 sum of table entries, its log, and each output
// rint(s/so·x − (s·max + log Σ)/so) + zo at the fixed output scale 16/256
// (zero point 255 for uint8, 127 for int8), clamped to the dtype. TFLite's
// reference kernels compute int8 in gemmlowp fixed point instead; the
// runtime (and the oracle) run the table form (measured: see the ewise
// oracle test's LOG_SOFTMAX cases).
func prepareLogSoftmaxQuant(p *prep, k *rowKernel) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	si, _, err := requireQuant(p.op, "input", in)
	if err != nil {
		return nil, err
	}
	so, zo, err := requireQuant(p.op, "output", out)
	if err != nil {
		return nil, err
	}
	wantZ := int32(255)
	if out.DType == graph.Int8 {
		wantZ = 127
	}
	if so != 16.0/256 || zo != wantZ {
		return nil, fmt.Errorf("%s: output %q must be quantized with scale 16/256 and zero point %d (TFLite's fixed output), got %g/%d",
			p.op.Kind, out.Name, wantZ, so, zo)
	}
	lo, hi := DTypeRange(out.DType)
	// table[255−v] = exp(−si·v), as PopulateSoftmaxLookupTable fills it.
	var table [256]float32
	neg := -si
	for v := range 256 {
		table[255-v] = float32(math.Exp(float64(neg * float32(v))))
	}
	scale := si / so
	k.q = func(x, y []int32) {
		mx := lo
		for _, v := range x {
			mx = max(mx, v)
		}
		var sum float32
		for _, v := range x {
			sum += table[255-mx+v]
		}
		logSum := float32(math.Log(float64(sum)))
		pre := (float32(si*float32(mx)) + logSum) / so // explicit rounding: no fused multiply-add
		for i, v := range x {
			lp := float32(scale*float32(v)) - pre
			y[i] = clampQ(int32(math.RoundToEven(float64(lp)))+zo, lo, hi)
		}
	}
	return k, nil
}

// prepareL2NormQuant is TFLite's 8-bit L2_NORMALIZATION: the row's sum
// of squared differences from the input zero point gives an inverse-sqrt
// multiplier (InvSqrtQuantizedMultiplierExp); each difference times it is
// the output at the fixed scale 1/128 (uint8: 128·diff rescaled plus 128;
// int8: diff rescaled with 7 more bits, zero point 0). The input scale
// cancels out. The int8 product rounds as the builtin kernels do (once, in
// the runtime); the uint8 kernel rounds twice in every mode (measured
// against the oracle: single rounding is one step high on 1 value in 40).
func prepareL2NormQuant(p *prep, k *rowKernel) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	_, zi, err := requireQuant(p.op, "input", in)
	if err != nil {
		return nil, err
	}
	so, zo, err := requireQuant(p.op, "output", out)
	if err != nil {
		return nil, err
	}
	wantZ := int32(0)
	if out.DType == graph.UInt8 {
		wantZ = 128
	}
	if so != 1.0/128 || zo != wantZ {
		return nil, fmt.Errorf("%s: output %q must be quantized with scale 1/128 and zero point %d (TFLite's fixed output), got %g/%d",
			p.op.Kind, out.Name, wantZ, so, zo)
	}
	rnd := p.rnd.Builtin()
	u8 := out.DType == graph.UInt8
	k.q = func(x, y []int32) {
		var acc int32
		for _, v := range x {
			d := v - zi
			acc += d * d
		}
		m, sh := fixedpoint.InvSqrtQuantizedMultiplierExp(acc)
		for i, v := range x {
			d := v - zi
			if u8 {
				y[i] = clampQ(128+fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp(128*d, m, sh), 0, 255)
			} else {
				y[i] = clampQ(rnd.MultiplyByQuantizedMultiplier(d, m, sh+7), -128, 127)
			}
		}
	}
	return k, nil
}
