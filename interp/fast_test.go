package interp_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
)

// runBoth runs g compiled at batch with and without the rewrites (one
// image per image-by-image step) on the same random inputs (twice, so
// state left by one run cannot hide) and fails unless every output is
// bit-identical. It returns the rewritten Program.
func runBoth(t *testing.T, g *graph.Graph, batch int) *interp.Program {
	t.Helper()
	return runBothWith(t, g, interp.Options{Batch: batch, ChunkBytes: -1, ConvPools: interp.ConvPoolsAll})
}

// runBothWith is runBoth with the rewritten Program's options.
func runBothWith(t *testing.T, g *graph.Graph, opts interp.Options) *interp.Program {
	t.Helper()
	batch := opts.Batch
	fast, err := interp.Compile(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	popts := opts // the plain schedule in the same arithmetic
	popts.NoRewrite = true
	plain, err := interp.Compile(g, popts)
	if err != nil {
		t.Fatal(err)
	}
	ef, ep := fast.NewExecutor(), plain.NewExecutor()
	rng := rand.New(rand.NewPCG(uint64(batch), 7))
	for round := range 2 {
		for i := range fast.NumInputs() {
			x := make([]float32, fast.InputTensor(i).NumElements())
			for j := range x {
				x[j] = rng.Float32()*4 - 2
			}
			if err := ef.SetInputFloat(i, x); err != nil {
				t.Fatal(err)
			}
			if err := ep.SetInputFloat(i, x); err != nil {
				t.Fatal(err)
			}
		}
		if err := ef.Run(); err != nil {
			t.Fatal(err)
		}
		if err := ep.Run(); err != nil {
			t.Fatal(err)
		}
		for i := range fast.NumOutputs() {
			a, b := ef.AppendOutputBytes(i, nil), ep.AppendOutputBytes(i, nil)
			if !bytes.Equal(a, b) {
				t.Fatalf("batch %d round %d output %d: rewritten schedule %+v differs from the plain run",
					batch, round, i, fast.Schedule())
			}
		}
	}
	return fast
}

// sameQuantRelus returns a copy of the quantized g in which every RELU, RELU6 and
// RESHAPE output has its input's quantization, so RELUs are clamps.
func sameQuantRelus(g *graph.Graph) *graph.Graph {
	g = g.Clone()
	for _, op := range g.Ops {
		if op.Kind == graph.OpRelu || op.Kind == graph.OpRelu6 || op.Kind == graph.OpReshape ||
			// an int8 CONCATENATION must keep its inputs' quantization
			op.Kind == graph.OpConcatenation && len(op.Inputs) > 0 {
			g.Tensors[op.Outputs[0]].Quant = g.Tensors[op.Inputs[0]].Quant.Clone()
		}
	}
	return g
}

func TestRewriteSeedCNNBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and quantizes the seed-cnn")
	}
	fg, qg := seedCNNGraphs(t)
	graphs := []struct {
		name      string
		g         *graph.Graph
		fused     int
		convPools int // int8 CONV_2D → MAX_POOL_2D pairs: kernels.ConvPoolOptions
		perImage1 int // at batch > 1
	}{
		{"float32", fg, 4, 0, 8},
		{"int8", qg, 4, 4, 5}, // rescaling RELUs: kernels.MaxPoolMapOptions
		{"int8 clamp relus", sameQuantRelus(qg), 4, 4, 5},
	}
	for _, c := range graphs {
		for _, b := range []int{1, 2, 5, 64} {
			if b == 64 && testing.Short() {
				continue
			}
			s := runBoth(t, c.g, b).Schedule()
			want := interp.Schedule{Rewritten: c.fused > 0 || b > 1, Ops: len(c.g.Ops) - c.fused - c.convPools, Fused: c.fused,
				ConvPools: c.convPools, Batch: b}
			if b > 1 {
				want.PerImageOps, want.ImagesPerStep = c.perImage1, 1
			}
			if s != want {
				t.Errorf("%s batch %d: schedule %+v, want %+v", c.name, b, s, want)
			}
		}
	}
}

