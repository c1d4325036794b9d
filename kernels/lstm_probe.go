package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// LSTMPoint names a value inside the float UNIDIRECTIONAL_SEQUENCE_LSTM that
// post-training quantization calibrates, where TFLite's calibration logs it
// (its builtin logging LSTM): the four gate intermediates and the hidden one.
type LSTMPoint int

// The points, in the order of the integer LSTM's intermediates.
const (
	// LSTMInputGate … LSTMOutputGate: a gate's sum (weights, recurrent
	// weights, peephole) before layer normalisation. Reported only with
	// layer norm, as TFLite logs them; without it the integer kernel uses a
	// fixed Q3.12 scale for the gates.
	LSTMInputGate LSTMPoint = iota
	LSTMForgetGate
	LSTMCellGate
	LSTMOutputGate
	// LSTMHidden is o⊙act(c) before the projection, at every step.
	LSTMHidden
)

// LSTMProber runs a float UNIDIRECTIONAL_SEQUENCE_LSTM for calibration,
// reporting the values inside it. The normal kernel path pays one nil check
// per gate and step for it.
type LSTMProber struct {
	k              *lstmFloat
	nX, nH, nC, nY int
}

// NewLSTMProber prepares op (a float32 UNIDIRECTIONAL_SEQUENCE_LSTM whose
// weights are constants in ins) for Run.
func NewLSTMProber(op *graph.Op, ins, outs []*graph.Tensor) (*LSTMProber, error) {
	if op == nil || op.Kind != graph.OpUnidirectionalSequenceLSTM {
		return nil, fmt.Errorf("LSTM prober: op is not UNIDIRECTIONAL_SEQUENCE_LSTM")
	}
	// The reference kernel: the probe sits in its plain loops, not in any
	// fast path.
	p := &prep{op: op, ins: ins, outs: outs, ref: true}
	if len(outs) != 1 || len(ins) <= lstmCellState {
		return nil, fmt.Errorf("%s: want 1 output and at least 20 inputs, has %d and %d", op.Name(), len(outs), len(ins))
	}
	o, ok := op.Options.(*graph.SequenceLSTMOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("%s: missing options", op.Name())
	}
	g, err := lstmGeometry(p, o)
	if err != nil {
		return nil, err
	}
	if ins[lstmInput].DType != graph.Float32 {
		return nil, p.unsupported("the LSTM prober runs float32 LSTMs")
	}
	k, err := newLSTMFloat(p, g, o)
	if err != nil {
		return nil, err
	}
	ref, ok := k.(*lstmFloat)
	if !ok {
		return nil, fmt.Errorf("%s: no reference float LSTM kernel to probe", op.Name())
	}
	return &LSTMProber{k: ref, nX: ins[lstmInput].NumElements(), nH: ins[lstmOutputState].NumElements(),
		nC: ins[lstmCellState].NumElements(), nY: outs[0].NumElements()}, nil
}

// Run runs the op once on input x from output state h and cell state c
// (both updated in place, as the op updates its state tensors), writing
// the output to y, and calls probe with each point's values (valid only
// during the call).
func (p *LSTMProber) Run(x, h, c, y []float32, probe func(LSTMPoint, []float32)) error {
	if len(x) != p.nX || len(h) != p.nH || len(c) != p.nC || len(y) != p.nY {
		return fmt.Errorf("LSTM prober: sizes x %d h %d c %d y %d, want %d %d %d %d",
			len(x), len(h), len(c), len(y), p.nX, p.nH, p.nC, p.nY)
	}
	ins := make([]*Buffer, lstmCellState+1)
	ins[lstmInput] = &Buffer{DType: graph.Float32, F32: x}
	ins[lstmOutputState] = &Buffer{DType: graph.Float32, F32: h}
	ins[lstmCellState] = &Buffer{DType: graph.Float32, F32: c}
	return p.k.run(ins, []*Buffer{{DType: graph.Float32, F32: y}}, probe)
}
