package interp

import (
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// fuseEmbeddingBags returns the ops of g with every GATHER → MEAN (or
// SUM) pair that kernels.EmbeddingBagFits accepts replaced by one
// embedding-bag op (kernels.EmbeddingBagOptions), orig[i] the index in
// g.Ops of ops[i] (for a bag, the GATHER's: its errors and profile name
// the GATHER, as the unfused run's range errors do) and how many pairs
// were fused. g is not modified: a bag is a new Op, every other op is g's.
//
// A text classifier looks up each word's vector in a constant table and
// averages them; the pair writes and reads back a [batch, words, dim]
// tensor (1 MiB for tfls_movie_review at batch 64) that the bag never
// forms. The sums are the pair's bits (see kernels.EmbeddingBagOptions).
//
// A pair qualifies when the table is a constant, the GATHER's output is
// read by the reduction alone and is not a graph output, and the
// reduction's axes are a constant.
func fuseEmbeddingBags(g *graph.Graph) (ops []*graph.Op, orig []int, fused int) {
	e := newOpEdits(g)
	drop, repl := e.drop, e.repl
	for i, op := range g.Ops {
		if op.Kind != graph.OpGather || len(op.Inputs) != 2 || len(op.Outputs) != 1 {
			continue
		}
		o, ok := op.Options.(*graph.GatherOptions)
		if !ok && op.Options != nil {
			continue
		}
		table, pos, mid := g.Tensor(op.Inputs[0]), g.Tensor(op.Inputs[1]), op.Outputs[0]
		if table == nil || pos == nil || !table.IsConst() || pos.IsConst() {
			continue
		}
		j, ok := e.soleReader(mid)
		if !ok {
			continue
		}
		red := g.Ops[j]
		if (red.Kind != graph.OpMean && red.Kind != graph.OpSum) || drop[j] || repl[j] != nil ||
			len(red.Inputs) != 2 || red.Inputs[0] != mid || len(red.Outputs) != 1 || red.Outputs[0] < 0 {
			continue
		}
		axes := g.Tensor(red.Inputs[1])
		if axes == nil || !axes.IsConst() || g.Tensors[red.Outputs[0]].DType != graph.Float32 ||
			g.Tensors[mid].DType != graph.Float32 {
			continue
		}
		if kernels.EmbeddingBagFits(table, pos, axes, o, red.Kind) != nil {
			continue
		}
		eb := &kernels.EmbeddingBagOptions{Reduce: red.Kind}
		if o != nil {
			eb.Gather = *o
		}
		// The bag takes the reduction's place: the positions exist there
		// too, and no op between the two reads the GATHER's output.
		repl[j] = &graph.Op{Kind: graph.OpGather, Inputs: []int{op.Inputs[0], op.Inputs[1], red.Inputs[1]},
			Outputs: []int{red.Outputs[0]}, Options: eb}
		e.from[j] = i // the bag at the reduction's place counts as the GATHER
		drop[i] = true
		fused++
	}
	ops, orig = e.apply(g)
	return ops, orig, fused
}
