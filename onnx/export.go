// Package onnx exports a graph.Graph to ONNX so that models trained and
// quantized with qbench can be deployed with (or compared against) ONNX
// Runtime. It covers CONV_2D, DEPTHWISE_CONV_2D (group convolution),
// MAX_POOL_2D, AVERAGE_POOL_2D, FULLY_CONNECTED, RESHAPE, SQUEEZE,
// EXPAND_DIMS, SOFTMAX, QUANTIZE, DEQUANTIZE, ADD, MUL, SUB, MAXIMUM,
// MINIMUM (with broadcasting), MEAN, CONCATENATION, SPLIT, SPLIT_V, GATHER,
// PAD, PADV2 and the activations RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1,
// LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH, ABS and EXP, and the
// SPACE_TO_BATCH_ND → CONV_2D → BATCH_TO_SPACE_ND chain of a dilated
// convolution (as one dilated Conv), and float UNIDIRECTIONAL_SEQUENCE_LSTM
// (unrolled over time). Constant shape arithmetic must be folded first
// (interp.Fold). Any other op (integer LSTM, SVDF, shape arithmetic, ...)
// and int16 activations, which opset 13's QuantizeLinear cannot hold, give
// an ErrUnsupported error naming the op.
//
// Float graphs become plain ONNX. Integer graphs become QDQ models: every
// integer op is written as DequantizeLinear → float op → QuantizeLinear,
// with int8 weights (per channel where TFLite has per-channel scales) and
// int32 biases kept as integer initializers behind DequantizeLinear — the
// form ONNX Runtime fuses into its integer kernels.
//
// TFLite is NHWC and ONNX convolutions are NCHW: activations feeding convs
// and pools are transposed once to NCHW and stay there until an op needs
// the TFLite layout again (RESHAPE/flatten, FULLY_CONNECTED, SOFTMAX, a
// graph output), so the model's inputs and outputs keep their TFLite shapes.
package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/qbench/qbench/graph"
)

// ErrUnsupported is wrapped when the graph holds an op, dtype or option the
// exporter cannot express.
var ErrUnsupported = errors.New("unsupported for ONNX export")

// Opset is the ONNX operator set the exporter targets (per-axis
// QuantizeLinear/DequantizeLinear and Softmax over the last axis need 13).
const Opset = 13

// irVersion is the ONNX IR version matching Opset.
const irVersion = 7

// layout says how a rank-4 activation is laid out in the ONNX graph.
type layout int

const (
	plain layout = iota // as in TFLite (NHWC for rank 4)
	nchw
)

type exporter struct {
	g     *graph.Graph
	nodes []*msg
	inits []*msg
	used  map[string]bool
	names [2][]string // per tensor and layout: ONNX value name, "" if none yet
	// outName reserves each graph output's ONNX name.
	outName map[int]string
	// qparams caches the scale/zero-point initializers of a tensor.
	qcache map[int][2]string
	// u8 stores int8 activations as uint8 (Options.UInt8Activations).
	u8 bool
	// done marks ops already written as part of an earlier op's pattern.
	done map[*graph.Op]bool
}

// Export converts g to a serialized ONNX ModelProto (opset 13). The batch
// dimension of inputs and outputs is symbolic ("N"), so the model runs at
// any batch size. Errors name the op index, kind and tensor.
func Export(g *graph.Graph) ([]byte, error) {
	return ExportWith(g, Options{})
}

// Options adjust Export.
type Options struct {
	// UInt8Activations stores int8 activations inside the model as uint8
	// with zero point +128 (the same real values, bit for bit), graph
	// inputs and outputs keeping their types. ONNX Runtime on x86 fuses
	// QDQ convolutions into its integer kernels only for uint8
	// activations, so this form runs much faster there.
	UInt8Activations bool
}

