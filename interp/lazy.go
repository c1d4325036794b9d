package interp

import (
	"sync"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// deferPlainOnly replaces the plain schedule's kernels that the rewritten
// one does not share (ops it fused or runs at a chunk of the batch, which
// it prepared again) with ones prepared on their first Run. Only a Run
// with an Observer uses them, and a kernel's packed weights, row maps and
// tables would otherwise be held twice: seed-cnn float at batch 64 held
// 0.9 MB of such duplicates. Each op already prepared once here, so the
// later preparation cannot fail on what Compile checked.
func (p *Program) deferPlainOnly(g *graph.Graph, opts Options, bs *bodies) {
	used := make([]bool, len(g.Ops))
	for i, op := range p.fast.post.ops {
		if oi := p.fast.post.orig[i]; op == g.Ops[oi] {
			used[oi] = true
		}
	}
	for oi, op := range g.Ops {
		if used[oi] || isControl(op.Kind) || p.dyn.runs(oi) {
			continue
		}
		ins := make([]*graph.Tensor, len(op.Inputs))
		for j, ti := range op.Inputs {
			ins[j] = g.Tensor(ti)
		}
		outs := make([]*graph.Tensor, len(op.Outputs))
		for j, ti := range op.Outputs {
			outs[j] = g.Tensor(ti)
		}
		p.prepared[oi] = &lazyKernel{prepare: func() (kernels.Kernel, error) {
			return prepareOp(g, op, ins, outs, opts, bs, p.scratch)
		}}
	}
}

// lazyKernel prepares its kernel on the first Run (safe for concurrent
// Runs).
type lazyKernel struct {
	once    sync.Once
	prepare func() (kernels.Kernel, error)
	k       kernels.Kernel
	err     error
}

// Run implements kernels.Kernel.
func (l *lazyKernel) Run(ins, outs []*kernels.Buffer) error {
	l.once.Do(func() { l.k, l.err = l.prepare(); l.prepare = nil })
	if l.err != nil {
		return l.err
	}
	return l.k.Run(ins, outs)
}
