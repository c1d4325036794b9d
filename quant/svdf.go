package quant

// SVDF as the TFLite converter quantizes it (the SVDF recipe of
// tools/optimize/operator_property, applied by its MLIR quantizer): int8
// input and output; weights_feature int8 symmetric per tensor
// ([−127, 127]); weights_time stored in int16 but quantized to 10 bits
// ([−512, 512], scale max|w|/512: the kernel keeps 6 bits for summing the
// time products); the state int16 symmetric from its calibrated range
// ([−32767, 32767]); the bias int32 at s_time·s_state. TFLite's integer
// SVDF computes RELU only, so other activations keep the op float.

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// svdfState returns the index of SVDF op's state tensor and the feature
// activations one invocation on x writes into it (the state's new values,
// wf·x per batch and filter, summed in the kernel's order), plus a 0 for
// the reset state, as TFLite's calibrator logs the state before and after
// the op. ok is false when op is not a float SVDF it can compute.
func svdfState(g *graph.Graph, op *graph.Op, x []float32) (state int, vals []float32, ok bool) {
	if op.Kind != graph.OpSVDF || len(op.Inputs) < 5 || op.Inputs[1] < 0 || op.Inputs[4] < 0 {
		return 0, nil, false
	}
	wf, st := g.Tensors[op.Inputs[1]], g.Tensors[op.Inputs[4]]
	if !wf.IsConst() || wf.DType != graph.Float32 || len(wf.Shape) != 2 || st.DType != graph.Float32 {
		return 0, nil, false
	}
	nFilter, nInput := wf.Shape[0], wf.Shape[1]
	if nInput == 0 || len(x)%nInput != 0 {
		return 0, nil, false
	}
	w := wf.Float32s()
	vals = make([]float32, 0, len(x)/nInput*nFilter+1)
	for b := 0; b < len(x)/nInput; b++ {
		xb := x[b*nInput : (b+1)*nInput]
		for f := range nFilter {
			var s float32
			for i, v := range xb {
				s += w[f*nInput+i] * v
			}
			vals = append(vals, s)
		}
	}
	return op.Inputs[4], append(vals, 0), true
}

// svdfPlan is how one SVDF op is quantized beyond its output.
type svdfPlan struct {
	state float64 // the state's scale
}

// planSVDF plans the integer form of SVDF op oi, or says why it stays
// float32 in this run.
func (r *rewriter) planSVDF(op *graph.Op) (*svdfPlan, string) {
	g := r.g
	if r.act == graph.Int16 {
		return nil, "TFLite has no 16x8 integer SVDF kernel"
	}
	o, _ := op.Options.(*graph.SVDFOptions)
	if o == nil || o.Activation != graph.ActRelu {
		return nil, "TFLite's integer SVDF computes RELU only and this one's activation is not RELU"
	}
	if len(op.Inputs) < 5 || op.Inputs[4] < 0 {
		return nil, "its state tensor is missing"
	}
	for k := 1; k <= 3; k++ {
		if t := g.Tensor(op.Inputs[k]); t != nil && (!t.IsConst() || t.DType != graph.Float32) {
			return nil, fmt.Sprintf("input %d %q is not a float32 constant", k, t.Name)
		}
	}
	st := g.Tensors[op.Inputs[4]]
	if p := r.opts.Fixed[st.Name]; p != nil {
		return &svdfPlan{state: float64(p.Scale[0])}, ""
	}
	h := r.cal.Hists[op.Inputs[4]]
	if h == nil || h.Count == 0 {
		return nil, "no calibration of its state"
	}
	m := math.Max(math.Abs(math.Min(h.Min, 0)), math.Max(h.Max, 0))
	return &svdfPlan{state: SymmetricParams(m, 32767)}, ""
}

// emitSVDF writes the integer SVDF for op (planned by planSVDF).
func (r *rewriter) emitSVDF(op *graph.Op, plan *svdfPlan) error {
	g := r.g
	out := op.Outputs[0]
	outQ := r.params[out]
	if outQ == nil {
		return fmt.Errorf("output %q has no quantization parameters", g.Tensors[out].Name)
	}
	ins := []int{r.getQuant(op.Inputs[0]), -1, -1, -1, -1}
	wf := g.Tensors[op.Inputs[1]]
	q, ws := QuantizeWeights(wf.Float32s(), wf.Shape, 0, false)
	ins[1] = r.ng.AddTensor(&graph.Tensor{Name: wf.Name, Shape: append([]int(nil), wf.Shape...), DType: graph.Int8,
		Data: graph.EncodeInt8s(q), Quant: &graph.Quantization{Scale: ws, ZeroPoint: []int64{0}}})
	wt := g.Tensors[op.Inputs[2]]
	v := wt.Float32s()
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	st := float64(float32(m / 512))
	if !(m > 0) {
		st = 1
	}
	q16 := make([]int16, len(v))
	for i, x := range v {
		q16[i] = int16(clampRound(float64(x)/st, -512, 512))
	}
	ins[2] = r.ng.AddTensor(&graph.Tensor{Name: wt.Name, Shape: append([]int(nil), wt.Shape...), DType: graph.Int16,
		Data: graph.EncodeInt16s(q16), Quant: &graph.Quantization{Scale: []float32{float32(st)}, ZeroPoint: []int64{0}}})
	sState := float64(float32(plan.state))
	if b := g.Tensor(op.Inputs[3]); b != nil {
		ins[3] = r.int32Bias(b, st*sState)
	}
	s := g.Tensors[op.Inputs[4]]
	ins[4] = r.ng.AddTensor(&graph.Tensor{Name: s.Name, Shape: append([]int(nil), s.Shape...), DType: graph.Int16,
		Variable: true, Quant: &graph.Quantization{Scale: []float32{float32(sState)}, ZeroPoint: []int64{0}}})
	y := r.addTensor(g.Tensors[out], r.outName(out, graph.Int8), graph.Int8, outQ.Clone())
	r.qIdx[out] = y
	m = sState * 32767
	r.addStateRow(s.Name, op.Inputs[4], ins[4], op.Kind.String()+" state", r.cal.Hists[op.Inputs[4]], -m, m, sState, 0,
		-32767, 32767, "minmax symmetric")
	r.ng.AddOp(op.Kind, ins, []int{y}, cloneOpts(g, op))
	return nil
}
