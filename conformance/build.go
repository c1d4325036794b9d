package conformance

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/qbench/qbench/graph"
)

// activationInput reports whether a kernel-case input is fed at run time
// (a graph input) rather than baked in as a constant: the data operands are,
// weights, biases, shapes, paddings and axes are not.
func activationInput(op graph.OpKind, name string) bool {
	if name == "input" || name == "input1" || name == "input2" {
		return true
	}
	return op == graph.OpConcatenation && strings.HasPrefix(name, "input")
}

// KernelGraph builds the one-op graph of a kernel case: activation inputs
// become graph inputs, the rest constants, and the output takes the case's
// shape (which TFLite Micro uses as given, see the reference README). It
// returns the graph and, per graph input, the data to feed.
func KernelGraph(c *Case) (*graph.Graph, []Values, error) {
	kind, err := graph.ParseOpKind(c.Op)
	if err != nil {
		return nil, nil, err
	}
	if len(c.Outputs) == 0 {
		return nil, nil, fmt.Errorf("case has no output")
	}
	opts, err := options(kind, c.Options)
	if err != nil {
		return nil, nil, fmt.Errorf("%s options: %w", c.Op, err)
	}
	g := &graph.Graph{}
	var feeds []Values
	var ins []int
	for i := range c.Inputs {
		s := &c.Inputs[i]
		if s.Omitted {
			ins = append(ins, -1)
			continue
		}
		t, err := s.tensor()
		if err != nil {
			return nil, nil, err
		}
		if activationInput(kind, s.Name) {
			if _, err := encode(t.DType, t.Shape, s.Data); err != nil {
				return nil, nil, fmt.Errorf("input %q: %w", s.Name, err)
			}
			idx := g.AddTensor(t)
			g.Inputs = append(g.Inputs, idx)
			feeds = append(feeds, s.Data)
			ins = append(ins, idx)
			continue
		}
		if t.Data, err = encode(t.DType, t.Shape, s.Data); err != nil {
			return nil, nil, fmt.Errorf("input %q: %w", s.Name, err)
		}
		ins = append(ins, g.AddTensor(t))
	}
	var outs []int
	for i := range c.Outputs {
		t, err := c.Outputs[i].tensor()
		if err != nil {
			return nil, nil, err
		}
		idx := g.AddTensor(t)
		outs = append(outs, idx)
		g.Outputs = append(g.Outputs, idx)
	}
	g.AddOp(kind, ins, outs, opts)
	return g, feeds, nil
}

// options decodes a case's builtin options into the graph's typed options.
func options(kind graph.OpKind, raw map[string]json.RawMessage) (any, error) {
	var o struct {
		Padding   string   `json:"padding"`
		StrideW   int      `json:"stride_w"`
		StrideH   int      `json:"stride_h"`
		DilationW int      `json:"dilation_w_factor"`
		DilationH int      `json:"dilation_h_factor"`
		DepthMul  int      `json:"depth_multiplier"`
		Act       string   `json:"fused_activation_function"`
		FilterW   int      `json:"filter_width"`
		FilterH   int      `json:"filter_height"`
		KeepNum   bool     `json:"keep_num_dims"`
		WFormat   string   `json:"weights_format"`
		Asym      bool     `json:"asymmetric_quantize_inputs"`
		Beta      *float64 `json:"beta"`
		NewShape  []int    `json:"new_shape"`
		Axis      int      `json:"axis"`
		KeepDims  bool     `json:"keep_dims"`
		Alpha     float64  `json:"alpha"`
		PotScale  bool     `json:"pot_scale_int16"`
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, err
	}
	act := graph.ActNone
	if o.Act != "" {
		if act, err = graph.ParseActivation(o.Act); err != nil {
			return nil, err
		}
	}
	pad := graph.PaddingSame
	switch o.Padding {
	case "", "SAME":
	case "VALID":
		pad = graph.PaddingValid
	default:
		return nil, fmt.Errorf("unknown padding %q", o.Padding)
	}
	one := func(v int) int {
		if v == 0 {
			return 1
		}
		return v
	}
	switch kind {
	case graph.OpConv2D:
		return &graph.Conv2DOptions{Padding: pad, StrideW: one(o.StrideW), StrideH: one(o.StrideH),
			DilationW: one(o.DilationW), DilationH: one(o.DilationH), Activation: act}, nil
	case graph.OpDepthwiseConv2D:
		return &graph.DepthwiseConv2DOptions{Padding: pad, StrideW: one(o.StrideW), StrideH: one(o.StrideH),
			DilationW: one(o.DilationW), DilationH: one(o.DilationH), DepthMultiplier: o.DepthMul, Activation: act}, nil
	case graph.OpFullyConnected:
		if o.WFormat != "" && o.WFormat != "DEFAULT" {
			return nil, fmt.Errorf("weights_format %s is not supported", o.WFormat)
		}
		if o.Asym {
			return nil, fmt.Errorf("asymmetric_quantize_inputs is not supported")
		}
		return &graph.FullyConnectedOptions{Activation: act, KeepNumDims: o.KeepNum}, nil
	case graph.OpMaxPool2D, graph.OpAveragePool2D:
		return &graph.Pool2DOptions{Padding: pad, StrideW: one(o.StrideW), StrideH: one(o.StrideH),
			FilterW: o.FilterW, FilterH: o.FilterH, Activation: act}, nil
	case graph.OpSoftmax:
		beta := float32(1)
		if o.Beta != nil {
			beta = float32(*o.Beta)
		}
		return &graph.SoftmaxOptions{Beta: beta}, nil
	case graph.OpReshape:
		if o.NewShape == nil {
			return nil, nil
		}
		return &graph.ReshapeOptions{NewShape: o.NewShape}, nil
	case graph.OpAdd:
		return &graph.AddOptions{Activation: act, PotScaleInt16: o.PotScale}, nil
	case graph.OpLeakyRelu:
		return &graph.LeakyReluOptions{Alpha: float32(o.Alpha)}, nil
	case graph.OpConcatenation:
		return &graph.ConcatenationOptions{Axis: o.Axis, Activation: act}, nil
	case graph.OpMean:
		return &graph.ReducerOptions{KeepDims: o.KeepDims}, nil
	}
	return nil, nil
}
