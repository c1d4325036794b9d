package quant

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// mnistLike returns n 28x28 images in 0..1 that look like MNIST digits to
// a model trained on it: dark noisy background, bright strokes (a row and
// a column picked by the sample's class).
func mnistLike(n int, seed int64) [][]float32 {
	rng := rand.New(rand.NewSource(seed))
	xs := make([][]float32, n)
	for i := range xs {
		c := i % 10
		xs[i] = make([]float32, 28*28)
		for y := range 28 {
			for x := range 28 {
				v := rng.Float64() * 0.12
				if (y == 3+2*c || x == 3+2*c+rng.Intn(2)) && x > 4 && x < 24 && y > 2 && y < 26 {
					v = 0.7 + 0.3*rng.Float64()
				}
				xs[i][y*28+x] = float32(v)
			}
		}
	}
	return xs
}

// lstmOp returns g's first UNIDIRECTIONAL_SEQUENCE_LSTM.
func lstmOp(t *testing.T, g *graph.Graph) *graph.Op {
	t.Helper()
	for _, op := range g.Ops {
		if op.Kind == graph.OpUnidirectionalSequenceLSTM {
			return op
		}
	}
	t.Fatal("no UNIDIRECTIONAL_SEQUENCE_LSTM")
	return nil
}

// lstmStructure describes how an integer LSTM stores its tensors, in the
// terms the converter's recipe fixes (not the values calibration picks):
// dtypes, zero points, symmetric narrow ranges, which scales are products of
// others, which parameters are shared, power-of-two cell scale, and the
// intermediates' dtypes, shapes and parameters.
func lstmStructure(g *graph.Graph, op *graph.Op) []string {
	var d []string
	t := func(k int) *graph.Tensor {
		if k < len(op.Inputs) {
			return g.Tensor(op.Inputs[k])
		}
		return nil
	}
	q := func(x *graph.Tensor) (float32, int64) {
		if x == nil || x.Quant == nil || len(x.Quant.Scale) == 0 {
			return 0, 0
		}
		return x.Quant.Scale[0], x.Quant.ZeroPoint[0]
	}
	sIn, _ := q(t(0))
	d = append(d, fmt.Sprintf("input %s", t(0).DType))
	for k := 1; k < len(op.Inputs); k++ {
		x := t(k)
		if x == nil {
			d = append(d, fmt.Sprintf("%d absent", k))
			continue
		}
		s, zp := q(x)
		desc := fmt.Sprintf("%d %s const=%v variable=%v per-tensor=%v", k, x.DType, x.IsConst(), x.Variable,
			x.Quant != nil && len(x.Quant.Scale) == 1)
		if x.IsConst() || x.DType == graph.Int16 {
			desc += fmt.Sprintf(" zp=%d", zp)
		}
		switch {
		case x.DType == graph.Int8 && x.IsConst():
			v := x.Int8s()
			lo, hi := slices.Min(v), slices.Max(v)
			desc += fmt.Sprintf(" symmetric-127=%v", lo >= -127 && max(-lo, hi) == 127)
		case x.DType == graph.Int16 && x.IsConst():
			v := x.Int16s()
			lo, hi := slices.Min(v), slices.Max(v)
			desc += fmt.Sprintf(" symmetric-32767=%v", lo >= -32767 && max(-lo, hi) == 32767)
		case x.DType == graph.Int32 && k >= 12 && k <= 15:
			sw, _ := q(t(k - 11))
			desc += fmt.Sprintf(" scale=s_in*s_w:%v", s == sIn*sw)
		case k == 18:
			so, zo := q(g.Tensor(op.Outputs[0]))
			desc += fmt.Sprintf(" same-as-output=%v", s == so && zp == zo)
		case k == 19:
			_, frac := math.Frexp(float64(s))
			desc += fmt.Sprintf(" power-of-two=%v", s > 0 && math.Ldexp(1, frac-1) == float64(s))
		}
		d = append(d, desc)
	}
	out := g.Tensor(op.Outputs[0])
	so, zo := q(out)
	d = append(d, fmt.Sprintf("output %s", out.DType))
	for i, it := range op.Intermediates {
		x := g.Tensor(it)
		s, zp := q(x)
		d = append(d, fmt.Sprintf("intermediate %d %q %s %v quantized=%v same-as-output=%v", i, x.Name, x.DType, x.Shape,
			x.Quant != nil, s == so && zp == zo))
	}
	return d
}

