package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// lstmHybrid is TFLite's hybrid UNIDIRECTIONAL_SEQUENCE_LSTM (EvalHybrid /
// LstmStepHybrid): float32 input, output, states, biases and layer-norm
// coefficients; int8 weights (gates, peephole, projection) with one scale
// each. Every step quantizes each batch row of the input and of the output
// state to int8 (symmetric, or with a zero point under
// asymmetric_quantize_inputs), takes exact int32 dots with the weights and
// adds float32(dot)·(s_row·s_w) to the gate; the peephole multiplies the
// float cell state by s_w·w; the projection quantizes o⊙act(c) the same
// way. The rest is the float LSTM (lstm_float.go).
type lstmHybrid struct {
	g          lstmGeom
	gates      [4]lstmHybridGate
	proj       []int8
	projScale  float32
	projSums   []int32
	projB      []float32
	act        graph.Activation
	cellClip   float32
	projClip   float32
	asymmetric bool
}

type lstmHybridGate struct {
	w, r           []int8
	wScale, rScale float32
	wSums, rSums   []int32   // row sums, for asymmetric inputs
	peep           []float32 // s_w·w, as TFLite recovers them
	bias, ln       []float32
}

func newLSTMHybrid(p *prep, g lstmGeom, o *graph.SequenceLSTMOptions) (Kernel, error) {
	if err := lstmCheckActivation(p, o.Activation); err != nil {
		return nil, err
	}
	k := &lstmHybrid{g: g, act: lstmCellActivation(o.Activation), cellClip: o.CellClip, projClip: o.ProjClip, asymmetric: o.AsymmetricQuantizeInputs}
	weights := func(i int) ([]int8, float32, error) {
		t := p.in(i)
		if t.DType != graph.Int8 {
			return nil, 0, p.unsupported(fmt.Sprintf("hybrid LSTM weights %d %q are %s, want int8", i, t.Name, t.DType))
		}
		s, zp, ok := QuantParams(t)
		if !ok || !(s > 0) || zp != 0 || (t.Quant != nil && len(t.Quant.Scale) != 1) {
			return nil, 0, fmt.Errorf("%s: hybrid weights %d %q need one positive scale and zero point 0", p.op.Name(), i, t.Name)
		}
		return t.Int8s(), s, nil
	}
	f32 := func(i int) ([]float32, error) {
		t := p.in(i)
		if t == nil {
			return nil, nil
		}
		if t.DType != graph.Float32 {
			return nil, p.unsupported(fmt.Sprintf("hybrid LSTM input %d %q is %s, want float32", i, t.Name, t.DType))
		}
		return t.Float32s(), nil
	}
	var err error
	for gi, idx := range lstmGates {
		if gi == 0 && g.cifg {
			continue
		}
		gt := &k.gates[gi]
		if gt.w, gt.wScale, err = weights(idx.in); err != nil {
			return nil, err
		}
		if gt.r, gt.rScale, err = weights(idx.rec); err != nil {
			return nil, err
		}
		gt.wSums, gt.rSums = rowSums(gt.w, g.nCell, g.nInput), rowSums(gt.r, g.nCell, g.nOutput)
		if g.peephole && idx.peep >= 0 {
			w, s, err := weights(idx.peep)
			if err != nil {
				return nil, err
			}
			gt.peep = make([]float32, len(w))
			for i, v := range w {
				gt.peep[i] = s * float32(v)
			}
		}
		if gt.bias, err = f32(idx.bias); err != nil {
			return nil, err
		}
		if gt.ln, err = f32(idx.ln); err != nil {
			return nil, err
		}
	}
	if g.projection {
		if k.proj, k.projScale, err = weights(lstmProjWeights); err != nil {
			return nil, err
		}
		k.projSums = rowSums(k.proj, g.nOutput, g.nCell)
		if k.projB, err = f32(lstmProjBias); err != nil {
			return nil, err
		}
	}
	for _, i := range []int{lstmOutputState, lstmCellState} {
		if p.in(i).DType != graph.Float32 {
			return nil, p.unsupported(fmt.Sprintf("hybrid LSTM state %q is %s, want float32", p.in(i).Name, p.in(i).DType))
		}
	}
	if p.out(0).DType != graph.Float32 {
		return nil, p.unsupported("hybrid LSTM output must be float32")
	}
	return k, nil
}

// hybridQuantRows quantizes each of the n rows of x (length cols) as
// TFLite's BatchQuantizeFloats, returning the scales and zero points.
func hybridQuantRows(x []float32, n, cols int, asym bool, q []int8, sf []float32, zp []int32) {
	for b := range n {
		row, dst := x[b*cols:(b+1)*cols], q[b*cols:(b+1)*cols]
		if asym {
			sf[b], zp[b] = hybridAsymmetric(dst, row)
		} else {
			sf[b], zp[b] = hybridSymmetric(dst, row), 0
		}
	}
}

