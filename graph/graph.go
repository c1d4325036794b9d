package graph

import (
	"errors"
	"fmt"
	"reflect"
)

// Graph is a dataflow graph of operators over tensors, in execution order.
type Graph struct {
	Tensors []*Tensor
	Ops     []*Op
	Inputs  []int
	Outputs []int
	// Description is free text a file format may carry.
	Description string
	// Metadata holds named blobs stored with the model, e.g. the
	// preprocessing spec under MetadataPreprocess.
	Metadata map[string][]byte
	// Name is the subgraph's name in the file ("" when none).
	Name string
	// Subgraphs are the file's other subgraphs (Subgraphs[i] is subgraph
	// i+1): the bodies WHILE, IF and CALL_ONCE refer to by index. Each is a
	// graph of its own tensors (and no Subgraphs of its own); interp
	// compiles and runs them for those ops.
	Subgraphs []*Graph
	// Meta is the model's standard metadata (name, normalisation, label
	// files), nil when the file has none or it could not be read.
	Meta *ModelMeta
	// Warnings name problems found in optional parts of the file that left
	// the model usable, e.g. a corrupt metadata buffer or label archive.
	// Readers fill it; commands print it.
	Warnings []string
}

// MetadataPreprocess is the metadata key of the JSON preprocessing spec that
// training stores with a model and every command reuses.
const MetadataPreprocess = "qbench.preprocess"

// MetadataClasses is the metadata key of the class names a classifier was
// trained on: a JSON array, index = output position. Commands use it to
// name predictions without a separate labels file.
const MetadataClasses = "qbench.classes"

// MetadataModelMeta is the metadata key under which a reader keeps the raw
// encoding of Meta as the file stored it (TFLite's "TFLITE_METADATA"
// buffer). Writers store that raw entry instead of encoding Meta, so fields
// qbench does not model survive a rewrite; code that changes Meta deletes it.
const MetadataModelMeta = "TFLITE_METADATA"

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid graph")

// AddTensor appends t and returns its index.
func (g *Graph) AddTensor(t *Tensor) int {
	g.Tensors = append(g.Tensors, t)
	return len(g.Tensors) - 1
}

// AddOp appends an op and returns it.
func (g *Graph) AddOp(kind OpKind, inputs, outputs []int, options any) *Op {
	op := &Op{Kind: kind, Inputs: inputs, Outputs: outputs, Options: options}
	g.Ops = append(g.Ops, op)
	return op
}

// Tensor returns tensor i, or nil when i is -1 (an omitted optional input).
func (g *Graph) Tensor(i int) *Tensor {
	if i < 0 || i >= len(g.Tensors) {
		return nil
	}
	return g.Tensors[i]
}

// Producers maps each tensor index to the index of the op that writes it, or -1.
func (g *Graph) Producers() []int {
	p := make([]int, len(g.Tensors))
	for i := range p {
		p[i] = -1
	}
	for oi, op := range g.Ops {
		for _, t := range op.Outputs {
			if t >= 0 && t < len(p) {
				p[t] = oi
			}
		}
	}
	return p
}

// Consumers maps each tensor index to the indices of the ops reading it.
func (g *Graph) Consumers() [][]int {
	c := make([][]int, len(g.Tensors))
	for oi, op := range g.Ops {
		for _, t := range op.Inputs {
			if t >= 0 && t < len(c) {
				c[t] = append(c[t], oi)
			}
		}
	}
	return c
}

// Validate checks indices, shapes against constant data sizes, and that ops
// appear in an order where every input is available before it is read.
// It does not check op-specific semantics; the interpreter does that.
func (g *Graph) Validate() error {
	n := len(g.Tensors)
	for i, t := range g.Tensors {
		if t == nil {
			return fmt.Errorf("%w: tensor %d is nil", ErrInvalid, i)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("%w: tensor %d %q has negative dimension in shape %v", ErrInvalid, i, t.Name, t.Shape)
			}
		}
		if t.DType.Size() == 0 {
			return fmt.Errorf("%w: tensor %d %q has unsupported dtype %s", ErrInvalid, i, t.Name, t.DType)
		}
		if t.Data != nil && len(t.Data) != t.ByteSize() {
			return fmt.Errorf("%w: tensor %d %q: data has %d bytes, shape %v of %s needs %d",
				ErrInvalid, i, t.Name, len(t.Data), t.Shape, t.DType, t.ByteSize())
		}
		if q := t.Quant; q != nil {
			if len(q.Scale) != len(q.ZeroPoint) && len(q.ZeroPoint) != 0 {
				return fmt.Errorf("%w: tensor %d %q: %d scales but %d zero points", ErrInvalid, i, t.Name, len(q.Scale), len(q.ZeroPoint))
			}
			if len(q.Scale) > 1 {
				if q.Axis < 0 || q.Axis >= len(t.Shape) || t.Shape[q.Axis] != len(q.Scale) {
					return fmt.Errorf("%w: tensor %d %q: %d per-channel scales do not match dimension %d of shape %v",
						ErrInvalid, i, t.Name, len(q.Scale), q.Axis, t.Shape)
				}
			}
		}
	}
	ready := make([]bool, n)
	for i, t := range g.Tensors {
		if t.IsConst() || t.Variable {
			ready[i] = true
		}
	}
	for _, in := range g.Inputs {
		if in < 0 || in >= n {
			return fmt.Errorf("%w: graph input index %d out of range [0,%d)", ErrInvalid, in, n)
		}
		ready[in] = true
	}
	for oi, op := range g.Ops {
		for _, in := range op.Inputs {
			if in == -1 {
				continue
			}
			if in < 0 || in >= n {
				return fmt.Errorf("%w: op %d (%s): input tensor index %d out of range [0,%d)", ErrInvalid, oi, op.Kind, in, n)
			}
			// An op qbench does not know (a delegate's custom op such as
			// Vela's ethos-u) may take arena tensors as scratch space that
			// nothing writes first; TFLite allows it, and inspect must still
			// list such a model. Ops qbench runs must read written values.
			if !ready[in] && op.Kind != OpUnknown {
				return fmt.Errorf("%w: op %d (%s): input tensor %d %q is read before any op writes it", ErrInvalid, oi, op.Kind, in, g.Tensors[in].Name)
			}
		}
		for _, out := range op.Outputs {
			if out < 0 || out >= n {
				return fmt.Errorf("%w: op %d (%s): output tensor index %d out of range [0,%d)", ErrInvalid, oi, op.Kind, out, n)
			}
			ready[out] = true
		}
		for _, t := range op.Intermediates {
			if t < 0 || t >= n {
				return fmt.Errorf("%w: op %d (%s): intermediate tensor index %d out of range [0,%d)", ErrInvalid, oi, op.Kind, t, n)
			}
		}
	}
	for _, out := range g.Outputs {
		if out < 0 || out >= n {
			return fmt.Errorf("%w: graph output index %d out of range [0,%d)", ErrInvalid, out, n)
		}
		if !ready[out] {
			return fmt.Errorf("%w: graph output %d %q is never written", ErrInvalid, out, g.Tensors[out].Name)
		}
	}
	return nil
}

