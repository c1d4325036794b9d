package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// posBuffer holds positions of dtype d for a tensor of shape.
func posBuffer(d graph.DType, shape []int, vals []int) *Buffer {
	b := &Buffer{DType: d, Shape: shape}
	for _, v := range vals {
		switch d {
		case graph.Int16:
			b.I16 = append(b.I16, int16(v))
		case graph.Int32:
			b.I32 = append(b.I32, int32(v))
		case graph.Int64:
			b.I64 = append(b.I64, int64(v))
		}
	}
	return b
}

// TestEmbeddingBagMatchesGatherReduce: the fused kernel gives the bits of
// GATHER then MEAN or SUM (both reference kernels) on random tables
// (rows of 1 to 40 values, matrices and rank-3 tables), int16/int32/int64
// positions of rank 1 to 3 reduced over 1 to 3 trailing dimensions, with
// and without keep_dims; and where a position is out of range, the error
// is GATHER's, word for word.
func TestEmbeddingBagMatchesGatherReduce(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	dtypes := []graph.DType{graph.Int16, graph.Int32, graph.Int64}
	errs := 0
	for iter := range 400 {
		vocab := 1 + rng.IntN(60)
		tshape := []int{vocab, 1 + rng.IntN(40)}
		if rng.IntN(4) == 0 {
			tshape = []int{vocab, 1 + rng.IntN(4), 1 + rng.IntN(9)}
		}
		k := 1 + rng.IntN(3)
		pshape := make([]int, k)
		for d := range pshape {
			pshape[d] = 1 + rng.IntN(9)
		}
		if iter%10 == 0 {
			pshape[k-1] = 200 + rng.IntN(100)
		}
		j := rng.IntN(k)
		var axes []int32
		for d := j; d < k; d++ {
			a := int32(d)
			if rng.IntN(3) == 0 {
				a -= int32(k + len(tshape) - 1) // the same axis, counted from the end
			}
			axes = append(axes, a)
		}
		rng.Shuffle(len(axes), func(a, b int) { axes[a], axes[b] = axes[b], axes[a] })
		keep := rng.IntN(2) == 0
		var outShape []int
		outShape = append(outShape, pshape[:j]...)
		if keep {
			for range k - j {
				outShape = append(outShape, 1)
			}
		}
		outShape = append(outShape, tshape[1:]...)
		midShape := append(append([]int(nil), pshape...), tshape[1:]...)
		reduce := graph.OpMean
		if rng.IntN(2) == 0 {
			reduce = graph.OpSum
		}
		pd := dtypes[rng.IntN(len(dtypes))]
		vals := make([]int, graph.NumElements(pshape))
		for i := range vals {
			vals[i] = rng.IntN(vocab)
		}
		if rng.IntN(5) == 0 {
			bad := []int{-1, vocab, vocab + 7, -300}[rng.IntN(4)]
			vals[rng.IntN(len(vals))] = bad
			if rng.IntN(2) == 0 {
				vals[rng.IntN(len(vals))] = -2
			}
		}
		table := &graph.Tensor{Name: "table", DType: graph.Float32, Shape: tshape}
		tb := &Buffer{DType: graph.Float32, Shape: tshape, F32: randRows(rng, graph.NumElements(tshape))}
		table.Data = graph.EncodeFloat32s(tb.F32)
		pos := &graph.Tensor{Name: "ids", DType: pd, Shape: pshape}
		pb := posBuffer(pd, pshape, vals)
		ax := &graph.Tensor{Name: "axes", DType: graph.Int32, Shape: []int{len(axes)}, Data: graph.EncodeInt32s(axes)}
		mid := &graph.Tensor{Name: "rows", DType: graph.Float32, Shape: midShape}
		out := &graph.Tensor{Name: "bag", DType: graph.Float32, Shape: outShape}
		what := fmt.Sprintf("%s table %v positions %s %v axes %v keep %v", reduce, tshape, pd, pshape, axes, keep)

		gk, err := PrepareWith(&graph.Op{Kind: graph.OpGather, Options: &graph.GatherOptions{}},
			[]*graph.Tensor{table, pos}, []*graph.Tensor{mid}, Options{reference: true})
		if err != nil {
			t.Fatalf("%s: gather: %v", what, err)
		}
		rk, err := PrepareWith(&graph.Op{Kind: reduce, Options: &graph.ReducerOptions{KeepDims: keep}},
			[]*graph.Tensor{mid, ax}, []*graph.Tensor{out}, Options{reference: true})
		if err != nil {
			t.Fatalf("%s: reduce: %v", what, err)
		}
		if err := EmbeddingBagFits(table, pos, ax, &graph.GatherOptions{}, reduce); err != nil {
			t.Fatalf("%s: does not fit: %v", what, err)
		}
		bk, err := PrepareWith(&graph.Op{Kind: graph.OpGather, Options: &EmbeddingBagOptions{Reduce: reduce}},
			[]*graph.Tensor{table, pos, ax}, []*graph.Tensor{out}, Options{})
		if err != nil {
			t.Fatalf("%s: bag: %v", what, err)
		}
		mb, want, got := allocBuf(mid), allocBuf(out), allocBuf(out)
		for i := range got.F32 {
			got.F32[i] = 9 // stale values must not leak into the sums
		}
		gerr := gk.Run([]*Buffer{tb, pb}, []*Buffer{mb})
		berr := bk.Run([]*Buffer{tb, pb, nil}, []*Buffer{got})
		if gerr != nil || berr != nil {
			if gerr == nil || berr == nil || gerr.Error() != berr.Error() {
				t.Fatalf("%s: gather error %v, bag error %v", what, gerr, berr)
			}
			errs++
			continue
		}
		if err := rk.Run([]*Buffer{mb, nil}, []*Buffer{want}); err != nil {
			t.Fatalf("%s: reduce: %v", what, err)
		}
		for i := range want.F32 {
			if !sameF32(got.F32[i], want.F32[i]) {
				t.Fatalf("%s: output %d: bag %g (%08x), gather+reduce %g (%08x)", what, i,
					got.F32[i], math.Float32bits(got.F32[i]), want.F32[i], math.Float32bits(want.F32[i]))
			}
		}
	}
	if errs < 20 {
		t.Errorf("only %d cases checked the range error", errs)
	}
}