// ExportWith is Export with options.
func ExportWith(g *graph.Graph, opts Options) ([]byte, error) {
	if g == nil {
		return nil, errors.New("onnx export: nil graph")
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("onnx export: %w", err)
	}
	e := newExporter(g)
	e.u8 = opts.UInt8Activations
	var inputs, outputs []*msg
	for _, ti := range g.Inputs {
		t := g.Tensors[ti]
		vi, err := valueInfo(e.names[plain][ti], t)
		if err != nil {
			return nil, fmt.Errorf("onnx export: input %q: %w", t.Name, err)
		}
		inputs = append(inputs, vi)
		if e.u8Act(ti) {
			// The interface stays int8; convert to the internal uint8.
			x := e.names[plain][ti]
			f, err := e.boundaryDQ(x, t)
			if err != nil {
				return nil, fmt.Errorf("onnx export: input %q: %w", t.Name, err)
			}
			p, err := e.qparams(ti)
			if err != nil {
				return nil, fmt.Errorf("onnx export: input %q: %w", t.Name, err)
			}
			u := e.fresh(t.Name + "_u8")
			e.node("QuantizeLinear", []string{f, p[0], p[1]}, []string{u})
			e.names[plain][ti] = u
		}
	}
	for oi, op := range g.Ops {
		if e.done[op] {
			continue
		}
		if err := e.op(op); err != nil {
			return nil, fmt.Errorf("onnx export: op %d (%s) -> tensor %q: %w", oi, op.Kind, e.outTensorName(op), err)
		}
	}
	for _, ti := range g.Outputs {
		t := g.Tensors[ti]
		name, err := e.get(ti, plain)
		if err != nil {
			return nil, fmt.Errorf("onnx export: output %q: %w", t.Name, err)
		}
		if want, ok := e.outName[ti]; ok && name != want {
			if e.u8Act(ti) {
				// Back from the internal uint8 to the int8 interface.
				f, err := e.qdq(name, ti)
				if err != nil {
					return nil, fmt.Errorf("onnx export: output %q: %w", t.Name, err)
				}
				s, z, err := e.int8Params(t)
				if err != nil {
					return nil, fmt.Errorf("onnx export: output %q: %w", t.Name, err)
				}
				e.node("QuantizeLinear", []string{f, s, z}, []string{want})
			} else {
				e.node("Identity", []string{name}, []string{want})
			}
			name = want
		}
		vi, err := valueInfo(name, t)
		if err != nil {
			return nil, fmt.Errorf("onnx export: output %q: %w", t.Name, err)
		}
		outputs = append(outputs, vi)
	}
	gr := &msg{}
	for _, n := range e.nodes {
		gr.sub(graphNode, n)
	}
	gr.str(graphName, "qbench")
	for _, in := range e.inits {
		gr.sub(graphInitializer, in)
	}
	for _, vi := range inputs {
		gr.sub(graphInput, vi)
	}
	for _, vi := range outputs {
		gr.sub(graphOutput, vi)
	}
	m := &msg{}
	m.varint(modelIRVersion, irVersion)
	m.str(modelProducerName, "qbench")
	m.str(modelProducerVer, "0.1")
	if g.Description != "" {
		m.str(modelDocString, g.Description)
	}
	m.sub(modelGraph, gr)
	opset := &msg{}
	opset.str(opsetDomain, "")
	opset.varint(opsetVersion, Opset)
	m.sub(modelOpsetImport, opset)
	return m.b, nil
}

// newExporter names the graph's inputs and outputs (see IONames).
func newExporter(g *graph.Graph) *exporter {
	e := &exporter{g: g, used: map[string]bool{}, outName: map[int]string{}, qcache: map[int][2]string{}, done: map[*graph.Op]bool{}}
	e.names[plain] = make([]string, len(g.Tensors))
	e.names[nchw] = make([]string, len(g.Tensors))
	for _, ti := range g.Inputs {
		e.names[plain][ti] = e.fresh(g.Tensors[ti].Name)
	}
	for _, ti := range g.Outputs {
		if _, ok := e.outName[ti]; ok || e.names[plain][ti] != "" {
			continue // an output listed twice, or an input passed through
		}
		e.outName[ti] = e.fresh(g.Tensors[ti].Name)
	}
	return e
}

