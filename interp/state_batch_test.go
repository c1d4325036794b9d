package interp_test

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/tflite"
)

// batchMatchesSingles compiles g at batch 1 and at batch n, runs n random
// images together and one by one (every Run from zero state), and requires
// the same bytes: a re-batched state tensor gives each image its own row.
// lo and hi bound float inputs.
func batchMatchesSingles(t *testing.T, name string, g *graph.Graph, n int, rng *rand.Rand, lo, hi float64) {
	t.Helper()
	one, err := interp.Compile(g, interp.Options{Batch: 1})
	if err != nil {
		t.Fatalf("%s: batch 1: %v", name, err)
	}
	many, err := interp.Compile(g, interp.Options{Batch: n})
	if err != nil {
		t.Fatalf("%s: batch %d: %v", name, n, err)
	}
	in := randomInput(rng, one.InputTensor(0), n, lo, hi)
	per := len(in) / n
	e1, en := one.NewExecutor(), many.NewExecutor()
	var want []byte
	// Twice, so a state left over from the first batch would show.
	for range 2 {
		want = want[:0]
		for i := range n {
			if err := e1.SetInputBytes(0, in[i*per:(i+1)*per]); err != nil {
				t.Fatal(err)
			}
			if err := e1.Run(); err != nil {
				t.Fatalf("%s: batch 1 image %d: %v", name, i, err)
			}
			want = e1.AppendOutputBytes(0, want)
		}
		if err := en.SetInputBytes(0, in); err != nil {
			t.Fatal(err)
		}
		if err := en.Run(); err != nil {
			t.Fatalf("%s: batch %d: %v", name, n, err)
		}
		if got := en.AppendOutputBytes(0, nil); !bytes.Equal(got, want) {
			t.Fatalf("%s: batch %d output differs from the images run one by one", name, n)
		}
	}
}

// TestStateRebatchedLSTMAndSVDF: LSTMs (float, integer, every batch-major
// variant) and SVDFs (float, integer) built at batch 1 run at batch 5 with
// their state tensors re-batched, each image exactly as it runs alone.
func TestStateRebatchedLSTMAndSVDF(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 64))
	for _, c := range lstmCases(rng, 4) {
		if c.timeMajor {
			continue // Options.Batch sets dimension 0, which is time there
		}
		batchMatchesSingles(t, "float LSTM "+c.String(), floatLSTM(rng, c, 1, 4, 5, 6, 3+3*b2i(!c.projection)), 5, rng, -2, 2)
		batchMatchesSingles(t, "int LSTM "+c.String(), intLSTM(rng, c, 1, 4, 5, 6, 3+3*b2i(!c.projection)), 5, rng, -2, 2)
	}
	for _, dt := range []graph.DType{graph.Float32, graph.Int8} {
		nIn, rank, nUnit, nMem := 7, 2, 3, 4
		nFilter := nUnit * rank
		x := qt(dt, []int{1, nIn}, 0.05, 3)
		y := qt(dt, []int{1, nUnit}, 0.2, -5)
		wf := constOf(dt, []int{nFilter, nIn}, 0.01, 0, rng)
		wtDT, stDT := dt, dt
		if dt == graph.Int8 {
			wtDT, stDT = graph.Int16, graph.Int16
		}
		wt := constOf(wtDT, []int{nFilter, nMem}, 5e-5, 0, rng)
		st := qt(stDT, []int{1, nFilter * nMem}, 5e-3, 0)
		st.Name, st.Variable = "state", true
		bias := constOf(graph.Float32, []int{nUnit}, 0, 0, rng)
		if dt == graph.Int8 {
			bias = i32("bias", 100, -300, 7)
			bias.Quant = &graph.Quantization{Scale: []float32{st.Quant.Scale[0] * wt.Quant.Scale[0]}, ZeroPoint: []int64{0}}
		}
		g := oneOp(graph.OpSVDF, &graph.SVDFOptions{Rank: rank, Activation: graph.ActRelu}, x, y, wf, wt, bias, st)
		batchMatchesSingles(t, "SVDF "+dt.String(), g, 5, rng, -3, 3)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestStateRebatchedZoo runs the zoo's recurrent models (float and integer
// LSTM, integer SVDF) at batch 3 against their images one by one.
func TestStateRebatchedZoo(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "models", "zoo")
	rng := rand.New(rand.NewPCG(16, 65))
	for _, f := range []string{"tflm_mnist_lstm.tflite", "coral_lstm_mnist_ptq.tflite", "tflm_kws_scrambled_i8.tflite"} {
		g, err := tflite.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Skipf("%s absent: %v", f, err)
		}
		batchMatchesSingles(t, f, g, 3, rng, 0, 1)
	}
}
