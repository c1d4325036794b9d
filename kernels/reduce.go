package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// Reductions: SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD, REDUCE_ANY over any
// axes, ARG_MAX and ARG_MIN over one.

// reduction is the index plan shared by the reduce kernels: kept holds the
// input offset of each output element's first input, red the offsets of the
// reduced elements relative to it, both in row-major order.
type reduction struct {
	kept, red []int
}

// newReduction plans reducing shape over the axes in red.
func newReduction(shape []int, red []bool) reduction {
	r := reduction{kept: []int{0}, red: []int{0}}
	stride := 1
	for d := len(shape) - 1; d >= 0; d-- {
		n := shape[d]
		if red[d] {
			r.red = expand(r.red, n, stride)
		} else {
			r.kept = expand(r.kept, n, stride)
		}
		stride *= n
	}
	return r
}

// reduceKernel folds the reduced elements of each output in input order.
type reduceKernel struct {
	reduction
	kind graph.OpKind
	// Quantized SUM, one of three forms (see prepareReduce): qsum (TFLite
	// Micro, and later runtimes), qsumFloat (the runtime's 8-bit rescale in
	// float) or neither (the runtime's sum of stored values in the dtype).
	qsum, qsumFloat bool
	// qprod: quantized REDUCE_PROD, each step's product rescaled by
	// (si / so^(1/n)) as TFLite's QuantizedReduceProd does.
	qprod         bool
	zi, zo        int32
	mult          int32
	shift         int
	qlo, qhi      int32
	fscale, fbias float32
	// inner, rows: float32 SUM as row sums (see rowRuns); inner 0 when not.
	inner int
	rows  []int32
}

// fold reduces xs at the offsets in red from base with op, starting at init.
func fold[T any](xs []T, base int, red []int, init T, op func(a, b T) T) T {
	acc := init
	for _, o := range red {
		acc = op(acc, xs[base+o])
	}
	return acc
}

func reduceOrdered[T int8 | uint8 | int16 | int32 | int64 | float32](k *reduceKernel, xs, ys []T, lo, hi T) {
	var init T
	var op func(a, b T) T
	switch k.kind {
	case graph.OpReduceMax:
		init, op = lo, func(a, b T) T {
			if b > a {
				return b
			}
			return a
		}
	case graph.OpReduceMin:
		init, op = hi, func(a, b T) T {
			if b < a {
				return b
			}
			return a
		}
	case graph.OpReduceProd:
		init, op = 1, func(a, b T) T { return a * b }
	default:
		init, op = 0, func(a, b T) T { return a + b }
	}
	for i, base := range k.kept {
		ys[i] = fold(xs, base, k.red, init, op)
	}
}

func (k *reduceKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	switch {
	case k.qsum:
		n := int32(len(k.red))
		for i, base := range k.kept {
			var s int32
			for _, o := range k.red {
				s += getInt(x, base+o)
			}
			v := fixedpoint.MultiplyByQuantizedMultiplier(s-k.zi*n, k.mult, k.shift) + k.zo
			setInt(y, i, clampQ(v, k.qlo, k.qhi))
		}
		return nil
	case k.qprod:
		for i, base := range k.kept {
			acc := getInt(x, base+k.red[0]) - k.zi
			for _, o := range k.red[1:] {
				acc = fixedpoint.MultiplyByQuantizedMultiplier64(int64(acc)*int64(getInt(x, base+o)-k.zi), k.mult, k.shift)
			}
			v := fixedpoint.MultiplyByQuantizedMultiplier64(int64(acc), k.mult, k.shift) + k.zo
			setInt(y, i, clampQ(v, k.qlo, k.qhi))
		}
		return nil
	case k.qsumFloat:
		for i, base := range k.kept {
			var s int32
			for _, o := range k.red {
				s += getInt(x, base+o)
			}
			// Unclamped: the stored value wraps, as TFLite's cast does.
			v := int32(roundHalfAway32(float32(s)*k.fscale+k.fbias)) + k.zo
			setWrapped(y, i, int64(v))
		}
		return nil
	case y.DType == graph.Bool && k.kind == graph.OpReduceAll:
		for i, base := range k.kept {
			y.Bool[i] = fold(x.Bool, base, k.red, true, func(a, b bool) bool { return a && b })
		}
		return nil
	case y.DType == graph.Bool:
		for i, base := range k.kept {
			y.Bool[i] = fold(x.Bool, base, k.red, false, func(a, b bool) bool { return a || b })
		}
		return nil
	}
	switch y.DType {
	case graph.Float32:
		if k.inner > 0 {
			sumRunsF32(x.F32, y.F32, k.kept, k.rows, k.inner)
			return nil
		}
		reduceOrdered(k, x.F32, y.F32, float32(math.Inf(-1)), float32(math.Inf(1)))
	case graph.Int8:
		reduceOrdered(k, x.I8, y.I8, math.MinInt8, math.MaxInt8)
	case graph.UInt8:
		reduceOrdered(k, x.U8, y.U8, 0, math.MaxUint8)
	case graph.Int16:
		reduceOrdered(k, x.I16, y.I16, math.MinInt16, math.MaxInt16)
	case graph.Int32:
		reduceOrdered(k, x.I32, y.I32, math.MinInt32, math.MaxInt32)
	case graph.Int64:
		reduceOrdered(k, x.I64, y.I64, math.MinInt64, math.MaxInt64)
	}
	return nil
}

