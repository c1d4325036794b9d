package tflite

import (
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/qbench/qbench/graph"
)

// checkOptions verifies that op.Options has the type its kind needs and
// values TFLite accepts, so Write never emits a file TFLite would reject
// for a reason the caller could have been told about.
func checkOptions(op *graph.Op) error {
	if op.Kind == graph.OpUnknown && op.Code != "" {
		return fmt.Errorf("%w op %s: qbench reads it but does not model it, so cannot write it", ErrUnsupported, op.Code)
	}
	if s, ok := specForKind(op.Kind); ok {
		return checkSpecOptions(s, op)
	}
	if _, ok := mappingForKind(op.Kind); !ok {
		return fmt.Errorf("%w op %s: no TFLite mapping", ErrUnsupported, op.Kind)
	}
	bad := func() error {
		return fmt.Errorf("options of type %T do not fit %s", op.Options, op.Kind)
	}
	pos := func(name string, v int) error {
		if v < 1 {
			return fmt.Errorf("%s is %d, must be at least 1", name, v)
		}
		return nil
	}
	act := func(a graph.Activation) error {
		if a < graph.ActNone || a > graph.ActSigmoid {
			return fmt.Errorf("invalid fused activation %d", int(a))
		}
		return nil
	}
	pad := func(p graph.Padding) error {
		if p != graph.PaddingSame && p != graph.PaddingValid {
			return fmt.Errorf("invalid padding %d", int(p))
		}
		return nil
	}
	first := func(errs ...error) error {
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		return nil
	}
	switch op.Kind {
	case graph.OpConv2D:
		o, ok := op.Options.(*graph.Conv2DOptions)
		if !ok || o == nil {
			return bad()
		}
		return first(pad(o.Padding), act(o.Activation), pos("stride_w", o.StrideW), pos("stride_h", o.StrideH),
			pos("dilation_w_factor", o.DilationW), pos("dilation_h_factor", o.DilationH))
	case graph.OpDepthwiseConv2D:
		o, ok := op.Options.(*graph.DepthwiseConv2DOptions)
		if !ok || o == nil {
			return bad()
		}
		return first(pad(o.Padding), act(o.Activation), pos("stride_w", o.StrideW), pos("stride_h", o.StrideH),
			pos("dilation_w_factor", o.DilationW), pos("dilation_h_factor", o.DilationH))
	case graph.OpMaxPool2D, graph.OpAveragePool2D:
		o, ok := op.Options.(*graph.Pool2DOptions)
		if !ok || o == nil {
			return bad()
		}
		return first(pad(o.Padding), act(o.Activation), pos("stride_w", o.StrideW), pos("stride_h", o.StrideH),
			pos("filter_width", o.FilterW), pos("filter_height", o.FilterH))
	case graph.OpFullyConnected:
		if op.Options == nil {
			return nil
		}
		o, ok := op.Options.(*graph.FullyConnectedOptions)
		if !ok || o == nil {
			return bad()
		}
		return act(o.Activation)
	case graph.OpSoftmax:
		if _, ok := op.Options.(*graph.SoftmaxOptions); !ok && op.Options != nil {
			return bad()
		}
	case graph.OpReshape:
		if _, ok := op.Options.(*graph.ReshapeOptions); !ok && op.Options != nil {
			return bad()
		}
	case graph.OpAdd:
		if op.Options == nil {
			return nil
		}
		o, ok := op.Options.(*graph.AddOptions)
		if !ok || o == nil {
			return bad()
		}
		return act(o.Activation)
	case graph.OpLeakyRelu:
		if _, ok := op.Options.(*graph.LeakyReluOptions); !ok && op.Options != nil {
			return bad()
		}
	case graph.OpConcatenation:
		if op.Options == nil {
			return nil
		}
		o, ok := op.Options.(*graph.ConcatenationOptions)
		if !ok || o == nil {
			return bad()
		}
		return act(o.Activation)
	case graph.OpMean:
		if _, ok := op.Options.(*graph.ReducerOptions); !ok && op.Options != nil {
			return bad()
		}
	default:
		if op.Options != nil {
			return fmt.Errorf("%s takes no options, got %T", op.Kind, op.Options)
		}
	}
	return nil
}

