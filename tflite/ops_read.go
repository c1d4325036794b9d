package tflite

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// arity gives, per op kind, the allowed input count range, which of those
// inputs are optional (may be -1), and the output count. Checking it here
// means later stages can index op.Inputs without re-checking lengths.
type arity struct {
	minIn, maxIn int // maxIn < 0: unbounded
	optional     []int
	outs         int
}

var arities = map[graph.OpKind]arity{
	graph.OpConv2D:          {2, 3, []int{2}, 1},
	graph.OpDepthwiseConv2D: {2, 3, []int{2}, 1},
	graph.OpFullyConnected:  {2, 3, []int{2}, 1},
	graph.OpMaxPool2D:       {1, 1, nil, 1},
	graph.OpAveragePool2D:   {1, 1, nil, 1},
	graph.OpSoftmax:         {1, 1, nil, 1},
	graph.OpReshape:         {1, 2, []int{1}, 1},
	graph.OpQuantize:        {1, 1, nil, 1},
	graph.OpDequantize:      {1, 1, nil, 1},
	graph.OpAdd:             {2, 2, nil, 1},
	graph.OpRelu:            {1, 1, nil, 1},
	graph.OpRelu6:           {1, 1, nil, 1},
	graph.OpLeakyRelu:       {1, 1, nil, 1},
	graph.OpLogistic:        {1, 1, nil, 1},
	graph.OpPad:             {2, 2, nil, 1},
	graph.OpPadV2:           {2, 3, []int{2}, 1},
	graph.OpConcatenation:   {1, -1, nil, 1},
	graph.OpMean:            {2, 2, nil, 1},
}

// CheckArity reports whether op has an input and output count its kind
// allows and uses -1 (omitted) only for optional inputs. The reader applies
// it to every op; the writer too.
func CheckArity(op *graph.Op) error {
	if op.Kind == graph.OpUnknown && op.Code != "" {
		return nil // an op qbench does not model: nothing known to check
	}
	a, ok := arities[op.Kind]
	if !ok {
		s, found := specForKind(op.Kind)
		if !found {
			return fmt.Errorf("%w op %s", ErrUnsupported, op.Kind)
		}
		a = s.ar
	}
	if len(op.Inputs) < a.minIn || (a.maxIn >= 0 && len(op.Inputs) > a.maxIn) {
		if a.maxIn < 0 {
			return fmt.Errorf("%s has %d inputs, want at least %d", op.Kind, len(op.Inputs), a.minIn)
		}
		return fmt.Errorf("%s has %d inputs, want %d to %d", op.Kind, len(op.Inputs), a.minIn, a.maxIn)
	}
	for i, in := range op.Inputs {
		if in != -1 {
			continue
		}
		opt := false
		for _, o := range a.optional {
			opt = opt || o == i
		}
		if !opt {
			return fmt.Errorf("%s input %d is omitted (-1) but required", op.Kind, i)
		}
	}
	if a.outs >= 0 && len(op.Outputs) != a.outs {
		return fmt.Errorf("%s has %d outputs, want %d", op.Kind, len(op.Outputs), a.outs)
	}
	return nil
}

func (r *reader) readOperators(sg table, g *graph.Graph) error {
	ov, err := sg.vec(subgraphOperators, 4, "operators")
	if err != nil {
		return err
	}
	if err := r.f.charge(120 * int64(ov.len())); err != nil {
		return fmt.Errorf("operators: %w", err)
	}
	g.Ops = make([]*graph.Op, 0, ov.len())
	for i := 0; i < ov.len(); i++ {
		what := fmt.Sprintf("operator %d", i)
		ot, err := ov.table(i, what)
		if err != nil {
			return err
		}
		op, err := r.operator(i, ot, len(g.Tensors))
		if err != nil {
			return err
		}
		g.Ops = append(g.Ops, op)
	}
	return nil
}

