package dataset

import (
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
)

func TestCheckInputRange(t *testing.T) {
	seen := func(lo, hi float32) ValueRange {
		var r ValueRange
		x := make([]float32, 2000)
		for i := range x {
			x[i] = lo + (hi-lo)*float32(i)/float32(len(x)-1)
		}
		r.Add(x)
		return r
	}
	// An int8 input holding 0..255 (MLPerf Tiny ResNet-8).
	pix := imageInput([]int{1, 8, 8, 3}, graph.Int8, &graph.Quantization{Scale: []float32{1}, ZeroPoint: []int64{-128}})
	if w := CheckInputRange(pix, seen(0, 1)); !strings.Contains(w, "[0, 1]") || !strings.Contains(w, "[0, 255]") {
		t.Fatalf("0..1 into 0..255: %q", w)
	}
	if w := CheckInputRange(pix, seen(0, 255)); w != "" {
		t.Fatalf("0..255 into 0..255: %q", w)
	}
	// A float input quantized inside (calibrated to -1..1): raw pixels are
	// far outside, a slightly wider range is fine.
	g := imageInput([]int{1, 8, 8, 3}, graph.Float32, nil)
	q := g.AddTensor(&graph.Tensor{Name: "q", Shape: []int{1, 8, 8, 3}, DType: graph.Int8,
		Quant: &graph.Quantization{Scale: []float32{2.0 / 255}, ZeroPoint: []int64{0}}})
	g.AddOp(graph.OpQuantize, []int{g.Inputs[0]}, []int{q}, nil)
	if w := CheckInputRange(g, seen(0, 255)); !strings.Contains(w, "calibrated range") || !strings.Contains(w, "[0, 255]") {
		t.Fatalf("pixels into -1..1: %q", w)
	}
	if w := CheckInputRange(g, seen(-1, 1.1)); w != "" {
		t.Fatalf("-1..1.1 into -1..1: %q", w)
	}
	// Metadata: a 0..255 value range through the metadata's normalisation.
	m := imageInput([]int{1, 8, 8, 3}, graph.Float32, nil)
	m.Meta = &graph.ModelMeta{Inputs: []graph.TensorMeta{{ValueRange: &[2]int{0, 255}, Mean: []float32{127.5}, Std: []float32{127.5}}}}
	if w := CheckInputRange(m, seen(0, 255)); !strings.Contains(w, "[-1, 1]") || !strings.Contains(w, "metadata") {
		t.Fatalf("unnormalised into a normalised input: %q", w)
	}
	// Nothing expected, nothing seen: silent.
	if w := CheckInputRange(imageInput([]int{1, 8, 8, 3}, graph.Float32, nil), seen(0, 255)); w != "" {
		t.Fatalf("no expectation: %q", w)
	}
	if w := CheckInputRange(pix, ValueRange{}); w != "" {
		t.Fatalf("nothing seen: %q", w)
	}
}
