package interp

import (
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// ConvPoolMode selects which 8-bit CONV_2D → 2×2 MAX_POOL_2D pairs the
// fast schedule runs as one op (fuseConvPools).
type ConvPoolMode int

const (
	// ConvPoolsNative, the default, fuses the pairs whose conv writes its
	// output pooled itself on this CPU (kernels.ConvPoolNative): the only
	// ones one op makes faster. The others as one op run the pair's own
	// kernels through a scratch, 2.5–3% slower on seed-cnn under AVX2 +
	// AVX-VNNI (docs/performance-kernels.md, cpool).
	ConvPoolsNative ConvPoolMode = iota
	// ConvPoolsAll fuses every eligible pair (tests and comparisons).
	ConvPoolsAll
	// ConvPoolsNone fuses none.
	ConvPoolsNone
)

// fuseConvPools returns the ops of g with every 8-bit CONV_2D whose output
// only a 2×2 stride-2 VALID MAX_POOL_2D reads (kernels.ConvPoolFits;
// with ConvPoolsNative, only where kernels.ConvPoolNative under rnd)
// replaced by one CONV_2D with kernels.ConvPoolOptions writing the pool's
// output, standing at the conv's place (orig: the conv's index in g.Ops);
// the pool is dropped. fused is how many pairs it made. g is not
// modified. It runs after fuseActivations, so the pool may carry a fused
// activation or a map (kernels.MaxPoolMapOptions): seed-cnn's conv → pool
// → rescaling RELU chains become one op each.
//
// Why: the conv's full-resolution output (4× the pooled one) need not go
// through memory between two kernels, and a conv kernel that can pool
// its own output (setPool2x2, the Winograd output stage) requantizes only
// the maxima. The kernel falls back to the pair's own kernels in a row
// otherwise, so the bits are the pair's.
func fuseConvPools(g *graph.Graph, mode ConvPoolMode, rnd fixedpoint.Rounding) (ops []*graph.Op, orig []int, fused int) {
	e := newOpEdits(g)
	if mode == ConvPoolsNone {
		ops, orig = e.apply(g)
		return ops, orig, 0
	}
	for i, op := range g.Ops {
		co, ok := op.Options.(*graph.Conv2DOptions)
		if op.Kind != graph.OpConv2D || !ok || co == nil || len(op.Inputs) < 2 || len(op.Outputs) != 1 || e.repl[i] != nil {
			continue
		}
		mid := op.Outputs[0]
		j, ok := e.soleReader(mid)
		if !ok || e.drop[j] || e.repl[j] != nil {
			continue
		}
		pool := g.Ops[j]
		if pool.Kind != graph.OpMaxPool2D || len(pool.Inputs) != 1 || pool.Inputs[0] != mid || len(pool.Outputs) != 1 || pool.Outputs[0] < 0 {
			continue
		}
		in, w, m, out := g.Tensor(op.Inputs[0]), g.Tensor(op.Inputs[1]), g.Tensors[mid], g.Tensors[pool.Outputs[0]]
		if kernels.ConvPoolFits(op, in, w, m, pool, out) != nil {
			continue
		}
		if mode == ConvPoolsNative {
			ins := make([]*graph.Tensor, len(op.Inputs))
			for k, t := range op.Inputs {
				ins[k] = g.Tensor(t)
			}
			if !kernels.ConvPoolNative(op, ins, m, rnd) {
				continue
			}
		}
		nop := *op
		nop.Outputs = []int{pool.Outputs[0]}
		nop.Options = &kernels.ConvPoolOptions{Conv: *co, Pool: pool, Mid: m}
		e.repl[i] = &nop
		e.drop[j] = true
		fused++
	}
	ops, orig = e.apply(g)
	return ops, orig, fused
}
