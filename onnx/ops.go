package onnx

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// get returns the ONNX value name of tensor ti in layout l, adding the
// initializer (constants) or Transpose node it needs.
func (e *exporter) get(ti int, l layout) (string, error) {
	if ti < 0 || ti >= len(e.g.Tensors) {
		return "", fmt.Errorf("tensor index %d out of range", ti)
	}
	if n := e.names[l][ti]; n != "" {
		return n, nil
	}
	t := e.g.Tensors[ti]
	if t.IsConst() && e.names[plain][ti] == "" {
		dt, err := onnxType(t.DType)
		if err != nil {
			return "", fmt.Errorf("constant %q: %w", t.Name, err)
		}
		if want := t.NumElements() * t.DType.Size(); len(t.Data) != want {
			return "", fmt.Errorf("constant %q: %d data bytes, shape %v %s needs %d", t.Name, len(t.Data), t.Shape, t.DType, want)
		}
		e.names[plain][ti] = e.initializer(t.Name, dt, t.Shape, t.Data)
		if l == plain {
			return e.names[plain][ti], nil
		}
	}
	other := e.names[1-l][ti]
	if other == "" {
		return "", fmt.Errorf("tensor %q is used before it is produced", t.Name)
	}
	if len(t.Shape) != 4 {
		return "", fmt.Errorf("tensor %q: NCHW layout needs rank 4, shape %v: %w", t.Name, t.Shape, ErrUnsupported)
	}
	name := e.fresh(t.Name + map[layout]string{plain: "_nhwc", nchw: "_nchw"}[l])
	if l == nchw {
		e.node("Transpose", []string{other}, []string{name}, attrInts("perm", 0, 3, 1, 2))
	} else {
		e.node("Transpose", []string{other}, []string{name}, attrInts("perm", 0, 2, 3, 1))
	}
	e.names[l][ti] = name
	return name, nil
}

// preferred returns the layout in which ti already exists, favouring NCHW
// so elementwise ops between convs do not transpose back and forth.
func (e *exporter) preferred(ti int) layout {
	if e.names[nchw][ti] != "" {
		return nchw
	}
	return plain
}

// u8Act reports whether tensor ti is an int8 activation stored as uint8.
func (e *exporter) u8Act(ti int) bool {
	t := e.g.Tensors[ti]
	return e.u8 && t.DType == graph.Int8 && !t.IsConst() && isQuantized(t)
}

// int8Params returns scale and int8 zero-point initializers for t as
// declared (for the int8 interface of a uint8-internal model).
func (e *exporter) int8Params(t *graph.Tensor) (string, string, error) {
	if !isQuantized(t) || len(t.Quant.Scale) != 1 {
		return "", "", fmt.Errorf("tensor %q: no per-tensor quantization: %w", t.Name, ErrUnsupported)
	}
	var zp int64
	if len(t.Quant.ZeroPoint) > 0 {
		zp = t.Quant.ZeroPoint[0]
	}
	s := e.initializer(t.Name+"_scale", dtFloat, nil, f32Raw(t.Quant.Scale[0]))
	z := e.initializer(t.Name+"_zero_point_s8", dtInt8, nil, []byte{byte(int8(zp))})
	return s, z, nil
}

// boundaryDQ dequantizes x, an int8 value of t in its declared form.
func (e *exporter) boundaryDQ(x string, t *graph.Tensor) (string, error) {
	s, z, err := e.int8Params(t)
	if err != nil {
		return "", err
	}
	y := e.fresh(t.Name + "_dq")
	e.node("DequantizeLinear", []string{x, s, z}, []string{y})
	return y, nil
}

// qdq dequantizes value x holding tensor ti's integers as stored in the
// model.
func (e *exporter) qdq(x string, ti int) (string, error) {
	p, err := e.qparams(ti)
	if err != nil {
		return "", err
	}
	y := e.fresh(e.g.Tensors[ti].Name + "_dq")
	e.node("DequantizeLinear", []string{x, p[0], p[1]}, []string{y})
	return y, nil
}

