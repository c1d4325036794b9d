package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// lstmInt is TFLite's integer 8x8->16 UNIDIRECTIONAL_SEQUENCE_LSTM
// (PopulateQuantizedLstmParams8x8_16 and lstm_eval's EvalInteger8x8_16):
// int8 input, output and output state, int8 weights, int16 cell state
// (scale a power of two), int16 peephole and layer-norm weights, int32
// biases. Each gate is accumulated in int16 at its intermediate's scale
// (Q3.12 without layer norm), squashed by 16-bit gemmlowp logistic/tanh into
// Q0.15; the hidden state o⊙tanh(c) is rescaled into the fifth
// intermediate's int8 quantization, then projected or copied to the output.
//
// The rescaling is gemmlowp's double rounding in every Rounding mode: TFLite
// computes it with the portable tensor utils' MultiplyByQuantizedMultiplier,
// which the runtime (and the oracle) builds without single rounding, as its
// SVDF (see svdf.go). Effective scales are float32 products as TFLite forms
// them, widened to double only for QuantizeMultiplier.
type lstmInt struct {
	g     lstmGeom
	gates [4]lstmIntGate
	// Projection.
	proj         []int8
	projBias     []int32 // effective: bias + hidden zp·row sums (as TFLite)
	projM        int32
	projS        int
	outZP        int32 // output state's zero point
	hidM         int32
	hidS         int
	hidZP        int32 // the zero point TFLite applies to the hidden state
	cellScale    int   // log2 of the cell state's scale
	cellClip     int16
	projClip     int8
	cellTanhBits int // 15 + cellScale
}

type lstmIntGate struct {
	w, r       []int8
	inBias     []int32 // bias (none with layer norm) − input_zp·row sums
	recBias    []int32 // −output_state_zp·row sums
	inM, recM  int32
	inS, recS  int
	peep       []int16
	peepM      int32
	peepS      int
	ln         []int16
	lnBias     []int32
	lnM        int32
	lnS        int
	lnVarGuard int32
}

