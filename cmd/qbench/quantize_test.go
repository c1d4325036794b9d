package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// tinyDataset writes 2 classes × 8 PNGs of 8x8 (class a dark, class b light).
func tinyDataset(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	for ci, c := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, c), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 8; i++ {
			img := image.NewRGBA(image.Rect(0, 0, 8, 8))
			for p := 0; p < 64; p++ {
				v := uint8(40 + 140*ci + rng.Intn(60))
				img.Set(p%8, p/8, color.RGBA{v, v / 2, 255 - v, 255})
			}
			f, err := os.Create(filepath.Join(dir, c, string(rune('0'+i))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

// tinyModel writes a float CONV → MAX_POOL → RESHAPE → FC → SOFTMAX model
// for 8x8x3 inputs that tells dark from light images.
func tinyModel(t *testing.T, path string) {
	t.Helper()
	g := &graph.Graph{}
	f32 := func(name string, shape []int, v []float32) int {
		return g.AddTensor(&graph.Tensor{Name: name, Shape: shape, DType: graph.Float32, Data: graph.EncodeFloat32s(v)})
	}
	act := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, Shape: shape, DType: graph.Float32})
	}
	in := act("image", 1, 8, 8, 3)
	w := make([]float32, 2*3*3*3)
	for i := range w {
		w[i] = 0.1
		if i >= 27 {
			w[i] = -0.1
		}
	}
	conv := act("conv", 1, 8, 8, 2)
	g.AddOp(graph.OpConv2D, []int{in, f32("conv_w", []int{2, 3, 3, 3}, w), f32("conv_b", []int{2}, []float32{-0.5, 0.5})}, []int{conv},
		&graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: graph.ActRelu})
	pool := act("pool", 1, 4, 4, 2)
	g.AddOp(graph.OpMaxPool2D, []int{conv}, []int{pool}, &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
	shape := g.AddTensor(&graph.Tensor{Name: "shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, 32})})
	flat := act("flat", 1, 32)
	g.AddOp(graph.OpReshape, []int{pool, shape}, []int{flat}, &graph.ReshapeOptions{NewShape: []int{1, 32}})
	fw := make([]float32, 64)
	for i := 0; i < 32; i++ {
		fw[i] = float32(1 - 2*(i%2))
		fw[32+i] = -fw[i]
	}
	logits := act("logits", 1, 2)
	g.AddOp(graph.OpFullyConnected, []int{flat, f32("fc_w", []int{2, 32}, fw), f32("fc_b", []int{2}, []float32{0, 0})}, []int{logits}, &graph.FullyConnectedOptions{})
	probs := act("probs", 1, 2)
	g.AddOp(graph.OpSoftmax, []int{logits}, []int{probs}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{in}, []int{probs}
	if err := tflite.WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
}

func TestQuantizeAndExplainCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	tinyDataset(t, data)
	model := filepath.Join(dir, "float.tflite")
	tinyModel(t, model)
	q := filepath.Join(dir, "int8.tflite")
	rep := filepath.Join(dir, "calib.json")
	code, out, errOut := run(t, "quantize", "-q", "--model", model, "--calib", data, "--out", q, "--calib-samples", "10", "--report", rep, "--method", "percentile")
	if code != 0 {
		t.Fatalf("quantize exit %d: %s", code, errOut)
	}
	for _, want := range []string{"calibrated on 10 images", "all of", "conv", "end level %", "wrote " + q} {
		if !strings.Contains(out, want) {
			t.Errorf("quantize output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "states no preprocessing: assuming RGB") {
		t.Errorf("no warning about the missing spec: %q", errOut)
	}
	b, err := os.ReadFile(rep)
	if err != nil || !strings.Contains(string(b), `"schema": "qbench.calibration/v1"`) {
		t.Errorf("report %s: %v", rep, err)
	}
	g, err := tflite.ReadFile(q)
	if err != nil {
		t.Fatal(err)
	}
	if g.Ops[0].Kind != graph.OpQuantize || g.Ops[len(g.Ops)-1].Kind != graph.OpDequantize {
		t.Errorf("quantized ops start %s end %s", g.Ops[0].Kind, g.Ops[len(g.Ops)-1].Kind)
	}

	// Usage errors exit 2.
	if code, _, _ := run(t, "quantize", "--model", model, "--calib", data, "--out", q, "--method", "bogus"); code != 2 {
		t.Errorf("bad --method: exit %d", code)
	}
	if code, _, _ := run(t, "quantize", "--model", model); code != 2 {
		t.Errorf("missing flags: exit %d", code)
	}

	ex := filepath.Join(dir, "explain")
	code, out, errOut = run(t, "explain", "-q", "--model", model, "--quant", q, "--data", data, "--out", ex, "--target-drop", "5")
	if code != 0 {
		t.Fatalf("explain exit %d: %s", code, errOut)
	}
	// A dataset without splits gives no recalibration split: said, not silent.
	if !strings.Contains(errOut, `no recalibration alternatives: --data has no split "train" (give --calib DIR`) {
		t.Errorf("explain stderr lacks the recalibration note: %q", errOut)
	}
	// --calib DIR recalibrates on a folder, as quantize --calib does.
	code, _, errCal := run(t, "explain", "-q", "--model", model, "--quant", q, "--data", data, "--calib", data, "--out", filepath.Join(dir, "explain-calib"), "--target-drop", "0")
	if code != 0 || !strings.Contains(errCal, "recalibrating on 16 of 16 images from all of") {
		t.Errorf("explain --calib: exit %d, stderr %q", code, errCal)
	}
	// The table says where the mixed model is, or that none was written.
	if !strings.Contains(out, "layers ranked by isolated error") || !strings.Contains(out, "model written") {
		t.Errorf("explain output:\n%s", out)
	}
	b, err = os.ReadFile(filepath.Join(ex, "explain.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["schema"] != "qbench.explain/v1" {
		t.Errorf("explain.json: %v %v", err, m["schema"])
	}
	if _, err := os.Stat(filepath.Join(ex, "explain.html")); err != nil {
		t.Error(err)
	}
	// A re-run replaces the whole folder: a mixed model of an earlier run
	// whose fix search this run skips does not survive beside the new
	// explain.json, and no staging folder is left behind.
	if err := os.WriteFile(filepath.Join(ex, "mixed.tflite"), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "explain", "-q", "--model", model, "--quant", q, "--data", data, "--out", ex, "--target-drop", "-1")
	if code != 0 {
		t.Fatalf("explain re-run exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "no model written: the fix search did not run") || strings.Contains(out, "%;") {
		t.Errorf("explain re-run output (no mixed model written; no dangling ';'):\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(ex, "mixed.tflite")); !os.IsNotExist(err) {
		t.Errorf("the earlier run's mixed.tflite survived the re-run (%v)", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".explain.tmp*")); len(left) > 0 {
		t.Errorf("staging folders left: %v", left)
	}
	// A folder holding files qbench did not write is not replaced.
	mine := filepath.Join(dir, "mine")
	os.Mkdir(mine, 0o755)
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("keep"), 0o644)
	code, _, errOut = run(t, "explain", "-q", "--model", model, "--quant", q, "--data", data, "--out", mine, "--target-drop", "-1")
	if code != 1 || !strings.Contains(errOut, "notes.txt") {
		t.Errorf("explain into a foreign folder: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(mine, "notes.txt")); string(b) != "keep" {
		t.Errorf("the user's file was touched")
	}
}
