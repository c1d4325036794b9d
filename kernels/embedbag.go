package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// EmbeddingBagOptions are the options of the op interp's fast schedule
// builds for a GATHER from a float32 table whose only reader is a MEAN or
// SUM over the gathered index dimensions: an embedding bag, as text
// classifiers average the word vectors of a sentence. The op has Kind
// graph.OpGather (so errors name GATHER, as the unfused run's do), inputs
// table, positions and the reduction's axis tensor, and the reduction's
// output. It is not a TFLite op and is never written to a file.
//
// The kernel sums each bag's table rows straight into the output, without
// the [bags, n, dim] intermediate the pair writes and reads back. Each
// output adds its rows in position order from +0, as MEAN's and SUM's
// float loops add the reduced axis, and MEAN divides by n as MEAN does: the
// bits are the pair's (a NaN's payload aside). A position outside the
// table is GATHER's error, with GATHER's message.
type EmbeddingBagOptions struct {
	Gather graph.GatherOptions
	Reduce graph.OpKind // graph.OpMean or graph.OpSum
}

// bagPlan is the shape of an embedding bag: bags outputs of dim values,
// each the sum (or mean) of n rows of a vocab-row table.
type bagPlan struct {
	bags, n, dim, vocab int
}

// EmbeddingBagFits reports (nil) whether GATHER(table, positions) with
// options o, read only by a reduction of kind reduce over the constant
// axes, runs as one embedding-bag kernel: a float32 table of rank ≥ 2
// gathered along axis 0 without batch dimensions by int16/int32/int64
// positions, reduced over trailing index dimensions alone (at least one
// position per bag). Otherwise the error says why.
func EmbeddingBagFits(table, positions, axes *graph.Tensor, o *graph.GatherOptions, reduce graph.OpKind) error {
	_, err := planEmbeddingBag(table, positions, axes, o, reduce)
	return err
}

func planEmbeddingBag(table, pos, axes *graph.Tensor, o *graph.GatherOptions, reduce graph.OpKind) (bagPlan, error) {
	var p bagPlan
	if reduce != graph.OpMean && reduce != graph.OpSum {
		return p, fmt.Errorf("the reduction is %s, not MEAN or SUM", reduce)
	}
	if table == nil || pos == nil || axes == nil {
		return p, fmt.Errorf("table, positions and axes are needed")
	}
	if table.DType != graph.Float32 || len(table.Shape) < 2 {
		return p, fmt.Errorf("table %q is %s %v, not a float32 matrix", table.Name, table.DType, table.Shape)
	}
	if !indexDType(pos.DType) || len(pos.Shape) == 0 {
		return p, fmt.Errorf("positions %q are %s %v, not int16/int32/int64 of rank ≥ 1", pos.Name, pos.DType, pos.Shape)
	}
	if o == nil {
		o = &graph.GatherOptions{}
	}
	mid, a, b, err := graph.GatherShape(table.Shape, pos.Shape, o.Axis, o.BatchDims)
	if err != nil {
		return p, err
	}
	if a != 0 || b != 0 {
		return p, fmt.Errorf("gathers along axis %d with %d batch dimensions, not rows", a, b)
	}
	ax, ok := constInt64s(axes)
	if !ok {
		return p, fmt.Errorf("axis tensor %q is not a constant int32/int64 tensor", axes.Name)
	}
	axs := make([]int, len(ax))
	for i, v := range ax {
		axs[i] = int(v)
	}
	red, err := graph.ReduceAxes(axs, len(mid))
	if err != nil {
		return p, fmt.Errorf("axis tensor %q: %v", axes.Name, err)
	}
	// The reduced axes must be index dimensions j..rank(pos)-1.
	k := len(pos.Shape)
	j := k
	for j > 0 && red[j-1] {
		j--
	}
	for d := range red {
		if red[d] != (d >= j && d < k) {
			return p, fmt.Errorf("reduces axes %v of %v, not trailing position dimensions", axs, mid)
		}
	}
	if j == k {
		return p, fmt.Errorf("reduces no position dimension")
	}
	p.bags, p.n = graph.NumElements(pos.Shape[:j]), graph.NumElements(pos.Shape[j:])
	p.dim, p.vocab = graph.NumElements(table.Shape[1:]), table.Shape[0]
	if p.n == 0 {
		return p, fmt.Errorf("bags of no position")
	}
	return p, nil
}

// embedBagKernel runs an EmbeddingBagOptions op.
type embedBagKernel struct {
	bagPlan
	mean bool
}

func prepareEmbeddingBag(p *prep, eb *EmbeddingBagOptions) (Kernel, error) {
	plan, err := planEmbeddingBag(p.in(0), p.in(1), p.in(2), &eb.Gather, eb.Reduce)
	if err != nil {
		return nil, p.unsupported("embedding bag: " + err.Error())
	}
	out := p.out(0)
	if out.DType != graph.Float32 || out.NumElements() != plan.bags*plan.dim {
		return nil, fmt.Errorf("%s: embedding bag output %q is %s %v, want %d float32 values: %w",
			p.op.Kind, out.Name, out.DType, out.Shape, plan.bags*plan.dim, graph.ErrShape)
	}
	return &embedBagKernel{bagPlan: plan, mean: eb.Reduce == graph.OpMean}, nil
}

// rangeErr is GATHER's error for position pos.
func (k *embedBagKernel) rangeErr(pos int) error {
	return fmt.Errorf("%s: position %d out of range [0, %d)", graph.OpGather, pos, k.vocab)
}

func (k *embedBagKernel) Run(ins, outs []*Buffer) error {
	table, pos, y := ins[0].F32, ins[1], outs[0].F32
	dim, n := k.dim, k.n
	for b := range k.bags {
		acc := y[b*dim : (b+1)*dim : (b+1)*dim]
		clear(acc)
		if pos.DType == graph.Int32 {
			ids := pos.I32[b*n : (b+1)*n : (b+1)*n]
			lo, hi := rowRange(ids)
			if lo < 0 || int(hi) >= k.vocab {
				for _, i := range ids {
					if i < 0 || int(i) >= k.vocab {
						return k.rangeErr(int(i))
					}
				}
			}
			sumRowsF32In(acc, table, ids, dim, lo, hi)
		} else {
			for r := range n {
				i := indexAt(pos, b*n+r)
				if i < 0 || i >= k.vocab {
					return k.rangeErr(i)
				}
				row := table[i*dim : (i+1)*dim : (i+1)*dim]
				for c, v := range row {
					acc[c] += v
				}
			}
		}
		if k.mean {
			for c := range acc {
				acc[c] /= float32(n)
			}
		}
	}
	return nil
}
