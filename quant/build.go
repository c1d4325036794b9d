package quant

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// build emits the quantized graph. Every float tensor may get two versions:
// a float one and an integer one. Each op asks for the versions it needs,
// and a missing version is made on demand with a QUANTIZE or DEQUANTIZE op
// emitted just before that consumer, so conversions appear exactly where a
// float island meets integer ops (or at the model's float boundary).
func (r *rewriter) build() error {
	g := r.g
	n := len(g.Tensors)
	r.ng = &graph.Graph{Description: g.Description, Meta: g.Meta.Clone()}
	if g.Metadata != nil {
		r.ng.Metadata = make(map[string][]byte, len(g.Metadata))
		for k, v := range g.Metadata {
			r.ng.Metadata[k] = append([]byte(nil), v...)
		}
	}
	r.floatIdx = make([]int, n)
	r.qIdx = make([]int, n)
	r.isOutput = make([]bool, n)
	for i := range r.floatIdx {
		r.floatIdx[i], r.qIdx[i] = -1, -1
	}
	for _, o := range g.Outputs {
		r.isOutput[o] = true
	}
	for _, in := range g.Inputs {
		t := g.Tensors[in]
		switch r.opts.IO {
		case graph.Float32:
			r.floatIdx[in] = r.addTensor(t, t.Name, graph.Float32, nil)
			r.ng.Inputs = append(r.ng.Inputs, r.floatIdx[in])
		case graph.UInt8:
			p := r.params[in]
			u := r.addTensor(t, t.Name, graph.UInt8, &graph.Quantization{Scale: p.Scale, ZeroPoint: []int64{p.ZeroPoint[0] + 128}})
			r.ng.Inputs = append(r.ng.Inputs, u)
			r.qIdx[in] = r.addTensor(t, t.Name+"_"+r.act.String(), r.act, p.Clone())
			r.ng.AddOp(graph.OpQuantize, []int{u}, []int{r.qIdx[in]}, nil)
		default:
			r.qIdx[in] = r.addTensor(t, t.Name, r.act, r.params[in].Clone())
			r.ng.Inputs = append(r.ng.Inputs, r.qIdx[in])
		}
	}
	for oi, op := range g.Ops {
		var err error
		if r.keep[oi] {
			err = r.emitFloat(op)
		} else {
			err = r.emitQuant(op)
		}
		if err != nil {
			return fmt.Errorf("op %d (%s): %w", oi, op.Kind, err)
		}
	}
	for _, out := range g.Outputs {
		t := g.Tensors[out]
		if t.DType != graph.Float32 || r.prodOp[out] == graph.OpDetectionPostProcess.String() {
			// A bool or index output is the same in every form; detection
			// results (boxes, classes, scores, count) stay float32 as the
			// converter leaves them whatever the I/O type.
			r.ng.Outputs = append(r.ng.Outputs, r.getFloat(out))
			continue
		}
		switch r.opts.IO {
		case graph.Float32:
			r.ng.Outputs = append(r.ng.Outputs, r.getFloat(out))
		case graph.UInt8:
			q := r.getQuant(out)
			p := r.ng.Tensors[q].Quant
			u := r.addTensor(t, t.Name, graph.UInt8, &graph.Quantization{Scale: append([]float32(nil), p.Scale...), ZeroPoint: []int64{p.ZeroPoint[0] + 128}})
			r.ng.AddOp(graph.OpQuantize, []int{q}, []int{u}, nil)
			r.ng.Outputs = append(r.ng.Outputs, u)
		default:
			r.ng.Outputs = append(r.ng.Outputs, r.getQuant(out))
		}
	}
	return nil
}

// addTensor appends an activation tensor shaped like t.
func (r *rewriter) addTensor(t *graph.Tensor, name string, dt graph.DType, q *graph.Quantization) int {
	return r.ng.AddTensor(&graph.Tensor{
		Name: name, Shape: append([]int(nil), t.Shape...), DType: dt, Quant: q,
		ShapeSignature: append([]int(nil), t.ShapeSignature...),
	})
}

// outName is the name of an op output's natural version: graph outputs whose
// boundary dtype differs give their name to the boundary tensor instead.
func (r *rewriter) outName(t int, dt graph.DType) string {
	name := r.g.Tensors[t].Name
	if r.isOutput[t] && dt != r.opts.IO {
		return name + "_" + dt.String()
	}
	return name
}

