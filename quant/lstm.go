package quant

// UNIDIRECTIONAL_SEQUENCE_LSTM as the TFLite converter quantizes it (its
// MLIR quantizer with the LSTM recipe of tools/optimize/operator_property):
// the integer 8x8->16 form. Weights and projection weights int8 symmetric
// per tensor ([−127, 127]); peephole and layer-norm weights int16
// symmetric ([−32767, 32767]); gate biases int32 at s_in·s_w (with layer
// norm at s_ln·2^-10); the projection bias int32 at s_hidden·s_proj; the
// output and the output state share the output's int8 parameters; the cell
// state is int16 with the power-of-two scale that covers its calibrated
// range; five intermediates: the four gates' (int16 symmetric from their
// calibrated pre-normalisation range with layer norm, float32 placeholders
// without, as the kernel then uses Q3.12) and the hidden o⊙tanh(c) (int8
// from its calibrated range; without projection it is the output).

import (
	"fmt"
	"math"
	"slices"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// LSTMStats is what calibration observed inside one float LSTM op (see
// kernels.LSTMPoint): values TFLite's calibration logs but no tensor of
// the float graph holds.
type LSTMStats struct {
	// Gates are the gate sums before layer normalisation (only with layer
	// norm; empty otherwise and for the input gate under CIFG).
	Gates [4]*Histogram
	// Hidden is o⊙act(c) before the projection, at every step.
	Hidden *Histogram
	// Cell is the cell state before and after each invocation, as TFLite's
	// calibrator logs a state tensor (the op's inputs before and after it
	// runs, the state carried from sample to sample): the last step's
	// values of every sample, and the initial zeros.
	Cell *Histogram
}

// lstmIntermediateNames are the converter's names of the integer LSTM's
// five intermediates, in the kernel's order.
var lstmIntermediateNames = [5]string{"input_to_input_intermediate", "input_to_forget_intermediate",
	"input_to_cell_intermediate", "input_to_output_intermediate", "effective_hidden_scale_intermediate"}

// lstmProbe re-runs one float LSTM op of the calibrated graph on the input
// the graph gave it, collecting LSTMStats values.
type lstmProbe struct {
	op     int
	x      int // input tensor
	p      *kernels.LSTMProber
	h, c   int // state sizes
	y      int // output size
	layerN bool
	// The op's state, carried from sample to sample as the float graph's
	// executor carries its own (calibration runs stateful graphs on one
	// executor, in sample order).
	hs, cs []float32
}

// newLSTMProbes prepares a probe for every float LSTM op of g.
func newLSTMProbes(g *graph.Graph) ([]lstmProbe, error) {
	var ps []lstmProbe
	for oi, op := range g.Ops {
		if op.Kind != graph.OpUnidirectionalSequenceLSTM || len(op.Inputs) < 20 || op.Inputs[0] < 0 {
			continue
		}
		if w := g.Tensor(op.Inputs[4]); w == nil || w.DType != graph.Float32 || g.Tensors[op.Inputs[0]].DType != graph.Float32 {
			continue // hybrid or integer: quantization refuses the model anyway
		}
		ins := make([]*graph.Tensor, len(op.Inputs))
		for i, t := range op.Inputs {
			ins[i] = g.Tensor(t)
		}
		outs := []*graph.Tensor{g.Tensor(op.Outputs[0])}
		p, err := kernels.NewLSTMProber(op, ins, outs)
		if err != nil {
			return nil, fmt.Errorf("op %d (%s): %w", oi, op.Kind, err)
		}
		ps = append(ps, lstmProbe{op: oi, x: op.Inputs[0], p: p, h: ins[18].NumElements(), c: ins[19].NumElements(),
			y: outs[0].NumElements(), layerN: len(ins) > 21 && ins[21] != nil})
	}
	return ps, nil
}

// lstmValues are one sample's values of one LSTM op: gates 0-3, hidden,
// cell state.
type lstmValues [6][]float32

// observe runs the probe on x from the state the previous sample left.
func (lp *lstmProbe) observe(x []float32) (lstmValues, error) {
	var v lstmValues
	if lp.hs == nil {
		lp.hs, lp.cs = make([]float32, lp.h), make([]float32, lp.c)
	}
	// The cell state as TFLite's calibrator logs it: before and after.
	v[5] = append(v[5], lp.cs...)
	err := lp.p.Run(x, lp.hs, lp.cs, make([]float32, lp.y), func(pt kernels.LSTMPoint, vals []float32) {
		v[pt] = append(v[pt], vals...)
	})
	v[5] = append(v[5], lp.cs...)
	return v, err
}

func newLSTMStats(bins int) *LSTMStats {
	s := &LSTMStats{Hidden: NewHistogram(bins), Cell: NewHistogram(bins)}
	for i := range s.Gates {
		s.Gates[i] = NewHistogram(bins)
	}
	return s
}

func (s *LSTMStats) add(v lstmValues) {
	for i, h := range s.Gates {
		h.Add(v[i])
	}
	s.Hidden.Add(v[4])
	s.Cell.Add(v[5])
}

// lstmPlan is how one LSTM op is quantized: what calibration does not give
// through the op's output tensor.
type lstmPlan struct {
	cellScale float64             // power of two
	gateScale [4]float64          // layer norm only (0: unused)
	hidden    *graph.Quantization // nil: the output's (no projection)
}

// planLSTM plans the integer form of LSTM op oi, or says why it stays
// float32 in this run.
func (r *rewriter) planLSTM(oi int, op *graph.Op) (*lstmPlan, string) {
	g := r.g
	if r.act == graph.Int16 {
		return nil, "TFLite has no 16x8 integer LSTM kernel"
	}
	o, _ := op.Options.(*graph.SequenceLSTMOptions)
	if o == nil || o.Activation != graph.ActTanh {
		return nil, "the integer LSTM computes TANH only and this one's activation is not TANH"
	}
	in := func(k int) *graph.Tensor {
		if k < len(op.Inputs) {
			return g.Tensor(op.Inputs[k])
		}
		return nil
	}
	for k := 1; k < len(op.Inputs); k++ {
		if t := in(k); t != nil && k != 18 && k != 19 && (!t.IsConst() || t.DType != graph.Float32) {
			return nil, fmt.Sprintf("input %d %q is not a float32 constant", k, t.Name)
		}
	}
	if in(18) == nil || in(19) == nil || in(4) == nil || in(8) == nil || len(in(4).Shape) != 2 || len(in(8).Shape) != 2 {
		return nil, "its state tensors or output weights are missing"
	}
	nCell, nOutput := in(4).Shape[0], in(8).Shape[1]
	projection, layerNorm := in(16) != nil, in(21) != nil
	if in(11) != nil && nOutput > nCell {
		return nil, "TFLite's integer peephole reads past its weights when n_output > n_cell"
	}
	st := r.cal.LSTM[oi]
	plan := &lstmPlan{}
	cellName := in(19).Name
	switch {
	case r.opts.Fixed[cellName] != nil:
		plan.cellScale = float64(r.opts.Fixed[cellName].Scale[0])
	case st != nil && st.Cell.Count > 0:
		bound := math.Max(math.Abs(math.Min(st.Cell.Min, 0)), math.Max(st.Cell.Max, 0))
		// The power of two not below the range (TFLite's PowerOfTwoBound),
		// at least 1: below it the scale would leave 2^-15, where TFLite's
		// integer tanh of the cell state computes nothing.
		p := math.Max(0, math.Ceil(math.Log2(bound)))
		if p > 6 {
			return nil, fmt.Sprintf("its cell state reaches %.3g, beyond the ±64 TFLite's integer LSTM takes", bound)
		}
		plan.cellScale = math.Ldexp(1, int(p)-15)
	default:
		return nil, "no calibration of its cell state"
	}
	if layerNorm {
		for i := range plan.gateScale {
			plan.gateScale[i] = 1.0 / 4096 // TFLite's default for an uncalibrated gate (CIFG's input gate)
			if st != nil && st.Gates[i].Count > 0 {
				m := math.Max(math.Abs(st.Gates[i].Min), math.Abs(st.Gates[i].Max))
				plan.gateScale[i] = SymmetricParams(m, 32767)
			}
		}
	}
	if projection {
		hn := g.Tensors[op.Outputs[0]].Name + "/" + lstmIntermediateNames[4]
		switch {
		case r.opts.Fixed[hn] != nil:
			plan.hidden = r.opts.Fixed[hn].Clone()
		case st != nil && st.Hidden.Count > 0:
			s, zp := AsymmetricParams(st.Hidden.Min, st.Hidden.Max, -128, 127)
			plan.hidden = &graph.Quantization{Scale: []float32{float32(s)}, ZeroPoint: []int64{zp}}
		default:
			return nil, "no calibration of its hidden state"
		}
	}
	return plan, ""
}

// emitLSTM writes the integer LSTM for op (planned by planLSTM).
func (r *rewriter) emitLSTM(op *graph.Op, plan *lstmPlan) error {
	g := r.g
	ins := make([]int, len(op.Inputs))
	for i := range ins {
		ins[i] = -1
	}
	src := func(k int) *graph.Tensor {
		if k < len(op.Inputs) {
			return g.Tensor(op.Inputs[k])
		}
		return nil
	}
	out := op.Outputs[0]
	outQ := r.params[out]
	if outQ == nil {
		return fmt.Errorf("output %q has no quantization parameters", g.Tensors[out].Name)
	}
	ins[0] = r.getQuant(op.Inputs[0])
	sIn := float64(r.ng.Tensors[ins[0]].Quant.Scale[0])
	hidden := plan.hidden
	if hidden == nil {
		// Without projection the hidden state is the output (the
		// converter's calibrated ranges of the two are the same values).
		hidden = outQ.Clone()
		if zp := outQ.ZeroPoint[0]; zp != 0 {
			r.notes = append(r.notes, fmt.Sprintf("%s: TFLite's integer LSTM writes the hidden state with its zero point negated "+
				"(measured against the runtime), so without projection its output and recurrent state are %d steps (%.3g) off "+
				"wherever it does not saturate, as in the converter's own models (output zero point %d)",
				g.Tensors[out].Name, 2*abs64(zp), 2*float64(abs64(zp))*float64(outQ.Scale[0]), zp))
		}
	}
	weight := func(k int) float64 {
		t := src(k)
		if t == nil {
			return 0
		}
		q, s := QuantizeWeights(t.Float32s(), t.Shape, 0, false)
		ins[k] = r.ng.AddTensor(&graph.Tensor{Name: t.Name, Shape: append([]int(nil), t.Shape...), DType: graph.Int8,
			Data: graph.EncodeInt8s(q), Quant: &graph.Quantization{Scale: s, ZeroPoint: []int64{0}}})
		return float64(s[0])
	}
	var wScale [17]float64
	for _, k := range []int{1, 2, 3, 4, 5, 6, 7, 8, 16} {
		wScale[k] = weight(k)
	}
	for _, k := range []int{9, 10, 11, 20, 21, 22, 23} {
		if t := src(k); t != nil {
			ins[k] = r.lstmInt16Const(t)
		}
	}
	for gi := range 4 {
		t := src(12 + gi)
		if t == nil {
			continue
		}
		s := sIn * wScale[1+gi]
		if ln := src(20 + gi); ln != nil {
			s = float64(r.ng.Tensors[ins[20+gi]].Quant.Scale[0]) / 1024
		}
		ins[12+gi] = r.int32Bias(t, s)
	}
	if t := src(17); t != nil {
		ins[17] = r.int32Bias(t, float64(hidden.Scale[0])*wScale[16])
	}
	h, c := src(18), src(19)
	ins[18] = r.ng.AddTensor(&graph.Tensor{Name: h.Name, Shape: append([]int(nil), h.Shape...), DType: graph.Int8,
		Variable: true, Quant: &graph.Quantization{Scale: []float32{outQ.Scale[0]}, ZeroPoint: []int64{outQ.ZeroPoint[0]}}})
	ins[19] = r.ng.AddTensor(&graph.Tensor{Name: c.Name, Shape: append([]int(nil), c.Shape...), DType: graph.Int16,
		Variable: true, Quant: &graph.Quantization{Scale: []float32{float32(plan.cellScale)}, ZeroPoint: []int64{0}}})
	y := r.addTensor(g.Tensors[out], r.outName(out, graph.Int8), graph.Int8, outQ.Clone())
	r.qIdx[out] = y
	nop := r.ng.AddOp(op.Kind, ins, []int{y}, cloneOpts(g, op))
	var st *LSTMStats
	if oi := slices.Index(g.Ops, op); oi >= 0 {
		st = r.cal.LSTM[oi]
	}
	var cellH, hidH *Histogram
	if st != nil {
		cellH, hidH = st.Cell, st.Hidden
	}
	bound := plan.cellScale * 32768
	r.addStateRow(c.Name, op.Inputs[19], ins[19], op.Kind.String()+" cell state", cellH, -bound, bound, plan.cellScale, 0,
		math.MinInt16, math.MaxInt16, "power of two")
	if plan.hidden != nil && hidH != nil {
		r.addStateRow(g.Tensors[out].Name+"/"+lstmIntermediateNames[4], -1, -1, op.Kind.String()+" hidden", hidH,
			hidH.Min, hidH.Max, float64(hidden.Scale[0]), hidden.ZeroPoint[0], -128, 127, "minmax")
	}
	for i, name := range lstmIntermediateNames {
		t := &graph.Tensor{Name: name, Shape: []int{0}, DType: graph.Float32}
		switch {
		case i == 4:
			t.DType, t.Quant = graph.Int8, &graph.Quantization{Scale: []float32{hidden.Scale[0]}, ZeroPoint: []int64{hidden.ZeroPoint[0]}}
		case plan.gateScale[i] > 0:
			t.DType, t.Quant = graph.Int16, &graph.Quantization{Scale: []float32{float32(plan.gateScale[i])}, ZeroPoint: []int64{0}}
		}
		nop.Intermediates = append(nop.Intermediates, r.ng.AddTensor(t))
	}
	return nil
}

// lstmInt16Const quantizes a peephole or layer-norm weight vector to int16,
// symmetric in [−32767, 32767].
func (r *rewriter) lstmInt16Const(t *graph.Tensor) int {
	v := t.Float32s()
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	s := SymmetricParams(m, 32767)
	q := make([]int16, len(v))
	for i, x := range v {
		q[i] = int16(clampRound(float64(x)/s, -32767, 32767))
	}
	return r.ng.AddTensor(&graph.Tensor{Name: t.Name, Shape: append([]int(nil), t.Shape...), DType: graph.Int16,
		Data: graph.EncodeInt16s(q), Quant: &graph.Quantization{Scale: []float32{float32(s)}, ZeroPoint: []int64{0}}})
}

// int32Bias quantizes a bias to int32 at scale s (per tensor).
func (r *rewriter) int32Bias(t *graph.Tensor, s float64) int {
	s32 := float32(s)
	v := t.Float32s()
	q32 := make([]int32, len(v))
	for i, x := range v {
		if s32 > 0 {
			q32[i] = int32(clampRound(float64(x)/float64(s32), math.MinInt32, math.MaxInt32))
		}
	}
	return r.ng.AddTensor(&graph.Tensor{Name: t.Name, Shape: append([]int(nil), t.Shape...), DType: graph.Int32,
		Data: graph.EncodeInt32s(q32), Quant: &graph.Quantization{Scale: []float32{s32}, ZeroPoint: []int64{0}}})
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
