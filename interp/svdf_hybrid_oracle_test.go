package interp_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/tflite"
)

// TestSVDFHybridOneOpMatchesTFLite writes one-op hybrid SVDFs (float input,
// state and output; int8 weights_feature and weights_time with one scale
// each; symmetric and asymmetric input quantization; random shapes, ranks
// and activations; 4 cases, 8 with QBENCH_ORACLE_ALL=1) and compares them
// with TFLite over 6 carried steps: within 1e-5 of the output range.
func TestSVDFHybridOneOpMatchesTFLite(t *testing.T) {
	sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per case; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(14, 10))
	dir := t.TempDir()
	int8Of := func(name string, shape []int) *graph.Tensor {
		n := shape[0] * shape[1]
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(rng.IntN(255) - 127)
		}
		s := float32(0.002 + 0.02*rng.Float64())
		return &graph.Tensor{Name: name, DType: graph.Int8, Shape: shape, Data: graph.EncodeInt8s(v),
			Quant: &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{0}}}
	}
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActTanh, graph.ActRelu6}
	n := 4 // 8 with QBENCH_ORACLE_ALL=1 (one node run each)
	if os.Getenv("QBENCH_ORACLE_ALL") == "1" {
		n = 8
	}
	for i := range n {
		batch, nIn, rank, nUnit, nMem := 1+rng.IntN(3), 3+rng.IntN(20), 1+rng.IntN(2), 2+rng.IntN(9), 2+rng.IntN(7)
		nFilter := nUnit * rank
		x := &graph.Tensor{DType: graph.Float32, Shape: []int{batch, nIn}}
		y := &graph.Tensor{DType: graph.Float32, Shape: []int{batch, nUnit}}
		bv := make([]float32, nUnit)
		for k := range bv {
			bv[k] = float32(rng.NormFloat64() * 0.3)
		}
		bias := &graph.Tensor{Name: "bias", DType: graph.Float32, Shape: []int{nUnit}, Data: graph.EncodeFloat32s(bv)}
		st := &graph.Tensor{Name: "state", DType: graph.Float32, Shape: []int{batch, nFilter * nMem}, Variable: true}
		asym := i%2 == 1
		act := acts[i%len(acts)]
		g := oneOp(graph.OpSVDF, &graph.SVDFOptions{Rank: rank, Activation: act, AsymmetricQuantizeInputs: asym},
			x, y, int8Of("wf", []int{nFilter, nIn}), int8Of("wt", []int{nFilter, nMem}), bias, st)
		name := fmt.Sprintf("svdf-hybrid%d", i)
		path := filepath.Join(dir, name+".tflite")
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%s: write: %v", name, err)
		}
		in := randomInput(rng, g.Tensor(g.Inputs[0]), 6, -3, 3)
		got, want, _ := lstmRun(t, or, g, path, in)
		if rel, r := floatRangeError(got, want); !(rel <= 1e-5) || math.IsNaN(rel) {
			t.Errorf("%s (batch %d input %d rank %d units %d memory %d %s asymmetric=%v): worst difference %.3g of the output range %.3g",
				name, batch, nIn, rank, nUnit, nMem, act, asym, rel, r)
		}
	}
}
