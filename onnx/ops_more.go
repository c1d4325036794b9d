package onnx

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// Ops beyond the CNN set: data movement (CONCATENATION, SPLIT, SPLIT_V,
// GATHER, PAD, SQUEEZE, EXPAND_DIMS), elementwise arithmetic with
// broadcasting, MEAN and more unary activations. Integer tensors whose
// values move unchanged run on the integers when every tensor involved has
// the same quantization (as TFLite's kernels do); otherwise the op runs in
// float between DequantizeLinear and QuantizeLinear.

// nchwAxis maps an NHWC axis to its position in NCHW.
var nchwAxis = [4]int{0, 2, 3, 1}

// constInts reads a constant int32 or int64 tensor.
func (e *exporter) constInts(ti int, what string) ([]int, error) {
	if ti < 0 || ti >= len(e.g.Tensors) {
		return nil, fmt.Errorf("%s: tensor index %d out of range", what, ti)
	}
	t := e.g.Tensors[ti]
	if !t.IsConst() {
		return nil, fmt.Errorf("%s %q is not constant: %w", what, t.Name, ErrUnsupported)
	}
	if len(t.Data) != t.ByteSize() {
		return nil, fmt.Errorf("%s %q: %d data bytes for %v %s", what, t.Name, len(t.Data), t.Shape, t.DType)
	}
	var v []int
	switch t.DType {
	case graph.Int32:
		for _, x := range t.Int32s() {
			v = append(v, int(x))
		}
	case graph.Int64:
		for _, x := range t.Int64s() {
			v = append(v, int(x))
		}
	default:
		return nil, fmt.Errorf("%s %q: dtype %s, want int32 or int64", what, t.Name, t.DType)
	}
	return v, nil
}

// rawOK reports whether an op may move the integers of the given tensors
// unchanged: all activations (not constants) of one dtype with the same
// per-tensor quantization, or all float32.
func (e *exporter) rawOK(ts ...int) bool {
	first := e.g.Tensors[ts[0]]
	for _, ti := range ts {
		t := e.g.Tensors[ti]
		if t.DType != first.DType {
			return false
		}
		if t.DType == graph.Float32 {
			continue
		}
		if t.IsConst() || !isQuantized(t) || !sameQuant(t.Quant, first.Quant) {
			return false
		}
	}
	return true
}

// normAxis resolves a negative axis against rank.
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

// layoutFor picks NCHW when every tensor is rank 4 and the first already
// exists in NCHW, and maps axis into that layout.
func (e *exporter) layoutFor(axis int, ts ...int) (layout, int) {
	for _, ti := range ts {
		if len(e.g.Tensors[ti].Shape) != 4 {
			return plain, axis
		}
	}
	if e.preferred(ts[0]) == nchw {
		return nchw, nchwAxis[axis]
	}
	return plain, axis
}

func (e *exporter) concat(op *graph.Op, out int) error {
	o, ok := op.Options.(*graph.ConcatenationOptions)
	if !ok {
		return fmt.Errorf("options %T", op.Options)
	}
	ot := e.g.Tensors[out]
	axis, err := normAxis(o.Axis, len(ot.Shape))
	if err != nil {
		return err
	}
	if len(op.Inputs) == 0 {
		return fmt.Errorf("no inputs")
	}
	for k := range op.Inputs {
		if _, err := input(op, k); err != nil {
			return err
		}
	}
	l, ax := e.layoutFor(axis, append([]int{out}, op.Inputs...)...)
	attr := attrInt("axis", ax)
	if o.Activation == graph.ActNone && e.rawOK(append([]int{out}, op.Inputs...)...) {
		var ins []string
		for _, ti := range op.Inputs {
			x, err := e.get(ti, l)
			if err != nil {
				return err
			}
			ins = append(ins, x)
		}
		e.node("Concat", ins, []string{e.produce(out, l)}, attr)
		return nil
	}
	var ins []string
	for _, ti := range op.Inputs {
		x, err := e.floatIn(ti, l)
		if err != nil {
			return err
		}
		ins = append(ins, x)
	}
	return e.result(out, l, o.Activation, func(dst string) { e.node("Concat", ins, []string{dst}, attr) })
}

