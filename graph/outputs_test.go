package graph

import (
	"strings"
	"testing"
)

// A two-headed model: x → RELU → a [1,10] (scores) and x → RELU → b [1,4].
func twoHeads() *Graph {
	g := &Graph{}
	x := g.AddTensor(&Tensor{Name: "x", DType: Float32, Shape: []int{1, 10}})
	a := g.AddTensor(&Tensor{Name: "scores", DType: Float32, Shape: []int{1, 10}})
	h := g.AddTensor(&Tensor{Name: "h", DType: Float32, Shape: []int{1, 4}})
	b := g.AddTensor(&Tensor{Name: "boxes", DType: Float32, Shape: []int{1, 4}})
	g.Inputs, g.Outputs = []int{x}, []int{b, a}
	g.AddOp(OpRelu, []int{x}, []int{a}, nil)
	g.AddOp(OpReshape, []int{x}, []int{h}, &ReshapeOptions{NewShape: []int{1, 4}})
	g.AddOp(OpRelu, []int{h}, []int{b}, nil)
	return g
}

func TestClassifierOutput(t *testing.T) {
	g := twoHeads()
	if i, why, err := ClassifierOutput(g, "", 10); err != nil || i != 1 || !strings.Contains(why, "one value per class") {
		t.Errorf("by class count: %d %q %v", i, why, err)
	}
	if i, _, err := ClassifierOutput(g, "boxes", 10); err != nil || i != 0 {
		t.Errorf("by name: %d %v", i, err)
	}
	if i, _, err := ClassifierOutput(g, "1", 0); err != nil || i != 1 {
		t.Errorf("by index: %d %v", i, err)
	}
	if _, _, err := ClassifierOutput(g, "nope", 10); err == nil || !strings.Contains(err.Error(), `"scores"`) {
		t.Errorf("unknown name: %v", err)
	}
	if _, _, err := ClassifierOutput(g, "", 7); err == nil || !strings.Contains(err.Error(), "--output-name") {
		t.Errorf("no match: %v", err)
	}
	g.Tensors[g.Outputs[0]].Shape = []int{1, 10}
	if _, _, err := ClassifierOutput(g, "", 10); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("ambiguous: %v", err)
	}
}

func TestWithOutputsPrunes(t *testing.T) {
	g := twoHeads()
	c, err := WithOutputs(g, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Outputs) != 1 || c.Tensors[c.Outputs[0]].Name != "scores" || len(c.Ops) != 1 || c.Ops[0].Kind != OpRelu {
		t.Errorf("outputs %v ops %d", c.Outputs, len(c.Ops))
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if len(g.Ops) != 3 || len(g.Outputs) != 2 {
		t.Error("WithOutputs changed its input")
	}
	if _, err := WithOutputs(g, []int{2}); err == nil {
		t.Error("out-of-range output accepted")
	}
}
