package interp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/tflite"
)

// TestZoo16x8DepthwiseMatchesTFLite quantizes the MLPerf Tiny keyword
// spotting DS-CNN (its int8 weights dequantized to float first) in 16x8
// mode with int16 I/O, so that its four DEPTHWISE_CONV_2D layers, 1×1
// convolutions and dense layer run the 16x8 kernels, and compares qbench
// with the real TFLite interpreter after every layer on a batch of three
// random inputs: every value must be identical.
func TestZoo16x8DepthwiseMatchesTFLite(t *testing.T) {
	g, or := zooOracle(t, "mlt_kws_dscnn_f32.tflite", "runs TFLite several times")
	for _, tn := range g.Tensors {
		if tn.DType != graph.Int8 || tn.Data == nil || tn.Quant == nil {
			continue
		}
		q := tn.Int8s()
		f := make([]float32, len(q))
		stride := 1 // elements between steps of the quantized axis
		for _, d := range tn.Shape[tn.Quant.Axis+1:] {
			stride *= d
		}
		for i, v := range q {
			f[i] = float32(v) * tn.Quant.Scale[i/stride%len(tn.Quant.Scale)]
		}
		tn.DType, tn.Data, tn.Quant = graph.Float32, graph.EncodeFloat32s(f), nil
	}
	rng := rand.New(rand.NewPCG(16, 8))
	n := g.Tensors[g.Inputs[0]].NumElements()
	calib := make([][]float32, 24)
	for i := range calib {
		calib[i] = make([]float32, n)
		for j := range calib[i] {
			calib[i][j] = rng.Float32()*2 - 1
		}
	}
	q, _, err := quant.Quantize(context.Background(), g, quant.SliceSamples(calib), quant.Options{Mode: quant.Mode16x8, IO: graph.Int16})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dws := 0
	for cut, op := range q.Ops {
		if op.Kind == graph.OpDepthwiseConv2D {
			dws++
		}
		c := cutAfter(q, cut)
		name := fmt.Sprintf("after op %d (%s)", cut, op.Kind)
		p := filepath.Join(dir, "cut.tflite")
		if err := tflite.WriteFile(p, c); err != nil {
			t.Fatal(err)
		}
		prog, err := interp.Compile(c, interp.Options{Rounding: fixedpoint.RuntimeRounding})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in := randomInput(rng, prog.InputTensor(0), 3, -1, 1)
		got, err := prog.NewExecutor().RunRaw(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := or.Run(p, in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := prog.OutputTensor(0)
		if out.DType != graph.Int16 || len(got) != len(want) {
			t.Fatalf("%s: %s output of %d bytes, TFLite %d", name, out.DType, len(got), len(want))
		}
		if bad, worst := compareInts(out.DType, got, want); bad > 0 {
			t.Errorf("%s: %d of %d values differ from TFLite, by up to %d", name, bad, len(got)/2, worst)
		} else {
			t.Logf("%s: %d values identical to TFLite", name, len(got)/2)
		}
	}
	if dws != 4 {
		t.Errorf("%d DEPTHWISE_CONV_2D ops in the 16x8 model, want 4", dws)
	}
}