// TestRewriteSeedCNNAllocationFree: the rewritten schedules (fused, and
// image by image) allocate nothing per Run either.
func TestRewriteSeedCNNAllocationFree(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if testing.Short() {
		t.Skip("builds and quantizes the seed-cnn")
	}
	fg, qg := seedCNNGraphs(t)
	for _, g := range []*graph.Graph{fg, qg, sameQuantRelus(qg)} {
		for _, b := range []int{1, 3} {
			p, err := interp.Compile(g, interp.Options{Batch: b})
			if err != nil {
				t.Fatal(err)
			}
			e := p.NewExecutor()
			if err := e.Run(); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(5, func() { _ = e.Run() }); n != 0 {
				t.Errorf("batch %d %+v: Run allocates %.0f times", b, p.Schedule(), n)
			}
		}
	}
}

// TestObserverSeesEveryTensor: with an Observer a rewritten Program runs
// op by op — every op of Graph() reports, with the values of the plain
// run — and without one it goes back to the fast schedule.
func TestObserverSeesEveryTensor(t *testing.T) {
	g := miniCNN(graph.Float32, 1, "")
	for _, b := range []int{1, 3} {
		fast, err := interp.Compile(g, interp.Options{Batch: b, ChunkBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := interp.Compile(g, interp.Options{Batch: b, NoRewrite: true})
		if err != nil {
			t.Fatal(err)
		}
		if s := fast.Schedule(); s.Fused != 1 {
			t.Fatalf("batch %d: schedule %+v, want a fused pool", b, s)
		}
		seen := func(p *interp.Program) [][]byte {
			e := p.NewExecutor()
			x := make([]float32, p.InputTensor(0).NumElements())
			for i := range x {
				x[i] = float32(i%7) - 3
			}
			if err := e.SetInputFloat(0, x); err != nil {
				t.Fatal(err)
			}
			var got [][]byte
			e.SetObserver(func(i int, op *graph.Op, outs []*kernels.Buffer) {
				if op != p.Graph().Ops[i] || len(got) != i {
					t.Errorf("observer: op %d out of order", i)
				}
				got = append(got, interp.AppendBytes(nil, outs[0]))
			})
			if err := e.Run(); err != nil {
				t.Fatal(err)
			}
			e.SetObserver(nil)
			var steps []int
			e.SetStepHook(func(op, image int) { steps = append(steps, op) })
			if err := e.Run(); err != nil {
				t.Fatal(err)
			}
			want := p.Schedule()
			perStep := max(want.ImagesPerStep, 1)
			if len(steps) != want.Ops+(want.Batch/perStep-1)*want.PerImageOps {
				t.Errorf("step hook fired %d times for schedule %+v", len(steps), want)
			}
			if !bytes.Equal(e.AppendOutputBytes(0, nil), got[len(got)-1]) {
				t.Error("the fast run after an observed run gives another output")
			}
			return got
		}
		a, want := seen(fast), seen(plain)
		if len(a) != len(g.Ops) {
			t.Fatalf("observer saw %d ops, graph has %d", len(a), len(g.Ops))
		}
		for i := range a {
			if !bytes.Equal(a[i], want[i]) {
				t.Errorf("batch %d op %d (%s): observed output differs from the plain program's", b, i, g.Ops[i].Kind)
			}
		}
	}
}

// TestKeepAllAndNoRewriteKeepThePlainSchedule: KeepAll (every tensor
// readable after Run) and NoRewrite compile no rewritten schedule.
func TestKeepAllAndNoRewriteKeepThePlainSchedule(t *testing.T) {
	g := miniCNN(graph.Float32, 1, "")
	for _, o := range []interp.Options{{Batch: 4, KeepAll: true}, {Batch: 4, NoRewrite: true}} {
		p, err := interp.Compile(g, o)
		if err != nil {
			t.Fatal(err)
		}
		if s := p.Schedule(); s.Rewritten || s.Ops != len(g.Ops) {
			t.Errorf("%+v: schedule %+v", o, s)
		}
	}
	if s := runBoth(t, g, 4).Schedule(); !s.Rewritten || s.PerImageOps != 2 {
		t.Errorf("default: schedule %+v, want 2 ops image by image", s)
	}
}

// miniCNN builds x[batch,8,8,3] → CONV 3×3 (4 channels) → MAX_POOL 2×2 →
// RELU → variant → RESHAPE [batch, n] → FULLY_CONNECTED → y, in float32.
// Variants: "" none; "relu6" RELU6 for the RELU; "pool out" the pool's
// output is also a graph output; "concat0" concatenates the RELU's output
// with itself along the batch; "add batch const" adds a constant with a
// batch dimension; "add const" one without; "no fc" ends at the RELU.
func miniCNN(dt graph.DType, batch int, variant string) *graph.Graph {
	rng := rand.New(rand.NewPCG(11, 12))
	g := &graph.Graph{}
	ft := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape})
	}
	fc := func(name string, shape ...int) int {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)})
	}
	x := ft("x", batch, 8, 8, 3)
	c := ft("conv", batch, 8, 8, 4)
	g.AddOp(graph.OpConv2D, []int{x, fc("w", 4, 3, 3, 3), fc("b", 4)}, []int{c},
		&graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
	p := ft("pool", batch, 4, 4, 4)
	g.AddOp(graph.OpMaxPool2D, []int{c}, []int{p}, &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
	r := ft("relu", batch, 4, 4, 4)
	kind := graph.OpRelu
	if variant == "relu6" {
		kind = graph.OpRelu6
	}
	g.AddOp(kind, []int{p}, []int{r}, nil)
	g.Inputs, g.Outputs = []int{x}, nil
	if variant == "pool out" {
		g.Outputs = append(g.Outputs, p)
	}
	if variant == "pool twice" {
		// A second reader of the pool's output (a graph output itself).
		r2 := ft("relu6", batch, 4, 4, 4)
		g.AddOp(graph.OpRelu6, []int{p}, []int{r2}, nil)
		g.Outputs = append(g.Outputs, r2)
	}
	if variant == "no fc" {
		g.Outputs = append(g.Outputs, r)
		return g
	}
	last, per := r, 64
	switch variant {
	case "concat0":
		cc := ft("cat", 2*batch, 4, 4, 4)
		g.AddOp(graph.OpConcatenation, []int{r, r}, []int{cc}, &graph.ConcatenationOptions{Axis: 0})
		last, per = cc, 128
	case "add batch const", "add const":
		shape := []int{batch, 4, 4, 4}
		if variant == "add const" {
			shape = []int{4, 4, 4}
		}
		a := ft("add", batch, 4, 4, 4)
		g.AddOp(graph.OpAdd, []int{r, fc("k", shape...)}, []int{a}, &graph.AddOptions{})
		last = a
	}
	flat := ft("flat", batch, per)
	g.AddOp(graph.OpReshape, []int{last, g.AddTensor(&graph.Tensor{Name: "shape", DType: graph.Int32, Shape: []int{2},
		Data: graph.EncodeInt32s([]int32{-1, int32(per)})})}, []int{flat}, &graph.ReshapeOptions{NewShape: []int{-1, per}})
	y := ft("y", batch, 5)
	g.AddOp(graph.OpFullyConnected, []int{flat, fc("fw", 5, per), fc("fb", 5)}, []int{y}, &graph.FullyConnectedOptions{})
	g.Outputs = append(g.Outputs, y)
	if dt == graph.Float32 {
		return g
	}
	qg, err := quantizeOnNoise(g, rng, 8*8*3, 2)
	if err != nil {
		panic(err)
	}
	return qg
}

// TestSplitStopsWhereImagesMix: the image-by-image prefix never includes
// an op that mixes images or a constant with a batch dimension, is not
// used when it would be the whole graph, and fusion leaves a pool whose
// output someone else reads.
func TestSplitStopsWhereImagesMix(t *testing.T) {
	cases := []struct {
		variant      string
		stored, b    int
		fused, split int
	}{
		{"", 1, 5, 1, 2},
		{"relu6", 1, 2, 1, 2},
		{"pool out", 1, 3, 0, 3},
		{"pool twice", 1, 3, 0, 4},
		{"concat0", 1, 3, 1, 2},
		{"add batch const", 3, 0, 1, 2},
		{"add const", 3, 0, 1, 3},
		{"no fc", 1, 4, 1, 0},
	}
	for _, c := range cases {
		for _, mode := range []string{"float32", "int8", "int8 rescaling relu"} {
			dt := graph.Float32
			if mode != "float32" {
				dt = graph.Int8
			}
			if dt == graph.Int8 && c.stored != 1 {
				continue // the quantizer calibrates batch-1 models
			}
			name := fmt.Sprintf("%s/%s", c.variant, mode)
			g := miniCNN(dt, c.stored, c.variant)
			if mode == "int8" {
				g = sameQuantRelus(g)
			}
			t.Run(name, func(t *testing.T) {
				s := runBoth(t, g, c.b).Schedule()
				split, convPools := c.split, 0
				if dt == graph.Int8 && c.variant != "no fc" { // miniCNN's "no fc" stays float32
					// The CONV_2D and the MAX_POOL_2D reading it are one
					// op (kernels.ConvPoolOptions), and the QUANTIZE of
					// the input is one more: as many ops image by image.
					convPools = 1
				}
				if s.Fused != c.fused || s.PerImageOps != split || s.ConvPools != convPools {
					t.Errorf("schedule %+v, want %d fused, %d conv+pool and %d ops image by image", s, c.fused, convPools, split)
				}
			})
		}
	}
}

// TestChunkedSteps: small images run several per image-by-image step —
// the largest divisor of the batch whose activations fit
// Options.ChunkBytes — or, when the whole batch fits, with no split;
// outputs stay bit-identical and the step hook fires once per step.
func TestChunkedSteps(t *testing.T) {
	// The miniCNN's prefix (CONV_2D, MAX_POOL_2D with its RELU fused)
	// touches 8·8·3 + 8·8·4 + 4·4·4 values per image; the int8 one also
	// reads the float32 input its QUANTIZE writes them from.
	perImage := map[graph.DType]int{
		graph.Float32: (8*8*3 + 8*8*4 + 4*4*4) * 4,
		graph.Int8:    8*8*3*4 + 8*8*3 + 8*8*4 + 4*4*4,
	}
	type chunkCase struct {
		batch, budget int
		perStep       int // 0: no split
	}
	for _, dt := range []graph.DType{graph.Float32, graph.Int8} {
		per := perImage[dt]
		cases := []chunkCase{
			{6, 2 * per, 2},
			{6, 3 * per, 3},
			{6, 5 * per, 3},
			{6, 6 * per, 0},
			{6, per - 1, 1},
			{5, 4 * per, 1}, // 5 is prime
			{64, 0, 0},      // DefaultChunkBytes holds 64 such images
			{64, -1, 1},
		}
		g := miniCNN(dt, 1, "")
		if dt == graph.Int8 {
			g = sameQuantRelus(g)
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/batch%d/budget%d", dt, c.batch, c.budget), func(t *testing.T) {
				p := runBothWith(t, g, interp.Options{Batch: c.batch, ChunkBytes: c.budget})
				s := p.Schedule()
				if s.ImagesPerStep != c.perStep || (c.perStep == 0) != (s.PerImageOps == 0) {
					t.Fatalf("schedule %+v, want %d images per step", s, c.perStep)
				}
				e := p.NewExecutor()
				steps := 0
				e.SetStepHook(func(op, image int) {
					if image >= 0 && image%max(c.perStep, 1) != 0 {
						t.Errorf("op %d: step starts at image %d", op, image)
					}
					steps++
				})
				if err := e.Run(); err != nil {
					t.Fatal(err)
				}
				if want := s.Ops + (c.batch/max(c.perStep, 1)-1)*s.PerImageOps; steps != want {
					t.Errorf("step hook fired %d times, want %d", steps, want)
				}
			})
		}
	}
}

