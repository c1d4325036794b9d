package interp_test

import (
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// studyCNN builds the study's classifier shape: 80x80x3 → four blocks of
// 3x3 SAME conv (16, 32, 64, 128 channels, ReLU) + 2x2 max pool → mean over
// H, W → fully connected to 43 classes → softmax; float32 or int8 with
// per-channel weights. Weights are random: only the cost matters here.
func studyCNN(dt graph.DType, seed uint64) *graph.Graph {
	rng := rand.New(rand.NewPCG(seed, 1))
	g := &graph.Graph{}
	quant := func(scale float32, zp int64) *graph.Quantization {
		if dt == graph.Float32 {
			return nil
		}
		return &graph.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
	act := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: dt, Shape: shape, Quant: quant(0.05, -10)})
	}
	weights := func(name string, shape ...int) (w, b int) {
		n := graph.NumElements(shape)
		wt := &graph.Tensor{Name: name, Shape: shape}
		bt := &graph.Tensor{Name: name + "/bias", Shape: []int{shape[0]}}
		if dt == graph.Float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 0.1)
			}
			wt.DType, wt.Data = graph.Float32, graph.EncodeFloat32s(v)
			bt.DType, bt.Data = graph.Float32, make([]byte, 4*shape[0])
		} else {
			v := make([]int8, n)
			for i := range v {
				v[i] = int8(rng.IntN(255) - 127)
			}
			scales := make([]float32, shape[0])
			zps := make([]int64, shape[0])
			for i := range scales {
				scales[i] = 0.002 + 0.001*rng.Float32()
			}
			wt.DType, wt.Data = graph.Int8, graph.EncodeInt8s(v)
			wt.Quant = &graph.Quantization{Scale: scales, ZeroPoint: zps, Axis: 0}
			bt.DType, bt.Data = graph.Int32, make([]byte, 4*shape[0])
		}
		return g.AddTensor(wt), g.AddTensor(bt)
	}
	x := g.AddTensor(&graph.Tensor{Name: "image", DType: dt, Shape: []int{1, 80, 80, 3}, Quant: quant(1.0/255, -128)})
	g.Inputs = []int{x}
	cur, size, ch := x, 80, 3
	for i, oc := range []int{16, 32, 64, 128} {
		w, b := weights("conv", oc, 3, 3, ch)
		c := act("conv", 1, size, size, oc)
		g.AddOp(graph.OpConv2D, []int{cur, w, b}, []int{c}, &graph.Conv2DOptions{Padding: graph.PaddingSame,
			StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: graph.ActRelu})
		size /= 2
		p := act("pool", 1, size, size, oc)
		g.AddOp(graph.OpMaxPool2D, []int{c}, []int{p}, &graph.Pool2DOptions{Padding: graph.PaddingValid,
			StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
		cur, ch = p, oc
		_ = i
	}
	axes := g.AddTensor(&graph.Tensor{Name: "axes", DType: graph.Int32, Shape: []int{2}, Data: graph.EncodeInt32s([]int32{1, 2})})
	m := act("mean", 1, 128)
	g.AddOp(graph.OpMean, []int{cur, axes}, []int{m}, &graph.ReducerOptions{})
	w, b := weights("fc", 43, 128)
	if dt != graph.Float32 {
		g.Tensors[w].Quant = &graph.Quantization{Scale: []float32{0.003}, ZeroPoint: []int64{0}}
	}
	f := act("logits", 1, 43)
	g.AddOp(graph.OpFullyConnected, []int{m, w, b}, []int{f}, &graph.FullyConnectedOptions{})
	y := g.AddTensor(&graph.Tensor{Name: "probs", DType: dt, Shape: []int{1, 43}, Quant: quant(1.0/256, -128)})
	g.AddOp(graph.OpSoftmax, []int{f}, []int{y}, &graph.SoftmaxOptions{Beta: 1})
	g.Outputs = []int{y}
	return g
}

func TestStudyCNNArena(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for _, dt := range []graph.DType{graph.Float32, graph.Int8} {
		p, err := interp.Compile(studyCNN(dt, 1), interp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		planned, naive := p.ArenaBytes()
		t.Logf("%s study CNN: arena %d bytes (%d without reuse)", dt, planned, naive)
		// The peak is the first pool: the input (kept for the whole run),
		// the first conv's output and the pool's output are alive together.
		// A good plan needs no more than that.
		sz := dt.Size()
		peak := (80*80*3 + 80*80*16 + 40*40*16) * sz
		if planned > peak {
			t.Errorf("%s: arena %d bytes, the peak of live tensors is %d", dt, planned, peak)
		}
		e := p.NewExecutor()
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
		// The interpreter itself never allocates (TestRunDoesNotAllocate);
		// kernels with scratch pools may, which is theirs to fix.
		if n := testing.AllocsPerRun(3, func() { _ = e.Run() }); n != 0 {
			t.Logf("%s: Run allocates %.0f times (kernel scratch)", dt, n)
		}
	}
}

func benchStudy(b *testing.B, dt graph.DType, batch int) {
	p, err := interp.Compile(studyCNN(dt, 1), interp.Options{Batch: batch})
	if err != nil {
		b.Fatal(err)
	}
	e := p.NewExecutor()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := e.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkStudyCNNFloat32(b *testing.B)       { benchStudy(b, graph.Float32, 1) }
func BenchmarkStudyCNNInt8(b *testing.B)          { benchStudy(b, graph.Int8, 1) }
func BenchmarkStudyCNNInt8Batch8(b *testing.B)    { benchStudy(b, graph.Int8, 8) }
func BenchmarkStudyCNNFloat32Batch8(b *testing.B) { benchStudy(b, graph.Float32, 8) }

// TestStudyCNNBatchMatchesSingle: a batch of 3 through a re-shaped program
// gives, row for row, what three batch-1 runs give.
func TestStudyCNNBatchMatchesSingle(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Int8} {
		g := studyCNN(dt, 2)
		one, err := interp.Compile(g, interp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		three, err := interp.Compile(g, interp.Options{Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		n := 80 * 80 * 3
		x := make([]float32, 3*n)
		for i := range x {
			x[i] = rng.Float32()
		}
		eb := three.NewExecutor()
		if err := eb.SetInputFloat(0, x); err != nil {
			t.Fatal(err)
		}
		if err := eb.Run(); err != nil {
			t.Fatal(err)
		}
		batched := eb.OutputFloat(0, nil)
		e1 := one.NewExecutor()
		for s := range 3 {
			if err := e1.SetInputFloat(0, x[s*n:(s+1)*n]); err != nil {
				t.Fatal(err)
			}
			if err := e1.Run(); err != nil {
				t.Fatal(err)
			}
			single := e1.OutputFloat(0, nil)
			for j := range single {
				if single[j] != batched[s*43+j] {
					t.Fatalf("%s: sample %d class %d: batch %g, single %g", dt, s, j, batched[s*43+j], single[j])
				}
			}
		}
	}
}
