package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/tflite"
)

// mnistish writes perClass 28x28 grey PNGs into each of 10 class folders:
// class c draws a bright stroke along row 3+2c and column 3+2c on a dark,
// noisy background, so the images look like MNIST's (white strokes on
// black, 0..255) to a model trained on it.
func mnistish(t *testing.T, dir string, perClass int) {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	for c := range 10 {
		cd := filepath.Join(dir, fmt.Sprintf("%d", c))
		if err := os.MkdirAll(cd, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			img := image.NewGray(image.Rect(0, 0, 28, 28))
			for y := range 28 {
				for x := range 28 {
					v := rng.Intn(30)
					if (y == 3+2*c || x == 3+2*c) && x > 4 && x < 24 && y > 2 && y < 26 {
						v = 180 + rng.Intn(76)
					}
					img.SetGray(x, y, color.Gray{Y: uint8(v)})
				}
			}
			f, err := os.Create(filepath.Join(cd, fmt.Sprintf("%d.png", i)))
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

// TestQuantizeCompareExplainLSTM: quantize writes TFLite Micro's float
// MNIST LSTM as a full-integer model (the integer 8x8->16 LSTM, no op left
// float), and compare and explain run on the float/int8 pair.
func TestQuantizeCompareExplainLSTM(t *testing.T) {
	model := filepath.Join(testshared.Dir(t, "models", "zoo"), "tflm_mnist_lstm.tflite")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	mnistish(t, data, 3)
	q := quantizeAllInt(t, model, data, dir)
	g, err := tflite.ReadFile(q)
	if err != nil {
		t.Fatal(err)
	}
	var lstm *graph.Op
	for _, op := range g.Ops {
		if op.Kind == graph.OpUnidirectionalSequenceLSTM {
			lstm = op
		}
	}
	if lstm == nil {
		t.Fatal("no LSTM in the quantized model")
	}
	if x, c := g.Tensors[lstm.Inputs[0]], g.Tensors[lstm.Inputs[19]]; x.DType != graph.Int8 || c.DType != graph.Int16 || len(lstm.Intermediates) != 5 {
		t.Errorf("LSTM input %s, cell state %s, %d intermediates: want int8, int16, 5", x.DType, c.DType, len(lstm.Intermediates))
	}

	compareAndExplain(t, model, q, data, dir, "UNIDIRECTIONAL_SEQUENCE_LSTM")
}

// quantizeAllInt runs quantize on model with data as calibration into
// dir/int8.tflite and fails if it kept any op float.
func quantizeAllInt(t *testing.T, model, data, dir string) string {
	t.Helper()
	q := filepath.Join(dir, "int8.tflite")
	code, out, errOut := run(t, "quantize", "-q", "--model", model, "--calib", data, "--out", q)
	if code != 0 {
		t.Fatalf("quantize exit %d: %s", code, errOut)
	}
	if strings.Contains(out+errOut, "stays float32") {
		t.Errorf("quantize kept an op float:\n%s\n%s", out, errOut)
	}
	return q
}

// compareAndExplain runs compare and explain on the float/int8 pair and
// checks that both write their reports and that explain ranks an op of
// kind rankedOp.
func compareAndExplain(t *testing.T, model, q, data, dir, rankedOp string) {
	t.Helper()
	rep := filepath.Join(dir, "report")
	code, out, errOut := run(t, "compare", "-q", "--model", model, "--model", q, "--name", "float", "--name", "int8",
		"--data", data, "--out", rep)
	if code != 0 {
		t.Fatalf("compare exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(rep, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	if !strings.Contains(string(b), `"int8"`) || !strings.Contains(out, "agreement") {
		t.Errorf("compare: the pair is not in the report\n%s", out)
	}
	ex := filepath.Join(dir, "explain")
	code, out, errOut = run(t, "explain", "-q", "--model", model, "--quant", q, "--data", data, "--out", ex, "--target-drop", "-1")
	if code != 0 {
		t.Fatalf("explain exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, rankedOp) {
		t.Errorf("explain does not rank %s:\n%s", rankedOp, out)
	}
	if _, err := os.Stat(filepath.Join(ex, "explain.json")); err != nil {
		t.Error(err)
	}
}
