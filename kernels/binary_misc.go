package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// Comparisons, logical ops, SELECT / SELECT_V2, ADD_N and PRELU.

// cmpKernel implements LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL and
// NOT_EQUAL: a bool output from two inputs of one dtype.
type cmpKernel struct {
	bc   *broadcast
	kind graph.OpKind
	// 8-bit quantized inputs are compared after TFLite's rescale to a
	// common 8-bit-headroom scale (scale1/scale2); nil compares stored values.
	scale1, scale2 func(v int32) int32
}

// cmpOf returns the comparison of kind for an ordered type.
func cmpOf[T int32 | int64 | float32](kind graph.OpKind) func(a, b T) bool {
	switch kind {
	case graph.OpLess:
		return func(a, b T) bool { return a < b }
	case graph.OpLessEqual:
		return func(a, b T) bool { return a <= b }
	case graph.OpGreater:
		return func(a, b T) bool { return a > b }
	case graph.OpGreaterEqual:
		return func(a, b T) bool { return a >= b }
	case graph.OpEqual:
		return func(a, b T) bool { return a == b }
	}
	return func(a, b T) bool { return a != b }
}

func cmpLoop[T any](bc *broadcast, x, y []T, z []bool, f func(a, b T) bool) {
	bc.eachRow(func(o, i1, i2, n, d1, d2 int) {
		for j := range n {
			z[o+j] = f(x[i1+j*d1], y[i2+j*d2])
		}
	})
}

// cmpInts compares 8-bit tensors, rescaled when scale1 and scale2 are set.
func cmpInts[T ~int8 | ~uint8](k *cmpKernel, x, y []T, z []bool) {
	f := cmpOf[int32](k.kind)
	if k.scale1 == nil {
		cmpLoop(k.bc, x, y, z, func(a, b T) bool { return f(int32(a), int32(b)) })
		return
	}
	cmpLoop(k.bc, x, y, z, func(a, b T) bool { return f(k.scale1(int32(a)), k.scale2(int32(b))) })
}

func (k *cmpKernel) Run(ins, outs []*Buffer) error {
	a, b, z := ins[0], ins[1], outs[0].Bool
	switch a.DType {
	case graph.Float32:
		cmpLoop(k.bc, a.F32, b.F32, z, cmpOf[float32](k.kind))
	case graph.Int32:
		cmpLoop(k.bc, a.I32, b.I32, z, cmpOf[int32](k.kind))
	case graph.Int64:
		cmpLoop(k.bc, a.I64, b.I64, z, cmpOf[int64](k.kind))
	case graph.Int8:
		cmpInts(k, a.I8, b.I8, z)
	case graph.UInt8:
		cmpInts(k, a.U8, b.U8, z)
	case graph.Bool:
		eq := k.kind == graph.OpEqual
		cmpLoop(k.bc, a.Bool, b.Bool, z, func(x, y bool) bool { return (x == y) == eq })
	}
	return nil
}

func prepareCompare(p *prep) (Kernel, error) {
	x, y, out := p.in(0), p.in(1), p.out(0)
	if x == nil || y == nil {
		return nil, fmt.Errorf("%s: needs two inputs", p.op.Kind)
	}
	if x.DType != y.DType || out.DType != graph.Bool {
		return nil, p.unsupported("inputs must share one dtype and the output be bool")
	}
	bc, err := newBroadcast(x.Shape, y.Shape, out.Shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", p.op.Kind, err, graph.ErrShape)
	}
	k := &cmpKernel{bc: bc, kind: p.op.Kind}
	switch x.DType {
	case graph.Float32, graph.Int32, graph.Int64:
		return k, nil
	case graph.Bool:
		if p.op.Kind == graph.OpEqual || p.op.Kind == graph.OpNotEqual {
			return k, nil
		}
	case graph.Int8, graph.UInt8:
		// TFLite rescales 8-bit inputs: (v − zp)·2^8 times the scale as a
		// multiplier below one. Without quantization, stored values compare.
		s1, z1, ok1 := QuantParams(x)
		s2, z2, ok2 := QuantParams(y)
		if !ok1 || !ok2 {
			return k, nil
		}
		m1, sh1, okm1 := fixedpoint.QuantizeMultiplierSmallerThanOneExp(float64(s1))
		m2, sh2, okm2 := fixedpoint.QuantizeMultiplierSmallerThanOneExp(float64(s2))
		if !okm1 || !okm2 {
			return nil, p.unsupported(fmt.Sprintf("8-bit comparison needs scales below 1, got %g and %g", s1, s2))
		}
		const left = 8
		k.scale1 = func(v int32) int32 {
			return fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp((v-z1)*(1<<left), m1, sh1)
		}
		k.scale2 = func(v int32) int32 {
			return fixedpoint.MultiplyByQuantizedMultiplierSmallerThanOneExp((v-z2)*(1<<left), m2, sh2)
		}
		return k, nil
	}
	return nil, p.unsupported("dtype")
}

