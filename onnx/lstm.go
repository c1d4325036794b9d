package onnx

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// lstm exports a float32 UNIDIRECTIONAL_SEQUENCE_LSTM unrolled over its
// time steps (ONNX's LSTM op clips the gate inputs, TFLite the cell state,
// so it cannot stand in for TFLite's cell_clip). The input projections of
// all steps are one MatMul; each step adds the recurrent MatMul, splits the
// gates and updates the cell and output states from zero, as qbench and a
// freshly reset TFLite interpreter start. CIFG, peepholes, projection and
// both clips are covered with TANH, RELU or RELU6 cells; layer
// normalization, other cell activations and integer LSTMs are refused.
func (e *exporter) lstm(op *graph.Op, x, out int) error {
	o, ok := op.Options.(*graph.SequenceLSTMOptions)
	if !ok {
		return fmt.Errorf("options %T", op.Options)
	}
	opt := func(k int) int {
		if k < len(op.Inputs) && op.Inputs[k] >= 0 && op.Inputs[k] < len(e.g.Tensors) {
			return op.Inputs[k]
		}
		return -1
	}
	xt, ot := e.g.Tensors[x], e.g.Tensors[out]
	if xt.DType != graph.Float32 || ot.DType != graph.Float32 {
		return fmt.Errorf("integer UNIDIRECTIONAL_SEQUENCE_LSTM (%s): ONNX has no integer LSTM: %w", xt.DType, ErrUnsupported)
	}
	for k := 20; k < 24; k++ {
		if opt(k) >= 0 {
			return fmt.Errorf("UNIDIRECTIONAL_SEQUENCE_LSTM with layer normalization: %w", ErrUnsupported)
		}
	}
	if len(xt.Shape) != 3 || len(ot.Shape) != 3 {
		return fmt.Errorf("input %v / output %v: want rank 3", xt.Shape, ot.Shape)
	}
	// A non-zero constant state would start elsewhere than zero.
	for _, k := range []int{18, 19} {
		if s := opt(k); s >= 0 && e.g.Tensors[s].IsConst() {
			for _, b := range e.g.Tensors[s].Data {
				if b != 0 {
					return fmt.Errorf("UNIDIRECTIONAL_SEQUENCE_LSTM with a non-zero constant state %q: %w", e.g.Tensors[s].Name, ErrUnsupported)
				}
			}
		}
	}
	cifg := opt(1) < 0
	gates := []int{1, 2, 3, 4} // input, forget, cell, output (TFLite's operand order)
	if cifg {
		gates = gates[1:]
	}
	// weight returns a float32 [rows, cols] constant's values.
	weight := func(k int, what string) ([]float32, []int, error) {
		ti := opt(k)
		if ti < 0 {
			return nil, nil, fmt.Errorf("missing %s (input %d)", what, k)
		}
		t := e.g.Tensors[ti]
		if !t.IsConst() || t.DType != graph.Float32 || len(t.Data) != t.ByteSize() {
			return nil, nil, fmt.Errorf("%s %q: want constant float32 data: %w", what, t.Name, ErrUnsupported)
		}
		return t.Float32s(), t.Shape, nil
	}
	// cat stacks the gates' [H, K] matrices transposed into [K, G·H].
	cat := func(first int, what string) (string, int, int, error) {
		var mats [][]float32
		h, k := -1, -1
		for _, gk := range gates {
			w, s, err := weight(first+gk-1, what)
			if err != nil {
				return "", 0, 0, err
			}
			if len(s) != 2 || (h >= 0 && (s[0] != h || s[1] != k)) {
				return "", 0, 0, fmt.Errorf("%s shape %v: want [units, inputs] alike for every gate", what, s)
			}
			h, k = s[0], s[1]
			mats = append(mats, w)
		}
		g := len(mats)
		v := make([]float32, k*g*h)
		for gi, m := range mats {
			for r := range h {
				for c := range k {
					v[c*g*h+gi*h+r] = m[r*k+c]
				}
			}
		}
		return e.initializer(e.g.Tensors[x].Name+"_lstm_"+what, dtFloat, []int{k, g * h}, f32Raw(v...)), h, k, nil
	}
	w, units, in, err := cat(1, "input_weights")
	if err != nil {
		return err
	}
	r, _, rk, err := cat(5, "recurrent_weights")
	if err != nil {
		return err
	}
	var bias []float32
	for _, gk := range gates {
		b, s, err := weight(11+gk, "gate_bias")
		if err != nil {
			return err
		}
		if len(s) != 1 || s[0] != units {
			return fmt.Errorf("gate bias shape %v, want [%d]", s, units)
		}
		bias = append(bias, b...)
	}
	time := 1
	if o.TimeMajor {
		time = 0
	}
	steps := xt.Shape[time]
	if xt.Shape[2] != in || ot.Shape[time] != steps {
		return fmt.Errorf("input %v, output %v and input weights [%d, %d] disagree", xt.Shape, ot.Shape, units, in)
	}
	var peep [3]string // input, forget, output
	for i, k := range []int{9, 10, 11} {
		if opt(k) < 0 {
			continue
		}
		if cifg && i == 0 {
			continue
		}
		p, s, err := weight(k, "peephole")
		if err != nil {
			return err
		}
		if len(s) != 1 || s[0] != units {
			return fmt.Errorf("peephole shape %v, want [%d]", s, units)
		}
		peep[i] = e.initializer(xt.Name+"_lstm_peephole", dtFloat, []int{units}, f32Raw(p...))
	}
	proj, projB := "", ""
	outUnits := units
	if opt(16) >= 0 {
		p, s, err := weight(16, "projection_weights")
		if err != nil {
			return err
		}
		if len(s) != 2 || s[1] != units {
			return fmt.Errorf("projection shape %v, want [n, %d]", s, units)
		}
		outUnits = s[0]
		pt := make([]float32, len(p))
		for a := range s[0] {
			for b := range units {
				pt[b*s[0]+a] = p[a*units+b]
			}
		}
		proj = e.initializer(xt.Name+"_lstm_projection", dtFloat, []int{units, s[0]}, f32Raw(pt...))
		if opt(17) >= 0 {
			pb, _, err := weight(17, "projection_bias")
			if err != nil {
				return err
			}
			projB = e.initializer(xt.Name+"_lstm_projection_bias", dtFloat, []int{len(pb)}, f32Raw(pb...))
		}
	}
	if rk != outUnits || ot.Shape[2] != outUnits {
		return fmt.Errorf("recurrent weights take %d values, the output has %d", rk, outUnits)
	}
	switch o.Activation {
	case graph.ActTanh, graph.ActRelu, graph.ActRelu6:
	default:
		// The TFLite runtime applies no function for NONE and SIGMOID
		// (its vector activation has no such case) and keeps the
		// buffers' earlier contents: not a function ONNX can state.
		return fmt.Errorf("UNIDIRECTIONAL_SEQUENCE_LSTM cell activation %v (the TFLite runtime applies none for it): %w", o.Activation, ErrUnsupported)
	}
	X, err := e.get(x, plain)
	if err != nil {
		return err
	}
	name := ot.Name
	g := len(gates)
	xw := e.fresh(name + "_xw")
	e.node("MatMul", []string{X, w}, []string{xw})
	xwb := e.fresh(name + "_xwb")
	e.node("Add", []string{xw, e.initializer(name+"_lstm_bias", dtFloat, []int{g * units}, f32Raw(bias...))}, []string{xwb})
	sizes := make([]int64, g)
	for i := range sizes {
		sizes[i] = int64(units)
	}
	split := e.initializer(name+"_gate_sizes", dtInt64, []int{g}, i64Raw(sizes...))
	one := e.initializer(name+"_one", dtFloat, nil, f32Raw(1))
	var clip [2]string
	if o.CellClip > 0 {
		clip = [2]string{e.initializer(name+"_cell_clip_min", dtFloat, nil, f32Raw(-o.CellClip)), e.initializer(name+"_cell_clip_max", dtFloat, nil, f32Raw(o.CellClip))}
	}
	var pclip [2]string
	if proj != "" && o.ProjClip > 0 {
		pclip = [2]string{e.initializer(name+"_proj_clip_min", dtFloat, nil, f32Raw(-o.ProjClip)), e.initializer(name+"_proj_clip_max", dtFloat, nil, f32Raw(o.ProjClip))}
	}
	axis := e.initializer(name+"_time_axis", dtInt64, []int{1}, i64Raw(int64(time)))
	n := func(opType string, ins ...string) string {
		y := e.fresh(name + "_" + opType)
		e.node(opType, ins, []string{y})
		return y
	}
	var h, c string
	var hs []string
	for t := range steps {
		idx := e.initializer(fmt.Sprintf("%s_t%d", name, t), dtInt64, nil, i64Raw(int64(t)))
		z := e.fresh(name + "_z")
		e.node("Gather", []string{xwb, idx}, []string{z}, attrInt("axis", time))
		if t > 0 {
			z = n("Add", z, n("MatMul", h, r))
		}
		parts := make([]string, g)
		for i := range parts {
			parts[i] = e.fresh(fmt.Sprintf("%s_gate%d", name, i))
		}
		e.node("Split", []string{z, split}, parts, attrInt("axis", 1))
		if cifg {
			parts = append([]string{""}, parts...)
		}
		zi, zf, zc, zo := parts[0], parts[1], parts[2], parts[3]
		if t > 0 && peep[1] != "" {
			zf = n("Add", zf, n("Mul", c, peep[1]))
		}
		f := n("Sigmoid", zf)
		var i string
		if cifg {
			i = n("Sub", one, f)
		} else {
			if t > 0 && peep[0] != "" {
				zi = n("Add", zi, n("Mul", c, peep[0]))
			}
			i = n("Sigmoid", zi)
		}
		gc := e.fresh(name + "_g")
		if err := e.activation(o.Activation, zc, gc); err != nil {
			return err
		}
		if t > 0 {
			c = n("Add", n("Mul", f, c), n("Mul", i, gc))
		} else {
			c = n("Mul", i, gc)
		}
		if clip[0] != "" {
			c = n("Clip", c, clip[0], clip[1])
		}
		if peep[2] != "" {
			zo = n("Add", zo, n("Mul", c, peep[2]))
		}
		og := n("Sigmoid", zo)
		ac := e.fresh(name + "_act_c")
		if err := e.activation(o.Activation, c, ac); err != nil {
			return err
		}
		h = n("Mul", og, ac)
		if proj != "" {
			h = n("MatMul", h, proj)
			if projB != "" {
				h = n("Add", h, projB)
			}
			if pclip[0] != "" {
				h = n("Clip", h, pclip[0], pclip[1])
			}
		}
		hs = append(hs, n("Unsqueeze", h, axis))
	}
	e.node("Concat", hs, []string{e.produce(out, plain)}, attrInt("axis", time))
	return nil
}
