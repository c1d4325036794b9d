package explain

import (
	"github.com/qbench/qbench/graph"
)

// buildShadow returns the float graph extended, for every matched integer
// op, with an isolated branch: QUANTIZE of the op's float inputs (with the
// quantized model's parameters) → the integer op with the quantized
// model's constants → DEQUANTIZE. One run of the shadow graph gives every
// float activation and, per layer, its output when only that layer is
// quantized and everything before it is float: the layer's isolated error.
// branch[i] is the shadow tensor holding match i's isolated output, or -1.
func buildShadow(f, q *graph.Graph, matches []Match) (*graph.Graph, []int) {
	s := f.Clone()
	branch := make([]int, len(matches))
	floatOf := map[int]int{} // quant tensor → float tensor
	for _, m := range matches {
		floatOf[m.Quant] = m.Float
	}
	qConst := map[int]int{}  // quant const → shadow index
	quantOf := map[int]int{} // float tensor → shadow integer copy
	for i, m := range matches {
		branch[i] = -1
		if m.QuantOp < 0 {
			continue
		}
		qop := q.Ops[m.QuantOp]
		if qop.Kind == graph.OpQuantize || qop.Kind == graph.OpDequantize || fakeQuantOK(q, qop) {
			continue
		}
		ins := make([]int, len(qop.Inputs))
		ok := true
		for j, in := range qop.Inputs {
			qt := q.Tensor(in)
			switch {
			case qt == nil:
				ins[j] = -1
			case qt.IsConst():
				if c, seen := qConst[in]; seen {
					ins[j] = c
					break
				}
				ct := *qt
				ct.Shape = append([]int(nil), qt.Shape...)
				ct.Data = append([]byte(nil), qt.Data...)
				ct.Quant = qt.Quant.Clone()
				ins[j] = s.AddTensor(&ct)
				qConst[in] = ins[j]
			default:
				ft, found := floatOf[in]
				if !found || qt.Quant == nil {
					ok = false
					break
				}
				if c, seen := quantOf[ft]; seen && s.Tensors[c].DType == qt.DType {
					ins[j] = c
					break
				}
				c := s.AddTensor(&graph.Tensor{Name: f.Tensors[ft].Name + "/isolated_q", Shape: append([]int(nil), qt.Shape...),
					DType: qt.DType, Quant: qt.Quant.Clone()})
				s.AddOp(graph.OpQuantize, []int{ft}, []int{c}, nil)
				quantOf[ft] = c
				ins[j] = c
			}
			if !ok {
				break
			}
		}
		if !ok {
			continue
		}
		qo := q.Tensors[qop.Outputs[0]]
		out := s.AddTensor(&graph.Tensor{Name: m.Name + "/isolated", Shape: append([]int(nil), qo.Shape...),
			DType: qo.DType, Quant: qo.Quant.Clone()})
		outs := []int{out}
		for range qop.Outputs[1:] {
			outs = append(outs, s.AddTensor(&graph.Tensor{Name: m.Name + "/isolated_extra", Shape: append([]int(nil), qo.Shape...), DType: qo.DType, Quant: qo.Quant.Clone()}))
		}
		tmp := &graph.Graph{Ops: []*graph.Op{qop}}
		nop := s.AddOp(qop.Kind, ins, outs, tmp.Clone().Ops[0].Options)
		nop.Version = qop.Version
		deq := s.AddTensor(&graph.Tensor{Name: m.Name + "/isolated_float", Shape: append([]int(nil), qo.Shape...), DType: graph.Float32})
		s.AddOp(graph.OpDequantize, []int{out}, []int{deq}, nil)
		branch[i] = deq
	}
	return s, branch
}

// fakeQuantOK reports whether an integer op's isolated output equals
// fake-quantizing the float op's output with the output's parameters, so no
// branch is needed: MAX_POOL_2D and RESHAPE whose input and output share
// parameters (max and reshaping commute with a monotone quantizer).
func fakeQuantOK(q *graph.Graph, op *graph.Op) bool {
	if op.Kind != graph.OpMaxPool2D && op.Kind != graph.OpReshape {
		return false
	}
	in, out := q.Tensor(op.Inputs[0]), q.Tensor(op.Outputs[0])
	if in == nil || out == nil || in.Quant == nil || out.Quant == nil || in.DType != out.DType ||
		len(in.Quant.Scale) != 1 || len(out.Quant.Scale) != 1 {
		return false
	}
	if op.Kind == graph.OpMaxPool2D {
		if o, ok := op.Options.(*graph.Pool2DOptions); !ok || o.Activation != graph.ActNone {
			return false
		}
	}
	return in.Quant.Scale[0] == out.Quant.Scale[0] && in.Quant.ZeroPoint[0] == out.Quant.ZeroPoint[0]
}