// split exports SPLIT (axis, input) and SPLIT_V (input, sizes, axis).
func (e *exporter) split(op *graph.Op) error {
	var xi, ai int
	var sizes []int
	var err error
	if op.Kind == graph.OpSplit {
		if ai, err = input(op, 0); err != nil {
			return err
		}
		if xi, err = input(op, 1); err != nil {
			return err
		}
	} else {
		if xi, err = input(op, 0); err != nil {
			return err
		}
		si, err := input(op, 1)
		if err != nil {
			return err
		}
		if ai, err = input(op, 2); err != nil {
			return err
		}
		if sizes, err = e.constInts(si, "split sizes"); err != nil {
			return err
		}
	}
	av, err := e.constInts(ai, "split axis")
	if err != nil {
		return err
	}
	if len(av) != 1 {
		return fmt.Errorf("split axis has %d values, want 1", len(av))
	}
	xt := e.g.Tensors[xi]
	axis, err := normAxis(av[0], len(xt.Shape))
	if err != nil {
		return err
	}
	if len(op.Outputs) == 0 {
		return fmt.Errorf("no outputs")
	}
	// The output shapes give the sizes (SPLIT_V may hold one -1).
	sizes = sizes[:0]
	for _, oi := range op.Outputs {
		if oi < 0 || oi >= len(e.g.Tensors) || len(e.g.Tensors[oi].Shape) != len(xt.Shape) {
			return fmt.Errorf("output %d: want a tensor of rank %d", oi, len(xt.Shape))
		}
		sizes = append(sizes, e.g.Tensors[oi].Shape[axis])
	}
	all := append([]int{xi}, op.Outputs...)
	l, ax := e.layoutFor(axis, all...)
	s64 := make([]int64, len(sizes))
	for i, s := range sizes {
		s64[i] = int64(s)
	}
	split := e.initializer(xt.Name+"_split", dtInt64, []int{len(s64)}, i64Raw(s64...))
	if e.rawOK(all...) {
		x, err := e.get(xi, l)
		if err != nil {
			return err
		}
		var outs []string
		for _, oi := range op.Outputs {
			outs = append(outs, e.produce(oi, l))
		}
		e.node("Split", []string{x, split}, outs, attrInt("axis", ax))
		return nil
	}
	x, err := e.floatIn(xi, l)
	if err != nil {
		return err
	}
	var parts []string
	for _, oi := range op.Outputs {
		parts = append(parts, e.fresh(e.g.Tensors[oi].Name+"_part"))
	}
	e.node("Split", []string{x, split}, parts, attrInt("axis", ax))
	for k, oi := range op.Outputs {
		part := parts[k]
		if err := e.result(oi, l, graph.ActNone, func(dst string) { e.node("Identity", []string{part}, []string{dst}) }); err != nil {
			return err
		}
	}
	return nil
}

func (e *exporter) gather(op *graph.Op, x, out int) error {
	o, _ := op.Options.(*graph.GatherOptions)
	if o != nil && o.BatchDims != 0 {
		return fmt.Errorf("GATHER with batch_dims %d: %w", o.BatchDims, ErrUnsupported)
	}
	ii, err := input(op, 1)
	if err != nil {
		return err
	}
	if dt := e.g.Tensors[ii].DType; dt != graph.Int32 && dt != graph.Int64 {
		return fmt.Errorf("GATHER indices of dtype %s: %w", dt, ErrUnsupported)
	}
	xt := e.g.Tensors[x]
	axis := 0
	if o != nil {
		axis = o.Axis
	}
	if axis, err = normAxis(axis, len(xt.Shape)); err != nil {
		return err
	}
	idx, err := e.get(ii, plain)
	if err != nil {
		return err
	}
	attr := attrInt("axis", axis)
	if e.rawOK(x, out) || (xt.IsConst() && xt.DType == e.g.Tensors[out].DType && (xt.DType == graph.Float32 || !e.u8Act(out) && sameQuant(xt.Quant, e.g.Tensors[out].Quant))) {
		d, err := e.get(x, plain)
		if err != nil {
			return err
		}
		e.node("Gather", []string{d, idx}, []string{e.produce(out, plain)}, attr)
		return nil
	}
	d, err := e.floatIn(x, plain)
	if err != nil {
		return err
	}
	return e.result(out, plain, graph.ActNone, func(dst string) { e.node("Gather", []string{d, idx}, []string{dst}, attr) })
}