// logicalKernel implements LOGICAL_AND, LOGICAL_OR (broadcast) and
// LOGICAL_NOT on bool tensors.
type logicalKernel struct {
	bc   *broadcast // nil for LOGICAL_NOT
	kind graph.OpKind
	n    int
}

func (k *logicalKernel) Run(ins, outs []*Buffer) error {
	z := outs[0].Bool
	switch k.kind {
	case graph.OpLogicalNot:
		for i, v := range ins[0].Bool[:k.n] {
			z[i] = !v
		}
	case graph.OpLogicalAnd:
		cmpLoop(k.bc, ins[0].Bool, ins[1].Bool, z, func(a, b bool) bool { return a && b })
	default:
		cmpLoop(k.bc, ins[0].Bool, ins[1].Bool, z, func(a, b bool) bool { return a || b })
	}
	return nil
}

func prepareLogical(p *prep) (Kernel, error) {
	out := p.out(0)
	k := &logicalKernel{kind: p.op.Kind, n: out.NumElements()}
	for _, t := range p.ins {
		if t == nil || t.DType != graph.Bool {
			return nil, p.unsupported("logical ops take bool tensors")
		}
	}
	if out.DType != graph.Bool {
		return nil, p.unsupported("logical ops give bool tensors")
	}
	if p.op.Kind == graph.OpLogicalNot {
		if err := checkElems(p.op, p.ins[0], out); err != nil {
			return nil, err
		}
		return k, nil
	}
	if len(p.ins) < 2 {
		return nil, fmt.Errorf("%s: needs two inputs", p.op.Kind)
	}
	bc, err := newBroadcast(p.ins[0].Shape, p.ins[1].Shape, out.Shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", p.op.Kind, err, graph.ErrShape)
	}
	k.bc = bc
	return k, nil
}

// selectKernel implements SELECT and SELECT_V2: out = cond ? x : y with the
// three inputs broadcast to the output (SELECT's rank-1 condition picks
// whole rows: it is aligned with the first dimension).
type selectKernel struct {
	n       int
	strides [3][maxBroadcastRank]int
	out     [maxBroadcastRank]int
	rank    int
}

// index calls f with the output index and each input's index.
func (k *selectKernel) each(f func(o, c, x, y int)) {
	if k.n == 0 {
		return
	}
	var idx [maxBroadcastRank]int
	var pos [3]int
	for o := 0; o < k.n; o++ {
		f(o, pos[0], pos[1], pos[2])
		for d := k.rank - 1; d >= 0; d-- {
			idx[d]++
			for i := range pos {
				pos[i] += k.strides[i][d]
			}
			if idx[d] < k.out[d] {
				break
			}
			for i := range pos {
				pos[i] -= k.strides[i][d] * idx[d]
			}
			idx[d] = 0
		}
	}
}

func selectLoop[T any](k *selectKernel, c []bool, x, y, z []T) {
	k.each(func(o, ci, xi, yi int) {
		if c[ci] {
			z[o] = x[xi]
		} else {
			z[o] = y[yi]
		}
	})
}

