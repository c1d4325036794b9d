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
	q := quantizeAllInt(t, model, data, dir)
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

	compareAndExplain(t, model, q, data, dir, "CONV_2D")
}