// BenchmarkRewriteSeedCNN compares the plain schedule (NoRewrite) with
// the rewritten one on the seed-cnn, single-threaded, in images per CPU
// second of the benchmark's thread (robust to a loaded machine): the
// sub-benchmarks alternate plain and fast, so run with -count to pair them.
func BenchmarkRewriteSeedCNN(b *testing.B) {
	fg, qg := seedCNNGraphs(b)
	for gi, g := range []*graph.Graph{fg, qg} {
		for _, batch := range []int{1, 64} {
			for _, noRewrite := range []bool{true, false} {
				p, err := interp.Compile(g, interp.Options{Batch: batch, NoRewrite: noRewrite})
				if err != nil {
					b.Fatal(err)
				}
				e := p.NewExecutor()
				rng := rand.New(rand.NewPCG(3, 4))
				x := make([]float32, p.InputTensor(0).NumElements())
				for j := range x {
					x[j] = rng.Float32()*2 - 1
				}
				if err := e.SetInputFloat(0, x); err != nil {
					b.Fatal(err)
				}
				name := fmt.Sprintf("%s/batch%d/%s", [2]string{"float32", "int8"}[gi], batch, map[bool]string{true: "plain", false: "fast"}[noRewrite])
				b.Run(name, func(b *testing.B) {
					defer lockThread()()
					c0, ok := threadCPU()
					for b.Loop() {
						if err := e.Run(); err != nil {
							b.Fatal(err)
						}
					}
					if c1, ok1 := threadCPU(); ok && ok1 {
						b.ReportMetric(float64(b.N*batch)/(c1-c0).Seconds(), "img/cpu-s")
					}
				})
			}
		}
	}
}

