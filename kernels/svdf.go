package kernels

// SVDF: a fully connected layer factored into a feature filter and a time
// filter over a memory of the last n_memory feature activations, kept in a
// state tensor across invocations. Semantics follow TFLite's builtin SVDF
// kernel (reference_ops::EvalFloatSVDF / EvalIntegerSVDF): the state is
// [batch, n_filter·n_memory], each filter's memory contiguous, oldest
// first; every step shifts the whole buffer left by one element and writes
// the new feature activations into each filter's last slot.

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// svdfGeom is the op's geometry, checked against all its tensors.
type svdfGeom struct {
	batch, nInput, nFilter, nMemory, rank, nUnit int
}

func svdfGeometry(p *prep, o *graph.SVDFOptions) (svdfGeom, error) {
	in, wf, wt, st, out := p.in(0), p.in(1), p.in(2), p.in(4), p.out(0)
	name := p.op.Name()
	if wf == nil || wt == nil || st == nil {
		return svdfGeom{}, fmt.Errorf("%s: weights_feature, weights_time and state inputs are required", name)
	}
	if len(in.Shape) != 2 || len(wf.Shape) != 2 || len(wt.Shape) != 2 || len(st.Shape) != 2 {
		return svdfGeom{}, fmt.Errorf("%s: input %v, weights_feature %v, weights_time %v and state %v must all be 2-D",
			name, in.Shape, wf.Shape, wt.Shape, st.Shape)
	}
	g := svdfGeom{batch: in.Shape[0], nInput: in.Shape[1], nFilter: wf.Shape[0], nMemory: wt.Shape[1], rank: o.Rank}
	if g.rank <= 0 || g.nFilter%g.rank != 0 {
		return g, fmt.Errorf("%s: rank %d must be positive and divide the %d filters", name, g.rank, g.nFilter)
	}
	g.nUnit = g.nFilter / g.rank
	if wf.Shape[1] != g.nInput || wt.Shape[0] != g.nFilter {
		return g, fmt.Errorf("%s: weights_feature %v / weights_time %v do not match input %v", name, wf.Shape, wt.Shape, in.Shape)
	}
	if st.Shape[0] != g.batch || st.Shape[1] != g.nFilter*g.nMemory {
		return g, fmt.Errorf("%s: state %v, want [%d %d]", name, st.Shape, g.batch, g.nFilter*g.nMemory)
	}
	if b := p.in(3); b != nil && (len(b.Shape) != 1 || b.Shape[0] != g.nUnit) {
		return g, fmt.Errorf("%s: bias %v, want [%d]", name, b.Shape, g.nUnit)
	}
	if len(out.Shape) != 2 || out.Shape[0] != g.batch || out.Shape[1] != g.nUnit {
		return g, fmt.Errorf("%s: output %v, want [%d %d]", name, out.Shape, g.batch, g.nUnit)
	}
	if !wf.IsConst() || !wt.IsConst() || (p.in(3) != nil && !p.in(3).IsConst()) {
		return g, p.unsupported("weights and bias must be constant")
	}
	return g, nil
}

func prepareSVDF(p *prep) (Kernel, error) {
	o, ok := p.op.Options.(*graph.SVDFOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("%s: missing options", p.op.Name())
	}
	g, err := svdfGeometry(p, o)
	if err != nil {
		return nil, err
	}
	in, wf, wt, bias, st, out := p.in(0), p.in(1), p.in(2), p.in(3), p.in(4), p.out(0)
	switch {
	case in.DType == graph.Float32 && wf.DType == graph.Float32 && wt.DType == graph.Float32 &&
		st.DType == graph.Float32 && out.DType == graph.Float32 && (bias == nil || bias.DType == graph.Float32):
		return newSVDFFloat(p, g, o)
	case in.DType == graph.Float32 && wf.DType == graph.Int8 && (wt.DType == graph.Int8 || wt.DType == graph.Float32) &&
		st.DType == graph.Float32 && out.DType == graph.Float32 && (bias == nil || bias.DType == graph.Float32):
		return newSVDFHybrid(p, g, o)
	case in.DType == graph.Int8 && wf.DType == graph.Int8 && out.DType == graph.Int8 &&
		(bias == nil || bias.DType == graph.Int32) &&
		((wt.DType == graph.Int16 && st.DType == graph.Int16) || (wt.DType == graph.Int8 && st.DType == graph.Int8)):
		return newSVDFInt(p, g, o)
	}
	return nil, p.unsupported("SVDF runs float32, hybrid (float32 with int8 weights), or int8 input with int8 weights_feature, int16 (or int8) weights_time and state, int32 bias")
}