// getFloat returns the new index of tensor t's float version, copying a
// constant or emitting a DEQUANTIZE as needed.
func (r *rewriter) getFloat(t int) int {
	if t < 0 {
		return -1
	}
	if r.floatIdx[t] >= 0 {
		return r.floatIdx[t]
	}
	src := r.g.Tensors[t]
	if src.IsConst() || src.Variable {
		// Constants, and state tensors (an LSTM's or SVDF's, which no op
		// writes and the kept-float op updates itself), are copied.
		c := *src
		c.Shape = append([]int(nil), src.Shape...)
		c.Data = append([]byte(nil), src.Data...)
		c.Quant = src.Quant.Clone()
		r.floatIdx[t] = r.ng.AddTensor(&c)
		return r.floatIdx[t]
	}
	name := src.Name + "_float"
	if r.isOutput[t] && r.opts.IO == graph.Float32 {
		name = src.Name
	}
	f := r.addTensor(src, name, graph.Float32, nil)
	r.ng.AddOp(graph.OpDequantize, []int{r.getQuant(t)}, []int{f}, nil)
	r.floatIdx[t] = f
	return f
}

// getQuant returns the new index of tensor t's integer version, quantizing
// a float constant or emitting a QUANTIZE as needed.
func (r *rewriter) getQuant(t int) int {
	if r.qIdx[t] >= 0 {
		return r.qIdx[t]
	}
	src := r.g.Tensors[t]
	if src.IsConst() {
		r.qIdx[t] = r.quantizeConst(src)
		return r.qIdx[t]
	}
	q := r.addTensor(src, src.Name+"_"+r.act.String(), r.act, r.params[t].Clone())
	r.ng.AddOp(graph.OpQuantize, []int{r.getFloat(t)}, []int{q}, nil)
	r.qIdx[t] = q
	return q
}

// quantizeConst quantizes a float constant used as a data operand (e.g. of
// ADD) with its own min/max range, like an activation.
func (r *rewriter) quantizeConst(src *graph.Tensor) int {
	h := NewHistogram(r.opts.Bins)
	h.Add(src.Float32s())
	var scale float64
	var zp int64
	if r.act == graph.Int16 {
		scale = SymmetricParams(math.Max(-h.Min, h.Max), r.qmax)
	} else {
		scale, zp = AsymmetricParams(h.Min, h.Max, r.qmin, r.qmax)
	}
	return r.quantizeConstAs(src, &graph.Quantization{Scale: []float32{float32(scale)}, ZeroPoint: []int64{zp}})
}

// quantizeConstAs quantizes a float constant with the given parameters.
func (r *rewriter) quantizeConstAs(src *graph.Tensor, p *graph.Quantization) int {
	v := src.Float32s()
	scale, zp := float64(p.Scale[0]), p.ZeroPoint[0]
	c := &graph.Tensor{Name: src.Name, Shape: append([]int(nil), src.Shape...), DType: r.act,
		Quant: &graph.Quantization{Scale: []float32{p.Scale[0]}, ZeroPoint: []int64{zp}}}
	if r.act == graph.Int16 {
		q := make([]int16, len(v))
		for i, x := range v {
			q[i] = int16(quantizeValue(float64(x), scale, zp, r.qmin, r.qmax))
		}
		c.Data = graph.EncodeInt16s(q)
	} else {
		q := make([]int8, len(v))
		for i, x := range v {
			q[i] = int8(quantizeValue(float64(x), scale, zp, r.qmin, r.qmax))
		}
		c.Data = graph.EncodeInt8s(q)
	}
	return r.ng.AddTensor(c)
}

// emitFloat copies a kept-float op, reading float versions of its inputs.
func (r *rewriter) emitFloat(op *graph.Op) error {
	ins := make([]int, len(op.Inputs))
	for i, in := range op.Inputs {
		ins[i] = r.getFloat(in)
	}
	outs := make([]int, len(op.Outputs))
	for i, out := range op.Outputs {
		src := r.g.Tensors[out]
		if src.DType != graph.Float32 {
			// Bools and integers (CAST, comparisons) keep their dtype and
			// serve float and integer consumers alike.
			outs[i] = r.addTensor(src, src.Name, src.DType, src.Quant.Clone())
			r.floatIdx[out], r.qIdx[out] = outs[i], outs[i]
			continue
		}
		outs[i] = r.addTensor(src, r.outName(out, graph.Float32), graph.Float32, nil)
		r.floatIdx[out] = outs[i]
	}
	nop := r.ng.AddOp(op.Kind, ins, outs, cloneOpts(r.g, op))
	nop.Version = op.Version
	for _, t := range op.Intermediates {
		src := r.g.Tensors[t]
		nop.Intermediates = append(nop.Intermediates, r.addTensor(src, src.Name, src.DType, src.Quant.Clone()))
	}
	return nil
}

