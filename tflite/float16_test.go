package tflite

import (
	"bytes"
	"strings"
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

func TestInspectFloat16Form(t *testing.T) {
	g := &graph.Graph{}
	w := g.AddTensor(&graph.Tensor{Name: "w16", DType: graph.Float16, Shape: []int{2}, Data: []byte{0, 0x3c, 0, 0xc0}})
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{2}})
	d := g.AddTensor(&graph.Tensor{Name: "w", DType: graph.Float32, Shape: []int{2}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{2}})
	g.AddOp(graph.OpDequantize, []int{w}, []int{d}, nil)
	g.AddOp(graph.OpAdd, []int{x, d}, []int{y}, &graph.AddOptions{})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	s := Summarize(g)
	if s.Form != "float16-weight" || s.Float16Weights != 1 {
		t.Fatalf("form %q with %d float16 weights, want float16-weight with 1", s.Form, s.Float16Weights)
	}
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Form:        float16-weight (1 float16 weight tensors") {
		t.Errorf("text does not show the form:\n%s", buf.String())
	}
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"form": "float16-weight"`) {
		t.Errorf("JSON does not show the form:\n%s", buf.String())
	}
	g.Ops = g.Ops[1:] // a float16 tensor nothing dequantizes is no float16 weight
	if s := Summarize(g); s.Form != "" {
		t.Errorf("form %q without a DEQUANTIZE", s.Form)
	}
}