func (r *reader) operator(i int, ot table, nTensors int) (*graph.Op, error) {
	ci, err := ot.u32(operatorOpcodeIndex, 0)
	if err != nil {
		return nil, err
	}
	if int64(ci) >= int64(len(r.codes)) {
		return nil, fmt.Errorf("%w: operator %d: opcode index %d out of range [0,%d)", ErrCorrupt, i, ci, len(r.codes))
	}
	oc := r.codes[ci]
	// An op qbench does not model is read as OpUnknown named by its code,
	// so the model can still be inspected; compiling it names the op.
	op := &graph.Op{Kind: graph.OpUnknown, Version: oc.version, Code: BuiltinName(oc.code)}
	if oc.code == codeCustom && oc.custom != "" {
		op.Code = oc.custom
	}
	m, known := mappingForCode(oc.code)
	var sp *opSpec
	if known {
		op.Kind = m.kind
	} else if sp, known = specForCode(oc.code, oc.custom); known {
		op.Kind = sp.kind
		m = opMapping{kind: sp.kind, code: sp.code, options: sp.options}
	}
	if known {
		op.Code = ""
	}
	what := fmt.Sprintf("operator %d (%s)", i, op.Name())
	for _, io := range []struct {
		id   int
		dst  *[]int
		name string
	}{{operatorInputs, &op.Inputs, "input"}, {operatorOutputs, &op.Outputs, "output"}} {
		v, err := ot.vec(io.id, 4, what+" "+io.name+"s")
		if err != nil {
			return nil, err
		}
		idx, err := v.ints()
		if err != nil {
			return nil, err
		}
		for _, t := range idx {
			if t >= nTensors || t < -1 || (t == -1 && io.id == operatorOutputs) {
				return nil, fmt.Errorf("%w: %s: %s tensor index %d out of range [0,%d)", ErrCorrupt, what, io.name, t, nTensors)
			}
		}
		if idx == nil {
			idx = []int{}
		}
		*io.dst = idx
	}
	iv, err := ot.vec(operatorIntermediates, 4, what+" intermediates")
	if err != nil {
		return nil, err
	}
	if iv.len() > 0 {
		if op.Intermediates, err = iv.ints(); err != nil {
			return nil, err
		}
		for _, t := range op.Intermediates {
			if t < 0 || t >= nTensors {
				return nil, fmt.Errorf("%w: %s: intermediate tensor index %d out of range [0,%d)", ErrCorrupt, what, t, nTensors)
			}
		}
	}
	if err := CheckArity(op); err != nil {
		return nil, fmt.Errorf("%w: operator %d: %w", ErrCorrupt, i, err)
	}
	if oc.code == codeCustom {
		cv, err := ot.vec(operatorCustomOptions, 1, what+" custom options")
		if err != nil {
			return nil, err
		}
		if cv.len() > 0 {
			op.CustomOptions = append([]byte(nil), cv.bytes()...)
		}
	}
	if !known {
		return op, nil
	}
	typ, err := ot.u8(operatorBuiltinOptionsType, optNone)
	if err != nil {
		return nil, err
	}
	var opts table
	present := false
	if typ != optNone {
		if opts, present, err = ot.subTable(operatorBuiltinOptions, what+" options"); err != nil {
			return nil, err
		}
	}
	if present && typ != m.options && !emptyOptionsOK(m.kind, typ) && !(sp != nil && sp.read == nil) {
		return nil, fmt.Errorf("%w: %s: builtin options of union type %d, want %d", ErrCorrupt, what, typ, m.options)
	}
	if !present || typ != m.options {
		opts = table{} // absent: schema defaults
	}
	if sp != nil {
		op.Options, err = readSpecOptions(sp, opts, present && typ == m.options)
		if err == nil && sp.code == codeCustom {
			op.Options, err = readCustomOptions(sp, op.CustomOptions)
		}
	} else {
		op.Options, err = readOptions(m.kind, opts, present && typ == m.options)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return op, nil
}

// emptyOptionsOK reports whether an op without options of its own may carry
// the (empty) options table the converter writes for it.
func emptyOptionsOK(k graph.OpKind, typ uint8) bool {
	switch k {
	case graph.OpPad:
		return typ == optPad
	case graph.OpPadV2:
		return typ == optPadV2
	case graph.OpQuantize:
		return typ == optQuantize
	case graph.OpDequantize:
		return typ == optDequantize
	}
	return false
}

// opt wraps a possibly absent options table; every getter returns the
// schema default when the table is absent.
type opt struct {
	t       table
	present bool
	err     error
}

func (o *opt) i32(id int, def int32) int {
	if !o.present || o.err != nil {
		return int(def)
	}
	v, err := o.t.i32(id, def)
	o.err = err
	return int(v)
}

func (o *opt) i8(id int, def int8) int8 {
	if !o.present || o.err != nil {
		return def
	}
	v, err := o.t.i8(id, def)
	o.err = err
	return v
}

func (o *opt) boolean(id int, def bool) bool {
	if !o.present || o.err != nil {
		return def
	}
	v, err := o.t.boolean(id, def)
	o.err = err
	return v
}

func (o *opt) f32(id int, def float32) float32 {
	if !o.present || o.err != nil {
		return def
	}
	v, err := o.t.f32(id, def)
	o.err = err
	return v
}

func (o *opt) padding(id int) graph.Padding {
	p := o.i8(id, 0)
	switch p {
	case 0:
		return graph.PaddingSame
	case 1:
		return graph.PaddingValid
	}
	if o.err == nil {
		o.err = fmt.Errorf("%w: invalid padding %d", ErrCorrupt, p)
	}
	return graph.PaddingSame
}

func (o *opt) activation(id int) graph.Activation {
	a := o.i8(id, 0)
	if a < 0 || a > int8(graph.ActSigmoid) {
		if o.err == nil {
			o.err = fmt.Errorf("%w: invalid fused activation %d", ErrCorrupt, a)
		}
		return graph.ActNone
	}
	return graph.Activation(a)
}

// positive records an error when a stride, dilation or filter size is < 1.
func (o *opt) positive(name string, v int) {
	if v < 1 && o.err == nil {
		o.err = fmt.Errorf("%w: %s is %d, must be at least 1", ErrCorrupt, name, v)
	}
}

// readOptions decodes the options table of kind (field ids from schema.fbs).
func readOptions(kind graph.OpKind, t table, present bool) (any, error) {
	o := &opt{t: t, present: present}
	var out any
	switch kind {
	case graph.OpConv2D:
		c := &graph.Conv2DOptions{
			Padding: o.padding(0), StrideW: o.i32(1, 0), StrideH: o.i32(2, 0),
			Activation: o.activation(3), DilationW: o.i32(4, 1), DilationH: o.i32(5, 1),
		}
		if bt := o.i8(6, 0); bt != 0 && o.err == nil {
			o.err = fmt.Errorf("%w quantized_bias_type %s", ErrUnsupported, tensorTypeName(bt))
		}
		o.positive("stride_w", c.StrideW)
		o.positive("stride_h", c.StrideH)
		o.positive("dilation_w_factor", c.DilationW)
		o.positive("dilation_h_factor", c.DilationH)
		out = c
	case graph.OpDepthwiseConv2D:
		c := &graph.DepthwiseConv2DOptions{
			Padding: o.padding(0), StrideW: o.i32(1, 0), StrideH: o.i32(2, 0),
			DepthMultiplier: o.i32(3, 0), Activation: o.activation(4),
			DilationW: o.i32(5, 1), DilationH: o.i32(6, 1),
		}
		o.positive("stride_w", c.StrideW)
		o.positive("stride_h", c.StrideH)
		o.positive("dilation_w_factor", c.DilationW)
		o.positive("dilation_h_factor", c.DilationH)
		out = c
	case graph.OpFullyConnected:
		c := &graph.FullyConnectedOptions{Activation: o.activation(0), KeepNumDims: o.boolean(2, false), AsymmetricQuantizeInputs: o.boolean(3, false)}
		if wf := o.i8(1, 0); wf != 0 && o.err == nil {
			o.err = fmt.Errorf("%w weights_format %d (only DEFAULT)", ErrUnsupported, wf)
		}
		if bt := o.i8(4, 0); bt != 0 && o.err == nil {
			o.err = fmt.Errorf("%w quantized_bias_type %s", ErrUnsupported, tensorTypeName(bt))
		}
		out = c
	case graph.OpMaxPool2D, graph.OpAveragePool2D:
		c := &graph.Pool2DOptions{
			Padding: o.padding(0), StrideW: o.i32(1, 0), StrideH: o.i32(2, 0),
			FilterW: o.i32(3, 0), FilterH: o.i32(4, 0), Activation: o.activation(5),
		}
		o.positive("stride_w", c.StrideW)
		o.positive("stride_h", c.StrideH)
		o.positive("filter_width", c.FilterW)
		o.positive("filter_height", c.FilterH)
		out = c
	case graph.OpSoftmax:
		out = &graph.SoftmaxOptions{Beta: o.f32(0, 0)}
	case graph.OpReshape:
		c := &graph.ReshapeOptions{}
		if present {
			v, err := t.vec(0, 4, "reshape new_shape")
			if err != nil {
				return nil, err
			}
			if c.NewShape, err = v.ints(); err != nil {
				return nil, err
			}
		}
		out = c
	case graph.OpAdd:
		// pot_scale_int16 defaults to true in the schema, but TFLite
		// zero-initialises the params when the table is absent.
		out = &graph.AddOptions{Activation: o.activation(0), PotScaleInt16: present && o.boolean(1, true)}
	case graph.OpLeakyRelu:
		out = &graph.LeakyReluOptions{Alpha: o.f32(0, 0)}
	case graph.OpConcatenation:
		out = &graph.ConcatenationOptions{Axis: o.i32(0, 0), Activation: o.activation(1)}
	case graph.OpMean:
		out = &graph.ReducerOptions{KeepDims: o.boolean(0, false)}
	}
	return out, o.err
}
