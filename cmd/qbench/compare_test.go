package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/tflite"
)

// writeCompareFixture writes two 2x2 RGB classes (dark, bright) and two
// RESHAPE→FC→SOFTMAX models scoring brightness, the second with a bias
// that moves the decision boundary.
func writeCompareFixture(t *testing.T) (data, modelA, modelB string) {
	t.Helper()
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	for c, name := range []string{"0dark", "1bright"} {
		if err := os.MkdirAll(filepath.Join(data, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			img := image.NewRGBA(image.Rect(0, 0, 2, 2))
			v := uint8(20*i + 10 + 120*c)
			for p := range 4 {
				img.Set(p%2, p/2, color.RGBA{v, v, v, 255})
			}
			var buf bytes.Buffer
			_ = png.Encode(&buf, img)
			if err := os.WriteFile(filepath.Join(data, name, string(rune('a'+i))+".png"), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk := func(path string, bias float32) {
		g := &graph.Graph{}
		in := g.AddTensor(&graph.Tensor{Name: "in", Shape: []int{1, 2, 2, 3}, DType: graph.Float32})
		sh := g.AddTensor(&graph.Tensor{Name: "shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, 12})})
		fl := g.AddTensor(&graph.Tensor{Name: "flat", Shape: []int{1, 12}, DType: graph.Float32})
		g.AddOp(graph.OpReshape, []int{in, sh}, []int{fl}, &graph.ReshapeOptions{NewShape: []int{1, 12}})
		w := make([]float32, 24)
		for i := 12; i < 24; i++ {
			w[i] = 1
		}
		wt := g.AddTensor(&graph.Tensor{Name: "w", Shape: []int{2, 12}, DType: graph.Float32, Data: graph.EncodeFloat32s(w)})
		bt := g.AddTensor(&graph.Tensor{Name: "b", Shape: []int{2}, DType: graph.Float32, Data: graph.EncodeFloat32s([]float32{bias, 0})})
		lo := g.AddTensor(&graph.Tensor{Name: "logits", Shape: []int{1, 2}, DType: graph.Float32})
		g.AddOp(graph.OpFullyConnected, []int{fl, wt, bt}, []int{lo}, &graph.FullyConnectedOptions{})
		pr := g.AddTensor(&graph.Tensor{Name: "probs", Shape: []int{1, 2}, DType: graph.Float32})
		g.AddOp(graph.OpSoftmax, []int{lo}, []int{pr}, &graph.SoftmaxOptions{Beta: 1})
		g.Inputs, g.Outputs = []int{in}, []int{pr}
		if err := dataset.DefaultSpec(2, 2).Store(g); err != nil {
			t.Fatal(err)
		}
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatal(err)
		}
	}
	modelA, modelB = filepath.Join(dir, "a.tflite"), filepath.Join(dir, "b.tflite")
	mk(modelA, 6)
	mk(modelB, 8)
	return data, modelA, modelB
}

func TestCompareCommand(t *testing.T) {
	data, a, b := writeCompareFixture(t)
	out := filepath.Join(t.TempDir(), "rep")
	code, stdout, stderr := run(t, "compare", "-q", "--model", a, "--model", b, "--name", "float", "--name", "shifted",
		"--data", data, "--out", out, "--top-k", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "shifted vs float: agreement") || !strings.Contains(stdout, "split data: 12 samples, 2 classes") {
		t.Errorf("summary:\n%s", stdout)
	}
	js, err := os.ReadFile(filepath.Join(out, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := report.ValidateJSON(js); err != nil {
		t.Error(err)
	}
	for _, f := range []string{report.FileMarkdown, report.FileHTML, report.FilePredictions} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// --json prints the same report.json, --split NAME=DIR adds a split.
	code, stdout, stderr = run(t, "compare", "-q", "--model", a, "--model", b, "--data", data,
		"--split", "all="+data, "--split", "again="+data, "--out", out, "--json")
	if code != 0 {
		t.Fatalf("--json exit %d: %s", code, stderr)
	}
	if err := report.ValidateJSON([]byte(stdout)); err != nil || !strings.Contains(stdout, `"name": "again"`) {
		t.Errorf("--json output invalid (%v)", err)
	}
}

func TestCompareUsage(t *testing.T) {
	data, a, _ := writeCompareFixture(t)
	for _, args := range [][]string{
		{"compare", "--model", a, "--out", "x"},
		{"compare", "--model", a, "--data", data, "--out", "x", "--name", "p", "--name", "q"},
		{"compare", "--model", a, "--data", data, "--out", "x", "--samples", "-1"},
		{"compare", "--model", a, "--data", data, "--out", "x", "--top-k", "0"},
	} {
		if code, _, stderr := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
	code, _, stderr := run(t, "compare", "-q", "--model", filepath.Join(data, "missing.tflite"), "--data", data, "--out", t.TempDir())
	if code != 1 || !strings.HasPrefix(stderr, "qbench: compare: ") {
		t.Errorf("missing model: exit %d, stderr %q", code, stderr)
	}
}
