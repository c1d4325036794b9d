package quant

import (
	"context"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/tflite"
)

// float16FC is x[1,3] → FULLY_CONNECTED(2) with FLOAT16 weights and bias
// each read through a DEQUANTIZE, as the converter writes float16 models.
func float16FC() *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 3}})
	// 1, -2, 0.5, 0.25, 3, -0.75 and 0.125, -1 as binary16 (two's-complement
	// int16 of the bit patterns: -0x4000 is 0xc000).
	w16 := g.AddTensor(&graph.Tensor{Name: "w16", DType: graph.Float16, Shape: []int{2, 3},
		Data: graph.EncodeInt16s([]int16{0x3c00, -0x4000, 0x3800, 0x3400, 0x4200, -0x4600})})
	b16 := g.AddTensor(&graph.Tensor{Name: "b16", DType: graph.Float16, Shape: []int{2},
		Data: graph.EncodeInt16s([]int16{0x3000, -0x4400})})
	w := g.AddTensor(&graph.Tensor{Name: "w", DType: graph.Float32, Shape: []int{2, 3}})
	b := g.AddTensor(&graph.Tensor{Name: "b", DType: graph.Float32, Shape: []int{2}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 2}})
	g.AddOp(graph.OpDequantize, []int{w16}, []int{w}, nil)
	g.AddOp(graph.OpDequantize, []int{b16}, []int{b}, nil)
	g.AddOp(graph.OpFullyConnected, []int{x, w, b}, []int{y}, &graph.FullyConnectedOptions{})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	return g
}

func TestDequantizeFloat16(t *testing.T) {
	g := float16FC()
	if n := g.Float16Weights(); n != 2 {
		t.Fatalf("Float16Weights = %d, want 2", n)
	}
	d, n := DequantizeFloat16(g)
	if n != 2 || len(d.Ops) != 1 || len(g.Ops) != 3 {
		t.Fatalf("removed %d DEQUANTIZEs, %d ops left; original now has %d ops", n, len(d.Ops), len(g.Ops))
	}
	got := d.Tensors[3].Float32s()
	exp := []float32{1, -2, 0.5, 0.25, 3, -0.75}
	for i := range exp {
		if got[i] != exp[i] {
			t.Errorf("weight %d = %g, want %g", i, got[i], exp[i])
		}
	}
	if b := d.Tensors[4].Float32s(); b[0] != 0.125 || b[1] != -1 {
		t.Errorf("bias = %v, want [0.125 -1]", b)
	}
	if d2, n2 := DequantizeFloat16(d); n2 != 0 || d2 != d {
		t.Errorf("a graph without float16 weights was changed (%d)", n2)
	}

	// The dequantized graph quantizes like a float one, and the result
	// holds no float16 tensor and runs.
	q, _, err := Quantize(context.Background(), d, SliceSamples(randomSamples(d, 16, 1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range q.Tensors {
		if tt.DType == graph.Float16 {
			t.Errorf("quantized graph keeps float16 tensor %q", tt.Name)
		}
	}
	if _, err := tflite.Write(q); err != nil {
		t.Fatal(err)
	}
	if _, err := interp.Compile(q, interp.Options{}); err != nil {
		t.Fatal(err)
	}
}
