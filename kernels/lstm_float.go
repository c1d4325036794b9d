package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// lstmFloat is the float32 UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite's
// EvalFloat / LstmStepFloat). Sums follow TFLite's order: each matrix-vector
// product is summed from zero and then added to the gate, so results agree
// with the TFLite runtime to float32 rounding (tested within 1e-5 of the
// output range).
type lstmFloat struct {
	g                  lstmGeom
	gates              [4]lstmFloatGate // input (unused with CIFG), forget, cell, output
	proj               []float32        // [n_output, n_cell] or nil
	projB              []float32        // [n_output] or nil
	act                graph.Activation
	cellClip, projClip float32
}

type lstmFloatGate struct {
	w, r     []float32 // [n_cell, n_input], [n_cell, n_output]
	peep, ln []float32 // [n_cell] or nil
	bias     []float32 // [n_cell]
}

func newLSTMFloat(p *prep, g lstmGeom, o *graph.SequenceLSTMOptions) (Kernel, error) {
	if err := lstmCheckActivation(p, o.Activation); err != nil {
		return nil, err
	}
	k := &lstmFloat{g: g, act: lstmCellActivation(o.Activation), cellClip: o.CellClip, projClip: o.ProjClip}
	f32 := func(i int) ([]float32, error) {
		t := p.in(i)
		if t == nil || i < 0 {
			return nil, nil
		}
		if t.DType != graph.Float32 {
			return nil, p.unsupported(fmt.Sprintf("float LSTM input %d %q is %s, want float32", i, t.Name, t.DType))
		}
		return t.Float32s(), nil
	}
	for gi, idx := range lstmGates {
		if gi == 0 && g.cifg {
			continue
		}
		var err error
		gt := &k.gates[gi]
		for _, s := range []struct {
			dst *[]float32
			k   int
		}{{&gt.w, idx.in}, {&gt.r, idx.rec}, {&gt.peep, idx.peep}, {&gt.bias, idx.bias}, {&gt.ln, idx.ln}} {
			if s.k < 0 {
				continue
			}
			if *s.dst, err = f32(s.k); err != nil {
				return nil, err
			}
		}
	}
	var err error
	if k.proj, err = f32(lstmProjWeights); err != nil {
		return nil, err
	}
	if k.projB, err = f32(lstmProjBias); err != nil {
		return nil, err
	}
	for _, i := range []int{lstmOutputState, lstmCellState} {
		if p.in(i).DType != graph.Float32 {
			return nil, p.unsupported(fmt.Sprintf("float LSTM state %q is %s, want float32", p.in(i).Name, p.in(i).DType))
		}
	}
	if p.out(0).DType != graph.Float32 {
		return nil, p.unsupported("float LSTM output must be float32")
	}
	if !p.ref && !g.layerNorm {
		return newLSTMFloatFast(k), nil
	}
	return k, nil
}

// lstmCheckActivation accepts the activations TFLite's LSTM applies to the
// cell gate and the cell state (ApplyActivationToVector).
func lstmCheckActivation(p *prep, a graph.Activation) error {
	switch a {
	case graph.ActNone, graph.ActRelu, graph.ActReluN1To1, graph.ActRelu6, graph.ActTanh, graph.ActSigmoid:
		return nil
	}
	return p.unsupported(fmt.Sprintf("LSTM activation %s", a))
}

// lstmCellActivation is the activation the runtime really applies to the
// cell gate and the cell state for the option's value: its
// ApplyActivationToVector has no SIGMOID case and, as for NONE, writes
// nothing (measured against the runtime: with a sigmoid every output
// differs; as NONE, float LSTMs agree within 1e-7).
func lstmCellActivation(a graph.Activation) graph.Activation {
	if a == graph.ActSigmoid {
		return graph.ActNone
	}
	return a
}

// applyActivationF32 is TFLite's ApplyActivationToVector.
func applyActivationF32(a graph.Activation, v []float32) {
	switch a {
	case graph.ActNone:
	case graph.ActRelu:
		for i, x := range v {
			v[i] = max(x, 0)
		}
	case graph.ActReluN1To1:
		for i, x := range v {
			v[i] = min(max(x, -1), 1)
		}
	case graph.ActRelu6:
		for i, x := range v {
			v[i] = min(max(x, 0), 6)
		}
	case graph.ActTanh:
		for i, x := range v {
			v[i] = float32(math.Tanh(float64(x)))
		}
	case graph.ActSigmoid:
		sigmoidF32(v)
	}
}

func sigmoidF32(v []float32) {
	for i, x := range v {
		v[i] = float32(1 / (1 + math.Exp(-float64(x))))
	}
}

// matVecAccF32 adds, for each of nBatch vectors x (length cols) and each row
// of m, the dot product (summed from zero) to dst (TFLite's portable
// MatrixBatchVectorMultiplyAccumulate).
func matVecAccF32(m []float32, rows, cols int, x []float32, nBatch int, dst []float32) {
	for b := 0; b < nBatch; b++ {
		xb := x[b*cols : (b+1)*cols]
		for r := 0; r < rows; r++ {
			w := m[r*cols : (r+1)*cols]
			var s float32
			for c, v := range xb {
				s += w[c] * v
			}
			dst[b*rows+r] += s
		}
	}
}