// options writes op's builtin options table; it returns the union type and
// the table offset, or (optNone, 0) for ops without options. Nil options of
// kinds that have them are written as zero values (checkOptions rejected
// the kinds where zero values are invalid).
func (w *writer) options(op *graph.Op) (uint8, flatbuffers.UOffsetT) {
	if s, ok := specForKind(op.Kind); ok {
		return w.writeSpecOptions(s, op)
	}
	b := w.b
	switch o := op.Options.(type) {
	case *graph.Conv2DOptions:
		b.StartObject(7)
		b.PrependInt8Slot(0, int8(o.Padding), 0)
		b.PrependInt32Slot(1, int32(o.StrideW), 0)
		b.PrependInt32Slot(2, int32(o.StrideH), 0)
		b.PrependInt8Slot(3, int8(o.Activation), 0)
		b.PrependInt32Slot(4, int32(o.DilationW), 1)
		b.PrependInt32Slot(5, int32(o.DilationH), 1)
		return optConv2D, b.EndObject()
	case *graph.DepthwiseConv2DOptions:
		b.StartObject(7)
		b.PrependInt8Slot(0, int8(o.Padding), 0)
		b.PrependInt32Slot(1, int32(o.StrideW), 0)
		b.PrependInt32Slot(2, int32(o.StrideH), 0)
		b.PrependInt32Slot(3, int32(o.DepthMultiplier), 0)
		b.PrependInt8Slot(4, int8(o.Activation), 0)
		b.PrependInt32Slot(5, int32(o.DilationW), 1)
		b.PrependInt32Slot(6, int32(o.DilationH), 1)
		return optDepthwiseConv2D, b.EndObject()
	case *graph.Pool2DOptions:
		b.StartObject(6)
		b.PrependInt8Slot(0, int8(o.Padding), 0)
		b.PrependInt32Slot(1, int32(o.StrideW), 0)
		b.PrependInt32Slot(2, int32(o.StrideH), 0)
		b.PrependInt32Slot(3, int32(o.FilterW), 0)
		b.PrependInt32Slot(4, int32(o.FilterH), 0)
		b.PrependInt8Slot(5, int8(o.Activation), 0)
		return optPool2D, b.EndObject()
	case *graph.FullyConnectedOptions:
		b.StartObject(5)
		b.PrependInt8Slot(0, int8(o.Activation), 0)
		b.PrependBoolSlot(2, o.KeepNumDims, false)
		b.PrependBoolSlot(3, o.AsymmetricQuantizeInputs, false)
		return optFullyConnected, b.EndObject()
	case *graph.SoftmaxOptions:
		b.StartObject(1)
		b.PrependFloat32Slot(0, o.Beta, 0)
		return optSoftmax, b.EndObject()
	case *graph.ReshapeOptions:
		var ns flatbuffers.UOffsetT
		if o.NewShape != nil {
			ns = w.int32Vector(o.NewShape)
		}
		b.StartObject(1)
		if ns != 0 {
			b.PrependUOffsetTSlot(0, ns, 0)
		}
		return optReshape, b.EndObject()
	case *graph.AddOptions:
		b.StartObject(2)
		b.PrependInt8Slot(0, int8(o.Activation), 0)
		// The schema default is true, so false must be written explicitly.
		b.PrependBoolSlot(1, o.PotScaleInt16, true)
		return optAdd, b.EndObject()
	case *graph.LeakyReluOptions:
		b.StartObject(1)
		b.PrependFloat32Slot(0, o.Alpha, 0)
		return optLeakyRelu, b.EndObject()
	case *graph.ConcatenationOptions:
		b.StartObject(2)
		b.PrependInt32Slot(0, int32(o.Axis), 0)
		b.PrependInt8Slot(1, int8(o.Activation), 0)
		return optConcatenation, b.EndObject()
	case *graph.ReducerOptions:
		b.StartObject(1)
		b.PrependBoolSlot(0, o.KeepDims, false)
		return optReducer, b.EndObject()
	}
	// Nil options for a kind that has them: write its zero value so TFLite
	// sees the options table it expects.
	switch op.Kind {
	case graph.OpFullyConnected:
		return w.options(&graph.Op{Kind: op.Kind, Options: &graph.FullyConnectedOptions{}})
	case graph.OpSoftmax:
		return w.options(&graph.Op{Kind: op.Kind, Options: &graph.SoftmaxOptions{Beta: 1}})
	case graph.OpReshape:
		return w.options(&graph.Op{Kind: op.Kind, Options: &graph.ReshapeOptions{}})
	case graph.OpAdd:
		return w.options(&graph.Op{Kind: op.Kind, Options: &graph.AddOptions{}})
	case graph.OpLeakyRelu:
		return w.options(&graph.Op{Kind: op.Kind, Options: &graph.LeakyReluOptions{}})
	case graph.OpConcatenation:
		return w.options(&graph.Op{Kind: op.Kind, Options: &graph.ConcatenationOptions{}})
	case graph.OpMean:
		return w.options(&graph.Op{Kind: op.Kind, Options: &graph.ReducerOptions{}})
	}
	return optNone, 0
}

