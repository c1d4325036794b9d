package kernels

// UNIDIRECTIONAL_SEQUENCE_LSTM: geometry and dispatch. The float kernel is
// in lstm_float.go, the integer 8x8->16 one in lstm_int.go, the hybrid one
// (int8 weights, float activations) in lstm_hybrid.go; SVDF is in svdf.go.
//
// Semantics follow TFLite's builtin kernel (unidirectional_sequence_lstm.cc
// and lstm_eval.cc): per time step, four gates
//
//	i = σ(W_i·x + R_i·h + p_i⊙c + b_i)   (absent with CIFG: i = 1−f)
//	f = σ(W_f·x + R_f·h + p_f⊙c + b_f)
//	g = act(W_c·x + R_c·h + b_c)
//	c = clip(f⊙c + i⊙g)
//	o = σ(W_o·x + R_o·h + p_o⊙c + b_o)   (c already updated)
//	h = clip(P·(o⊙act(c)) + b_p)         (without projection: o⊙act(c))
//
// with optional layer normalisation of each gate's pre-activation (then the
// bias is added after it). h and c are the op's state tensors (inputs 18
// and 19, TFLite variables): they persist across invocations until the
// interpreter resets them.

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// Input indices of UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite's kLstm*Tensor).
const (
	lstmInput        = 0
	lstmInToInput    = 1 // optional (CIFG)
	lstmInToForget   = 2
	lstmInToCell     = 3
	lstmInToOutput   = 4
	lstmRecToInput   = 5 // optional (CIFG)
	lstmRecToForget  = 6
	lstmRecToCell    = 7
	lstmRecToOutput  = 8
	lstmCellToInput  = 9  // optional (peephole, not CIFG)
	lstmCellToForget = 10 // optional (peephole)
	lstmCellToOutput = 11 // optional (peephole)
	lstmInputBias    = 12 // optional (CIFG)
	lstmForgetBias   = 13
	lstmCellBias     = 14
	lstmOutputBias   = 15
	lstmProjWeights  = 16 // optional
	lstmProjBias     = 17 // optional
	lstmOutputState  = 18 // variable
	lstmCellState    = 19 // variable
	lstmInputLN      = 20 // optional (layer norm, not CIFG)
	lstmForgetLN     = 21 // optional (layer norm)
	lstmCellLN       = 22
	lstmOutputLN     = 23
)

// lstmGeom is the op's geometry and variant, checked against every tensor.
type lstmGeom struct {
	maxTime, batch, nInput, nCell, nOutput int
	timeMajor                              bool
	cifg, peephole, projection, layerNorm  bool
}

// gateOf groups the tensors of one gate: input and recurrent weights,
// peephole weights, bias and layer-norm coefficients (indices; -1: none).
type lstmGateIdx struct{ in, rec, peep, bias, ln int }

var lstmGates = [4]lstmGateIdx{
	{lstmInToInput, lstmRecToInput, lstmCellToInput, lstmInputBias, lstmInputLN},
	{lstmInToForget, lstmRecToForget, lstmCellToForget, lstmForgetBias, lstmForgetLN},
	{lstmInToCell, lstmRecToCell, -1, lstmCellBias, lstmCellLN},
	{lstmInToOutput, lstmRecToOutput, lstmCellToOutput, lstmOutputBias, lstmOutputLN},
}