// svdfFloat is the float32 SVDF.
type svdfFloat struct {
	g            svdfGeom
	wf, wt, b    []float32
	act          graph.Activation
	actLo, actHi float32
}

func newSVDFFloat(p *prep, g svdfGeom, o *graph.SVDFOptions) (Kernel, error) {
	k := &svdfFloat{g: g, wf: p.in(1).Float32s(), wt: p.in(2).Float32s(), act: o.Activation}
	if b := p.in(3); b != nil {
		k.b = b.Float32s()
	}
	if o.Activation != graph.ActTanh {
		lo, hi, err := ActivationRangeFloat(o.Activation)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.op.Name(), err)
		}
		k.actLo, k.actHi = lo, hi
	}
	return k, nil
}

func (k *svdfFloat) Run(ins, outs []*Buffer) error {
	g := k.g
	x, state, y := ins[0].F32, ins[4].F32, outs[0].F32
	copy(state, state[1:])
	for b := 0; b < g.batch; b++ {
		xb := x[b*g.nInput : (b+1)*g.nInput]
		for f := 0; f < g.nFilter; f++ {
			w := k.wf[f*g.nInput : (f+1)*g.nInput]
			var s float32
			for i, v := range xb {
				s += w[i] * v
			}
			state[(b*g.nFilter+f)*g.nMemory+g.nMemory-1] = s
		}
	}
	k.timeStep(state, y)
	return nil
}

// timeStep applies the time filter to the state, sums over the rank, adds
// the bias and applies the activation (TFLite's
// ApplyTimeWeightsBiasAndActivation), into y.
func (k *svdfFloat) timeStep(state, y []float32) {
	g := k.g
	for b := 0; b < g.batch; b++ {
		for u := 0; u < g.nUnit; u++ {
			var sum float32
			for r := 0; r < g.rank; r++ {
				f := u*g.rank + r
				mem := state[(b*g.nFilter+f)*g.nMemory : (b*g.nFilter+f+1)*g.nMemory]
				w := k.wt[f*g.nMemory : (f+1)*g.nMemory]
				var s float32
				for i, v := range mem {
					s += w[i] * v
				}
				sum += s
			}
			if k.b != nil {
				sum += k.b[u]
			}
			if k.act == graph.ActTanh {
				sum = float32(math.Tanh(float64(sum)))
			} else {
				sum = min(max(sum, k.actLo), k.actHi)
			}
			y[b*g.nUnit+u] = sum
		}
	}
}

// svdfInt is the integer SVDF: int8 input and weights_feature, int16
// weights_time and state (TFLite's builtin kernel), int32 bias, int8
// output. The feature product is rescaled into the state's scale and
// clamped to its dtype; the time product, summed over rank and biased, is
// rescaled into the output. The state is taken as symmetric (its zero point
// is ignored, as TFLite does) and the activation is not applied beyond the
// int8 clamp: TFLite accepts only RELU here and leaves it to the output's
// quantization range.
//
// int8 weights_time and state (TFLite Micro's 8-bit SVDF, e.g. its
// keyword_scrambled_8bit model) run with the same arithmetic, the feature
// product clamped to int8, as TFLite Micro computes them. TFLite's builtin
// kernel reads those tensors as int16 regardless of their dtype (beyond
// their end), so its results there are undefined.
type svdfInt struct {
	g            svdfGeom
	rnd          fixedpoint.Rounding
	wf           []int8
	wfSum        []int32 // Σ weights_feature per filter (the input zero point's term)
	wt           []int32 // weights_time widened
	b            []int32
	m1, m2       int32
	s1, s2       int
	inZP, outZP  int32
	stMin, stMax int32
	state16      bool
}

