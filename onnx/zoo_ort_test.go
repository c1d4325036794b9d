package onnx

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/ortrun"
	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/tflite"
)

// findORT returns the ONNX Runtime runner or skips t saying how to install it.
func findORT(t *testing.T) *ortrun.Runner {
	t.Helper()
	r, err := ortrun.Find()
	if err != nil {
		t.Skip(err)
	}
	return r
}

// zooCase says what exporting a zoo model must give: an error naming an op
// ONNX cannot express, or a model whose outputs in ONNX Runtime are within
// tolerance of qbench's.
type zooCase struct {
	file string
	// refuse: the op kind the export error must name ("" = must export).
	refuse string
	// relTol bounds float outputs: max|Δ| / output range.
	relTol float64
	// maxFrac and maxSteps bound integer outputs: the share of values that
	// differ and by how many quantization steps.
	maxFrac  float64
	maxSteps int
	// why explains any tolerance above float rounding or bit-exactness.
	why string
	// batch1 says why only batch 1 is checked ("" = batch 3 too).
	batch1 string
}

var zooCases = []zooCase{
	{file: "mlt_resnet8_f32.tflite", relTol: 1e-5},
	{file: "mlt_resnet8_i8.tflite"},
	{file: "mlt_kws_dscnn_i8.tflite"},
	{file: "mlt_kws_dscnn_f32.tflite", relTol: 3e-2,
		why: "a hybrid model: TFLite (and qbench) quantize the activations to int8 per image before each int8-weight conv and FC; the ONNX model runs float convolutions on dequantized weights"},
	{file: "mlt_ad_fc_i8.tflite"},
	{file: "mlt_vww96_i8.tflite"},
	{file: "mlt_strww.tflite"},
	{file: "coral_mnv1_025_128_u8.tflite", maxFrac: 0.01, maxSteps: 8,
		why: "uint8 conv/depthwise rescale with TFLite's fixed-point multipliers, ONNX Runtime in float32 with ties to even: single steps in the hidden layers, amplified by the softmax"},
	{file: "coral_split_concat.tflite"},
	{file: "coral_lstm_mnist_ptq.tflite", refuse: "UNIDIRECTIONAL_SEQUENCE_LSTM"},
	{file: "tflm_mnist_lstm.tflite", relTol: 1e-5,
		batch1: "qbench keeps the LSTM state tensors at the file's batch of 1 (compile refuses batch 3)"},
	{file: "tflm_kws_scrambled_i8.tflite", refuse: "QUANTIZE"},
	{file: "tfls_dilated_conv.tflite", relTol: 1e-5},
	{file: "tfls_movie_review.tflite", relTol: 1e-5},
}

// TestZooInORT exports every zoo model (int8 and uint8 activation forms)
// and runs it in ONNX Runtime against qbench at batch 1 and 3 (the
// exported batch dimension is symbolic), or checks the refusal names the
// op. Shape arithmetic is folded first, as qbench export does. -short runs
// batch 1 of the default form only.
func TestZooInORT(t *testing.T) {
	zoo := testshared.Dir(t, "models", "zoo")
	files, err := filepath.Glob(filepath.Join(zoo, "*.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, c := range zooCases {
		known[c.file] = true
	}
	for _, f := range files {
		if !known[filepath.Base(f)] {
			t.Errorf("zoo model %s has no case in zooCases", filepath.Base(f))
		}
	}
	ort := findORT(t)
	for _, c := range zooCases {
		t.Run(c.file, func(t *testing.T) {
			g, err := tflite.ReadFile(filepath.Join(zoo, c.file))
			if err != nil {
				t.Fatal(err)
			}
			// As qbench export does: constant shape arithmetic first.
			if g, _, err = interp.Fold(g); err != nil {
				t.Fatal(err)
			}
			if c.refuse != "" {
				_, err := Export(g)
				if err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "("+c.refuse+")") {
					t.Fatalf("want an ErrUnsupported error naming %s, got %v", c.refuse, err)
				}
				t.Logf("refused: %v", err)
				return
			}
			// The default form at batch 1 and 3; the uint8-activation
			// form (only different with int8 activations) at batch 3.
			type run struct {
				o Options
				b int
			}
			runs := []run{{Options{}, 1}, {Options{}, 3}}
			if hasInt8Activations(g) {
				runs = append(runs, run{Options{UInt8Activations: true}, 3})
			}
			if testing.Short() || c.batch1 != "" {
				runs = runs[:1]
			}
			for _, r := range runs {
				o, b := r.o, r.b
				{
					for i, d := range runBoth(t, ort, g, o, b, -1, 1, 100) {
						t.Logf("uint8 activations %v, batch %d, output %d: %v", o.UInt8Activations, b, i, d)
						switch {
						case d.float && d.maxAbs > c.relTol*d.span:
							t.Errorf("uint8 activations %v, batch %d, output %d: %v, want ≤ %g relative", o.UInt8Activations, b, i, d, c.relTol)
						case !d.float && (float64(d.differ) > c.maxFrac*float64(d.n) || d.maxInt > c.maxSteps):
							t.Errorf("uint8 activations %v, batch %d, output %d: %v, want ≤ %g of them by ≤ %d", o.UInt8Activations, b, i, d, c.maxFrac, c.maxSteps)
						}
					}
				}
			}
		})
	}
}

// TestDilatedInt8InORT quantizes tfls_dilated_conv (SPACE_TO_BATCH_ND →
// CONV_2D → BATCH_TO_SPACE_ND in int8) and runs its export, one dilated
// QDQ Conv, in ONNX Runtime against qbench.
func TestDilatedInt8InORT(t *testing.T) {
	zoo := testshared.Dir(t, "models", "zoo")
	ort := findORT(t)
	g, err := tflite.ReadFile(filepath.Join(zoo, "tfls_dilated_conv.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	if g, _, err = interp.Fold(g); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var xs [][]float32
	for range 8 {
		x := make([]float32, g.Tensors[g.Inputs[0]].NumElements())
		for i := range x {
			x[i] = 2*r.Float32() - 1
		}
		xs = append(xs, x)
	}
	q, _, err := quant.Quantize(context.Background(), g, quant.SliceSamples(xs), quant.Options{IO: graph.Int8})
	if err != nil {
		t.Fatal(err)
	}
	kinds := ""
	for _, op := range q.Ops {
		kinds += op.Kind.String() + " "
	}
	if !strings.Contains(kinds, "SPACE_TO_BATCH_ND CONV_2D BATCH_TO_SPACE_ND") {
		t.Fatalf("quantized ops %s: want the space-to-batch chain", kinds)
	}
	for _, o := range []Options{{}, {UInt8Activations: true}} {
		for i, d := range runBoth(t, ort, q, o, 3, -1, 1, 100) {
			t.Logf("uint8 activations %v, output %d: %v", o.UInt8Activations, i, d)
			if d.maxInt > 1 || d.differ*20 > d.n {
				t.Errorf("uint8 activations %v, output %d: %v", o.UInt8Activations, i, d)
			}
		}
	}
}

// hasInt8Activations reports whether an op of g writes an int8 tensor.
func hasInt8Activations(g *graph.Graph) bool {
	for _, op := range g.Ops {
		for _, o := range op.Outputs {
			if o >= 0 && o < len(g.Tensors) && g.Tensors[o].DType == graph.Int8 {
				return true
			}
		}
	}
	return false
}
