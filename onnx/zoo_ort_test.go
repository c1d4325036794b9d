package onnx

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/ortrun"
	"github.com/qbench/qbench/internal/testshared"
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
	{file: "tflm_mnist_lstm.tflite", refuse: "UNIDIRECTIONAL_SEQUENCE_LSTM"},
	{file: "tflm_kws_scrambled_i8.tflite", refuse: "QUANTIZE"},
	{file: "tfls_dilated_conv.tflite", refuse: "SHAPE"},
	{file: "tfls_movie_review.tflite", relTol: 1e-5},
}

// TestZooInORT exports every zoo model (int8 and uint8 activation forms)
// and runs it in ONNX Runtime against qbench at batch 1 and 3 (the
// exported batch dimension is symbolic), or checks the refusal names the
// op. -short runs batch 1 of the default form only.
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
			if c.refuse != "" {
				_, err := Export(g)
				if err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "("+c.refuse+")") {
					t.Fatalf("want an ErrUnsupported error naming %s, got %v", c.refuse, err)
				}
				t.Logf("refused: %v", err)
				return
			}
			forms := []Options{{}, {UInt8Activations: true}}
			batches := []int{1, 3}
			if testing.Short() {
				forms, batches = forms[:1], batches[:1]
			}
			for _, o := range forms {
				for _, b := range batches {
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