// produce returns the name an op must write tensor ti to in layout l (the
// reserved name for a graph output in TFLite layout).
func (e *exporter) produce(ti int, l layout) string {
	var name string
	if o, ok := e.outName[ti]; ok && l == plain && !e.u8Act(ti) {
		name = o
	} else {
		suffix := ""
		if l == nchw {
			suffix = "_nchw"
		}
		name = e.fresh(e.g.Tensors[ti].Name + suffix)
	}
	e.names[l][ti] = name
	return name
}

// isQuantized reports whether t is an integer activation with a per-tensor
// affine quantization that QuantizeLinear/DequantizeLinear express.
func isQuantized(t *graph.Tensor) bool {
	return (t.DType == graph.Int8 || t.DType == graph.UInt8) && t.Quant != nil && len(t.Quant.Scale) >= 1
}

// qparams returns scalar scale and zero-point initializers for t.
func (e *exporter) qparams(ti int) ([2]string, error) {
	if p, ok := e.qcache[ti]; ok {
		return p, nil
	}
	t := e.g.Tensors[ti]
	if t.DType == graph.Int16 {
		return [2]string{}, fmt.Errorf("tensor %q: int16 activations (opset 13's QuantizeLinear holds int8 and uint8 only): %w", t.Name, ErrUnsupported)
	}
	if !isQuantized(t) {
		return [2]string{}, fmt.Errorf("tensor %q: %s without quantization parameters: %w", t.Name, t.DType, ErrUnsupported)
	}
	if len(t.Quant.Scale) != 1 {
		return [2]string{}, fmt.Errorf("tensor %q: per-channel activation quantization: %w", t.Name, ErrUnsupported)
	}
	var zp int64
	if len(t.Quant.ZeroPoint) > 0 {
		zp = t.Quant.ZeroPoint[0]
	}
	s := e.initializer(t.Name+"_scale", dtFloat, nil, f32Raw(t.Quant.Scale[0]))
	var z string
	switch {
	case e.u8Act(ti):
		z = e.initializer(t.Name+"_zero_point", dtUint8, nil, []byte{byte(uint8(zp + 128))})
	case t.DType == graph.Int8:
		z = e.initializer(t.Name+"_zero_point", dtInt8, nil, []byte{byte(int8(zp))})
	default:
		z = e.initializer(t.Name+"_zero_point", dtUint8, nil, []byte{byte(uint8(zp))})
	}
	p := [2]string{s, z}
	e.qcache[ti] = p
	return p, nil
}

// floatIn returns tensor ti as float values in layout l: itself when it is
// float32, or a DequantizeLinear of it.
func (e *exporter) floatIn(ti int, l layout) (string, error) {
	t := e.g.Tensors[ti]
	x, err := e.get(ti, l)
	if err != nil {
		return "", err
	}
	if t.DType == graph.Float32 {
		return x, nil
	}
	p, err := e.qparams(ti)
	if err != nil {
		return "", err
	}
	y := e.fresh(t.Name + "_dq")
	e.node("DequantizeLinear", []string{x, p[0], p[1]}, []string{y})
	return y, nil
}

// result emits the final steps of an op whose float result is computed by
// emit(dst): the fused activation, then QuantizeLinear when output ti is
// an integer tensor.
func (e *exporter) result(ti int, l layout, act graph.Activation, emit func(dst string)) error {
	t := e.g.Tensors[ti]
	quant := t.DType != graph.Float32
	var p [2]string
	if quant {
		var err error
		if p, err = e.qparams(ti); err != nil {
			return err
		}
	}
	var final string
	if !quant {
		final = e.produce(ti, l)
	} else {
		final = e.fresh(t.Name + "_f")
	}
	cur := final
	if act != graph.ActNone {
		cur = e.fresh(t.Name + "_pre_act")
	}
	emit(cur)
	if err := e.activation(act, cur, final); err != nil {
		return err
	}
	if quant {
		e.node("QuantizeLinear", []string{final, p[0], p[1]}, []string{e.produce(ti, l)})
	}
	return nil
}