// hybridMatVecAcc adds float32(Σ q·w − sums·zp)·(sf_b·scale) to each row's
// dst (TFLite's hybrid MatrixBatchVectorMultiplyAccumulate).
func hybridMatVecAcc(w []int8, scale float32, sums []int32, rows, cols int, q []int8, sf []float32, zp []int32, n int, asym bool, dst []float32) {
	for b := range n {
		s := sf[b] * scale
		qb := q[b*cols : (b+1)*cols]
		for r := range rows {
			var dot int32
			for c, v := range w[r*cols : (r+1)*cols] {
				dot += int32(v) * int32(qb[c])
			}
			if asym {
				dot -= sums[r] * zp[b]
			}
			dst[b*rows+r] += float32(float32(dot) * s)
		}
	}
}

func allZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// lstmHybridScratch holds one step's quantized rows.
type lstmHybridScratch struct {
	qx, qh       []int8
	sfx, sfh     []float32
	zpx, zph     []int32
	xZero, hZero bool
}

func (k *lstmHybrid) gate(gt *lstmHybridGate, s *lstmHybridScratch, c []float32, n int, act graph.Activation, dst []float32) {
	g := &k.g
	nc := g.nCell
	for b := range n {
		if gt.ln != nil {
			clear(dst[b*nc : (b+1)*nc])
		} else {
			copy(dst[b*nc:(b+1)*nc], gt.bias)
		}
	}
	if !s.xZero {
		hybridMatVecAcc(gt.w, gt.wScale, gt.wSums, nc, g.nInput, s.qx, s.sfx, s.zpx, n, k.asymmetric, dst)
	}
	if !s.hZero {
		hybridMatVecAcc(gt.r, gt.rScale, gt.rSums, nc, g.nOutput, s.qh, s.sfh, s.zph, n, k.asymmetric, dst)
	}
	if gt.peep != nil && c != nil {
		for b := range n {
			for i, w := range gt.peep {
				dst[b*nc+i] += w * c[b*nc+i]
			}
		}
	}
	if gt.ln != nil {
		meanStddevNormF32(dst[:n*nc], nc)
		for b := range n {
			for i := range nc {
				dst[b*nc+i] = dst[b*nc+i]*gt.ln[i] + gt.bias[i]
			}
		}
	}
	applyActivationF32(act, dst[:n*nc])
}

func (k *lstmHybrid) Run(ins, outs []*Buffer) error {
	g := &k.g
	x, y := ins[lstmInput].F32, outs[0].F32
	hAll, cAll := ins[lstmOutputState].F32, ins[lstmCellState].F32
	nc, no := g.nCell, g.nOutput
	nb := 1
	if g.timeMajor {
		nb = g.batch
	}
	ig, fg, cg, og := make([]float32, nb*nc), make([]float32, nb*nc), make([]float32, nb*nc), make([]float32, nb*nc)
	s := &lstmHybridScratch{qx: make([]int8, nb*g.nInput), qh: make([]int8, nb*no),
		sfx: make([]float32, nb), sfh: make([]float32, nb), zpx: make([]int32, nb), zph: make([]int32, nb)}
	qHid, sfHid, zpHid := make([]int8, nb*nc), make([]float32, nb), make([]int32, nb)
	g.steps(func(inRow, outRow, stateRow, n int) {
		xt := x[inRow*g.nInput : (inRow+n)*g.nInput]
		h := hAll[stateRow*no : (stateRow+n)*no]
		c := cAll[stateRow*nc : (stateRow+n)*nc]
		if s.xZero = allZero(xt); !s.xZero {
			hybridQuantRows(xt, n, g.nInput, k.asymmetric, s.qx, s.sfx, s.zpx)
		}
		if s.hZero = allZero(h); !s.hZero {
			hybridQuantRows(h, n, no, k.asymmetric, s.qh, s.sfh, s.zph)
		}
		if !g.cifg {
			k.gate(&k.gates[0], s, c, n, graph.ActSigmoid, ig)
		}
		k.gate(&k.gates[1], s, c, n, graph.ActSigmoid, fg)
		k.gate(&k.gates[2], s, nil, n, k.act, cg)
		updateCell(c, fg, cg, ig, g.cifg, k.cellClip)
		k.gate(&k.gates[3], s, c, n, graph.ActSigmoid, og)
		if k.act != graph.ActNone { // TFLite's NONE leaves the cell gate here (lstm_float.go)
			copy(cg, c)
			applyActivationF32(k.act, cg[:n*nc])
		}
		for i := 0; i < n*nc; i++ {
			cg[i] *= og[i]
		}
		if k.proj != nil {
			for b := range n {
				if k.projB != nil {
					copy(h[b*no:(b+1)*no], k.projB)
				} else {
					clear(h[b*no : (b+1)*no])
				}
			}
			if !allZero(cg[:n*nc]) {
				hybridQuantRows(cg[:n*nc], n, nc, k.asymmetric, qHid, sfHid, zpHid)
				hybridMatVecAcc(k.proj, k.projScale, k.projSums, no, nc, qHid, sfHid, zpHid, n, k.asymmetric, h)
			}
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
