package interp_test

import (
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// TestUint8ConvTiesMatchTFLite: uint8 CONV_2D (1x1 and 3x3),
// DEPTHWISE_CONV_2D and FULLY_CONNECTED with a weight scale of 1/2 and
// small values around the zero points, so about half the results land on
// exact .5 ties, where the runtime's delegate (float32 requantization,
// ties to even) and the builtin kernels (ties up) part. The runtime
// arithmetic must match the oracle on every value; TFLite Micro's double
// rounding must differ on some (or the cases test nothing).
func TestUint8ConvTiesMatchTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per op; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	mk := func(kind graph.OpKind, opts any, wshape, yshape []int, bshape int) *graph.Graph {
		x := qt(graph.UInt8, []int{1, 6, 6, 8}, 0.02, 0)
		y := qt(graph.UInt8, yshape, 0.02, 0)
		w := constOf(graph.UInt8, wshape, 0.5, 0, rng)
		for i := range w.Data {
			w.Data[i] = byte(128 + rng.IntN(7) - 3)
		}
		b := &graph.Tensor{Name: "b", DType: graph.Int32, Shape: []int{bshape}, Data: graph.EncodeInt32s(make([]int32, bshape)), Quant: &graph.Quantization{Scale: []float32{0.01}, ZeroPoint: []int64{0}}}
		return oneOp(kind, opts, x, y, w, b)
	}
	cases := map[string]*graph.Graph{
		"conv1x1": mk(graph.OpConv2D, &graph.Conv2DOptions{Padding: graph.PaddingValid, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1}, []int{5, 1, 1, 8}, []int{1, 6, 6, 5}, 5),
		"conv3x3": mk(graph.OpConv2D, &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1}, []int{5, 3, 3, 8}, []int{1, 6, 6, 5}, 5),
		"dw3x3":   mk(graph.OpDepthwiseConv2D, &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, DepthMultiplier: 1}, []int{1, 3, 3, 8}, []int{1, 6, 6, 8}, 8),
		"fc":      mk(graph.OpFullyConnected, &graph.FullyConnectedOptions{}, []int{5, 288}, []int{1, 5}, 5),
	}
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		g := cases[name]
		p := filepath.Join(dir, name+".tflite")
		if err := tflite.WriteFile(p, g); err != nil {
			t.Fatal(name, err)
		}
		for _, rnd := range []fixedpoint.Rounding{fixedpoint.RuntimeRounding, fixedpoint.DoubleRounding} {
			prog, err := interp.Compile(g, interp.Options{Rounding: rnd})
			if err != nil {
				t.Fatal(name, err)
			}
			in := randomInput(rand.New(rand.NewPCG(9, 9)), prog.InputTensor(0), 4, 0, 0)
			for i := range in {
				in[i] = byte(128 + int(in[i])%5 - 2)
			}
			got, _ := prog.NewExecutor().RunRaw(in)
			want, err := or.Run(p, in)
			if err != nil {
				t.Fatal(name, err)
			}
			bad, worst := compareInts(graph.UInt8, got, want)
			switch {
			case rnd == fixedpoint.RuntimeRounding && bad > 0:
				t.Errorf("%s: %d of %d values differ from TFLite, by up to %d", name, bad, len(got), worst)
			case rnd == fixedpoint.DoubleRounding && bad == 0:
				t.Errorf("%s: double rounding agrees with the runtime on all %d values: no ties were hit", name, len(got))
			default:
				t.Logf("%s (%v): %d of %d values differ from TFLite", name, rnd, bad, len(got))
			}
		}
	}
}
