package explain

import (
	"slices"
	"strings"

	"github.com/qbench/qbench/graph"
)

// Match pairs an activation of the float graph with its integer counterpart
// in the quantized graph.
type Match struct {
	// Name is the float tensor's name.
	Name string
	// Op is the kind of the float op producing it ("INPUT" for the input).
	Op string
	// FloatOp and QuantOp index the producing ops (-1 for graph inputs or
	// when the integer tensor is made by a QUANTIZE).
	FloatOp, QuantOp int
	// Float and Quant index the tensors.
	Float, Quant int
}

// MatchTensors pairs float activations with integer tensors of q: by name
// first (exact for models qbench quantized, whose integer copies at float
// boundaries are called "<name>_int8"/"<name>_int16"), then, for models
// from elsewhere, by op order, kind and output shape. It returns the
// matches in float-graph order, the names of float activations left
// unmatched, and how matching was done ("name" or "order").
func MatchTensors(f, q *graph.Graph) ([]Match, []string, string) {
	qProd := q.Producers()
	fProd := f.Producers()
	intTensor := func(t *graph.Tensor) bool {
		return t != nil && !t.IsConst() && t.Quant != nil && len(t.Quant.Scale) == 1 &&
			(t.DType == graph.Int8 || t.DType == graph.Int16)
	}
	byName := map[string]int{}
	for i, t := range q.Tensors {
		if intTensor(t) {
			byName[t.Name] = i
		}
	}
	acts := activations(f)
	var matches []Match
	matched := map[int]bool{}
	for _, ft := range acts {
		name := f.Tensors[ft].Name
		qi, ok := byName[name]
		if !ok {
			if qi, ok = byName[name+"_int8"]; !ok {
				qi, ok = byName[name+"_int16"]
			}
		}
		if ok && slices.Equal(q.Tensors[qi].Shape, f.Tensors[ft].Shape) {
			matches = append(matches, newMatch(f, q, fProd, qProd, ft, qi))
			matched[ft] = true
		}
	}
	how := "name"
	if len(matches) < (len(acts)+1)/2 {
		how = "order"
		matches, matched = matchByOrder(f, q, fProd, qProd, intTensor)
	}
	var unmatched []string
	for _, ft := range acts {
		if !matched[ft] {
			unmatched = append(unmatched, f.Tensors[ft].Name)
		}
	}
	return matches, unmatched, how
}

// activations lists the float graph's inputs and op outputs, in order.
func activations(f *graph.Graph) []int {
	var a []int
	seen := map[int]bool{}
	add := func(t int) {
		if t >= 0 && !seen[t] && !f.Tensors[t].IsConst() && f.Tensors[t].DType == graph.Float32 {
			seen[t] = true
			a = append(a, t)
		}
	}
	for _, in := range f.Inputs {
		add(in)
	}
	for _, op := range f.Ops {
		for _, o := range op.Outputs {
			add(o)
		}
	}
	return a
}

func newMatch(f, q *graph.Graph, fProd, qProd []int, ft, qt int) Match {
	m := Match{Name: f.Tensors[ft].Name, Op: "INPUT", FloatOp: fProd[ft], QuantOp: qProd[qt], Float: ft, Quant: qt}
	if m.FloatOp >= 0 {
		m.Op = f.Ops[m.FloatOp].Kind.String()
	}
	if m.QuantOp >= 0 && q.Ops[m.QuantOp].Kind == graph.OpQuantize {
		m.QuantOp = -1
	}
	return m
}

// matchByOrder walks the compute ops of both graphs (skipping QUANTIZE and
// DEQUANTIZE) and pairs outputs of ops with the same kind and shape.
func matchByOrder(f, q *graph.Graph, fProd, qProd []int, intTensor func(*graph.Tensor) bool) ([]Match, map[int]bool) {
	compute := func(g *graph.Graph) []int {
		var ops []int
		for i, op := range g.Ops {
			if op.Kind != graph.OpQuantize && op.Kind != graph.OpDequantize {
				ops = append(ops, i)
			}
		}
		return ops
	}
	fo, qo := compute(f), compute(q)
	var matches []Match
	matched := map[int]bool{}
	j := 0
	for _, fi := range fo {
		fop := f.Ops[fi]
		for k := j; k < len(qo); k++ {
			qop := q.Ops[qo[k]]
			if qop.Kind != fop.Kind || len(qop.Outputs) == 0 || len(fop.Outputs) == 0 {
				continue
			}
			ft, qt := fop.Outputs[0], qop.Outputs[0]
			if !intTensor(q.Tensors[qt]) || !slices.Equal(f.Tensors[ft].Shape, q.Tensors[qt].Shape) {
				continue
			}
			matches = append(matches, newMatch(f, q, fProd, qProd, ft, qt))
			matched[ft] = true
			j = k + 1
			break
		}
	}
	// The float input matches the integer tensor the first QUANTIZE makes
	// (or an integer graph input).
	if len(f.Inputs) == 1 && len(q.Inputs) == 1 {
		ft := f.Inputs[0]
		qt := q.Inputs[0]
		if !intTensor(q.Tensors[qt]) {
			for _, op := range q.Ops {
				if op.Kind == graph.OpQuantize && op.Inputs[0] == qt && intTensor(q.Tensors[op.Outputs[0]]) {
					qt = op.Outputs[0]
					break
				}
			}
		}
		if intTensor(q.Tensors[qt]) && slices.Equal(f.Tensors[ft].Shape, q.Tensors[qt].Shape) {
			matches = append([]Match{newMatch(f, q, fProd, qProd, ft, qt)}, matches...)
			matched[ft] = true
		}
	}
	return matches, matched
}

// trimSuffix strips qbench's integer-copy suffixes from a name.
func trimSuffix(name string) string {
	return strings.TrimSuffix(strings.TrimSuffix(name, "_int8"), "_int16")
}
