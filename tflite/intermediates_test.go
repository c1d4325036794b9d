package tflite

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/testshared"
)

// TestIntermediatesRoundTrip: an operator's intermediates (the integer
// LSTM's gate-scale tensors) are read, written and read back unchanged, and
// an index out of range is refused naming the operator.
func TestIntermediatesRoundTrip(t *testing.T) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 3}})
	w := g.AddTensor(&graph.Tensor{Name: "w", DType: graph.Float32, Shape: []int{2, 3}, Data: make([]byte, 24)})
	s := g.AddTensor(&graph.Tensor{Name: "scale", DType: graph.Int8, Shape: []int{0},
		Quant: &graph.Quantization{Scale: []float32{0.25}, ZeroPoint: []int64{-3}}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 2}})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	op := g.AddOp(graph.OpFullyConnected, []int{x, w}, []int{y}, &graph.FullyConnectedOptions{})
	op.Intermediates = []int{s, x}
	data, err := Write(g)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := g2.Ops[0].Intermediates; !slices.Equal(got, []int{s, x}) {
		t.Fatalf("intermediates read back as %v, want %v", got, []int{s, x})
	}
	if q := g2.Tensors[s].Quant; q == nil || q.Scale[0] != 0.25 || q.ZeroPoint[0] != -3 {
		t.Errorf("intermediate's quantization read back as %+v", q)
	}
	if c := g2.Clone(); !slices.Equal(c.Ops[0].Intermediates, []int{s, x}) {
		t.Errorf("Clone lost the intermediates: %v", c.Ops[0].Intermediates)
	}
	op.Intermediates = []int{99}
	if _, err := Write(g); err == nil {
		t.Error("an intermediate index out of range was written")
	}
}

// TestIntermediatesZoo: the Coral integer LSTM keeps its five intermediates
// through Read and Write.
func TestIntermediatesZoo(t *testing.T) {
	dir, err := testshared.Find("models", "zoo")
	if err != nil {
		t.Skip(err)
	}
	g, err := ReadFile(filepath.Join(dir, "coral_lstm_mnist_ptq.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	want := []int{19, 20, 21, 22, 23}
	if got := g.Ops[1].Intermediates; !slices.Equal(got, want) {
		t.Fatalf("LSTM intermediates %v, want %v", got, want)
	}
	data, err := Write(g)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := g2.Ops[1].Intermediates; !slices.Equal(got, want) {
		t.Fatalf("after a round trip: %v, want %v", got, want)
	}
}