// activation writes act(src) to dst (nothing for ActNone, where src == dst).
func (e *exporter) activation(act graph.Activation, src, dst string) error {
	switch act {
	case graph.ActNone:
	case graph.ActRelu:
		e.node("Relu", []string{src}, []string{dst})
	case graph.ActRelu6, graph.ActReluN1To1:
		lo, hi := float32(0), float32(6)
		if act == graph.ActReluN1To1 {
			lo, hi = -1, 1
		}
		mn := e.initializer("clip_min", dtFloat, nil, f32Raw(lo))
		mx := e.initializer("clip_max", dtFloat, nil, f32Raw(hi))
		e.node("Clip", []string{src, mn, mx}, []string{dst})
	case graph.ActTanh:
		e.node("Tanh", []string{src}, []string{dst})
	case graph.ActSigmoid:
		e.node("Sigmoid", []string{src}, []string{dst})
	default:
		return fmt.Errorf("fused activation %v: %w", act, ErrUnsupported)
	}
	return nil
}

// input returns op input k's tensor index, or an error when it is absent.
func input(op *graph.Op, k int) (int, error) {
	if k >= len(op.Inputs) || op.Inputs[k] < 0 {
		return -1, fmt.Errorf("missing input %d", k)
	}
	return op.Inputs[k], nil
}

func (e *exporter) op(op *graph.Op) error {
	switch op.Kind {
	case graph.OpSplit, graph.OpSplitV:
		return e.split(op)
	case graph.OpSpaceToBatchND:
		return e.dilated(op)
	case graph.OpShape:
		return fmt.Errorf("SHAPE (fold constant shape arithmetic first: interp.Fold, as qbench export does): %w", ErrUnsupported)
	}
	if len(op.Outputs) != 1 {
		return fmt.Errorf("%d outputs, want 1: %w", len(op.Outputs), ErrUnsupported)
	}
	out := op.Outputs[0]
	x, err := input(op, 0)
	if err != nil {
		return err
	}
	switch op.Kind {
	case graph.OpConv2D, graph.OpDepthwiseConv2D:
		return e.conv(op, x, out)
	case graph.OpMaxPool2D, graph.OpAveragePool2D:
		return e.pool(op, x, out)
	case graph.OpFullyConnected:
		return e.dense(op, x, out)
	case graph.OpReshape:
		return e.reshape(x, out)
	case graph.OpSoftmax:
		beta := float32(1)
		if o, ok := op.Options.(*graph.SoftmaxOptions); ok && o.Beta != 0 {
			beta = o.Beta
		}
		xf, err := e.floatIn(x, plain)
		if err != nil {
			return err
		}
		if beta != 1 {
			b := e.initializer("softmax_beta", dtFloat, nil, f32Raw(beta))
			scaled := e.fresh(e.g.Tensors[x].Name + "_scaled")
			e.node("Mul", []string{xf, b}, []string{scaled})
			xf = scaled
		}
		return e.result(out, plain, graph.ActNone, func(dst string) {
			e.node("Softmax", []string{xf}, []string{dst}, attrInt("axis", -1))
		})
	case graph.OpRelu, graph.OpRelu6, graph.OpLeakyRelu, graph.OpLogistic:
		l := e.preferred(x)
		xf, err := e.floatIn(x, l)
		if err != nil {
			return err
		}
		return e.result(out, l, graph.ActNone, func(dst string) {
			switch op.Kind {
			case graph.OpRelu:
				e.node("Relu", []string{xf}, []string{dst})
			case graph.OpRelu6:
				_ = e.activation(graph.ActRelu6, xf, dst)
			case graph.OpLeakyRelu:
				alpha := float32(0.2)
				if o, ok := op.Options.(*graph.LeakyReluOptions); ok {
					alpha = o.Alpha
				}
				e.node("LeakyRelu", []string{xf}, []string{dst}, attrFloat("alpha", alpha))
			case graph.OpLogistic:
				e.node("Sigmoid", []string{xf}, []string{dst})
			}
		})
	case graph.OpAdd, graph.OpMul, graph.OpSub:
		act := graph.ActNone
		switch o := op.Options.(type) {
		case *graph.AddOptions:
			act = o.Activation
		case *graph.ArithOptions:
			act = o.Activation
		}
		return e.binary(op, x, out, map[graph.OpKind]string{graph.OpAdd: "Add", graph.OpMul: "Mul", graph.OpSub: "Sub"}[op.Kind], act)
	case graph.OpMaximum, graph.OpMinimum:
		return e.binary(op, x, out, map[graph.OpKind]string{graph.OpMaximum: "Max", graph.OpMinimum: "Min"}[op.Kind], graph.ActNone)
	case graph.OpTanh, graph.OpReluN1To1, graph.OpRelu0To1, graph.OpHardSwish, graph.OpAbs, graph.OpExp:
		return e.unary(op, x, out)
	case graph.OpConcatenation:
		return e.concat(op, out)
	case graph.OpGather:
		return e.gather(op, x, out)
	case graph.OpPad, graph.OpPadV2:
		return e.pad(op, x, out)
	case graph.OpMean:
		return e.mean(op, x, out)
	case graph.OpSqueeze, graph.OpExpandDims:
		return e.reshape(x, out)
	case graph.OpUnidirectionalSequenceLSTM:
		return e.lstm(op, x, out)
	case graph.OpQuantize, graph.OpDequantize:
		l := e.preferred(x)
		if e.g.Tensors[x].IsConst() {
			l = plain
		}
		xf, err := e.floatInAxis(x, l)
		if err != nil {
			return err
		}
		return e.result(out, l, graph.ActNone, func(dst string) { e.node("Identity", []string{xf}, []string{dst}) })
	}
	return fmt.Errorf("the exporter has no ONNX form for %s: %w", op.Kind, ErrUnsupported)
}