// meanStddevNormF32 normalises each row of n values to zero mean and unit
// variance (TFLite's MeanStddevNormalization, with its 1e-8 guard).
func meanStddevNormF32(v []float32, n int) {
	for off := 0; off+n <= len(v); off += n {
		row := v[off : off+n]
		var sum float32
		for _, x := range row {
			sum += x
		}
		mean := sum / float32(n)
		var sq float32
		for _, x := range row {
			d := x - mean
			sq += d * d
		}
		variance := sq / float32(n)
		inv := 1 / float32(math.Sqrt(float64(variance+1e-8)))
		for i, x := range row {
			row[i] = (x - mean) * inv
		}
	}
}

// gate computes one gate into dst. pre, when not nil (calibration only),
// sees the gate's sum before layer normalisation, where TFLite's calibration
// logs the gate intermediates.
func (k *lstmFloat) gate(gt *lstmFloatGate, x, h, c []float32, nBatch int, act graph.Activation, dst []float32, pre func([]float32)) {
	g := &k.g
	nc := g.nCell
	for b := 0; b < nBatch; b++ {
		if gt.ln != nil {
			clear(dst[b*nc : (b+1)*nc])
		} else {
			copy(dst[b*nc:(b+1)*nc], gt.bias)
		}
	}
	matVecAccF32(gt.w, nc, g.nInput, x, nBatch, dst)
	matVecAccF32(gt.r, nc, g.nOutput, h, nBatch, dst)
	if gt.peep != nil && c != nil {
		for b := 0; b < nBatch; b++ {
			for i, w := range gt.peep {
				dst[b*nc+i] += w * c[b*nc+i]
			}
		}
	}
	if gt.ln != nil {
		if pre != nil {
			pre(dst[:nBatch*nc])
		}
		meanStddevNormF32(dst[:nBatch*nc], nc)
		for b := 0; b < nBatch; b++ {
			for i := 0; i < nc; i++ {
				dst[b*nc+i] = dst[b*nc+i]*gt.ln[i] + gt.bias[i]
			}
		}
	}
	applyActivationF32(act, dst[:nBatch*nc])
}

func (k *lstmFloat) Run(ins, outs []*Buffer) error { return k.run(ins, outs, nil) }

// run is Run; probe, when not nil (calibration only), sees the values
// inside the op that TFLite's calibration logs (see LSTMPoint).
func (k *lstmFloat) run(ins, outs []*Buffer, probe func(LSTMPoint, []float32)) error {
	g := &k.g
	var at [5]func([]float32)
	if probe != nil {
		for i := range at {
			at[i] = func(v []float32) { probe(LSTMPoint(i), v) }
		}
	}
	x, y := ins[lstmInput].F32, outs[0].F32
	hAll, cAll := ins[lstmOutputState].F32, ins[lstmCellState].F32
	nc, no := g.nCell, g.nOutput
	nb := 1 // batch rows per step
	if g.timeMajor {
		nb = g.batch
	}
	ig, fg, cg, og := make([]float32, nb*nc), make([]float32, nb*nc), make([]float32, nb*nc), make([]float32, nb*nc)
	g.steps(func(inRow, outRow, stateRow, n int) {
		xt := x[inRow*g.nInput : (inRow+n)*g.nInput]
		h := hAll[stateRow*no : (stateRow+n)*no]
		c := cAll[stateRow*nc : (stateRow+n)*nc]
		if !g.cifg {
			k.gate(&k.gates[0], xt, h, c, n, graph.ActSigmoid, ig, at[0])
		}
		k.gate(&k.gates[1], xt, h, c, n, graph.ActSigmoid, fg, at[1])
		k.gate(&k.gates[2], xt, h, nil, n, k.act, cg, at[2])
		updateCell(c, fg, cg, ig, g.cifg, k.cellClip)
		k.gate(&k.gates[3], xt, h, c, n, graph.ActSigmoid, og, at[3])
		// o⊙act(c) into cg (free now). TFLite's ApplyActivationToVector
		// writes nothing for NONE, so the output then multiplies the cell
		// gate left in that scratch, not the cell state (measured against
		// the runtime).
		if k.act != graph.ActNone {
			copy(cg, c)
			applyActivationF32(k.act, cg[:n*nc])
		}
		for i := 0; i < n*nc; i++ {
			cg[i] *= og[i]
		}
		if at[LSTMHidden] != nil {
			at[LSTMHidden](cg[:n*nc])
		}
		if k.proj != nil {
			for b := 0; b < n; b++ {
				if k.projB != nil {
					copy(h[b*no:(b+1)*no], k.projB)
				} else {
					clear(h[b*no : (b+1)*no])
				}
			}
			matVecAccF32(k.proj, no, nc, cg, n, h)
			if k.projClip > 0 {
				for i, v := range h {
					h[i] = min(max(v, -k.projClip), k.projClip)
				}
			}
		} else {
			copy(h, cg[:n*no])
		}
		copy(y[outRow*no:(outRow+n)*no], h)
	})
	return nil
}

// updateCell advances the float cell state c by one step from the forget,
// cell and input gates: c = c·f + g·i, with i = 1 − f under CIFG (coupled
// input and forget gates), then clipped to ±clip when clip > 0. The float
// and hybrid LSTMs share it, as TFLite's float and hybrid paths share theirs.
func updateCell(c, fg, cg, ig []float32, cifg bool, clip float32) {
	for i := range c {
		c[i] *= fg[i]
	}
	if cifg {
		for i := range c {
			c[i] += cg[i] * (1 - fg[i])
		}
	} else {
		for i := range c {
			c[i] += cg[i] * ig[i]
		}
	}
	if clip > 0 {
		for i, v := range c {
			c[i] = min(max(v, -clip), clip)
		}
	}
}