func newLSTMInt(p *prep, g lstmGeom, o *graph.SequenceLSTMOptions) (Kernel, error) {
	name := p.op.Name()
	if len(p.inter) != 5 {
		if len(p.inter) == 12 {
			return nil, p.unsupported("the 8x8->8 integer LSTM (12 intermediates)")
		}
		return nil, fmt.Errorf("%s: the integer LSTM needs 5 intermediate tensors (gate and hidden scales), has %d", name, len(p.inter))
	}
	if g.peephole && g.nOutput > g.nCell {
		// TFLite's integer peephole runs over n_output values of the
		// n_cell-long weights and gates: past their end.
		return nil, p.unsupported(fmt.Sprintf("integer peephole LSTM with n_output %d > n_cell %d (TFLite reads past the peephole weights)", g.nOutput, g.nCell))
	}
	if o.Activation != graph.ActTanh {
		return nil, p.unsupported(fmt.Sprintf("integer LSTM with activation %s (TFLite applies TANH regardless)", o.Activation))
	}
	dt := func(k int, want graph.DType) error {
		if t := p.in(k); t != nil && t.DType != want {
			return p.unsupported(fmt.Sprintf("integer LSTM input %d %q is %s, want %s", k, t.Name, t.DType, want))
		}
		return nil
	}
	for k, want := range map[int]graph.DType{
		lstmInput: graph.Int8, lstmInToInput: graph.Int8, lstmInToForget: graph.Int8, lstmInToCell: graph.Int8,
		lstmInToOutput: graph.Int8, lstmRecToInput: graph.Int8, lstmRecToForget: graph.Int8, lstmRecToCell: graph.Int8,
		lstmRecToOutput: graph.Int8, lstmCellToInput: graph.Int16, lstmCellToForget: graph.Int16,
		lstmCellToOutput: graph.Int16, lstmInputBias: graph.Int32, lstmForgetBias: graph.Int32,
		lstmCellBias: graph.Int32, lstmOutputBias: graph.Int32, lstmProjWeights: graph.Int8, lstmProjBias: graph.Int32,
		lstmOutputState: graph.Int8, lstmCellState: graph.Int16, lstmInputLN: graph.Int16,
		lstmForgetLN: graph.Int16, lstmCellLN: graph.Int16, lstmOutputLN: graph.Int16,
	} {
		if err := dt(k, want); err != nil {
			return nil, err
		}
	}
	if p.out(0).DType != graph.Int8 {
		return nil, p.unsupported("integer LSTM output must be int8")
	}
	scale := func(t *graph.Tensor, what string) (float32, int32, error) {
		s, zp, ok := QuantParams(t)
		if !ok || !(s > 0) || math.IsInf(float64(s), 0) {
			return 0, 0, fmt.Errorf("%s: %s %q needs a positive quantization scale", name, what, t.Name)
		}
		return s, zp, nil
	}
	sIn, zIn, err := scale(p.in(lstmInput), "input")
	if err != nil {
		return nil, err
	}
	sOut, zOut, err := scale(p.in(lstmOutputState), "output_state")
	if err != nil {
		return nil, err
	}
	sCell, _, err := scale(p.in(lstmCellState), "cell_state")
	if err != nil {
		return nil, err
	}
	sY, _, err := scale(p.out(0), "output")
	if err != nil {
		return nil, err
	}
	cellScale, ok := checkedLog2(sCell)
	if !ok {
		return nil, p.unsupported(fmt.Sprintf("cell state scale %g is not a power of two", sCell))
	}
	k := &lstmInt{g: g, cellScale: cellScale, outZP: zOut, cellTanhBits: 15 + cellScale}
	if k.cellTanhBits < 0 || k.cellTanhBits > 6 {
		// TFLite's ApplyTanh computes nothing outside 0..6 integer bits.
		return nil, p.unsupported(fmt.Sprintf("cell state scale 2^%d (TFLite's tanh takes 2^-15 … 2^-9)", cellScale))
	}
	if o.CellClip > 0 {
		k.cellClip = int16(min(max(o.CellClip/sCell, -32768), 32767))
	}
	if o.ProjClip > 0 {
		k.projClip = int8(min(max(o.ProjClip/sY, -128), 127))
	}
	// The gates' intermediate scales: the layer-norm intermediates, or
	// Q3.12 (2^-12) for the activation functions.
	var interScale [5]float32
	for i := range 4 {
		interScale[i] = 1.0 / 4096
		if g.layerNorm {
			s, zp, err := scale(p.inter[i], fmt.Sprintf("intermediate %d", i))
			if err != nil {
				return nil, err
			}
			if zp != 0 {
				return nil, p.unsupported(fmt.Sprintf("intermediate %d has zero point %d (TFLite ignores it; want 0)", i, zp))
			}
			interScale[i] = s
		}
	}
	sHid, zHid, err := scale(p.inter[4], "intermediate 4 (hidden)")
	if err != nil {
		return nil, err
	}
	// TFLite requantizes o⊙tanh(c) with the hidden intermediate's zero
	// point negated (q = h/s − zp; measured against the runtime: with +zp
	// every Coral LSTM output is two steps off) and the projection undoes
	// it by adding +zp·row sums, so projected outputs are right while an
	// unprojected output carries the negated zero point.
	interScale[4], k.hidZP = sHid, -zHid
	qm := func(real float32) (int32, int) { return fixedpoint.QuantizeMultiplier(float64(real)) }
	wScale := func(i int) (float32, error) {
		s, _, err := scale(p.in(i), fmt.Sprintf("input %d", i))
		return s, err
	}
	pow2 := float32(math.Ldexp(1, cellScale))
	for gi, idx := range lstmGates {
		if gi == 0 && g.cifg {
			continue
		}
		gt := &k.gates[gi]
		gt.w, gt.r = p.in(idx.in).Int8s(), p.in(idx.rec).Int8s()
		sw, err := wScale(idx.in)
		if err != nil {
			return nil, err
		}
		sr, err := wScale(idx.rec)
		if err != nil {
			return nil, err
		}
		gt.inM, gt.inS = qm(sw * sIn / interScale[gi])
		gt.recM, gt.recS = qm(sr * sOut / interScale[gi])
		var bias []int32
		if !g.layerNorm {
			bias = p.in(idx.bias).Int32s()
		}
		gt.inBias = zpTimesRowSums(gt.w, g.nCell, g.nInput, -zIn, bias)
		gt.recBias = zpTimesRowSums(gt.r, g.nCell, g.nOutput, -zOut, nil)
		if g.peephole && idx.peep >= 0 {
			sp, err := wScale(idx.peep)
			if err != nil {
				return nil, err
			}
			gt.peep = p.in(idx.peep).Int16s()
			gt.peepM, gt.peepS = qm(pow2 * sp / interScale[gi])
		}
		if g.layerNorm {
			sl, err := wScale(idx.ln)
			if err != nil {
				return nil, err
			}
			gt.ln, gt.lnBias = p.in(idx.ln).Int16s(), p.in(idx.bias).Int32s()
			gt.lnM, gt.lnS = qm(sl)
			gt.lnVarGuard = int32(max(1, int(10000*sl)))
		}
	}
	k.hidM, k.hidS = qm(float32(1.0/32768) / interScale[4] * float32(1.0/32768))
	if g.projection {
		sp, err := wScale(lstmProjWeights)
		if err != nil {
			return nil, err
		}
		k.proj = p.in(lstmProjWeights).Int8s()
		var pb []int32
		if b := p.in(lstmProjBias); b != nil {
			pb = b.Int32s()
		}
		k.projBias = zpTimesRowSums(k.proj, g.nOutput, g.nCell, zHid, pb)
		k.projM, k.projS = qm(sp * interScale[4] / sOut)
	}
	if !p.ref {
		return newLSTMIntFast(k), nil
	}
	return k, nil
}