// Clone returns a deep copy of the graph. Constant data is copied too, so
// the clone can be rewritten (e.g. quantized) without touching the original.
func (g *Graph) Clone() *Graph { return g.clone(true) }

// CloneSharingData is Clone except that constant tensors keep g's Data
// slices: for a rewrite that changes shapes, ops or which tensors are
// constant, but never writes into constant bytes (the interpreter's
// re-batching and folding), without a second copy of the weights.
func (g *Graph) CloneSharingData() *Graph { return g.clone(false) }

func (g *Graph) clone(copyData bool) *Graph {
	c := &Graph{
		Inputs:      append([]int(nil), g.Inputs...),
		Outputs:     append([]int(nil), g.Outputs...),
		Description: g.Description,
		Meta:        g.Meta.Clone(),
		Warnings:    append([]string(nil), g.Warnings...),
	}
	for _, t := range g.Tensors {
		nt := *t
		nt.Shape = append([]int(nil), t.Shape...)
		nt.ShapeSignature = append([]int(nil), t.ShapeSignature...)
		if t.Data != nil && copyData {
			nt.Data = append([]byte{}, t.Data...)
		}
		nt.Quant = t.Quant.Clone()
		c.Tensors = append(c.Tensors, &nt)
	}
	for _, op := range g.Ops {
		nop := *op
		nop.Inputs = append([]int(nil), op.Inputs...)
		nop.Outputs = append([]int(nil), op.Outputs...)
		nop.Intermediates = append([]int(nil), op.Intermediates...)
		nop.Options = cloneOptions(op.Options)
		nop.CustomOptions = append([]byte(nil), op.CustomOptions...)
		c.Ops = append(c.Ops, &nop)
	}
	c.Name = g.Name
	for _, sg := range g.Subgraphs {
		c.Subgraphs = append(c.Subgraphs, sg.clone(copyData))
	}
	if g.Metadata != nil {
		c.Metadata = make(map[string][]byte, len(g.Metadata))
		for k, v := range g.Metadata {
			c.Metadata[k] = append([]byte{}, v...)
		}
	}
	return c
}

func cloneOptions(o any) any {
	switch v := o.(type) {
	case *Conv2DOptions:
		c := *v
		return &c
	case *DepthwiseConv2DOptions:
		c := *v
		return &c
	case *FullyConnectedOptions:
		c := *v
		return &c
	case *Pool2DOptions:
		c := *v
		return &c
	case *SoftmaxOptions:
		c := *v
		return &c
	case *ReshapeOptions:
		c := *v
		c.NewShape = append([]int(nil), v.NewShape...)
		return &c
	case *AddOptions:
		c := *v
		return &c
	case *LeakyReluOptions:
		c := *v
		return &c
	case *ConcatenationOptions:
		c := *v
		return &c
	case *ReducerOptions:
		c := *v
		return &c
	case interface{ clone() any }:
		return v.clone()
	}
	// Other options are pointers to structs of plain values: a shallow copy
	// is a deep one.
	if rv := reflect.ValueOf(o); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Struct {
		c := reflect.New(rv.Elem().Type())
		c.Elem().Set(rv.Elem())
		return c.Interface()
	}
	return o
}

// ConvOutputSize returns the output extent of a convolution or pooling
// window along one axis, with TFLite's rules for SAME and VALID padding.
func ConvOutputSize(pad Padding, in, filter, stride, dilation int) int {
	if stride <= 0 {
		return 0
	}
	if dilation <= 0 {
		dilation = 1
	}
	eff := (filter-1)*dilation + 1
	switch pad {
	case PaddingValid:
		if in < eff {
			return 0
		}
		return (in - eff + stride) / stride
	default:
		return (in + stride - 1) / stride
	}
}

// ConvPadding returns the padding before the first element along one axis
// (TFLite's ComputePaddingWithOffset: the extra odd pixel goes after).
func ConvPadding(pad Padding, in, filter, stride, dilation, out int) int {
	if pad == PaddingValid {
		return 0
	}
	if dilation <= 0 {
		dilation = 1
	}
	eff := (filter-1)*dilation + 1
	total := (out-1)*stride + eff - in
	if total < 0 {
		total = 0
	}
	return total / 2
}