// OpVersion returns the operator version TFLite's converter assigns to op
// given its tensor dtypes and options (following the rules of TFLite's
// tools/versioning/op_version.cc for the cases qbench produces). Write uses
// it when Op.Version is 0.
func OpVersion(g *graph.Graph, op *graph.Op) int {
	dt := func(i int) graph.DType {
		if i < len(op.Inputs) {
			if t := g.Tensor(op.Inputs[i]); t != nil {
				return t.DType
			}
		}
		return graph.Unknown
	}
	out := graph.Unknown
	if len(op.Outputs) > 0 {
		if t := g.Tensor(op.Outputs[0]); t != nil {
			out = t.DType
		}
	}
	in, w := dt(0), dt(1)
	switch op.Kind {
	case graph.OpConv2D:
		o, _ := op.Options.(*graph.Conv2DOptions)
		switch {
		case in == graph.Int16:
			return 4
		case in == graph.Int8 && w == graph.Int4:
			return 7
		case in == graph.Int8:
			return 3
		case in == graph.Float32 && w == graph.Int8:
			return 2
		case o != nil && (o.DilationW != 1 || o.DilationH != 1):
			return 2
		}
		return 1
	case graph.OpDepthwiseConv2D:
		o, _ := op.Options.(*graph.DepthwiseConv2DOptions)
		switch {
		case in == graph.Int16:
			return 5
		case in == graph.Int8 && w == graph.Int4:
			return 7
		case in == graph.Int8:
			return 3
		case in == graph.Float32 && w == graph.Int8:
			return 4
		case o != nil && (o.DilationW != 1 || o.DilationH != 1):
			return 2
		}
		return 1
	case graph.OpFullyConnected:
		o, _ := op.Options.(*graph.FullyConnectedOptions)
		switch {
		case in == graph.Int16:
			return 7
		case len(op.Inputs) == 2 || (len(op.Inputs) == 3 && op.Inputs[2] == -1):
			return 6
		case o != nil && o.KeepNumDims:
			return 5
		case in == graph.Int8 && w == graph.Int4:
			return 10
		case in == graph.Int8:
			return 4
		case in == graph.Float32 && w == graph.Int8 && o != nil && o.AsymmetricQuantizeInputs:
			return 9
		case in == graph.Float32 && w == graph.Int8:
			return 3
		}
		return 1
	case graph.OpMaxPool2D, graph.OpAveragePool2D, graph.OpLogistic:
		switch in {
		case graph.Int16:
			return 3
		case graph.Int8:
			return 2
		}
		return 1
	case graph.OpSoftmax, graph.OpMean, graph.OpRelu6, graph.OpConcatenation:
		switch in {
		case graph.Int16:
			return 3
		case graph.Int8:
			return 2
		}
		return 1
	case graph.OpRelu:
		switch in {
		case graph.Int16:
			return 3
		case graph.Int8, graph.UInt8:
			return 2
		}
		return 1
	case graph.OpAdd:
		o, _ := op.Options.(*graph.AddOptions)
		switch {
		case in == graph.Int64:
			return 4
		case in == graph.Int16 && (o == nil || !o.PotScaleInt16):
			return 3
		case in == graph.Int8:
			return 2
		}
		return 1
	case graph.OpLeakyRelu:
		if in == graph.Int16 {
			return 2
		}
		return 1
	case graph.OpPad, graph.OpPadV2:
		if t := g.Tensor(op.Inputs[0]); t != nil && len(t.Shape) > 4 {
			return 4
		}
		switch in {
		case graph.Int16:
			return 3
		case graph.Int8:
			return 2
		}
		return 1
	case graph.OpDequantize:
		t := g.Tensor(op.Inputs[0])
		switch {
		case in == graph.Int4:
			return 6
		case in == graph.Int16, in == graph.Float16:
			return 3
		case in == graph.Int8 && t != nil && t.Quant.PerChannel():
			return 5
		case in == graph.Int8:
			return 2
		}
		return 1
	case graph.OpQuantize:
		t := g.Tensor(op.Outputs[0])
		switch {
		case in == graph.Int4 || out == graph.Int4:
			return 4
		case t != nil && t.Quant.PerChannel():
			return 3
		case out == graph.Int16:
			return 2
		}
		return 1
	}
	return 1
}