// pad exports PAD and PADV2 (constant padding; TFLite pads integers with
// the output zero point, i.e. real zero).
func (e *exporter) pad(op *graph.Op, x, out int) error {
	pi, err := input(op, 1)
	if err != nil {
		return err
	}
	pv, err := e.constInts(pi, "paddings")
	if err != nil {
		return err
	}
	xt := e.g.Tensors[x]
	r := len(xt.Shape)
	if len(pv) != 2*r {
		return fmt.Errorf("paddings have %d values, want %d", len(pv), 2*r)
	}
	var cval string
	if op.Kind == graph.OpPadV2 && len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		if cval, err = e.floatIn(op.Inputs[2], plain); err != nil {
			return err
		}
	}
	l := plain
	if r == 4 && e.preferred(x) == nchw {
		l = nchw
	}
	// ONNX wants all begins, then all ends, in the value's layout.
	p := make([]int64, 2*r)
	for a := range r {
		d := a
		if l == nchw {
			d = nchwAxis[a]
		}
		p[d], p[r+d] = int64(pv[2*a]), int64(pv[2*a+1])
	}
	pads := e.initializer(xt.Name+"_pads", dtInt64, []int{2 * r}, i64Raw(p...))
	if cval == "" && e.rawOK(x, out) {
		in, err := e.get(x, l)
		if err != nil {
			return err
		}
		ins := []string{in, pads}
		if xt.DType != graph.Float32 {
			q, err := e.qparams(x)
			if err != nil {
				return err
			}
			ins = append(ins, q[1]) // pad with the zero point
		}
		e.node("Pad", ins, []string{e.produce(out, l)})
		return nil
	}
	in, err := e.floatIn(x, l)
	if err != nil {
		return err
	}
	ins := []string{in, pads}
	if cval != "" {
		ins = append(ins, cval)
	}
	return e.result(out, l, graph.ActNone, func(dst string) { e.node("Pad", ins, []string{dst}) })
}

// mean exports MEAN as ReduceMean over constant axes.
func (e *exporter) mean(op *graph.Op, x, out int) error {
	ai, err := input(op, 1)
	if err != nil {
		return err
	}
	av, err := e.constInts(ai, "mean axes")
	if err != nil {
		return err
	}
	xt := e.g.Tensors[x]
	keep := 0
	if o, ok := op.Options.(*graph.ReducerOptions); ok && o.KeepDims {
		keep = 1
	}
	l := plain
	if len(xt.Shape) == 4 && e.preferred(x) == nchw && keep == 1 {
		l = nchw
	}
	var axes []int
	for _, a := range av {
		a, err := normAxis(a, len(xt.Shape))
		if err != nil {
			return err
		}
		if l == nchw {
			a = nchwAxis[a]
		}
		axes = append(axes, a)
	}
	in, err := e.floatIn(x, l)
	if err != nil {
		return err
	}
	return e.result(out, l, graph.ActNone, func(dst string) {
		e.node("ReduceMean", []string{in}, []string{dst}, attrInts("axes", axes...), attrInt("keepdims", keep))
	})
}

// binary exports elementwise ops with numpy broadcasting (as TFLite's):
// in NCHW only when both operands have the output's rank-4 shape.
func (e *exporter) binary(op *graph.Op, x, out int, opType string, act graph.Activation) error {
	y, err := input(op, 1)
	if err != nil {
		return err
	}
	xs, ys, os := e.g.Tensors[x].Shape, e.g.Tensors[y].Shape, e.g.Tensors[out].Shape
	l := plain
	if len(os) == 4 && equalShape(xs, os) && equalShape(ys, os) {
		l = e.preferred(x)
		if l == plain {
			l = e.preferred(y)
		}
	}
	xf, err := e.floatIn(x, l)
	if err != nil {
		return err
	}
	yf, err := e.floatIn(y, l)
	if err != nil {
		return err
	}
	return e.result(out, l, act, func(dst string) { e.node(opType, []string{xf, yf}, []string{dst}) })
}

// unary exports elementwise activations in whatever layout x has.
func (e *exporter) unary(op *graph.Op, x, out int) error {
	l := e.preferred(x)
	xf, err := e.floatIn(x, l)
	if err != nil {
		return err
	}
	return e.result(out, l, graph.ActNone, func(dst string) {
		switch op.Kind {
		case graph.OpTanh:
			e.node("Tanh", []string{xf}, []string{dst})
		case graph.OpReluN1To1:
			_ = e.activation(graph.ActReluN1To1, xf, dst)
		case graph.OpRelu0To1:
			mn := e.initializer("clip_min", dtFloat, nil, f32Raw(0))
			mx := e.initializer("clip_max", dtFloat, nil, f32Raw(1))
			e.node("Clip", []string{xf, mn, mx}, []string{dst})
		case graph.OpHardSwish:
			// x · HardSigmoid(x) with alpha 1/6, beta 1/2 (HardSwish is opset 14).
			hs := e.fresh(e.g.Tensors[out].Name + "_hsig")
			e.node("HardSigmoid", []string{xf}, []string{hs}, attrFloat("alpha", 1.0/6), attrFloat("beta", 0.5))
			e.node("Mul", []string{xf, hs}, []string{dst})
		case graph.OpAbs:
			e.node("Abs", []string{xf}, []string{dst})
		case graph.OpExp:
			e.node("Exp", []string{xf}, []string{dst})
		}
	})
}
