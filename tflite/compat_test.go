package tflite

import (
	"reflect"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestCompatZeroBias: an omitted conv bias is written as zeros whose
// per-channel scales are s_in·s_w (0.1·0.5 = 0.05, 0.1·0.25 = 0.025), and
// the caller's graph is left untouched.
func TestCompatZeroBias(t *testing.T) {
	g := handGraphs()["conv_int8"].Clone()
	g.Ops[0].Inputs = g.Ops[0].Inputs[:2]
	before := g.Clone()
	data, err := Write(g)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffGraphs(before, g); d != "" {
		t.Fatalf("Write modified its input: %s", d)
	}
	g2, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	op := g2.Ops[0]
	if len(op.Inputs) != 3 || op.Inputs[2] < 0 {
		t.Fatalf("inputs %v, want an explicit bias", op.Inputs)
	}
	b := g2.Tensors[op.Inputs[2]]
	if b.DType != graph.Int32 || !reflect.DeepEqual(b.Shape, []int{2}) || !reflect.DeepEqual(b.Int32s(), []int32{0, 0}) {
		t.Fatalf("bias %s %v %v", b.DType, b.Shape, b.Data)
	}
	if want := []float32{float32(0.1) * 0.5, float32(0.1) * 0.25}; !reflect.DeepEqual(b.Quant.Scale, want) {
		t.Errorf("bias scales %v, want %v", b.Quant.Scale, want)
	}

	// 16x8 depthwise: int64 bias, channel count from the filter's last axis.
	g = handGraphs()["depthwise_int4"].Clone()
	g.Tensors[0].DType = graph.Int16
	g.Tensors[len(g.Tensors)-1].DType = graph.Int16
	c := compat(g)
	bias := c.Tensors[c.Ops[0].Inputs[2]]
	if bias.DType != graph.Int64 || !reflect.DeepEqual(bias.Shape, []int{3}) || len(bias.Data) != 24 {
		t.Errorf("16x8 bias %s %v %d bytes", bias.DType, bias.Shape, len(bias.Data))
	}
	if len(g.Tensors) == len(c.Tensors) || c.Ops[0] == g.Ops[0] {
		t.Error("compat must copy, not modify")
	}

	// Float conv: float zeros, no quantization. Graphs needing nothing are
	// returned as is.
	g = handGraphs()["conv_float_nobias"]
	c = compat(g)
	if fb := c.Tensors[c.Ops[0].Inputs[2]]; fb.DType != graph.Float32 || fb.Quant != nil || len(fb.Data) != 4 {
		t.Errorf("float bias %+v", fb)
	}
	if g2 := handGraphs()["softmax"]; compat(g2) != g2 {
		t.Error("compat copied a graph that needs no change")
	}
}

func TestCompatReshapeNewShape(t *testing.T) {
	g := handGraphs()["reshape_noshape"]
	c := compat(g)
	if o := c.Ops[0].Options.(*graph.ReshapeOptions); !reflect.DeepEqual(o.NewShape, []int{2, 3}) {
		t.Errorf("new_shape %v, want [2 3]", o.NewShape)
	}
	if o := g.Ops[0].Options.(*graph.ReshapeOptions); o.NewShape != nil {
		t.Error("compat modified the input graph")
	}
}