// reduceAxes reads the constant axis input of a reduction.
func reduceAxes(p *prep) ([]bool, []int, error) {
	in, a := p.in(0), p.in(1)
	if a == nil {
		return nil, nil, fmt.Errorf("%s: needs an axis input", p.op.Kind)
	}
	axes64, ok := constInt64s(a)
	if !ok {
		return nil, nil, p.unsupported(fmt.Sprintf("axis tensor %q must be a constant int32/int64 tensor", a.Name))
	}
	axes := make([]int, len(axes64))
	for i, v := range axes64 {
		axes[i] = int(v)
	}
	red, err := graph.ReduceAxes(axes, len(in.Shape))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: axis tensor %q: %v", p.op.Kind, a.Name, err)
	}
	return red, axes, nil
}

func prepareReduce(p *prep) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	if in.DType != out.DType {
		return nil, p.unsupported("input and output dtypes differ")
	}
	red, axes, err := reduceAxes(p)
	if err != nil {
		return nil, err
	}
	k := &reduceKernel{reduction: newReduction(in.Shape, red), kind: p.op.Kind}
	if len(k.kept) != out.NumElements() {
		return nil, fmt.Errorf("%s: reducing %v over axes %v leaves %d elements, output %q %v has %d: %w",
			p.op.Kind, in.Shape, axes, len(k.kept), out.Name, out.Shape, out.NumElements(), graph.ErrShape)
	}
	if in.NumElements() == 0 {
		k.red = nil
	}
	d := out.DType
	switch p.op.Kind {
	case graph.OpReduceAny, graph.OpReduceAll:
		if d == graph.Bool {
			return k, nil
		}
	case graph.OpReduceMax, graph.OpReduceMin:
		// Quantized, TFLite compares the stored values (the converter keeps
		// the input's quantization on the output).
		switch d {
		case graph.Float32, graph.Int8, graph.UInt8, graph.Int16, graph.Int32, graph.Int64:
			return k, nil
		}
	case graph.OpReduceProd:
		switch d {
		case graph.Float32, graph.Int32, graph.Int64:
			return k, nil
		case graph.Int8, graph.Int16:
			si, zi, err := requireQuant(p.op, "input", in)
			if err != nil {
				return nil, err
			}
			so, zo, err := requireQuant(p.op, "output", out)
			if err != nil {
				return nil, err
			}
			if len(k.red) == 0 {
				return nil, p.unsupported("quantized REDUCE_PROD of an empty input")
			}
			k.qprod, k.zi, k.zo = true, zi, zo
			n := float64(in.NumElements() / max(out.NumElements(), 1))
			k.mult, k.shift = fixedpoint.QuantizeMultiplier(float64(si) / math.Pow(float64(so), 1/n))
			k.qlo, k.qhi = DTypeRange(d)
			return k, nil
		}
	case graph.OpSum:
		switch d {
		case graph.Float32:
			if !p.ref && len(k.red) > 0 {
				k.inner, k.rows = rowRuns(in.Shape, red, k.kept, k.red)
			}
			return k, nil
		case graph.Int32, graph.Int64:
			return k, nil
		case graph.Int8, graph.UInt8, graph.Int16:
			si, zi, err := requireQuant(p.op, "input", in)
			if err != nil {
				return nil, err
			}
			so, zo, err := requireQuant(p.op, "output", out)
			if err != nil {
				return nil, err
			}
			same := si == so && zi == zo
			if p.rnd == fixedpoint.DoubleRounding {
				// TFLite Micro (and runtimes from 2.10 on): the stored sum
				// less count·zi, rescaled by si/so, plus zo, clamped.
				k.qsum = true
				k.zi, k.zo = zi, zo
				k.mult, k.shift = fixedpoint.QuantizeMultiplier(float64(si) / float64(so))
				k.qlo, k.qhi = DTypeRange(d)
				return k, nil
			}
			// The runtime the oracle ships: int16 needs one quantization and
			// sums stored values; 8-bit with one quantization sums the stored
			// values in the dtype (wrapping); otherwise it rescales in float,
			// round(sum·(si/so) − zi·(si/so)·count) + zo, wrapping.
			switch {
			case d == graph.Int16 && !same:
				return nil, p.unsupported("int16 SUM needs the input's quantization on the output")
			case same:
				return k, nil
			}
			k.qsumFloat = true
			k.zo = zo
			k.fscale = si / so
			k.fbias = float32(-zi) * k.fscale * float32(len(k.red))
			return k, nil
		}
	}
	return nil, p.unsupported("dtype")
}

