package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// svdfHybrid is TFLite's hybrid SVDF (svdf.cc EvalHybrid): float32 input,
// state, bias and output; int8 weights_feature with one scale; int8
// weights_time, which TFLite dequantizes once (w·s in float32) and then
// uses as float. Each step quantizes every input row to int8 (symmetric, or
// with a zero point under asymmetric_quantize_inputs), writes
// float32(dot)·(s_row·s_wf) into the state's newest slots, and computes the
// time filter, bias and activation as the float SVDF does.
type svdfHybrid struct {
	f          *svdfFloat // the time part: weights_time as float, bias, activation
	wf         []int8
	wfScale    float32
	wfSums     []int32
	asymmetric bool
}

func newSVDFHybrid(p *prep, g svdfGeom, o *graph.SVDFOptions) (Kernel, error) {
	name := p.op.Name()
	wf, wt := p.in(1), p.in(2)
	s, zp, ok := QuantParams(wf)
	if !ok || !(s > 0) || zp != 0 || len(wf.Quant.Scale) != 1 {
		return nil, fmt.Errorf("%s: hybrid weights_feature %q need one positive scale and zero point 0", name, wf.Name)
	}
	// The float kernel's prepare reads weights_time as float32: give it the
	// dequantized copy TFLite makes.
	wtF := wt.Float32s
	if wt.DType == graph.Int8 {
		st, zt, ok := QuantParams(wt)
		if !ok || !(st > 0) || zt != 0 {
			return nil, fmt.Errorf("%s: hybrid weights_time %q need a positive scale and zero point 0", name, wt.Name)
		}
		q := wt.Int8s()
		v := make([]float32, len(q))
		for i, x := range q {
			v[i] = float32(x) * st
		}
		wtF = func() []float32 { return v }
	}
	f := &svdfFloat{g: g, wt: wtF(), act: o.Activation}
	if b := p.in(3); b != nil {
		f.b = b.Float32s()
	}
	if o.Activation != graph.ActTanh {
		lo, hi, err := ActivationRangeFloat(o.Activation)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		f.actLo, f.actHi = lo, hi
	}
	k := &svdfHybrid{f: f, wf: wf.Int8s(), wfScale: s, asymmetric: o.AsymmetricQuantizeInputs}
	k.wfSums = rowSums(k.wf, g.nFilter, g.nInput)
	return k, nil
}

func (k *svdfHybrid) Run(ins, outs []*Buffer) error {
	g := k.f.g
	x, state := ins[0].F32, ins[4].F32
	copy(state, state[1:])
	scratch := make([]float32, g.batch*g.nFilter)
	if !allZero(x[:g.batch*g.nInput]) {
		q := make([]int8, g.batch*g.nInput)
		sf, zp := make([]float32, g.batch), make([]int32, g.batch)
		hybridQuantRows(x, g.batch, g.nInput, k.asymmetric, q, sf, zp)
		hybridMatVecAcc(k.wf, k.wfScale, k.wfSums, g.nFilter, g.nInput, q, sf, zp, g.batch, k.asymmetric, scratch)
	}
	for i, v := range scratch {
		state[i*g.nMemory+g.nMemory-1] = v
	}
	k.f.timeStep(state, outs[0].F32)
	return nil
}
