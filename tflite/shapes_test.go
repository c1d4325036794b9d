package tflite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
)

// declaredConvModel is the model: conv0 declares [1 16 16 4] on an
// input [1 65535 16 3], which its filter, stride and padding make
// [1 65535 16 4]; a RESHAPE and FULLY_CONNECTED follow.
func declaredConvModel() *graph.Graph {
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "input", Shape: []int{1, 65535, 16, 3}, DType: graph.Float32})
	w := g.AddTensor(&graph.Tensor{Name: "conv0/w", Shape: []int{4, 3, 3, 3}, DType: graph.Float32, Data: make([]byte, 4*27*4)})
	b := g.AddTensor(&graph.Tensor{Name: "conv0/b", Shape: []int{4}, DType: graph.Float32, Data: make([]byte, 16)})
	c := g.AddTensor(&graph.Tensor{Name: "conv0", Shape: []int{1, 16, 16, 4}, DType: graph.Float32})
	g.AddOp(graph.OpConv2D, []int{in, w, b}, []int{c}, &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
	sh := g.AddTensor(&graph.Tensor{Name: "flat/shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, 1024})})
	f := g.AddTensor(&graph.Tensor{Name: "flat", Shape: []int{1, 1024}, DType: graph.Float32})
	g.AddOp(graph.OpReshape, []int{c, sh}, []int{f}, &graph.ReshapeOptions{NewShape: []int{1, 1024}})
	g.Inputs, g.Outputs = []int{in}, []int{f}
	return g
}

// A model whose declared shapes contradict its ops is refused when read,
// with the op index, kind and tensor named; it used to run and exit 0,
// writing a 30-byte result. (TFLite refuses it too: see the oracle test.)
func TestReadRefusesContradictingDeclaredShape(t *testing.T) {
	data, err := Write(declaredConvModel())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Read(data)
	if !errors.Is(err, graph.ErrShape) {
		t.Fatalf("Read accepted conv0 declared [1 16 16 4] on [1 65535 16 3]: err = %v", err)
	}
	for _, want := range []string{"op 0 (CONV_2D)", `"conv0"`, "[1 16 16 4]", "[1 65535 16 4]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	// Compile refuses the same graph built in code.
	if _, err := interp.Compile(declaredConvModel(), interp.Options{}); !errors.Is(err, graph.ErrShape) || !strings.Contains(err.Error(), "op 0 (CONV_2D)") {
		t.Errorf("Compile: err = %v", err)
	}
	// With the declaration corrected, the RESHAPE that expects 1024
	// elements is the op refused (as in TFLite's Prepare).
	g := declaredConvModel()
	g.Tensors[3].Shape = []int{1, 65535, 16, 4}
	data, err = Write(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(data); !errors.Is(err, graph.ErrShape) || !strings.Contains(err.Error(), "op 1 (RESHAPE)") {
		t.Errorf("Read: err = %v, want RESHAPE refused", err)
	}
}

// The real TFLite interpreter refuses the model qbench now refuses.
func TestOracleRefusesContradictingDeclaredShape(t *testing.T) {
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	data, err := Write(declaredConvModel())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "declared.tflite")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(p, make([]byte, 65535*16*3*4)); err == nil {
		t.Fatal("TFLite ran the model with a contradicting declared shape; qbench's refusal is stricter than TFLite")
	} else {
		t.Logf("TFLite: %v", err)
	}
}

// Activation memory comes from shapes that now agree with the ops, and a
// graph needing more than the arena budget is refused at compile time, not
// by the allocator.
func TestCompileArenaBudget(t *testing.T) {
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "input", Shape: []int{1, 80, 1 << 16, 16}, DType: graph.Int8, Quant: &graph.Quantization{Scale: []float32{1}, ZeroPoint: []int64{0}}})
	out := g.AddTensor(&graph.Tensor{Name: "relu", Shape: []int{1, 80, 1 << 16, 16}, DType: graph.Int8, Quant: &graph.Quantization{Scale: []float32{1}, ZeroPoint: []int64{0}}})
	g.AddOp(graph.OpRelu, []int{in}, []int{out}, nil)
	g.Inputs, g.Outputs = []int{in}, []int{out}
	_, err := interp.Compile(g, interp.Options{MaxArenaBytes: 64 << 20})
	if err == nil || !strings.Contains(err.Error(), "arena budget") || !strings.Contains(err.Error(), `"input"`) {
		t.Fatalf("err = %v, want the 80 MiB tensor refused under a 64 MiB budget", err)
	}
	if _, err := interp.Compile(g, interp.Options{MaxArenaBytes: 256 << 20}); err != nil {
		t.Fatalf("within the budget: %v", err)
	}
}
