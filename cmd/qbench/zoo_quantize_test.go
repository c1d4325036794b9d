package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// cifarish writes perClass 32x32 RGB PNGs into each of 10 class folders:
// class c tints a noisy image towards one of ten colours, enough for
// calibration, compare and explain to have something to separate.
func cifarish(t *testing.T, dir string, perClass int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 10))
	for c := range 10 {
		cd := filepath.Join(dir, fmt.Sprintf("c%d", c))
		if err := os.MkdirAll(cd, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			img := image.NewRGBA(image.Rect(0, 0, 32, 32))
			for y := range 32 {
				for x := range 32 {
					n := uint8(rng.IntN(60))
					img.Set(x, y, color.RGBA{uint8(25*c) + n, uint8(250-25*c) + n/2, uint8(80+17*c) + n/3, 255})
				}
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cd, fmt.Sprintf("%d.png", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestQuantizeCompareExplainResNet8: quantize on MLPerf Tiny's float
// ResNet-8 (residual ADDs, strided convs, AVERAGE_POOL) writes a
// full-integer model — every op between the input QUANTIZE and the output
// DEQUANTIZE computes in int8 — that the TFLite runtime runs bit-identical
// with qbench, and compare and explain work on the float/int8 pair.
func TestQuantizeCompareExplainResNet8(t *testing.T) {
	model := filepath.Join(testshared.Dir(t, "models", "zoo"), "mlt_resnet8_f32.tflite")
	if testing.Short() {
		t.Skip("quantizes, compares and explains a zoo model; skipped with -short")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cifarish(t, data, 4)
	q := filepath.Join(dir, "int8.tflite")
	code, out, errOut := run(t, "quantize", "-q", "--model", model, "--calib", data, "--out", q)
	if code != 0 {
		t.Fatalf("quantize exit %d: %s", code, errOut)
	}
	if strings.Contains(out+errOut, "stays float32") {
		t.Errorf("quantize kept an op float:\n%s\n%s", out, errOut)
	}
	g, err := tflite.ReadFile(q)
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range g.Ops {
		if op.Kind == graph.OpQuantize || op.Kind == graph.OpDequantize {
			continue
		}
		for _, o := range op.Outputs {
			if dt := g.Tensors[o].DType; dt != graph.Int8 {
				t.Errorf("op %d (%s) writes %s, want int8", i, op.Kind, dt)
			}
		}
	}

	if or, err := oracle.Find(); err != nil {
		t.Logf("no oracle, bit-identity not checked: %v", err)
	} else {
		p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		var in []byte
		for range 4 * p.InputTensor(0).NumElements() {
			in = binary.LittleEndian.AppendUint32(in, math.Float32bits(float32(rng.Float64())))
		}
		got, err := p.NewExecutor().RunRaw(in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := or.Run(q, in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("quantized ResNet-8: qbench's outputs differ from TFLite's")
		} else {
			t.Logf("quantized ResNet-8: %d output bytes identical with TFLite", len(got))
		}
	}

	rep := filepath.Join(dir, "report")
	code, out, errOut = run(t, "compare", "-q", "--model", model, "--model", q, "--name", "float", "--name", "int8",
		"--data", data, "--out", rep)
	if code != 0 {
		t.Fatalf("compare exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "agreement") {
		t.Errorf("compare printed no agreement:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(rep, "report.json")); err != nil {
		t.Error(err)
	}
	ex := filepath.Join(dir, "explain")
	code, out, errOut = run(t, "explain", "-q", "--model", model, "--quant", q, "--data", data, "--out", ex, "--target-drop", "-1")
	if code != 0 {
		t.Fatalf("explain exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "CONV_2D") {
		t.Errorf("explain does not rank the convolutions:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(ex, "explain.json")); err != nil {
		t.Error(err)
	}
}