// lstmGeometry checks the op's tensors as TFLite's Prepare and
// CheckInputTensorDimensions do, plus what TFLite leaves unchecked but
// would compute garbage from (no projection with n_output ≠ n_cell).
func lstmGeometry(p *prep, o *graph.SequenceLSTMOptions) (lstmGeom, error) {
	name := p.op.Name()
	var g lstmGeom
	x := p.in(lstmInput)
	if len(x.Shape) != 3 {
		return g, fmt.Errorf("%s: input %v must be 3-D", name, x.Shape)
	}
	g.timeMajor = o.TimeMajor
	if g.timeMajor {
		g.maxTime, g.batch = x.Shape[0], x.Shape[1]
	} else {
		g.batch, g.maxTime = x.Shape[0], x.Shape[1]
	}
	g.nInput = x.Shape[2]
	for _, k := range []int{lstmInToForget, lstmInToCell, lstmInToOutput, lstmRecToForget, lstmRecToCell,
		lstmRecToOutput, lstmForgetBias, lstmCellBias, lstmOutputBias, lstmOutputState, lstmCellState} {
		if p.in(k) == nil {
			return g, fmt.Errorf("%s: input %d is required", name, k)
		}
	}
	wo, ro := p.in(lstmInToOutput), p.in(lstmRecToOutput)
	if len(wo.Shape) != 2 || wo.Shape[1] != g.nInput {
		return g, fmt.Errorf("%s: input_to_output_weights %v, want [n_cell %d]", name, wo.Shape, g.nInput)
	}
	g.nCell = wo.Shape[0]
	if len(ro.Shape) != 2 || ro.Shape[0] != g.nCell {
		return g, fmt.Errorf("%s: recurrent_to_output_weights %v, want [%d n_output]", name, ro.Shape, g.nCell)
	}
	g.nOutput = ro.Shape[1]
	if g.nCell <= 0 || g.nOutput <= 0 || g.nInput <= 0 {
		return g, fmt.Errorf("%s: empty dimensions (n_input %d, n_cell %d, n_output %d)", name, g.nInput, g.nCell, g.nOutput)
	}
	g.cifg = p.in(lstmInToInput) == nil
	if (p.in(lstmRecToInput) == nil) != g.cifg {
		return g, fmt.Errorf("%s: input_to_input and recurrent_to_input weights must both be present or both absent (CIFG)", name)
	}
	g.peephole = p.in(lstmCellToOutput) != nil
	if (p.in(lstmCellToForget) != nil) != g.peephole {
		return g, fmt.Errorf("%s: cell_to_forget and cell_to_output weights must both be present or both absent (peephole)", name)
	}
	if g.peephole && !g.cifg && p.in(lstmCellToInput) == nil {
		return g, fmt.Errorf("%s: a peephole LSTM without CIFG needs cell_to_input weights", name)
	}
	if !g.peephole && p.in(lstmCellToInput) != nil {
		return g, fmt.Errorf("%s: cell_to_input weights without cell_to_forget/cell_to_output", name)
	}
	if (p.in(lstmInputBias) == nil) != g.cifg {
		return g, fmt.Errorf("%s: input_gate_bias must be present exactly when input_to_input weights are (not CIFG)", name)
	}
	g.projection = p.in(lstmProjWeights) != nil
	if !g.projection && p.in(lstmProjBias) != nil {
		return g, fmt.Errorf("%s: projection_bias without projection_weights", name)
	}
	if !g.projection && g.nOutput != g.nCell {
		return g, fmt.Errorf("%s: without projection n_output (%d) must equal n_cell (%d)", name, g.nOutput, g.nCell)
	}
	g.layerNorm = p.in(lstmForgetLN) != nil
	for _, k := range []int{lstmCellLN, lstmOutputLN} {
		if (p.in(k) != nil) != g.layerNorm {
			return g, fmt.Errorf("%s: layer-norm coefficients must be all present or all absent", name)
		}
	}
	if (p.in(lstmInputLN) != nil) != (g.layerNorm && !g.cifg) {
		return g, fmt.Errorf("%s: input layer-norm coefficients must be present exactly with layer norm and without CIFG", name)
	}
	want := func(k int, shape ...int) error {
		t := p.in(k)
		if t == nil {
			return nil
		}
		if len(t.Shape) != len(shape) {
			return fmt.Errorf("%s: input %d %q has shape %v, want %v", name, k, t.Name, t.Shape, shape)
		}
		for i := range shape {
			if t.Shape[i] != shape[i] {
				return fmt.Errorf("%s: input %d %q has shape %v, want %v", name, k, t.Name, t.Shape, shape)
			}
		}
		if !t.IsConst() {
			return p.unsupported(fmt.Sprintf("input %d %q must be constant", k, t.Name))
		}
		return nil
	}
	for _, gi := range lstmGates {
		if err := want(gi.in, g.nCell, g.nInput); err != nil {
			return g, err
		}
		if err := want(gi.rec, g.nCell, g.nOutput); err != nil {
			return g, err
		}
		for _, k := range []int{gi.peep, gi.bias, gi.ln} {
			if k >= 0 {
				if err := want(k, g.nCell); err != nil {
					return g, err
				}
			}
		}
	}
	if err := want(lstmProjWeights, g.nOutput, g.nCell); err != nil {
		return g, err
	}
	if err := want(lstmProjBias, g.nOutput); err != nil {
		return g, err
	}
	for _, s := range []struct {
		k, n int
		what string
	}{{lstmOutputState, g.batch * g.nOutput, "output_state"}, {lstmCellState, g.batch * g.nCell, "cell_state"}} {
		t := p.in(s.k)
		if !t.Variable {
			return g, fmt.Errorf("%s: %s %q must be a variable (state) tensor", name, s.what, t.Name)
		}
		if t.NumElements() != s.n {
			return g, fmt.Errorf("%s: %s %q has %d elements %v, want batch·%d = %d", name, s.what, t.Name,
				t.NumElements(), t.Shape, s.n/max(g.batch, 1), s.n)
		}
	}
	out := p.out(0)
	wantOut := []int{x.Shape[0], x.Shape[1], g.nOutput}
	if len(out.Shape) != 3 || out.Shape[0] != wantOut[0] || out.Shape[1] != wantOut[1] || out.Shape[2] != wantOut[2] {
		return g, fmt.Errorf("%s: output %v, want %v", name, out.Shape, wantOut)
	}
	return g, nil
}

// steps calls f for every time step with the row offsets (in units of
// vectors) of the input/output rows it covers and the batch rows of the
// state: all batches at once in time-major order, one batch at a time
// otherwise, as TFLite's Eval loops.
func (g *lstmGeom) steps(f func(inRow, outRow, stateRow, nBatch int)) {
	if g.timeMajor {
		for t := 0; t < g.maxTime; t++ {
			f(t*g.batch, t*g.batch, 0, g.batch)
		}
		return
	}
	for b := 0; b < g.batch; b++ {
		for t := 0; t < g.maxTime; t++ {
			f(b*g.maxTime+t, b*g.maxTime+t, b, 1)
		}
	}
}

func prepareSequenceLSTM(p *prep) (Kernel, error) {
	o, ok := p.op.Options.(*graph.SequenceLSTMOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("%s: missing options", p.op.Name())
	}
	g, err := lstmGeometry(p, o)
	if err != nil {
		return nil, err
	}
	in, wo := p.in(lstmInput), p.in(lstmInToOutput)
	switch {
	case in.DType == graph.Float32 && wo.DType == graph.Float32:
		return newLSTMFloat(p, g, o)
	case in.DType == graph.Float32 && wo.DType == graph.Int8:
		return newLSTMHybrid(p, g, o)
	case in.DType == graph.Int8 && wo.DType == graph.Int8:
		return newLSTMInt(p, g, o)
	}
	return nil, p.unsupported("UNIDIRECTIONAL_SEQUENCE_LSTM runs float32, hybrid (float32 with int8 weights), or int8 input and weights with int16 cell state (8x8->16)")
}