// TestEmbeddingBagRefuses: GATHER → reduction pairs the kernel does not
// cover are refused with a reason (interp then leaves them unfused).
func TestEmbeddingBagRefuses(t *testing.T) {
	f32 := func(shape ...int) *graph.Tensor { return &graph.Tensor{Name: "t", DType: graph.Float32, Shape: shape} }
	ids := &graph.Tensor{Name: "ids", DType: graph.Int32, Shape: []int{2, 5}}
	axes := func(a ...int32) *graph.Tensor {
		return &graph.Tensor{Name: "axes", DType: graph.Int32, Shape: []int{len(a)}, Data: graph.EncodeInt32s(a)}
	}
	for _, c := range []struct {
		what  string
		table *graph.Tensor
		ids   *graph.Tensor
		axes  *graph.Tensor
		o     *graph.GatherOptions
		red   graph.OpKind
	}{
		{"max", f32(10, 4), ids, axes(1), nil, graph.OpReduceMax},
		{"int8 table", &graph.Tensor{Name: "t", DType: graph.Int8, Shape: []int{10, 4}}, ids, axes(1), nil, graph.OpMean},
		{"vector table", f32(10), ids, axes(1), nil, graph.OpMean},
		{"axis 1", f32(3, 10, 4), ids, axes(2), &graph.GatherOptions{Axis: 1}, graph.OpMean},
		{"row axis reduced", f32(10, 4), ids, axes(1, 2), nil, graph.OpMean},
		{"leading index axis only", f32(10, 4), ids, axes(0), nil, graph.OpSum},
		{"float positions", f32(10, 4), f32(2, 5), axes(1), nil, graph.OpMean},
		{"dynamic axes", f32(10, 4), ids, &graph.Tensor{Name: "axes", DType: graph.Int32, Shape: []int{1}}, nil, graph.OpMean},
		{"empty bags", f32(10, 4), &graph.Tensor{Name: "ids", DType: graph.Int32, Shape: []int{2, 0}}, axes(1), nil, graph.OpMean},
	} {
		if err := EmbeddingBagFits(c.table, c.ids, c.axes, c.o, c.red); err == nil {
			t.Errorf("%s: fits, want a refusal", c.what)
		}
	}
}

// BenchmarkEmbeddingBag runs tfls_movie_review's bag at batch 64 (64 bags
// of 256 int32 ids into a 10003×16 table, MEAN) fused and as GATHER then
// MEAN, in thread CPU time per run.
func BenchmarkEmbeddingBag(b *testing.B) {
	const bags, n, vocab, dim = 64, 256, 10003, 16
	rng := rand.New(rand.NewPCG(5, 6))
	table := &graph.Tensor{Name: "table", DType: graph.Float32, Shape: []int{vocab, dim}}
	tb := &Buffer{DType: graph.Float32, Shape: table.Shape, F32: randRows(rng, vocab*dim)}
	table.Data = graph.EncodeFloat32s(tb.F32)
	pos := &graph.Tensor{Name: "ids", DType: graph.Int32, Shape: []int{bags, n}}
	ids := make([]int, bags*n)
	for i := range ids {
		ids[i] = rng.IntN(vocab)
	}
	pb := posBuffer(graph.Int32, pos.Shape, ids)
	ax := &graph.Tensor{Name: "axis", DType: graph.Int32, Shape: []int{}, Data: graph.EncodeInt32s([]int32{1})}
	mid := &graph.Tensor{Name: "rows", DType: graph.Float32, Shape: []int{bags, n, dim}}
	out := &graph.Tensor{Name: "bag", DType: graph.Float32, Shape: []int{bags, dim}}
	bk, err := PrepareWith(&graph.Op{Kind: graph.OpGather, Options: &EmbeddingBagOptions{Reduce: graph.OpMean}},
		[]*graph.Tensor{table, pos, ax}, []*graph.Tensor{out}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	gk, err := PrepareWith(&graph.Op{Kind: graph.OpGather, Options: &graph.GatherOptions{}}, []*graph.Tensor{table, pos}, []*graph.Tensor{mid}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	mk, err := PrepareWith(&graph.Op{Kind: graph.OpMean, Options: &graph.ReducerOptions{}}, []*graph.Tensor{mid, ax}, []*graph.Tensor{out}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	mb, yb := allocBuf(mid), allocBuf(out)
	b.Run("bag", func(b *testing.B) {
		runCPU(b, func() { _ = bk.Run([]*Buffer{tb, pb, nil}, []*Buffer{yb}) })
	})
	b.Run("gather+mean", func(b *testing.B) {
		runCPU(b, func() {
			_ = gk.Run([]*Buffer{tb, pb}, []*Buffer{mb})
			_ = mk.Run([]*Buffer{mb, nil}, []*Buffer{yb})
		})
	})
}
