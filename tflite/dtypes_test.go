package tflite

import (
	"errors"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// TestCarriedDTypesRoundTrip: uint16, uint32, uint64 and float64 tensors
// (TFLite Micro's signal ops use them) are read and written unchanged, and
// an op computing in one is refused naming the tensor and its dtype.
func TestCarriedDTypesRoundTrip(t *testing.T) {
	for _, dt := range []graph.DType{graph.UInt16, graph.UInt32, graph.UInt64, graph.Float64} {
		g := &graph.Graph{}
		x := g.AddTensor(&graph.Tensor{Name: "x", Shape: []int{1, 3}, DType: graph.Int32})
		c := g.AddTensor(&graph.Tensor{Name: "c", Shape: []int{3}, DType: dt, Data: make([]byte, 3*dt.Size())})
		c2 := g.Tensors[c]
		for i := range c2.Data {
			c2.Data[i] = byte(i + 1)
		}
		y := g.AddTensor(&graph.Tensor{Name: "y", Shape: []int{1, 3}, DType: dt})
		g.AddOp(graph.OpCast, []int{x}, []int{y}, nil)
		g.Inputs, g.Outputs = []int{x}, []int{y}
		b, err := Write(g)
		if err != nil {
			t.Fatalf("%s: write: %v", dt, err)
		}
		back, err := Read(b)
		if err != nil {
			t.Fatalf("%s: read: %v", dt, err)
		}
		if back.Tensors[y].DType != dt || back.Tensors[c].DType != dt || string(back.Tensors[c].Data) != string(c2.Data) {
			t.Errorf("%s: read back as %s / %s, data %v", dt, back.Tensors[y].DType, back.Tensors[c].DType, back.Tensors[c].Data)
		}
		_, err = kernels.Prepare(back.Ops[0], []*graph.Tensor{back.Tensors[x]}, []*graph.Tensor{back.Tensors[y]})
		if !errors.Is(err, kernels.ErrUnsupported) || !strings.Contains(err.Error(), dt.String()+` tensor "y"`) {
			t.Errorf("%s: CAST into it: %v, want an unsupported error naming the tensor", dt, err)
		}
	}
}
