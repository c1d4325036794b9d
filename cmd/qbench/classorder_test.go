package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// writeHueClasses writes k classes of 8x8 images in folders named "0",
// "1", …: class c is hue 360°·c/k with per-image brightness jitter.
func writeHueClasses(t *testing.T, dir string, k, perClass int) {
	t.Helper()
	for c := range k {
		d := filepath.Join(dir, strconv.Itoa(c))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		h := 6 * float64(c) / float64(k)
		for i := range perClass {
			img := image.NewRGBA(image.Rect(0, 0, 8, 8))
			v := 0.75 + 0.2*float64(i%5)/4
			x := 1 - math.Abs(math.Mod(h, 2)-1)
			rgb := [6][3]float64{{1, x, 0}, {x, 1, 0}, {0, 1, x}, {0, x, 1}, {x, 0, 1}, {1, 0, x}}[int(h)%6]
			for p := range 64 {
				j := float64((p*7+i*13)%9) / 255
				img.SetRGBA(p%8, p/8, color.RGBA{uint8(255 * min(1, v*rgb[0]+j)), uint8(255 * min(1, v*rgb[1]+j)), uint8(255 * min(1, v*rgb[2]+j)), 255})
			}
			f, err := os.Create(filepath.Join(d, strconv.Itoa(i)+".png"))
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

// permuteOutputs reorders a trained classifier's outputs so output
// perm[c] is class c (rows of the dense layer feeding the softmax) and
// drops the class names it stores, as a model from another tool would be.
func permuteOutputs(t *testing.T, g *graph.Graph, perm []int) {
	t.Helper()
	prod := g.Producers()
	sm := g.Ops[prod[g.Outputs[0]]]
	fc := g.Ops[prod[sm.Inputs[0]]]
	if sm.Kind != graph.OpSoftmax || fc.Kind != graph.OpFullyConnected {
		t.Fatalf("last ops %v, %v; want FULLY_CONNECTED, SOFTMAX", fc.Kind, sm.Kind)
	}
	w, b := g.Tensors[fc.Inputs[1]], g.Tensors[fc.Inputs[2]]
	k, n := w.Shape[0], w.Shape[1]
	ow, ob := w.Float32s(), b.Float32s()
	nw, nb := make([]float32, len(ow)), make([]float32, len(ob))
	for c := range k {
		copy(nw[perm[c]*n:(perm[c]+1)*n], ow[c*n:(c+1)*n])
		nb[perm[c]] = ob[c]
	}
	w.Data, b.Data = graph.EncodeFloat32s(nw), graph.EncodeFloat32s(nb)
	delete(g.Metadata, graph.MetadataClasses)
}

// A classifier whose outputs are in lexicographic folder order ('0', '1',
// '10', '11', '2', …), as Keras numbers them, evaluated on numerically
// named folders triggers the class-order warning naming that order, and
// the suggested label map gives the accuracy of the correctly labelled
// model.
func TestCompareDiagnosesLexicographicClassOrder(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	const k = 12
	writeHueClasses(t, data, k, 10)
	model := filepath.Join(dir, "m.tflite")
	if code, _, stderr := run(t, "train", "-q", "--data", data, "--input", "8", "--filters", "8", "--dense", "16",
		"--epochs", "12", "--batch", "8", "--lr", "0.01", "--val-fraction", "0.2", "--augment", "none", "--out", model); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	g, err := tflite.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, k)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	lex := make([]int, k)
	for pos, n := range sorted {
		c, _ := strconv.Atoi(n)
		lex[c] = pos
	}
	permuteOutputs(t, g, lex)
	keras := filepath.Join(dir, "keras-order.tflite")
	if err := tflite.WriteFile(keras, g); err != nil {
		t.Fatal(err)
	}
	compare := func(model string, extra ...string) (float64, string, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "r")
		args := append([]string{"compare", "-q", "--model", model, "--data", data, "--out", out, "--top-k", "1"}, extra...)
		code, stdout, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("compare %v: exit %d: %s", extra, code, stderr)
		}
		acc, _ := reportAccuracy(t, out, 0)
		return acc, stdout, out
	}
	right, stdout, _ := compare(model)
	if right < 0.7 || strings.Contains(stdout, "class order") {
		t.Fatalf("named model: accuracy %.3f (the hue classes are easy), stdout:\n%s", right, stdout)
	}
	wrong, stdout, out := compare(keras)
	if wrong > right-0.3 || !strings.Contains(stdout, "class order") || !strings.Contains(stdout, "lexicographic order") ||
		!strings.Contains(stdout, "--labels "+filepath.Join(out, "suggested-labels.yaml")) {
		t.Fatalf("lexicographic outputs: accuracy %.3f, stdout:\n%s", wrong, stdout)
	}
	fixed, stdout, _ := compare(keras, "--labels", filepath.Join(out, "suggested-labels.yaml"))
	if fixed != right || strings.Contains(stdout, "class order") {
		t.Fatalf("with suggested-labels.yaml: accuracy %.4f, want %.4f; stdout:\n%s", fixed, right, stdout)
	}

	// explain gives the same warning and writes the same fix.
	q := filepath.Join(dir, "keras-int8.tflite")
	if code, _, stderr := run(t, "quantize", "-q", "--model", keras, "--calib", data, "--out", q, "--calib-samples", "24"); code != 0 {
		t.Fatalf("quantize: exit %d: %s", code, stderr)
	}
	explain := func(extra ...string) (string, string) {
		t.Helper()
		ex := filepath.Join(t.TempDir(), "ex")
		args := append([]string{"explain", "-q", "--model", keras, "--quant", q, "--data", data, "--out", ex,
			"--samples", "120", "--layer-samples", "8", "--target-drop", "-1"}, extra...)
		code, stdout, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("explain %v: exit %d: %s", extra, code, stderr)
		}
		return stdout, ex
	}
	stdout, ex := explain()
	fix := filepath.Join(ex, "suggested-labels.yaml")
	if !strings.Contains(stdout, "class order") || !strings.Contains(stdout, "lexicographic order") ||
		!strings.Contains(stdout, "--labels "+fix) {
		t.Fatalf("explain, lexicographic outputs: stdout:\n%s", stdout)
	}
	var res struct {
		FloatAccuracy float64 `json:"float_accuracy"`
		ClassOrder    *struct {
			Convention string `json:"convention"`
		} `json:"class_order"`
	}
	b, err := os.ReadFile(filepath.Join(ex, "explain.json"))
	if err == nil {
		err = json.Unmarshal(b, &res)
	}
	if err != nil || res.ClassOrder == nil || res.ClassOrder.Convention != "lexicographic" {
		t.Fatalf("explain.json class_order: %v, %s", err, b)
	}
	stdout, ex = explain("--labels", fix)
	if strings.Contains(stdout, "class order") {
		t.Fatalf("explain with its suggested-labels.yaml still warns:\n%s", stdout)
	}
	b, err = os.ReadFile(filepath.Join(ex, "explain.json"))
	if err == nil {
		err = json.Unmarshal(b, &res)
	}
	if err != nil || math.Abs(res.FloatAccuracy-100*right) > 1e-9 {
		t.Fatalf("explain with suggested-labels.yaml: float accuracy %.4f%%, want %.4f%% (%v)", res.FloatAccuracy, 100*right, err)
	}
}