// TestLSTMStructureMatchesCoral: the Coral MNIST LSTM, a real converter
// output (8x8->16, no projection, peephole or layer norm), stores its
// tensors the way quant's LSTM recipe says, and quantize on TFLite Micro's
// float MNIST LSTM (the same architecture) writes the same structure.
func TestLSTMStructureMatchesCoral(t *testing.T) {
	zoo := testshared.Dir(t, "models", "zoo")
	coral, err := tflite.ReadFile(filepath.Join(zoo, "coral_lstm_mnist_ptq.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	want := lstmStructure(coral, lstmOp(t, coral))
	for _, line := range want {
		// The recipe, checked on the converter's own output.
		for _, bad := range []string{"symmetric-127=false", "symmetric-32767=false", "s_in*s_w:false", "same-as-output=false", "power-of-two=false"} {
			if strings.Contains(line, bad) && !strings.HasPrefix(line, "intermediate") {
				t.Errorf("Coral LSTM: %s", line)
			}
		}
	}
	f, err := tflite.ReadFile(filepath.Join(zoo, "tflm_mnist_lstm.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	q, _, err := Quantize(context.Background(), f, SliceSamples(mnistLike(20, 1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := lstmStructure(q, lstmOp(t, q))
	if !slices.Equal(got, want) {
		t.Errorf("quantized LSTM structure differs from the converter's:\n got %s\nwant %s",
			strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if testing.Verbose() {
		t.Logf("Coral LSTM structure:\n%s", strings.Join(want, "\n"))
	}
}

// TestQuantizeZooLSTM: quantize on TFLite Micro's float MNIST LSTM writes
// the converter's integer 8x8->16 LSTM (int8 output state, int16 cell
// state, five intermediates), no op stays float, and the model runs in the
// TFLite oracle identically with qbench on random and MNIST-like images
// (state carried across samples as TFLite does), both the model's output
// and the LSTM's own.
func TestQuantizeZooLSTM(t *testing.T) {
	zoo := testshared.Dir(t, "models", "zoo")
	g, err := tflite.ReadFile(filepath.Join(zoo, "tflm_mnist_lstm.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	random := randomSamples(g, 8, 5)
	for _, s := range random {
		for i := range s {
			s[i] = s[i]/2 + 0.5 // pixels in 0..1, as the model was trained
		}
	}
	for _, io := range []graph.DType{graph.Float32, graph.Int8} {
		q, rep, err := Quantize(context.Background(), g, SliceSamples(mnistLike(30, 3)), Options{IO: io})
		if err != nil {
			t.Fatalf("io %s: %v", io, err)
		}
		if len(rep.FloatOps) != 0 {
			t.Errorf("io %s: float ops reported: %q", io, rep.FloatOps)
		}
		var kinds []string
		for _, op := range q.Ops {
			kinds = append(kinds, op.Kind.String())
			if op.Kind == graph.OpUnidirectionalSequenceLSTM {
				for k, dt := range map[int]graph.DType{0: graph.Int8, 2: graph.Int8, 12: graph.Int32, 18: graph.Int8, 19: graph.Int16} {
					if st := q.Tensor(op.Inputs[k]); st.DType != dt || (k >= 18) != st.Variable {
						t.Errorf("io %s: LSTM input %d %q is %s variable=%v, want %s", io, k, st.Name, st.DType, st.Variable, dt)
					}
				}
				if len(op.Intermediates) != 5 {
					t.Errorf("io %s: LSTM has %d intermediates, want 5", io, len(op.Intermediates))
				}
			}
		}
		want := "QUANTIZE UNIDIRECTIONAL_SEQUENCE_LSTM RESHAPE FULLY_CONNECTED SOFTMAX DEQUANTIZE"
		if io == graph.Int8 {
			want = "UNIDIRECTIONAL_SEQUENCE_LSTM RESHAPE FULLY_CONNECTED SOFTMAX"
		}
		if got := strings.Join(kinds, " "); got != want {
			t.Errorf("io %s: quantized ops %s, want %s", io, got, want)
		}
		// The integer model classifies MNIST-like images as the float one does.
		fp, err := interp.Compile(g, interp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		qp, err := interp.Compile(q, interp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fe, qe := fp.NewExecutor(), qp.NewExecutor()
		agree, test := 0, mnistLike(40, 13)
		for _, x := range test {
			if err := fe.SetInputFloat(0, x); err != nil {
				t.Fatal(err)
			}
			if err := qe.SetInputFloat(0, x); err != nil {
				t.Fatal(err)
			}
			if err := fe.Run(); err != nil {
				t.Fatal(err)
			}
			if err := qe.Run(); err != nil {
				t.Fatal(err)
			}
			a, b := fe.OutputFloat(0, nil), qe.OutputFloat(0, nil)
			if argmax(a) == argmax(b) {
				agree++
			}
		}
		// Not all: the runtime negates the hidden zero point (Report.Notes),
		// which moves every output and recurrent state by 2·|zp| steps when
		// the calibrated zero point is not 0 (-1 here, as in the Coral model).
		if agree < len(test)*7/10 {
			t.Errorf("io %s: the integer model agrees with the float one on %d of %d MNIST-like images", io, agree, len(test))
		}
		t.Logf("io %s: top-1 agreement with the float model on %d of %d MNIST-like images", io, agree, len(test))
		if testing.Short() {
			continue // the oracle runs below take node eight times per I/O type
		}
		r, err := oracle.Find()
		if err != nil {
			t.Skip(err)
		}
		// The whole model, and the model cut after the LSTM (its int8 output).
		cut := q.Clone()
		cut.Outputs = append(cut.Outputs, lstmOp(t, cut).Outputs[0])
		if cut, err = graph.WithOutputs(cut, []int{len(cut.Outputs) - 1}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			name string
			g    *graph.Graph
		}{{"model", q}, {"lstm", cut}} {
			path := filepath.Join(t.TempDir(), "q.tflite")
			if err := tflite.WriteFile(path, m.g); err != nil {
				t.Fatal(err)
			}
			back, err := tflite.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range []struct {
				name    string
				samples [][]float32
			}{{"random", random}, {"mnist-like", mnistLike(10, 9)}} {
				raw := rawInputs(back, in.samples)
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
					t.Fatalf("io %s %s: the oracle refuses the quantized model: %v", io, m.name, err)
				}
				diff := 0
				for i := range min(len(mine), len(theirs)) {
					if mine[i] != theirs[i] {
						diff++
					}
				}
				if !bytes.Equal(mine, theirs) {
					t.Errorf("io %s %s %s inputs: %d of %d output bytes differ from the oracle", io, m.name, in.name, diff, len(theirs))
				} else if testing.Verbose() {
					t.Logf("io %s %s, %d %s inputs: %d output bytes identical with the oracle", io, m.name, len(in.samples), in.name, len(theirs))
				}
			}
		}
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