// zpTimesRowSums is TFLite's PrecomputeZeroPointTimesWeightWithBias: bias
// (or zeros) plus zp times each row's sum.
func zpTimesRowSums(w []int8, rows, cols int, zp int32, bias []int32) []int32 {
	out := make([]int32, rows)
	copy(out, bias)
	if zp == 0 {
		return out
	}
	for r := range rows {
		var s int32
		for _, v := range w[r*cols : (r+1)*cols] {
			s += int32(v)
		}
		out[r] += s * zp
	}
	return out
}

// matVecAccInt16 is TFLite's int8 MatrixBatchVectorMultiplyAccumulate into
// int16: per row bias + Σ x·w, rescaled, plus the previous value,
// saturated.
func matVecAccInt16(x []int8, bias []int32, w []int8, m int32, s int, nBatch, cols, rows int, dst []int16) {
	for b := range nBatch {
		xb := x[b*cols : (b+1)*cols]
		for r := range rows {
			acc := bias[r]
			for c, v := range w[r*cols : (r+1)*cols] {
				acc += int32(xb[c]) * int32(v)
			}
			acc = fixedpoint.MultiplyByQuantizedMultiplier(acc, m, s) + int32(dst[b*rows+r])
			dst[b*rows+r] = int16(min(max(acc, math.MinInt16), math.MaxInt16))
		}
	}
}

// matVecInt8 is the same into int8 with an output zero point (the
// projection; dst starts at zero).
func matVecInt8(x []int8, bias []int32, w []int8, m int32, s int, nBatch, cols, rows int, zp int32, dst []int8) {
	for b := range nBatch {
		xb := x[b*cols : (b+1)*cols]
		for r := range rows {
			acc := bias[r]
			for c, v := range w[r*cols : (r+1)*cols] {
				acc += int32(xb[c]) * int32(v)
			}
			acc = fixedpoint.MultiplyByQuantizedMultiplier(acc, m, s) + zp
			dst[b*rows+r] = int8(min(max(acc, math.MinInt8), math.MaxInt8))
		}
	}
}

