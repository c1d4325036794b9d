package interp

import (
	"errors"
	"fmt"
	"sort"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// OpProblem is one op that Compile would refuse.
type OpProblem struct {
	Index int    // op index in the graph
	Op    string // op name, e.g. "RESIZE_BILINEAR"
	// Key groups problems for a summary: the op name when qbench has no
	// kernel for the kind, else the name with the dtypes it lacks, e.g.
	// "CONV_2D (uint8, uint8, int32 -> uint8)".
	Key string
	Err error
}

// Check reports every op of g that qbench cannot run, not only the first
// as Compile does, so a user sees the whole list at once. It takes the
// steps Compile takes (shape checks, Options.Batch, constant folding), so
// ops are prepared as Compile prepares them; problem indices are g's op
// indices. A graph-level problem (invalid wiring, inconsistent shapes, a
// fold that fails, too much memory) is returned as the error, and so is
// anything else Compile refuses when every op prepared: Check reports a
// graph runnable only when Compile accepts it.
func Check(g *graph.Graph, opts Options) ([]OpProblem, error) {
	if g == nil {
		return nil, errors.New("check: nil graph")
	}
	bs := newBodies(g, opts)
	fg, folded, err := loadGraph(g, opts)
	if err != nil {
		return nil, err
	}
	// Fold removes ops and keeps the rest in order: map the folded graph's
	// op indices back to g's.
	skip := map[int]bool{}
	for _, f := range folded.Ops {
		skip[f.Index] = true
	}
	orig := make([]int, 0, len(fg.Ops))
	for i := range g.Ops {
		if !skip[i] {
			orig = append(orig, i)
		}
	}
	if len(orig) != len(fg.Ops) {
		return nil, fmt.Errorf("check: folding kept %d of %d ops but reported %d folded", len(fg.Ops), len(g.Ops), len(folded.Ops))
	}
	dyn, err := planDynamic(fg)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	var probs []OpProblem
	for fi, op := range fg.Ops {
		if dyn.runs(fi) {
			continue // prepared when it runs, for the shapes it then has
		}
		ins := make([]*graph.Tensor, len(op.Inputs))
		for j, ti := range op.Inputs {
			ins[j] = fg.Tensor(ti)
		}
		outs := make([]*graph.Tensor, len(op.Outputs))
		for j, ti := range op.Outputs {
			outs[j] = fg.Tensor(ti)
		}
		_, err := prepareOp(fg, op, ins, outs, opts, bs, nil)
		if err == nil {
			continue
		}
		p := OpProblem{Index: orig[fi], Op: op.Name(), Key: op.Name(), Err: err}
		var ue *kernels.UnsupportedError
		if errors.As(err, &ue) && !ue.NoKernel {
			p.Key = fmt.Sprintf("%s (%s)", ue.Op, ue.Types)
		} else if !errors.Is(err, kernels.ErrUnsupported) {
			p.Key = op.Name() + " (invalid)"
		}
		probs = append(probs, p)
	}
	if len(probs) == 0 {
		// What remains (the arena budget, the fast schedule, subgraph
		// bodies) only Compile itself checks.
		if _, err := Compile(g, opts); err != nil {
			return nil, err
		}
	}
	return probs, nil
}

// MissingCount is how many ops share one OpProblem.Key.
type MissingCount struct {
	Key   string
	Count int
}

// Missing groups problems by key, most frequent first (ties by key).
func Missing(probs []OpProblem) []MissingCount {
	n := map[string]int{}
	for _, p := range probs {
		n[p.Key]++
	}
	out := make([]MissingCount, 0, len(n))
	for k, c := range n {
		out = append(out, MissingCount{k, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}