// IONames returns the ONNX names Export gives g's inputs and outputs, in
// graph order (TFLite names, made unique and non-empty). g must be valid.
func IONames(g *graph.Graph) (inputs, outputs []string) {
	e := newExporter(g)
	for _, ti := range g.Inputs {
		inputs = append(inputs, e.names[plain][ti])
	}
	for _, ti := range g.Outputs {
		if n, ok := e.outName[ti]; ok {
			outputs = append(outputs, n)
		} else {
			outputs = append(outputs, e.names[plain][ti])
		}
	}
	return inputs, outputs
}

func (e *exporter) outTensorName(op *graph.Op) string {
	if len(op.Outputs) > 0 && op.Outputs[0] >= 0 && op.Outputs[0] < len(e.g.Tensors) {
		return e.g.Tensors[op.Outputs[0]].Name
	}
	return ""
}

// fresh returns a unique ONNX value name derived from base.
func (e *exporter) fresh(base string) string {
	base = strings.TrimSpace(base)
	if base == "" {
		base = "t"
	}
	name := base
	for i := 1; e.used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	e.used[name] = true
	return name
}

// node appends a NodeProto.
func (e *exporter) node(opType string, ins, outs []string, attrs ...*msg) {
	n := &msg{}
	for _, s := range ins {
		n.str(nodeInput, s)
	}
	for _, s := range outs {
		n.str(nodeOutput, s)
	}
	n.str(nodeName, e.fresh(opType+"_"+outs[0]))
	n.str(nodeOpType, opType)
	for _, a := range attrs {
		n.sub(nodeAttribute, a)
	}
	e.nodes = append(e.nodes, n)
}

func attrInts(name string, v ...int) *msg {
	a := &msg{}
	a.str(attrName, name)
	for _, x := range v {
		a.varint(attrIntsField, int64(x))
	}
	a.varint(attrType, attrTypeInts)
	return a
}

func attrInt(name string, v int) *msg {
	a := &msg{}
	a.str(attrName, name)
	a.varint(attrI, int64(v))
	a.varint(attrType, attrTypeInt)
	return a
}

func attrFloat(name string, v float32) *msg {
	a := &msg{}
	a.str(attrName, name)
	a.f32(attrF, v)
	a.varint(attrType, attrTypeFloat)
	return a
}

// initializer adds a constant tensor and returns its name.
func (e *exporter) initializer(base string, dt int, dims []int, raw []byte) string {
	name := e.fresh(base)
	t := &msg{}
	for _, d := range dims {
		t.varint(tensorDims, int64(d))
	}
	t.varint(tensorDataType, int64(dt))
	t.str(tensorName, name)
	t.bytes(tensorRawData, raw)
	e.inits = append(e.inits, t)
	return name
}

func f32Raw(v ...float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func i64Raw(v ...int64) []byte {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

// onnxType maps a qbench dtype to an ONNX element type.
func onnxType(d graph.DType) (int, error) {
	switch d {
	case graph.Float32:
		return dtFloat, nil
	case graph.Int8:
		return dtInt8, nil
	case graph.UInt8:
		return dtUint8, nil
	case graph.Int16:
		return dtInt16, nil
	case graph.Int32:
		return dtInt32, nil
	case graph.Int64:
		return dtInt64, nil
	}
	return 0, fmt.Errorf("dtype %s: %w", d, ErrUnsupported)
}

// valueInfo describes a graph input or output; dimension 0 is the
// symbolic batch "N".
func valueInfo(name string, t *graph.Tensor) (*msg, error) {
	dt, err := onnxType(t.DType)
	if err != nil {
		return nil, err
	}
	shape := &msg{}
	for i, d := range t.Shape {
		dim := &msg{}
		if i == 0 && len(t.Shape) > 1 {
			dim.str(dimParam, "N")
		} else {
			dim.varint(dimValue, int64(d))
		}
		shape.sub(shapeDim, dim)
	}
	tt := &msg{}
	tt.varint(typeTensorElemType, int64(dt))
	tt.sub(typeTensorShape, shape)
	ty := &msg{}
	ty.sub(typeTensorType, tt)
	vi := &msg{}
	vi.str(valueInfoName, name)
	vi.sub(valueInfoType, ty)
	return vi, nil
}