// argKernel implements ARG_MAX and ARG_MIN: the index of the first extreme
// element along one axis.
type argKernel struct {
	outer, n, inner int
	max             bool
}

func argLoop[T int8 | uint8 | int32 | float32](k *argKernel, xs []T, set func(i int, v int64)) {
	for o := range k.outer {
		for in := range k.inner {
			base := o*k.n*k.inner + in
			best, bi := xs[base], 0
			for j := 1; j < k.n; j++ {
				v := xs[base+j*k.inner]
				if (k.max && v > best) || (!k.max && v < best) {
					best, bi = v, j
				}
			}
			set(o*k.inner+in, int64(bi))
		}
	}
}

func (k *argKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	set := func(i int, v int64) { y.I64[i] = v }
	if y.DType == graph.Int32 {
		set = func(i int, v int64) { y.I32[i] = int32(v) }
	}
	switch x.DType {
	case graph.Float32:
		argLoop(k, x.F32, set)
	case graph.Int8:
		argLoop(k, x.I8, set)
	case graph.UInt8:
		argLoop(k, x.U8, set)
	case graph.Int32:
		argLoop(k, x.I32, set)
	case graph.Bool:
		b := make([]uint8, len(x.Bool))
		for i, v := range x.Bool {
			if v {
				b[i] = 1
			}
		}
		argLoop(k, b, set)
	}
	return nil
}

func prepareArg(p *prep) (Kernel, error) {
	in, out := p.in(0), p.out(0)
	switch in.DType {
	case graph.Float32, graph.Int8, graph.UInt8, graph.Int32, graph.Bool:
	default:
		return nil, p.unsupported("input dtype")
	}
	if out.DType != graph.Int32 && out.DType != graph.Int64 {
		return nil, p.unsupported("output must be int32 or int64")
	}
	_, axes, err := reduceAxes(p)
	if err != nil {
		return nil, err
	}
	if len(axes) != 1 {
		return nil, fmt.Errorf("%s: axis tensor holds %d values, want 1", p.op.Kind, len(axes))
	}
	ax := axes[0]
	if ax < 0 {
		ax += len(in.Shape)
	}
	k := &argKernel{outer: 1, inner: 1, n: in.Shape[ax], max: p.op.Kind == graph.OpArgMax}
	for d, n := range in.Shape {
		switch {
		case d < ax:
			k.outer *= n
		case d > ax:
			k.inner *= n
		}
	}
	if k.outer*k.inner != out.NumElements() {
		return nil, fmt.Errorf("%s: output %q %v does not hold %v without axis %d: %w", p.op.Kind, out.Name, out.Shape, in.Shape, ax, graph.ErrShape)
	}
	if k.n == 0 && k.outer*k.inner > 0 {
		return nil, fmt.Errorf("%s: axis %d of %v is empty: %w", p.op.Kind, ax, in.Shape, graph.ErrShape)
	}
	return k, nil
}