func newSVDFInt(p *prep, g svdfGeom, o *graph.SVDFOptions) (Kernel, error) {
	name := p.op.Name()
	if o.Activation != graph.ActRelu {
		return nil, p.unsupported(fmt.Sprintf("integer SVDF takes only RELU (TFLite rejects %v)", o.Activation))
	}
	in, wf, wt, st, out := p.in(0), p.in(1), p.in(2), p.in(4), p.out(0)
	sIn, zIn, ok1 := QuantParams(in)
	sWF, _, ok2 := QuantParams(wf)
	sWT, _, ok3 := QuantParams(wt)
	sSt, _, ok4 := QuantParams(st)
	sOut, zOut, ok5 := QuantParams(out)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || sIn <= 0 || sWF <= 0 || sWT <= 0 || sSt <= 0 || sOut <= 0 {
		return nil, fmt.Errorf("%s: input, weights, state and output need positive quantization scales", name)
	}
	// The TFLite runtime's SVDF rescales with the double-rounding product
	// even in its single-rounding build (measured against the oracle: the
	// single-rounding product differs by one step on some outputs), so every
	// Rounding mode computes it the same way.
	rnd := fixedpoint.DoubleRounding
	k := &svdfInt{g: g, rnd: rnd, wf: wf.Int8s(), inZP: zIn, outZP: zOut, state16: st.DType == graph.Int16}
	// TFLite multiplies and divides the scales in float32 before widening
	// them to double; a double product moves some multipliers by one unit.
	k.m1, k.s1 = rnd.QuantizeMultiplier(float64(sIn * sWF / sSt))
	k.m2, k.s2 = rnd.QuantizeMultiplier(float64(sSt * sWT / sOut))
	if k.state16 {
		k.stMin, k.stMax = math.MinInt16, math.MaxInt16
		for _, v := range wt.Int16s() {
			k.wt = append(k.wt, int32(v))
		}
	} else {
		k.stMin, k.stMax = math.MinInt8, math.MaxInt8
		for _, v := range wt.Int8s() {
			k.wt = append(k.wt, int32(v))
		}
	}
	if b := p.in(3); b != nil {
		k.b = b.Int32s()
	}
	k.wfSum = make([]int32, g.nFilter)
	for i, w := range k.wf[:g.nFilter*g.nInput] {
		k.wfSum[i/g.nInput] += int32(w)
	}
	if p.ref {
		return k, nil
	}
	return newSVDFIntFast(k)
}

func (k *svdfInt) Run(ins, outs []*Buffer) error {
	g := k.g
	x, y := ins[0].I8, outs[0].I8
	n := g.batch * g.nFilter * g.nMemory
	// The state as int32 for the time product; written back after the shift.
	var s16 []int16
	var s8 []int8
	if k.state16 {
		s16 = ins[4].I16[:n]
		copy(s16, s16[1:])
	} else {
		s8 = ins[4].I8[:n]
		copy(s8, s8[1:])
	}
	for b := 0; b < g.batch; b++ {
		xb := x[b*g.nInput : (b+1)*g.nInput]
		for f := 0; f < g.nFilter; f++ {
			w := k.wf[f*g.nInput : (f+1)*g.nInput]
			w = w[:len(xb)]
			// Σ w·(x − zp) = Σ w·x − zp·Σ w, equal in wrapping int32.
			var acc int32
			for i, v := range xb {
				acc += int32(w[i]) * int32(v)
			}
			acc -= k.inZP * k.wfSum[f]
			acc = k.rnd.MultiplyByQuantizedMultiplier(acc, k.m1, k.s1)
			acc = min(max(acc, k.stMin), k.stMax)
			at := (b*g.nFilter+f)*g.nMemory + g.nMemory - 1
			if k.state16 {
				s16[at] = int16(acc)
			} else {
				s8[at] = int8(acc)
			}
		}
	}
	for b := 0; b < g.batch; b++ {
		for u := 0; u < g.nUnit; u++ {
			var sum int32
			for r := 0; r < g.rank; r++ {
				f := u*g.rank + r
				base := (b*g.nFilter + f) * g.nMemory
				w := k.wt[f*g.nMemory : (f+1)*g.nMemory]
				if k.state16 {
					sum += timeDot(w, s16[base:base+len(w)])
				} else {
					sum += timeDot(w, s8[base:base+len(w)])
				}
			}
			if k.b != nil {
				sum += k.b[u]
			}
			v := k.rnd.MultiplyByQuantizedMultiplier(sum, k.m2, k.s2) + k.outZP
			y[b*g.nUnit+u] = int8(min(max(v, math.MinInt8), math.MaxInt8))
		}
	}
	return nil
}

// timeDot is the time product of one filter: Σ w[i]·state[i], the state's
// dtype resolved once per filter rather than per element.
func timeDot[T int8 | int16](w []int32, st []T) int32 {
	st = st[:len(w)]
	var dot int32
	for i, v := range st {
		dot += w[i] * int32(v)
	}
	return dot
}
