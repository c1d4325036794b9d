package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestSVDFFloatMatchesReference runs a float SVDF for several steps and
// compares it with a plain reference that keeps each filter's history as
// its own list of past activations (no shared shifted buffer), within 1e-5
// relative to the output's range.
func TestSVDFFloatMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	for trial := range 8 {
		batch, nIn, rank, nUnit, nMem := 1+rng.IntN(3), 1+rng.IntN(9), 1+rng.IntN(3), 1+rng.IntN(5), 1+rng.IntN(6)
		nFilter := rank * nUnit
		rnd := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		wf, wt, bias := rnd(nFilter*nIn), rnd(nFilter*nMem), rnd(nUnit)
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActTanh}[trial%3]
		ins := []*graph.Tensor{
			{DType: graph.Float32, Shape: []int{batch, nIn}},
			{DType: graph.Float32, Shape: []int{nFilter, nIn}, Data: graph.EncodeFloat32s(wf)},
			{DType: graph.Float32, Shape: []int{nFilter, nMem}, Data: graph.EncodeFloat32s(wt)},
			{DType: graph.Float32, Shape: []int{nUnit}, Data: graph.EncodeFloat32s(bias)},
			{DType: graph.Float32, Shape: []int{batch, nFilter * nMem}, Variable: true},
		}
		outs := []*graph.Tensor{{DType: graph.Float32, Shape: []int{batch, nUnit}}}
		op := &graph.Op{Kind: graph.OpSVDF, Options: &graph.SVDFOptions{Rank: rank, Activation: act}}
		k, err := Prepare(op, ins, outs)
		if err != nil {
			t.Fatal(err)
		}
		state := &Buffer{DType: graph.Float32, Shape: ins[4].Shape, F32: make([]float32, batch*nFilter*nMem)}
		// hist[b][f] holds the last nMem activations, oldest first.
		hist := make([][][]float64, batch)
		for b := range hist {
			hist[b] = make([][]float64, nFilter)
			for f := range hist[b] {
				hist[b][f] = make([]float64, nMem)
			}
		}
		for step := range 7 {
			x := rnd(batch * nIn)
			y := make([]float32, batch*nUnit)
			in := &Buffer{DType: graph.Float32, Shape: ins[0].Shape, F32: x}
			if err := k.Run([]*Buffer{in, nil, nil, nil, state}, []*Buffer{{DType: graph.Float32, Shape: outs[0].Shape, F32: y}}); err != nil {
				t.Fatal(err)
			}
			for b := range batch {
				for f := range nFilter {
					var a float64
					for i := range nIn {
						a += float64(wf[f*nIn+i]) * float64(x[b*nIn+i])
					}
					hist[b][f] = append(hist[b][f][1:], a)
				}
				for u := range nUnit {
					s := float64(bias[u])
					for r := range rank {
						f := u*rank + r
						for m := range nMem {
							s += float64(wt[f*nMem+m]) * hist[b][f][m]
						}
					}
					switch act {
					case graph.ActRelu:
						s = math.Max(s, 0)
					case graph.ActTanh:
						s = math.Tanh(s)
					}
					if d := math.Abs(float64(y[b*nUnit+u]) - s); d > 1e-4*(1+math.Abs(s)) {
						t.Fatalf("trial %d step %d batch %d unit %d: got %g, want %g", trial, step, b, u, y[b*nUnit+u], s)
					}
				}
			}
		}
	}
}

// TestSVDFRejectsBadShapes: a state of the wrong size is an error naming
// the op, not a panic.
func TestSVDFRejectsBadShapes(t *testing.T) {
	ins := []*graph.Tensor{
		{DType: graph.Float32, Shape: []int{1, 4}},
		{DType: graph.Float32, Shape: []int{2, 4}, Data: make([]byte, 32)},
		{DType: graph.Float32, Shape: []int{2, 3}, Data: make([]byte, 24)},
		nil,
		{DType: graph.Float32, Shape: []int{1, 5}, Variable: true},
	}
	outs := []*graph.Tensor{{DType: graph.Float32, Shape: []int{1, 2}}}
	op := &graph.Op{Kind: graph.OpSVDF, Options: &graph.SVDFOptions{Rank: 1}}
	if _, err := Prepare(op, ins, outs); err == nil {
		t.Fatal("state [1 5] for 2 filters × 3 memory accepted")
	}
}