// layerNormInt16 is TFLite's ApplyLayerNorm on one gate: mean and variance
// in int64 with 10 extra bits, the inverse standard deviation as a Q31
// multiplier, the coefficient and bias in int32 (wrapping as TFLite's),
// rounded by 1024, then rescaled by the coefficient scale.
func layerNormInt16(v []int16, n int, coef []int16, bias []int32, m int32, s int, guard int32) {
	for off := 0; off+n <= len(v); off += n {
		row := v[off : off+n]
		var sum, sumSq int64
		for _, x := range row {
			sum += int64(x)
			sumSq += int64(int32(x) * int32(x))
		}
		mean := int32(sum * 1024 / int64(n))
		temp := int32((1 << 20) / n)
		variance := sumSq*int64(temp) - int64(mean)*int64(mean)
		variance2 := int32(variance / (1 << 20))
		if variance2 < 1 {
			variance2 = guard
		}
		invM, invS := invSqrtMultiplierExp(variance2, -1)
		for j, x := range row {
			shifted := 1024*int32(x) - mean
			rescaled := fixedpoint.MultiplyByQuantizedMultiplier(shifted, invM, invS)
			val3 := int64(rescaled*int32(coef[j]) + bias[j])
			var val4 int32
			if val3 > 0 {
				val4 = int32((val3 + 512) / 1024)
			} else {
				val4 = int32((val3 - 512) / 1024)
			}
			val5 := fixedpoint.MultiplyByQuantizedMultiplier(val4, m, s+12)
			row[j] = int16(min(max(val5, math.MinInt16), math.MaxInt16))
		}
	}
}

// invSqrtMultiplierExp is TFLite's GetInvSqrtQuantizedMultiplierExp:
// 1/sqrt(input) as a Q31 multiplier and shift, by five Newton steps in
// Q3.28; reverseShift −1 turns the right shift into MultiplyBy…'s left
// shift convention.
func invSqrtMultiplierExp(input int32, reverseShift int) (int32, int) {
	if input <= 1 {
		return math.MaxInt32, 0
	}
	shift := 11
	for input >= 1<<29 {
		input /= 4
		shift++
	}
	maxLeftShiftBits := fixedpoint.CountLeadingZeros32(uint32(input)) - 1
	leftShiftBitPairs := maxLeftShiftBits/2 - 1
	shift -= leftShiftBitPairs
	input <<= uint(2 * leftShiftBitPairs)
	mul := fixedpoint.SaturatingRoundingDoublingHighMul
	x3in := input >> 1                                             // Q3.28
	halfIn := fixedpoint.SaturatingRoundingMultiplyByPOT(x3in, -1) // Q3.28
	const halfThree = 1<<28 + 1<<27                                // 1.5 in Q3.28
	x := int32(1 << 28)                                            // 1.0 in Q3.28
	for range 5 {
		x3 := fixedpoint.Rescale(mul(mul(x, x), x), 9, 3)
		x = fixedpoint.Rescale(mul(halfThree, x)-mul(halfIn, x3), 6, 3)
	}
	x = mul(x, 1518500250) // ·√2/2 (Q0.31): Q3.28
	if shift < 0 {
		x <<= uint(-shift)
		shift = 0
	}
	return x, shift * reverseShift
}

func (k *lstmInt) gate(gi int, x, h []int8, c []int16, nBatch int, dst []int16) {
	g, gt := &k.g, &k.gates[gi]
	n := nBatch * g.nCell
	clear(dst[:n])
	matVecAccInt16(x, gt.inBias, gt.w, gt.inM, gt.inS, nBatch, g.nInput, g.nCell, dst)
	matVecAccInt16(h, gt.recBias, gt.r, gt.recM, gt.recS, nBatch, g.nOutput, g.nCell, dst)
	k.gateTail(gi, c, nBatch, dst[:n])
	if gi == 2 {
		for i, v := range dst[:n] {
			dst[i] = fixedpoint.Tanh16(v, 3)
		}
	} else {
		for i, v := range dst[:n] {
			dst[i] = fixedpoint.Logistic16(v, 3)
		}
	}
}

