package explain

import (
	"errors"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// A model with one layer quantized and the rest float (the attribution's
// models) computes exactly what the float model computes up to that layer.
// Running only its suffix, fed with the float model's activations, costs a
// fraction of a full run when the layer is late — and the layers worth
// attributing usually are, since error accumulates towards the output.

// suffixProg runs the part of a mixed graph that differs from the float
// graph, fed from a KeepAll float executor.
type suffixProg struct {
	prog *interp.Program
	// feeds[k] is the float-graph tensor that fills input k.
	feeds []int
}

// newSuffix returns the suffix of g (a copy of float graph f with some ops
// quantized) or nil when it cannot be cut: the ops that are not pure float
// copies — QUANTIZE, DEQUANTIZE, any op touching a non-float32 activation —
// and every op downstream of them form the suffix; its inputs are the float
// activations those ops read from the untouched prefix, found in f by name,
// shape and dtype.
func newSuffix(f, g *graph.Graph, opts interp.Options) *suffixProg {
	if len(g.Outputs) != 1 {
		return nil
	}
	fByName := map[string]int{}
	for i, t := range f.Tensors {
		if t != nil && !t.IsConst() {
			fByName[t.Name] = i
		}
	}
	tainted := make([]bool, len(g.Tensors)) // produced by a suffix op
	var ops []*graph.Op
	for _, op := range g.Ops {
		in := op.Kind == graph.OpQuantize || op.Kind == graph.OpDequantize
		for _, ts := range [][]int{op.Inputs, op.Outputs} {
			for _, t := range ts {
				if t < 0 || t >= len(g.Tensors) {
					continue
				}
				gt := g.Tensors[t]
				if tainted[t] || (!gt.IsConst() && gt.DType != graph.Float32) {
					in = true
				}
			}
		}
		if !in {
			continue
		}
		ops = append(ops, op)
		for _, t := range op.Outputs {
			if t >= 0 && t < len(tainted) {
				tainted[t] = true
			}
		}
	}
	if len(ops) == 0 || !tainted[g.Outputs[0]] {
		return nil
	}
	sub := &graph.Graph{}
	idx := map[int]int{}
	sp := &suffixProg{}
	tensor := func(t int) (int, bool) {
		if t < 0 {
			return t, true
		}
		if s, ok := idx[t]; ok {
			return s, true
		}
		gt := *g.Tensors[t]
		s := sub.AddTensor(&gt)
		idx[t] = s
		if !tainted[t] && !gt.IsConst() {
			// A prefix activation: the float model must hold the same.
			fi, ok := fByName[gt.Name]
			if !ok || gt.DType != graph.Float32 || !sameShape(f.Tensors[fi].Shape, gt.Shape) {
				return s, false
			}
			sub.Inputs = append(sub.Inputs, s)
			sp.feeds = append(sp.feeds, fi)
		}
		return s, true
	}
	for _, op := range ops {
		ins := make([]int, len(op.Inputs))
		outs := make([]int, len(op.Outputs))
		for j, t := range op.Inputs {
			var ok bool
			if ins[j], ok = tensor(t); !ok {
				return nil
			}
		}
		for j, t := range op.Outputs {
			outs[j], _ = tensor(t)
		}
		nop := sub.AddOp(op.Kind, ins, outs, op.Options)
		nop.Version = op.Version
	}
	out, _ := tensor(g.Outputs[0])
	sub.Outputs = []int{out}
	if len(sub.Inputs) == 0 || sub.Validate() != nil {
		return nil
	}
	prog, err := interp.Compile(sub, opts)
	if err != nil {
		return nil
	}
	sp.prog = prog
	return sp
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// run feeds ex (an executor of sp.prog) from the float executor fe, which
// has just run, and runs it.
func (sp *suffixProg) run(ex, fe *interp.Executor) error {
	for k, fi := range sp.feeds {
		b := fe.Tensor(fi)
		if b == nil {
			return errNoTensor
		}
		if err := ex.SetInputFloat(k, b.F32); err != nil {
			return err
		}
	}
	return ex.Run()
}

var errNoTensor = errors.New("float activation not kept")

// agrees reports whether the suffix, fed by the float model, gives the
// same output as the whole mixed program on x (it should, bit for bit;
// a tiny tolerance allows a kernel choice that depends on the layout).
func (sp *suffixProg) agrees(full, fprog *interp.Program, x []float32) bool {
	fe, se, ge := fprog.NewExecutor(), sp.prog.NewExecutor(), full.NewExecutor()
	if fe.SetInputFloat(0, x) != nil || fe.Run() != nil || sp.run(se, fe) != nil ||
		ge.SetInputFloat(0, x) != nil || ge.Run() != nil {
		return false
	}
	a, b := se.OutputFloat(0, nil), ge.OutputFloat(0, nil)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if d := math.Abs(float64(a[i] - b[i])); d > 1e-5*(1+math.Abs(float64(b[i]))) || math.IsNaN(d) {
			return false
		}
	}
	return true
}
