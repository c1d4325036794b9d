package interp

import (
	"fmt"
	"math"
	"sort"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// arenaPlan places the activations of one op sequence in one arena.
type arenaPlan struct {
	// offset is each tensor's byte offset in the arena (-1: not placed
	// here: a constant, an external tensor or one no op touches).
	offset []int
	// alias maps each tensor to the tensor whose bytes it shares (itself
	// unless it is an aliased RESHAPE output; see aliases).
	alias     []int
	size      int
	naiveSize int // size without reuse, for reporting
}

// planSpec says what planArena plans.
type planSpec struct {
	g      *graph.Graph
	ops    []*graph.Op // in execution order (a subset of g.Ops)
	consts []*kernels.Buffer
	// external tensors live elsewhere (another arena); they are not placed
	// and never aliased.
	external []bool
	// fromStart and toEnd are tensors alive from before the first op or
	// until after the last one (graph inputs, graph outputs, tensors
	// carried into or out of the sequence).
	fromStart, toEnd []int
	keepAll          bool
}

// planArena assigns every activation tensor the ops touch a byte offset in
// one arena. Two tensors may share bytes only when their lifetimes — from
// the op that writes them to the last op that reads them — do not overlap.
// Tensors are placed largest first at the lowest offset that fits beside
// every already-placed tensor alive at the same time (a greedy first fit,
// as TFLite Micro's planner does).
//
// A RESHAPE output aliases its input (see aliases): the pair is planned as
// one tensor alive from the input's producer to the output's last reader,
// and the RESHAPE itself then has nothing to do.
func planArena(s planSpec) (*arenaPlan, error) {
	g := s.g
	n := len(g.Tensors)
	p := &arenaPlan{alias: aliases(s)}
	first := make([]int, n)
	last := make([]int, n)
	used := make([]bool, n)
	for i := range first {
		first[i], last[i] = math.MaxInt, -1
	}
	touch := func(t, at int) {
		if t < 0 || t >= n || s.consts[t] != nil || (s.external != nil && s.external[t]) {
			return
		}
		t = p.alias[t]
		used[t] = true
		first[t] = min(first[t], at)
		last[t] = max(last[t], at)
	}
	end := len(s.ops)
	for _, t := range s.fromStart {
		touch(t, -1)
	}
	for oi, op := range s.ops {
		for _, t := range op.Inputs {
			touch(t, oi)
		}
		for _, t := range op.Outputs {
			touch(t, oi)
		}
	}
	for _, t := range s.toEnd {
		touch(t, end)
	}
	type item struct{ t, size int }
	var items []item
	for t := range n {
		if !used[t] {
			continue
		}
		size := g.Tensors[t].ByteSize()
		if size < 0 || size > math.MaxInt32 {
			return nil, fmt.Errorf("tensor %d %q: %d bytes is too large", t, g.Tensors[t].Name, size)
		}
		size = (size + alignment - 1) / alignment * alignment
		if s.keepAll {
			first[t], last[t] = -1, end
		}
		items = append(items, item{t, size})
		p.naiveSize += size
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].size > items[b].size })
	p.offset = make([]int, n)
	for i := range p.offset {
		p.offset[i] = -1
	}
	type placed struct{ off, size, first, last int }
	var done []placed
	for _, it := range items {
		// Collect the intervals of live-overlapping tensors, sorted by offset,
		// and take the first gap large enough.
		var busy []placed
		for _, d := range done {
			if d.first <= last[it.t] && first[it.t] <= d.last {
				busy = append(busy, d)
			}
		}
		sort.Slice(busy, func(a, b int) bool { return busy[a].off < busy[b].off })
		off := 0
		for _, b := range busy {
			if off+it.size <= b.off {
				break
			}
			off = max(off, b.off+b.size)
		}
		p.offset[it.t] = off
		done = append(done, placed{off, it.size, first[it.t], last[it.t]})
		p.size = max(p.size, off+it.size)
	}
	for t, r := range p.alias {
		if r != t {
			p.offset[t] = p.offset[r]
		}
	}
	return p, nil
}

// aliases returns, for every tensor, the tensor whose memory it uses: itself,
// or for the output of a RESHAPE whose bytes are its input's, that input's
// own alias. A RESHAPE qualifies when its input is an activation (not a
// constant) of the same dtype and byte size and its output is not a graph
// input; no kernel writes to its inputs, so reading the shared bytes under
// the output's shape is the copy the RESHAPE would have made. Tensors
// stored outside the arena are never aliased.
func aliases(s planSpec) []int {
	g := s.g
	alias := make([]int, len(g.Tensors))
	for i := range alias {
		alias[i] = i
	}
	isInput := make([]bool, len(g.Tensors))
	for _, t := range g.Inputs {
		if t >= 0 && t < len(isInput) {
			isInput[t] = true
		}
	}
	ext := func(t int) bool { return s.external != nil && s.external[t] }
	for _, op := range s.ops {
		if op.Kind != graph.OpReshape || len(op.Inputs) == 0 || len(op.Outputs) != 1 {
			continue
		}
		in, out := op.Inputs[0], op.Outputs[0]
		if in < 0 || in >= len(alias) || out < 0 || out >= len(alias) || in == out {
			continue
		}
		ti, to := g.Tensors[in], g.Tensors[out]
		if s.consts[in] != nil || s.consts[out] != nil || isInput[out] || alias[out] != out ||
			ext(in) || ext(out) || ti.DType != to.DType || ti.ByteSize() != to.ByteSize() {
			continue
		}
		// Ops are in execution order, so the input's alias is final.
		alias[out] = alias[in]
	}
	return alias
}

// stageKernels returns prepared with every RESHAPE whose output the plan
// aliases replaced by aliasedKernel.
func stageKernels(ops []*graph.Op, prepared []kernels.Kernel, alias []int) []kernels.Kernel {
	ks := append([]kernels.Kernel(nil), prepared...)
	for i, op := range ops {
		if op.Kind == graph.OpReshape && len(op.Outputs) == 1 && alias[op.Outputs[0]] != op.Outputs[0] {
			ks[i] = aliasedKernel{}
		}
	}
	return ks
}