// TestFuseActivationsKinds: on the int8 seed-cnn every MAX_POOL_2D → RELU
// pair fuses — as a clamp (a fused activation) when the RELU keeps the
// pool's quantization, as a pool with the RELU's table
// (kernels.MaxPoolMapOptions) when it rescales — and neither form fuses
// a pool whose output is a graph output or has a second reader.
func TestFuseActivationsKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and quantizes the seed-cnn")
	}
	_, qg := seedCNNGraphs(t)
	count := func(g *graph.Graph) (clamps, maps, fused int) {
		ops, _, fused := interp.FuseActivations(g)
		for _, op := range ops {
			switch o := op.Options.(type) {
			case *kernels.MaxPoolMapOptions:
				maps++
			case *graph.Pool2DOptions:
				if op.Kind == graph.OpMaxPool2D && o.Activation != graph.ActNone {
					clamps++
				}
			}
		}
		return clamps, maps, fused
	}
	if c, m, f := count(qg); c != 0 || m != 4 || f != 4 {
		t.Errorf("rescaling RELUs: %d clamps, %d maps, %d fused; want 0, 4, 4", c, m, f)
	}
	if c, m, f := count(sameQuantRelus(qg)); c != 4 || m != 0 || f != 4 {
		t.Errorf("clamp RELUs: %d clamps, %d maps, %d fused; want 4, 0, 4", c, m, f)
	}
	// The first pool's output also a graph output, the second's read twice.
	g := qg.Clone()
	var pools []*graph.Op
	for _, op := range g.Ops {
		if op.Kind == graph.OpMaxPool2D {
			pools = append(pools, op)
		}
	}
	g.Outputs = append(g.Outputs, pools[0].Outputs[0])
	mid := pools[1].Outputs[0]
	extra := g.AddTensor(&graph.Tensor{Name: "again", DType: g.Tensors[mid].DType, Shape: g.Tensors[mid].Shape, Quant: g.Tensors[mid].Quant.Clone()})
	g.AddOp(graph.OpRelu, []int{mid}, []int{extra}, nil)
	g.Outputs = append(g.Outputs, extra)
	if c, m, f := count(g); c != 0 || m != 2 || f != 2 {
		t.Errorf("pool output read twice / a graph output: %d clamps, %d maps, %d fused; want 0, 2, 2", c, m, f)
	}
	runBoth(t, g, 3)
}