func (k *selectKernel) Run(ins, outs []*Buffer) error {
	c, x, y, z := ins[0].Bool, ins[1], ins[2], outs[0]
	switch z.DType {
	case graph.Float32:
		selectLoop(k, c, x.F32, y.F32, z.F32)
	case graph.Int8:
		selectLoop(k, c, x.I8, y.I8, z.I8)
	case graph.UInt8:
		selectLoop(k, c, x.U8, y.U8, z.U8)
	case graph.Int16:
		selectLoop(k, c, x.I16, y.I16, z.I16)
	case graph.Int32:
		selectLoop(k, c, x.I32, y.I32, z.I32)
	case graph.Int64:
		selectLoop(k, c, x.I64, y.I64, z.I64)
	case graph.Bool:
		selectLoop(k, c, x.Bool, y.Bool, z.Bool)
	}
	return nil
}

func prepareSelect(p *prep) (Kernel, error) {
	c, x, y, out := p.in(0), p.in(1), p.in(2), p.out(0)
	if c == nil || x == nil || y == nil {
		return nil, fmt.Errorf("%s: needs three inputs", p.op.Kind)
	}
	if c.DType != graph.Bool || x.DType != out.DType || y.DType != out.DType {
		return nil, p.unsupported("condition must be bool and both values the output's dtype")
	}
	switch out.DType {
	case graph.Float32, graph.Int8, graph.UInt8, graph.Int16, graph.Int32, graph.Int64, graph.Bool:
	default:
		return nil, p.unsupported("dtype")
	}
	if out.DType != graph.Float32 && out.DType != graph.Bool {
		// SELECT copies stored values: the values must share a quantization.
		if !sameQuant(x, out) || !sameQuant(y, out) {
			return nil, p.unsupported("both values need the output's quantization")
		}
	}
	cs := c.Shape
	if p.op.Kind == graph.OpSelect && len(cs) == 1 && len(x.Shape) > 1 {
		cs = append([]int{cs[0]}, make([]int, len(x.Shape)-1)...)
		for i := 1; i < len(cs); i++ {
			cs[i] = 1
		}
	}
	want, err := graph.BroadcastShapes(cs, x.Shape)
	if err == nil {
		want, err = graph.BroadcastShapes(want, y.Shape)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", p.op.Kind, err, graph.ErrShape)
	}
	if graph.NumElements(want) != out.NumElements() || len(want) > maxBroadcastRank {
		return nil, fmt.Errorf("%s: inputs broadcast to %v, output %q is %v: %w", p.op.Kind, want, out.Name, out.Shape, graph.ErrShape)
	}
	k := &selectKernel{n: out.NumElements(), rank: len(want)}
	copy(k.out[:], want)
	for i, s := range [][]int{cs, x.Shape, y.Shape} {
		st := 1
		for d := len(want) - 1; d >= 0; d-- {
			j := len(s) - len(want) + d
			if j >= 0 && s[j] != 1 {
				k.strides[i][d] = st
				st *= s[j]
			}
		}
	}
	return k, nil
}

// sameQuant reports whether two tensors have equal per-tensor quantization
// (both none counts as equal).
func sameQuant(a, b *graph.Tensor) bool {
	sa, za, oka := QuantParams(a)
	sb, zb, okb := QuantParams(b)
	return oka == okb && sa == sb && za == zb
}

// addNKernel sums its inputs elementwise, in input order (float32, int32).
type addNKernel struct{ n int }

func (k *addNKernel) Run(ins, outs []*Buffer) error {
	z := outs[0]
	switch z.DType {
	case graph.Float32:
		o := z.F32[:k.n]
		copy(o, ins[0].F32[:k.n])
		for _, b := range ins[1:] {
			for i, v := range b.F32[:k.n] {
				o[i] += v
			}
		}
	case graph.Int32:
		o := z.I32[:k.n]
		copy(o, ins[0].I32[:k.n])
		for _, b := range ins[1:] {
			for i, v := range b.I32[:k.n] {
				o[i] += v
			}
		}
	}
	return nil
}

