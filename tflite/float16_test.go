package tflite

import (
	"bytes"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestFloat16RoundTrip writes a FLOAT16 constant read by a DEQUANTIZE (the
// converter's float16 quantization) and reads it back: dtype, bit patterns
// and the DEQUANTIZE version (3, TFLite's for float16 input) survive, and a
// second write gives the same bytes.
func TestFloat16RoundTrip(t *testing.T) {
	g := &graph.Graph{}
	bits := []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c, 0xff, 0x7f, 0x00, 0x80}
	w := g.AddTensor(&graph.Tensor{Name: "w16", DType: graph.Float16, Shape: []int{2, 3}, Data: bits})
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{2, 3}})
	d := g.AddTensor(&graph.Tensor{Name: "w", DType: graph.Float32, Shape: []int{2, 3}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{2, 3}})
	g.AddOp(graph.OpDequantize, []int{w}, []int{d}, nil)
	g.AddOp(graph.OpAdd, []int{x, d}, []int{y}, &graph.AddOptions{})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	b, err := Write(g)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Read(b)
	if err != nil {
		t.Fatal(err)
	}
	r := h.Tensors[h.Ops[0].Inputs[0]]
	if r.DType != graph.Float16 || r.Name != "w16" || !bytes.Equal(r.Data, bits) {
		t.Fatalf("read back %q %s %x, want w16 float16 %x", r.Name, r.DType, r.Data, bits)
	}
	if v := h.Ops[0].Version; v != 3 {
		t.Errorf("DEQUANTIZE version %d, want 3", v)
	}
	b2, err := Write(h)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Error("second write differs from the first")
	}

}
