package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestMeanRunsF32MatchesReference: float32 MEAN summing whole runs of
// outputs (meanRunsF32) gives the bits of the one-output-at-a-time loop
// on random shapes (odd sizes, rank 1 to 4) and axes, NaN and ±0 inputs
// included.
func TestMeanRunsF32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	fast := 0
	for range 400 {
		rank := 1 + rng.IntN(4)
		shape := make([]int, rank)
		n := 1
		for d := range shape {
			shape[d] = 1 + rng.IntN(9)
			n *= shape[d]
		}
		var axes []int32
		nOut := 1
		for d := range rank {
			if rng.IntN(2) == 0 {
				axes = append(axes, int32(d))
			} else {
				nOut *= shape[d]
			}
		}
		if len(axes) == 0 {
			axes = []int32{int32(rank - 1)}
			nOut /= shape[rank-1]
		}
		in := &graph.Tensor{Name: "x", DType: graph.Float32, Shape: shape}
		ax := &graph.Tensor{Name: "axes", DType: graph.Int32, Shape: []int{len(axes)}, Data: graph.EncodeInt32s(axes)}
		out := &graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{nOut}}
		op := &graph.Op{Kind: graph.OpMean, Options: &graph.ReducerOptions{}}
		k, err := prepareMean(op, []*graph.Tensor{in, ax}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding)
		if err != nil {
			t.Fatal(err)
		}
		mk := k.(*meanKernel)
		if mk.inner > 0 {
			fast++
		}
		x := &Buffer{DType: graph.Float32, Shape: shape, F32: make([]float32, n)}
		for i := range x.F32 {
			switch rng.IntN(40) {
			case 0:
				x.F32[i] = float32(math.Copysign(0, -1))
			case 1:
				x.F32[i] = float32(math.NaN())
			default:
				x.F32[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(7)-3)))
			}
		}
		got := &Buffer{DType: graph.Float32, Shape: out.Shape, F32: make([]float32, nOut)}
		want := &Buffer{DType: graph.Float32, Shape: out.Shape, F32: make([]float32, nOut)}
		for i := range got.F32 {
			got.F32[i] = 7 // stale values must not leak into the sums
		}
		if err := mk.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
			t.Fatal(err)
		}
		ref := *mk
		ref.inner = 0
		if err := ref.Run([]*Buffer{x}, []*Buffer{want}); err != nil {
			t.Fatal(err)
		}
		for i := range want.F32 {
			if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) && !(got.F32[i] != got.F32[i] && want.F32[i] != want.F32[i]) {
				t.Fatalf("shape %v axes %v output %d: runs %g, reference %g", shape, axes, i, got.F32[i], want.F32[i])
			}
		}
	}
	if fast < 50 {
		t.Errorf("only %d of 400 cases took the run path", fast)
	}
}

// TestSumRunsF32MatchesReference: float32 SUM as row sums (rowRuns,
// sumRunsF32) gives the reference fold's bits on random shapes and axes
// (the reduced axes anywhere, runs of 4 to 40 values, NaN, ±0 and ±Inf
// inputs), and takes the row path often enough to be tested.
func TestSumRunsF32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	fast := 0
	for range 300 {
		rank := 2 + rng.IntN(3)
		shape := make([]int, rank)
		for d := range shape {
			shape[d] = 1 + rng.IntN(7)
		}
		shape[rank-1] = 4 + rng.IntN(37)
		var axes []int32
		var outShape []int
		for d := range rank - 1 {
			if rng.IntN(2) == 0 {
				axes = append(axes, int32(d))
			} else {
				outShape = append(outShape, shape[d])
			}
		}
		if len(axes) == 0 {
			axes = []int32{0}
			outShape = outShape[1:]
		}
		outShape = append(outShape, shape[rank-1])
		in := &graph.Tensor{Name: "x", DType: graph.Float32, Shape: shape}
		ax := &graph.Tensor{Name: "axes", DType: graph.Int32, Shape: []int{len(axes)}, Data: graph.EncodeInt32s(axes)}
		out := &graph.Tensor{Name: "y", DType: graph.Float32, Shape: outShape}
		op := &graph.Op{Kind: graph.OpSum, Options: &graph.ReducerOptions{}}
		k, err := PrepareWith(op, []*graph.Tensor{in, ax}, []*graph.Tensor{out}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if k.(*reduceKernel).inner > 0 {
			fast++
		}
		x := &Buffer{DType: graph.Float32, Shape: shape, F32: randRows(rng, graph.NumElements(shape))}
		differential(t, fmt.Sprintf("SUM %v axes %v", shape, axes), op, []*graph.Tensor{in, ax}, out, fixedpoint.RuntimeRounding, []*Buffer{x, nil})
	}
	if fast < 250 {
		t.Errorf("only %d of 300 cases took the row path", fast)
	}
}
