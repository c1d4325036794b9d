package interp_test

import (
	"bytes"
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// textClassifier is tfls_movie_review's shape at a small size: token ids
// [batch, words] → GATHER from a [vocab, dim] table → MEAN (or SUM) over
// the words → FULLY_CONNECTED. variant "gather out" also makes the
// gathered rows a graph output, "two readers" gives them a second reader,
// "sum" reduces with SUM, "max" with REDUCE_MAX.
func textClassifier(batch, words, vocab, dim int, variant string) *graph.Graph {
	rng := rand.New(rand.NewPCG(31, 32))
	g := &graph.Graph{}
	fc := func(name string, shape ...int) int {
		v := make([]float32, graph.NumElements(shape))
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)})
	}
	ft := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape})
	}
	ids := g.AddTensor(&graph.Tensor{Name: "ids", DType: graph.Int32, Shape: []int{batch, words}})
	rows := ft("rows", batch, words, dim)
	g.AddOp(graph.OpGather, []int{fc("table", vocab, dim), ids}, []int{rows}, &graph.GatherOptions{})
	axis := g.AddTensor(&graph.Tensor{Name: "axis", DType: graph.Int32, Shape: []int{}, Data: graph.EncodeInt32s([]int32{1})})
	bag := ft("bag", batch, dim)
	kind := graph.OpMean
	switch variant {
	case "sum":
		kind = graph.OpSum
	case "max":
		kind = graph.OpReduceMax
	}
	g.AddOp(kind, []int{rows, axis}, []int{bag}, &graph.ReducerOptions{})
	y := ft("y", batch, 3)
	g.AddOp(graph.OpFullyConnected, []int{bag, fc("w", 3, dim), fc("b", 3)}, []int{y}, &graph.FullyConnectedOptions{})
	g.Inputs, g.Outputs = []int{ids}, []int{y}
	switch variant {
	case "gather out":
		g.Outputs = append(g.Outputs, rows)
	case "two readers":
		last := ft("last", batch, words)
		axis2 := g.AddTensor(&graph.Tensor{Name: "axis2", DType: graph.Int32, Shape: []int{}, Data: graph.EncodeInt32s([]int32{2})})
		g.AddOp(graph.OpSum, []int{rows, axis2}, []int{last}, &graph.ReducerOptions{})
		g.Outputs = append(g.Outputs, last)
	}
	return g
}

// setIDs writes ids into every executor's input 0.
func setIDs(ids []int32, es ...*interp.Executor) {
	for _, e := range es {
		copy(e.Input(0).I32, ids)
	}
}

// TestEmbeddingBagRewrite: a GATHER → MEAN or SUM pair runs as one
// embedding-bag kernel at batch 1, 3 and 64 with outputs bit-identical to
// the plain op-by-op run; an out-of-range id fails with the plain run's
// error, word for word; the pair stays unfused when the gathered rows are a
// graph output, have another reader or meet another reduction; and Run
// does not allocate.
func TestEmbeddingBagRewrite(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for _, c := range []struct {
		variant string
		bags    int
	}{
		{"mean", 1}, {"sum", 1}, {"gather out", 0}, {"two readers", 0}, {"max", 0},
	} {
		for _, batch := range []int{1, 3, 64} {
			const words, vocab, dim = 37, 50, 19
			g := textClassifier(batch, words, vocab, dim, c.variant)
			fast, err := interp.Compile(g, interp.Options{Batch: batch})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := interp.Compile(g, interp.Options{Batch: batch, NoRewrite: true})
			if err != nil {
				t.Fatal(err)
			}
			if s := fast.Schedule(); s.Bags != c.bags {
				t.Errorf("%s batch %d: schedule %+v, want %d bags", c.variant, batch, s, c.bags)
			}
			ef, ep := fast.NewExecutor(), plain.NewExecutor()
			rng := rand.New(rand.NewPCG(uint64(batch), 9))
			ids := make([]int32, batch*words)
			for round := range 2 {
				for i := range ids {
					ids[i] = int32(rng.IntN(vocab))
				}
				setIDs(ids, ef, ep)
				if err := ef.Run(); err != nil {
					t.Fatal(err)
				}
				if err := ep.Run(); err != nil {
					t.Fatal(err)
				}
				for i := range fast.NumOutputs() {
					if !bytes.Equal(ef.AppendOutputBytes(i, nil), ep.AppendOutputBytes(i, nil)) {
						t.Fatalf("%s batch %d round %d output %d: rewritten run differs from the plain run", c.variant, batch, round, i)
					}
				}
			}
			if n := testing.AllocsPerRun(5, func() { _ = ef.Run() }); n != 0 {
				t.Errorf("%s batch %d: Run allocates %.0f times", c.variant, batch, n)
			}
			for _, bad := range []int32{vocab, -1, 1 << 30} {
				ids[len(ids)/2] = bad
				ids[len(ids)-1] = -7 // a later bad id: the first one is reported
				setIDs(ids, ef, ep)
				errF, errP := ef.Run(), ep.Run()
				if errF == nil || errP == nil || errF.Error() != errP.Error() {
					t.Errorf("%s batch %d id %d: rewritten run error %v, plain run error %v", c.variant, batch, bad, errF, errP)
				}
			}
		}
	}
}