func prepareAddN(p *prep) (Kernel, error) {
	out := p.out(0)
	if out.DType != graph.Float32 && out.DType != graph.Int32 {
		return nil, p.unsupported("ADD_N takes float32 or int32")
	}
	for i, t := range p.ins {
		if t == nil {
			return nil, fmt.Errorf("%s: input %d is missing", p.op.Kind, i)
		}
		if t.DType != out.DType {
			return nil, p.unsupported("inputs and output must share one dtype")
		}
		if !sameShape(t.Shape, out.Shape) {
			return nil, fmt.Errorf("%s: input %q shape %v differs from output %v: %w", p.op.Kind, t.Name, t.Shape, out.Shape, graph.ErrShape)
		}
	}
	return &addNKernel{n: out.NumElements()}, nil
}

// preluKernel: x for x ≥ 0, alpha·x below, alpha broadcast against x.
type preluKernel struct {
	bc *broadcast
	q  func(x, a int32) int32
}

func (k *preluKernel) Run(ins, outs []*Buffer) error {
	x, a, z := ins[0], ins[1], outs[0]
	switch z.DType {
	case graph.Float32:
		xs, as, zs := x.F32, a.F32, z.F32
		k.bc.each(func(o, i, j int) {
			if v := xs[i]; v >= 0 {
				zs[o] = v
			} else {
				zs[o] = v * as[j]
			}
		})
	case graph.Int8:
		preluQuant(k, x.I8, a.I8, z.I8)
	case graph.UInt8:
		preluQuant(k, x.U8, a.U8, z.U8)
	}
	return nil
}

func preluQuant[T ~int8 | ~uint8](k *preluKernel, x, a, z []T) {
	k.bc.each(func(o, i, j int) { z[o] = T(k.q(int32(x[i]), int32(a[j]))) })
}

func preparePrelu(p *prep) (Kernel, error) {
	x, a, out := p.in(0), p.in(1), p.out(0)
	if x == nil || a == nil {
		return nil, fmt.Errorf("%s: needs input and alpha", p.op.Kind)
	}
	if x.DType != out.DType || a.DType != out.DType {
		return nil, p.unsupported("input, alpha and output must share one dtype")
	}
	bc, err := newBroadcast(x.Shape, a.Shape, out.Shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", p.op.Kind, err, graph.ErrShape)
	}
	k := &preluKernel{bc: bc}
	switch out.DType {
	case graph.Float32:
		return k, nil
	case graph.Int8, graph.UInt8:
	default:
		return nil, p.unsupported("dtype")
	}
	si, zi, err := requireQuant(p.op, "input", x)
	if err != nil {
		return nil, err
	}
	sa, za, err := requireQuant(p.op, "alpha", a)
	if err != nil {
		return nil, err
	}
	so, zo, err := requireQuant(p.op, "output", out)
	if err != nil {
		return nil, err
	}
	// TFLite's quantized PRELU: one multiplier for the identity branch
	// (si/so), one for the product with the offset alpha (si·sa/so), both
	// real multipliers formed in float32 (C float arithmetic on the tensor
	// scales) and applied with double rounding in every mode. Measured
	// against the oracle on 640 random int8/uint8 PRELUs, same shape and
	// broadcast alpha: this matches every value; the multipliers formed
	// in double missed exact ties (7.5 → 8 where TFLite gives 7), and
	// single rounding or XNNPACK's float32 rescale missed 1–5%.
	p1 := float32(si / so)
	p2 := float32(float32(si*sa) / so)
	m1, sh1 := fixedpoint.QuantizeMultiplier(float64(p1))
	m2, sh2 := fixedpoint.QuantizeMultiplier(float64(p2))
	lo, hi := DTypeRange(out.DType)
	k.q = func(v, al int32) int32 {
		v -= zi
		var r int32
		if v >= 0 {
			r = fixedpoint.MultiplyByQuantizedMultiplier(v, m1, sh1)
		} else {
			r = fixedpoint.MultiplyByQuantizedMultiplier(v*(al-za), m2, sh2)
		}
		return clampQ(r+zo, lo, hi)
	}
	return k, nil
}