// floatInAxis is floatIn that also accepts per-channel constants (a
// DEQUANTIZE of weights), dequantized along their quantized dimension.
func (e *exporter) floatInAxis(ti int, l layout) (string, error) {
	t := e.g.Tensors[ti]
	if t.DType == graph.Float32 || t.Quant == nil || len(t.Quant.Scale) <= 1 {
		return e.floatIn(ti, l)
	}
	x, err := e.get(ti, plain)
	if err != nil {
		return "", err
	}
	return e.dequantAxis(x, t, t.Quant.Axis)
}

// dequantAxis dequantizes value x holding tensor t's integers with t's
// (per-channel) scales along axis.
func (e *exporter) dequantAxis(x string, t *graph.Tensor, axis int) (string, error) {
	q := t.Quant
	if q == nil || len(q.Scale) == 0 {
		return "", fmt.Errorf("tensor %q: %s without quantization parameters: %w", t.Name, t.DType, ErrUnsupported)
	}
	n := len(q.Scale)
	zps := make([]int64, n)
	copy(zps, q.ZeroPoint)
	var zraw []byte
	var zdt int
	switch t.DType {
	case graph.Int8:
		zdt = dtInt8
		for _, z := range zps {
			zraw = append(zraw, byte(int8(z)))
		}
	case graph.UInt8:
		zdt = dtUint8
		for _, z := range zps {
			zraw = append(zraw, byte(uint8(z)))
		}
	case graph.Int32:
		zdt = dtInt32
		for _, z := range zps {
			zraw = append(zraw, byte(z), byte(z>>8), byte(z>>16), byte(z>>24))
		}
	default:
		return "", fmt.Errorf("tensor %q: dequantizing %s: %w", t.Name, t.DType, ErrUnsupported)
	}
	var dims []int
	if n > 1 {
		dims = []int{n}
	}
	s := e.initializer(t.Name+"_scale", dtFloat, dims, f32Raw(q.Scale...))
	z := e.initializer(t.Name+"_zero_point", zdt, dims, zraw)
	y := e.fresh(t.Name + "_dq")
	if n > 1 {
		e.node("DequantizeLinear", []string{x, s, z}, []string{y}, attrInt("axis", axis))
	} else {
		e.node("DequantizeLinear", []string{x, s, z}, []string{y})
	}
	return y, nil
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
