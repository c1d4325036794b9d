package graph

import (
	"fmt"
	"strconv"
	"strings"
)

// ValuesPerSample is how many values one sample of t holds: its elements
// divided by the batch (the first dimension) for rank 2 and more.
func ValuesPerSample(t *Tensor) int {
	n := t.NumElements()
	if len(t.Shape) >= 2 && t.Shape[0] > 0 {
		n /= t.Shape[0]
	}
	return n
}

// ClassifierOutput picks the output of g that holds class scores: the one
// named name (a tensor name, or an output index) when name is set; else the
// only output; else the only output with nClasses values per sample
// (nClasses > 0). It returns the index into g.Outputs and a sentence for
// the user saying which output was chosen and why.
func ClassifierOutput(g *Graph, name string, nClasses int) (int, string, error) {
	outs := make([]string, len(g.Outputs))
	for i, ti := range g.Outputs {
		t := g.Tensor(ti)
		if t == nil {
			return 0, "", fmt.Errorf("output %d: tensor index %d out of range", i, ti)
		}
		outs[i] = fmt.Sprintf("%d %q %v", i, t.Name, t.Shape)
	}
	list := strings.Join(outs, ", ")
	switch {
	case len(g.Outputs) == 0:
		return 0, "", fmt.Errorf("the model has no outputs")
	case name != "":
		for i, ti := range g.Outputs {
			if g.Tensor(ti).Name == name {
				return i, fmt.Sprintf("output %d %q (named by --output-name)", i, name), nil
			}
		}
		if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(g.Outputs) {
			return i, fmt.Sprintf("output %d %q (--output-name %s)", i, g.Tensor(g.Outputs[i]).Name, name), nil
		}
		return 0, "", fmt.Errorf("no output named %q; the outputs are %s", name, list)
	case len(g.Outputs) == 1:
		return 0, "", nil
	}
	if nClasses > 0 {
		found := -1
		for i, ti := range g.Outputs {
			if ValuesPerSample(g.Tensor(ti)) == nClasses {
				if found >= 0 {
					return 0, "", fmt.Errorf("outputs %d and %d both have %d values (one per class); pick one with --output-name (outputs: %s)",
						found, i, nClasses, list)
				}
				found = i
			}
		}
		if found >= 0 {
			return found, fmt.Sprintf("output %d %q: the only one of %d outputs with one value per class (%d)",
				found, g.Tensor(g.Outputs[found]).Name, len(g.Outputs), nClasses), nil
		}
	}
	return 0, "", fmt.Errorf("the model has %d outputs and none is the only one with one value per class; pick one with --output-name (outputs: %s)",
		len(g.Outputs), list)
}

// WithOutputs returns a copy of g whose outputs are g.Outputs[keep[0]],
// g.Outputs[keep[1]], ...; ops that no longer feed any output are dropped
// (their tensors stay, unused).
func WithOutputs(g *Graph, keep []int) (*Graph, error) {
	c := g.Clone()
	c.Outputs = c.Outputs[:0]
	for _, k := range keep {
		if k < 0 || k >= len(g.Outputs) {
			return nil, fmt.Errorf("output %d out of range [0,%d)", k, len(g.Outputs))
		}
		c.Outputs = append(c.Outputs, g.Outputs[k])
	}
	need := make([]bool, len(c.Tensors))
	for _, t := range c.Outputs {
		need[t] = true
	}
	live := make([]bool, len(c.Ops))
	for oi := len(c.Ops) - 1; oi >= 0; oi-- {
		op := c.Ops[oi]
		for _, t := range op.Outputs {
			if t >= 0 && t < len(need) && need[t] {
				live[oi] = true
			}
		}
		if !live[oi] {
			continue
		}
		for _, t := range op.Inputs {
			if t >= 0 && t < len(need) {
				need[t] = true
			}
		}
	}
	ops := c.Ops[:0]
	for oi, op := range c.Ops {
		if live[oi] {
			ops = append(ops, op)
		}
	}
	c.Ops = ops
	return c, nil
}
