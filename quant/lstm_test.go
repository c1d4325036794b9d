package quant

import (
	"bytes"
	"context"
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

// TestQuantizeZooLSTM: quantize on TFLite Micro's float MNIST LSTM keeps the
// LSTM float (its state tensors float variables), says so in the report,
// quantizes the rest, and the model runs in the TFLite oracle identically
// with qbench (8 samples, state carried across them as TFLite does).
func TestQuantizeZooLSTM(t *testing.T) {
	zoo := testshared.Dir(t, "models", "zoo")
	g, err := tflite.ReadFile(filepath.Join(zoo, "tflm_mnist_lstm.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	for _, io := range []graph.DType{graph.Float32, graph.Int8} {
		q, rep, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 32, 3)), Options{IO: io})
		if err != nil {
			t.Fatalf("io %s: %v", io, err)
		}
		if len(rep.FloatOps) != 1 || !strings.Contains(rep.FloatOps[0], "UNIDIRECTIONAL_SEQUENCE_LSTM") {
			t.Errorf("io %s: float ops reported: %q", io, rep.FloatOps)
		}
		var kinds []string
		for _, op := range q.Ops {
			kinds = append(kinds, op.Kind.String())
			if op.Kind == graph.OpUnidirectionalSequenceLSTM {
				for _, k := range []int{18, 19} {
					if st := q.Tensor(op.Inputs[k]); st.DType != graph.Float32 || !st.Variable {
						t.Errorf("io %s: LSTM state %q is %s variable=%v", io, st.Name, st.DType, st.Variable)
					}
				}
			}
		}
		want := "UNIDIRECTIONAL_SEQUENCE_LSTM QUANTIZE RESHAPE FULLY_CONNECTED SOFTMAX DEQUANTIZE"
		if io == graph.Int8 {
			want = "DEQUANTIZE UNIDIRECTIONAL_SEQUENCE_LSTM QUANTIZE RESHAPE FULLY_CONNECTED SOFTMAX"
		}
		if got := strings.Join(kinds, " "); got != want {
			t.Errorf("io %s: quantized ops %s, want %s", io, got, want)
		}
		r, err := oracle.Find()
		if err != nil {
			t.Skip(err)
		}
		path := filepath.Join(t.TempDir(), "q.tflite")
		if err := tflite.WriteFile(path, q); err != nil {
			t.Fatal(err)
		}
		back, err := tflite.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		samples := randomSamples(g, 8, 5)
		for _, s := range samples {
			for i := range s {
				s[i] = s[i]/2 + 0.5 // pixels in 0..1, as the model was trained
			}
		}
		raw := rawInputs(back, samples)
		p, err := interp.Compile(back, interp.Options{Rounding: fixedpoint.RuntimeRounding, CarryState: true})
		if err != nil {
			t.Fatal(err)
		}
		mine, err := p.NewExecutor().RunRaw(raw)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := r.Run(path, raw)
		if err != nil {
			t.Fatalf("io %s: the oracle refuses the quantized model: %v", io, err)
		}
		if !bytes.Equal(mine, theirs) {
			t.Errorf("io %s: outputs differ from the oracle\nqbench %v\noracle %v", io, mine[:min(40, len(mine))], theirs[:min(40, len(theirs))])
		}
	}
}
