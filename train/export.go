package train

import (
	"errors"
	"fmt"

	"github.com/qbench/qbench/graph"
)

// Graph returns the model as a float32 TFLite-style graph, the way the
// TFLite converter lays out a Keras model of this shape:
//
//	input [1,H,W,C] → per block: CONV_2D (OHWI weights, bias, no fused
//	activation) → MAX_POOL_2D 2x2/2 VALID → RELU → RESHAPE [1, N] (shape
//	given both as an int32 constant input and as the new_shape option) →
//	FULLY_CONNECTED (+ fused RELU for hidden layers) ... → FULLY_CONNECTED
//	→ SOFTMAX (beta 1)
//
// Tensors are named ("input", "conv0/weights", ..., "logits", "probabilities")
// and m.Metadata and m.Meta are copied into the graph.
func (m *Model) Graph() *graph.Graph {
	g := &graph.Graph{Description: "qbench train: " + m.Arch.String()}
	a := m.Arch
	act := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, Shape: shape, DType: graph.Float32})
	}
	constF := func(name string, v []float32, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, Shape: shape, DType: graph.Float32, Data: graph.EncodeFloat32s(v)})
	}
	x := act("input", 1, a.Input[0], a.Input[1], a.Input[2])
	g.Inputs = []int{x}
	for i, c := range m.convs {
		cg := c.g
		w := constF(fmt.Sprintf("conv%d/weights", i), m.convW(c), cg.Cout, cg.KH, cg.KW, cg.Cin)
		b := constF(fmt.Sprintf("conv%d/bias", i), m.convB(c), cg.Cout)
		y := act(fmt.Sprintf("conv%d", i), 1, cg.OH, cg.OW, cg.Cout)
		g.AddOp(graph.OpConv2D, []int{x, w, b}, []int{y}, &graph.Conv2DOptions{
			Padding: cg.Pad, StrideW: cg.Stride, StrideH: cg.Stride, DilationW: 1, DilationH: 1})
		p := act(fmt.Sprintf("pool%d", i), 1, c.p.OH, c.p.OW, c.p.C)
		g.AddOp(graph.OpMaxPool2D, []int{y}, []int{p}, &graph.Pool2DOptions{
			Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
		r := act(fmt.Sprintf("relu%d", i), 1, c.p.OH, c.p.OW, c.p.C)
		g.AddOp(graph.OpRelu, []int{p}, []int{r}, nil)
		x = r
	}
	in := m.dense[0].in
	shape := g.AddTensor(&graph.Tensor{Name: "flatten/shape", Shape: []int{2}, DType: graph.Int32,
		Data: graph.EncodeInt32s([]int32{1, int32(in)})})
	f := act("flatten", 1, in)
	g.AddOp(graph.OpReshape, []int{x, shape}, []int{f}, &graph.ReshapeOptions{NewShape: []int{1, in}})
	x = f
	for j, d := range m.dense {
		last := j == len(m.dense)-1
		name := fmt.Sprintf("dense%d", j)
		if last {
			name = "logits"
		}
		w := constF(name+"/weights", m.denseW(d), d.out, d.in)
		b := constF(name+"/bias", m.denseB(d), d.out)
		y := act(name, 1, d.out)
		opt := &graph.FullyConnectedOptions{}
		if d.relu {
			opt.Activation = graph.ActRelu
		}
		g.AddOp(graph.OpFullyConnected, []int{x, w, b}, []int{y}, opt)
		x = y
	}
	out := act("probabilities", 1, a.Classes)
	g.AddOp(graph.OpSoftmax, []int{x}, []int{out}, &graph.SoftmaxOptions{Beta: 1})
	g.Outputs = []int{out}
	if len(m.Metadata) > 0 {
		g.Metadata = make(map[string][]byte, len(m.Metadata))
		for k, v := range m.Metadata {
			g.Metadata[k] = append([]byte(nil), v...)
		}
	}
	g.Meta = m.Meta.Clone()
	return g
}

// ErrUnsupportedGraph is wrapped when LoadFromGraph meets a graph that is
// not a plain conv/pool/ReLU/dense/softmax chain it can train.
var ErrUnsupportedGraph = errors.New("graph is not a trainable qbench CNN")

// LoadFromGraph rebuilds a trainable Model from a float32 graph of the
// shape Graph writes (as read back from a .tflite), so training can resume
// or fine-tune. It accepts conv with or without a fused RELU (ReLU and
// max-pool commute, so conv+RELU → pool equals conv → pool → RELU), square
// stride-1 kernels, and a final SOFTMAX or none. Graph metadata is kept.
func LoadFromGraph(g *graph.Graph) (*Model, error) {
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	bad := func(i int, op *graph.Op, why string, args ...any) error {
		return fmt.Errorf("%w: op %d (%s): %s", ErrUnsupportedGraph, i, op.Kind, fmt.Sprintf(why, args...))
	}
	if len(g.Inputs) != 1 {
		return nil, fmt.Errorf("%w: %d inputs, want 1", ErrUnsupportedGraph, len(g.Inputs))
	}
	in := g.Tensors[g.Inputs[0]]
	if in.DType != graph.Float32 || len(in.Shape) != 4 {
		return nil, fmt.Errorf("%w: input %q is %s %v, want float32 [1,H,W,C]", ErrUnsupportedGraph, in.Name, in.DType, in.Shape)
	}
	arch := Arch{Name: "loaded", Input: [3]int{in.Shape[1], in.Shape[2], in.Shape[3]}, Padding: ""}
	type weights struct{ w, b []float32 }
	var convs, dense []weights
	ops := g.Ops
	i := 0
	constFloats := func(op *graph.Op, k int, shape []int) ([]float32, error) {
		if k >= len(op.Inputs) || op.Inputs[k] < 0 {
			return make([]float32, graph.NumElements(shape)), nil // omitted bias
		}
		t := g.Tensors[op.Inputs[k]]
		if !t.IsConst() || t.DType != graph.Float32 {
			return nil, fmt.Errorf("tensor %q is not a float32 constant", t.Name)
		}
		if graph.NumElements(t.Shape) != graph.NumElements(shape) {
			return nil, fmt.Errorf("tensor %q has shape %v, want %v", t.Name, t.Shape, shape)
		}
		return t.Float32s(), nil
	}
	for ; i < len(ops) && ops[i].Kind == graph.OpConv2D; i++ {
		op := ops[i]
		o, ok := op.Options.(*graph.Conv2DOptions)
		if !ok || len(op.Inputs) < 2 {
			return nil, bad(i, op, "missing options or weights")
		}
		wt := g.Tensors[op.Inputs[1]]
		if len(wt.Shape) != 4 || wt.Shape[1] != wt.Shape[2] {
			return nil, bad(i, op, "weights %q shape %v, want square [O,K,K,I]", wt.Name, wt.Shape)
		}
		if o.StrideH != 1 || o.StrideW != 1 || max(o.DilationH, 1) != 1 || max(o.DilationW, 1) != 1 {
			return nil, bad(i, op, "stride %dx%d dilation %dx%d, want 1", o.StrideH, o.StrideW, o.DilationH, o.DilationW)
		}
		if o.Activation != graph.ActNone && o.Activation != graph.ActRelu {
			return nil, bad(i, op, "fused %s activation", o.Activation)
		}
		if arch.Kernel != 0 && (arch.Kernel != wt.Shape[1] || arch.Padding != o.Padding.String()) {
			return nil, bad(i, op, "kernel %d %s differs from earlier convs (%d %s)", wt.Shape[1], o.Padding, arch.Kernel, arch.Padding)
		}
		arch.Kernel, arch.Padding = wt.Shape[1], o.Padding.String()
		w, err := constFloats(op, 1, wt.Shape)
		if err != nil {
			return nil, bad(i, op, "%v", err)
		}
		b, err := constFloats(op, 2, []int{wt.Shape[0]})
		if err != nil {
			return nil, bad(i, op, "%v", err)
		}
		convs = append(convs, weights{w, b})
		arch.Filters = append(arch.Filters, wt.Shape[0])
		if i+1 >= len(ops) || ops[i+1].Kind != graph.OpMaxPool2D {
			return nil, bad(i, op, "conv must be followed by MAX_POOL_2D")
		}
		i++
		po, ok := ops[i].Options.(*graph.Pool2DOptions)
		if !ok || po.FilterH != 2 || po.FilterW != 2 || po.StrideH != 2 || po.StrideW != 2 || po.Padding != graph.PaddingValid {
			return nil, bad(i, ops[i], "want 2x2 stride-2 VALID max-pool")
		}
		switch {
		case i+1 < len(ops) && ops[i+1].Kind == graph.OpRelu:
			i++
		case po.Activation == graph.ActRelu || o.Activation == graph.ActRelu:
		default:
			return nil, bad(i, ops[i], "max-pool must be followed by RELU (or the conv must fuse it)")
		}
	}
	if i < len(ops) && ops[i].Kind == graph.OpReshape {
		i++
	}
	for ; i < len(ops) && ops[i].Kind == graph.OpFullyConnected; i++ {
		op := ops[i]
		o, _ := op.Options.(*graph.FullyConnectedOptions)
		if len(op.Inputs) < 2 {
			return nil, bad(i, op, "missing weights")
		}
		wt := g.Tensors[op.Inputs[1]]
		if len(wt.Shape) != 2 {
			return nil, bad(i, op, "weights %q shape %v, want [out,in]", wt.Name, wt.Shape)
		}
		hasRelu := o != nil && o.Activation == graph.ActRelu
		if o != nil && o.Activation != graph.ActNone && !hasRelu {
			return nil, bad(i, op, "fused %s activation", o.Activation)
		}
		if !hasRelu && i+1 < len(ops) && ops[i+1].Kind == graph.OpRelu {
			hasRelu = true
			i++
		}
		w, err := constFloats(op, 1, wt.Shape)
		if err != nil {
			return nil, bad(i, op, "%v", err)
		}
		b, err := constFloats(op, 2, []int{wt.Shape[0]})
		if err != nil {
			return nil, bad(i, op, "%v", err)
		}
		dense = append(dense, weights{w, b})
		last := i+1 >= len(ops) || ops[i+1].Kind != graph.OpFullyConnected
		if last {
			if hasRelu {
				return nil, bad(i, op, "the output layer has a ReLU")
			}
			arch.Classes = wt.Shape[0]
		} else {
			if !hasRelu {
				return nil, bad(i, op, "hidden dense layer without ReLU")
			}
			arch.Dense = append(arch.Dense, wt.Shape[0])
		}
	}
	if i < len(ops) && ops[i].Kind == graph.OpSoftmax {
		i++
	}
	if i != len(ops) {
		return nil, bad(i, ops[i], "unexpected op in a conv/pool/relu/dense/softmax chain")
	}
	if len(dense) == 0 {
		return nil, fmt.Errorf("%w: no FULLY_CONNECTED output layer", ErrUnsupportedGraph)
	}
	if arch.Kernel == 0 {
		arch.Kernel, arch.Padding = 3, "SAME"
	}
	m, err := newModel(arch)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedGraph, err)
	}
	for k, c := range m.convs {
		if len(convs[k].w) != len(m.convW(c)) {
			return nil, fmt.Errorf("%w: conv %d has %d weights, the architecture needs %d (input channels do not chain)",
				ErrUnsupportedGraph, k, len(convs[k].w), len(m.convW(c)))
		}
		copy(m.convW(c), convs[k].w)
		copy(m.convB(c), convs[k].b)
	}
	for k, d := range m.dense {
		if len(dense[k].w) != len(m.denseW(d)) {
			return nil, fmt.Errorf("%w: dense %d has %d weights, the architecture needs %d×%d",
				ErrUnsupportedGraph, k, len(dense[k].w), d.out, d.in)
		}
		copy(m.denseW(d), dense[k].w)
		copy(m.denseB(d), dense[k].b)
	}
	if len(g.Metadata) > 0 {
		m.Metadata = make(map[string][]byte, len(g.Metadata))
		for k, v := range g.Metadata {
			m.Metadata[k] = append([]byte(nil), v...)
		}
	}
	m.Meta = g.Meta.Clone()
	return m, nil
}