// gateTail is what gate gi adds between its products and its activation:
// the peephole term and layer normalisation, on the gate's nBatch rows in
// dst.
func (k *lstmInt) gateTail(gi int, c []int16, nBatch int, dst []int16) {
	g, gt := &k.g, &k.gates[gi]
	if gt.peep != nil {
		// TFLite passes n_output as the peephole vector's length (a
		// mismatch only with projection); kept as TFLite computes it.
		vs := g.nOutput
		for i := range nBatch * vs {
			prod := fixedpoint.MultiplyByQuantizedMultiplier(int32(gt.peep[i%vs])*int32(c[i]), gt.peepM, gt.peepS)
			dst[i] = int16(min(max(prod+int32(dst[i]), math.MinInt16), math.MaxInt16))
		}
	}
	if gt.ln != nil {
		layerNormInt16(dst, g.nCell, gt.ln, gt.lnBias, gt.lnM, gt.lnS, gt.lnVarGuard)
	}
}

func (k *lstmInt) Run(ins, outs []*Buffer) error {
	g := &k.g
	x, y := ins[lstmInput].I8, outs[0].I8
	hAll, cAll := ins[lstmOutputState].I8, ins[lstmCellState].I16
	nc, no := g.nCell, g.nOutput
	nb := 1
	if g.timeMajor {
		nb = g.batch
	}
	ig, fg, cg, og := make([]int16, nb*nc), make([]int16, nb*nc), make([]int16, nb*nc), make([]int16, nb*nc)
	hid := make([]int8, nb*nc)
	g.steps(func(inRow, outRow, stateRow, n int) {
		xt := x[inRow*g.nInput : (inRow+n)*g.nInput]
		h := hAll[stateRow*no : (stateRow+n)*no]
		c := cAll[stateRow*nc : (stateRow+n)*nc]
		m := n * nc
		if !g.cifg {
			k.gate(0, xt, h, c, n, ig)
		}
		k.gate(1, xt, h, c, n, fg)
		k.gate(2, xt, h, c, n, cg)
		k.updateCell(c, fg, cg, ig)
		k.gate(3, xt, h, c, n, og)
		// hidden = o⊙tanh(c) into the hidden intermediate's int8.
		for i := range m {
			t := fixedpoint.Tanh16(c[i], k.cellTanhBits)
			v := fixedpoint.MultiplyByQuantizedMultiplier(int32(og[i])*int32(t), k.hidM, k.hidS) + k.hidZP
			hid[i] = int8(min(max(v, math.MinInt8), math.MaxInt8))
		}
		k.project(hid, h, n)
		copy(y[outRow*no:(outRow+n)*no], h)
	})
	return nil
}

// updateCell is UpdateLstmCellInteger: c = f⊙c + i⊙g (i = 1−f with CIFG),
// saturated and clipped, over len(c) values.
func (k *lstmInt) updateCell(c, fg, cg, ig []int16) {
	for i := range c {
		c[i] = int16(fixedpoint.RoundingDivideByPOT(int32(fg[i])*int32(c[i]), 15))
		var in int16
		if k.g.cifg {
			in = fixedpoint.One16 - fg[i]
		} else {
			in = ig[i]
		}
		s := int32(int16(fixedpoint.RoundingDivideByPOT(int32(in)*int32(cg[i]), 30+k.cellScale)))
		v := min(max(int32(c[i])+s, math.MinInt16), math.MaxInt16)
		if k.cellClip > 0 {
			v = min(max(v, -int32(k.cellClip)), int32(k.cellClip))
		}
		c[i] = int16(v)
	}
}

// project turns the n rows of hidden values into the output state h: the
// projection (rescaled into the output's int8, clipped), or a copy.
func (k *lstmInt) project(hid, h []int8, n int) {
	g := &k.g
	if k.proj != nil {
		matVecInt8(hid, k.projBias, k.proj, k.projM, k.projS, n, g.nCell, g.nOutput, k.outZP, h)
		if k.projClip > 0 {
			for i, v := range h {
				h[i] = min(max(v, -k.projClip), k.projClip)
			}
		}
		return
	}
	copy(h, hid[:n*g.nOutput])
}