// emitQuant emits op's integer version.
func (r *rewriter) emitQuant(op *graph.Op) error {
	if plan := r.lstm[op]; plan != nil {
		return r.emitLSTM(op, plan)
	}
	if plan := r.svdf[op]; plan != nil {
		return r.emitSVDF(op, plan)
	}
	ins := make([]int, len(op.Inputs))
	switch op.Kind {
	case graph.OpConv2D, graph.OpDepthwiseConv2D, graph.OpFullyConnected, graph.OpTransposeConv:
		var err error
		if ins, err = r.weightOp(op, ins); err != nil {
			return err
		}
	case graph.OpAdd, graph.OpMul, graph.OpSub, graph.OpSquaredDifference, graph.OpPrelu, graph.OpBatchMatMul,
		graph.OpLess, graph.OpLessEqual, graph.OpGreater, graph.OpGreaterEqual, graph.OpEqual, graph.OpNotEqual:
		for i, in := range op.Inputs {
			ins[i] = r.getQuant(in)
		}
	case graph.OpMinimum, graph.OpMaximum, graph.OpPack, graph.OpConcatenation:
		// The converter gives inputs and output one scale (PACK and
		// CONCATENATION copy values; the TFLite runtime refuses an int8
		// CONCATENATION whose inputs' quantization differs from its
		// output's and copies int16 ones unrescaled): requantize (or
		// quantize a constant) to the output's.
		p := r.params[op.Outputs[0]]
		for i, in := range op.Inputs {
			ins[i] = r.getQuantAs(in, p)
		}
	default:
		// The data input is integer; the rest (shape, paddings, axes) are
		// integer constants copied as they are.
		for i, in := range op.Inputs {
			if i == dataInput(op) {
				ins[i] = r.getQuant(in)
				continue
			}
			if t := r.g.Tensor(in); t != nil && t.DType == graph.Float32 {
				return fmt.Errorf("input %d %q is a float operand with no integer form", i, t.Name)
			}
			ins[i] = r.getFloat(in)
		}
	}
	outs := make([]int, len(op.Outputs))
	for i, out := range op.Outputs {
		if src := r.g.Tensors[out]; src.DType != graph.Float32 {
			// Comparisons, ARG_MAX: bools and indices, unquantized.
			outs[i] = r.addTensor(src, src.Name, src.DType, nil)
			r.floatIdx[out], r.qIdx[out] = outs[i], outs[i]
			continue
		}
		outs[i] = r.addTensor(r.g.Tensors[out], r.outName(out, r.act), r.act, r.params[out].Clone())
		r.qIdx[out] = outs[i]
	}
	opts := cloneOpts(r.g, op)
	if a, ok := opts.(*graph.AddOptions); ok && r.act == graph.Int16 {
		// TFLite's converter writes 16x8 ADDs for the general-scale path;
		// pot_scale_int16 (the schema's default) would ask for the
		// power-of-two one.
		a.PotScaleInt16 = false
	}
	r.ng.AddOp(op.Kind, ins, outs, opts)
	return nil
}

// getQuantAs returns tensor t's integer version with quantization p: a
// constant quantized with p, or t's version requantized by a QUANTIZE op
// when its parameters differ.
func (r *rewriter) getQuantAs(t int, p *graph.Quantization) int {
	src := r.g.Tensors[t]
	if src.IsConst() {
		return r.quantizeConstAs(src, p)
	}
	q := r.getQuant(t)
	have := r.ng.Tensors[q].Quant
	if have != nil && have.Scale[0] == p.Scale[0] && have.ZeroPoint[0] == p.ZeroPoint[0] {
		return q
	}
	rq := r.addTensor(src, src.Name+"_requant", r.act, p.Clone())
	r.ng.AddOp(graph.OpQuantize, []int{q}, []int{rq}, nil)
	return rq
}

// cloneOpts deep-copies op's options through a one-op graph clone, so the
// rewrite never shares mutable options with the float graph.
func cloneOpts(g *graph.Graph, op *graph.Op) any {
	tmp := &graph.Graph{Ops: []*graph.Op{op}}
	return tmp.Clone().Ops[0].Options
}
