package interp_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
)

func q(scale float32, zp int64) *graph.Quantization {
	return &graph.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
}

// floatChain: x[1,4] + c → RELU → RESHAPE [1,2,2] → RELU6 → y.
func floatChain() *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 4}})
	c := g.AddTensor(&graph.Tensor{Name: "c", DType: graph.Float32, Shape: []int{4},
		Data: graph.EncodeFloat32s([]float32{1, -2, 3, 10})})
	a := g.AddTensor(&graph.Tensor{Name: "a", DType: graph.Float32, Shape: []int{1, 4}})
	r := g.AddTensor(&graph.Tensor{Name: "r", DType: graph.Float32, Shape: []int{1, 4}})
	s := g.AddTensor(&graph.Tensor{Name: "shape", DType: graph.Int32, Shape: []int{3},
		Data: graph.EncodeInt32s([]int32{1, 2, 2})})
	rs := g.AddTensor(&graph.Tensor{Name: "rs", DType: graph.Float32, Shape: []int{1, 2, 2}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 2, 2}})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(graph.OpAdd, []int{x, c}, []int{a}, &graph.AddOptions{})
	g.AddOp(graph.OpRelu, []int{a}, []int{r}, nil)
	g.AddOp(graph.OpReshape, []int{r, s}, []int{rs}, nil)
	g.AddOp(graph.OpRelu6, []int{rs}, []int{y}, nil)
	return g
}

func TestFloatChain(t *testing.T) {
	p, err := interp.Compile(floatChain(), interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := p.NewExecutor()
	if err := e.SetInputFloat(0, []float32{0.5, 1, -4, -5}); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	// 0.5+1=1.5, 1-2=-1→0, -4+3=-1→0, -5+10=5
	want := []float32{1.5, 0, 0, 5}
	got := e.OutputFloat(0, nil)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("output %v, want %v", got, want)
		}
	}
	planned, naive := p.ArenaBytes()
	// 16-byte activations padded to 64 bytes each: without reuse 4·64
	// (x, a, r, y; the RESHAPE output rs shares r's bytes); with reuse at
	// most three are alive at once.
	if naive != 4*64 || planned > 3*64 {
		t.Errorf("arena %d bytes planned, %d without reuse; want ≤ 192 and 256", planned, naive)
	}
}

func TestArenaNeverOverlapsLiveTensors(t *testing.T) {
	g := floatChain()
	p, err := interp.Compile(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := p.NewExecutor()
	// An op's inputs and outputs are alive together: their buffers must
	// not share memory — except a RESHAPE's, which share on purpose.
	for oi, op := range g.Ops {
		if op.Kind == graph.OpReshape {
			a, b := e.Tensor(op.Inputs[0]), e.Tensor(op.Outputs[0])
			if &a.F32[0] != &b.F32[0] {
				t.Errorf("op %d: RESHAPE output does not alias its input", oi)
			}
			continue
		}
		for _, in := range op.Inputs {
			for _, out := range op.Outputs {
				a, b := e.Tensor(in), e.Tensor(out)
				if a.F32 != nil && b.F32 != nil && &a.F32[0] == &b.F32[0] {
					t.Errorf("op %d: input %d and output %d share memory", oi, in, out)
				}
			}
		}
	}
}

func TestKeepAllAndObserver(t *testing.T) {
	g := floatChain()
	p, err := interp.Compile(g, interp.Options{KeepAll: true})
	if err != nil {
		t.Fatal(err)
	}
	e := p.NewExecutor()
	var seen []int
	e.SetObserver(func(i int, op *graph.Op, outs []*kernels.Buffer) {
		if op != g.Ops[i] || len(outs) != 1 {
			t.Errorf("observer: op %d mismatch", i)
		}
		seen = append(seen, i)
	})
	_ = e.SetInputFloat(0, []float32{0.5, 1, -4, -5})
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4 || seen[3] != 3 {
		t.Errorf("observer saw ops %v", seen)
	}
	// With KeepAll every intermediate is still readable after Run.
	a := e.Tensor(2).F32 // "a" = x + c
	if a[0] != 1.5 || a[1] != -1 || a[2] != -1 || a[3] != 5 {
		t.Errorf("intermediate a = %v", a)
	}
	planned, naive := p.ArenaBytes()
	if planned != naive {
		t.Errorf("KeepAll arena %d, want %d (no reuse)", planned, naive)
	}
}

// int8Graph: QUANTIZE x → ADD c → LEAKY_RELU → MEAN over axis 1 → DEQUANTIZE.
func int8Graph() *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 8}})
	xq := g.AddTensor(&graph.Tensor{Name: "xq", DType: graph.Int8, Shape: []int{1, 8}, Quant: q(0.05, 3)})
	c := g.AddTensor(&graph.Tensor{Name: "c", DType: graph.Int8, Shape: []int{8}, Quant: q(0.02, -5),
		Data: graph.EncodeInt8s([]int8{-128, -60, -7, 0, 5, 33, 90, 127})})
	s := g.AddTensor(&graph.Tensor{Name: "s", DType: graph.Int8, Shape: []int{1, 8}, Quant: q(0.07, -2)})
	l := g.AddTensor(&graph.Tensor{Name: "l", DType: graph.Int8, Shape: []int{1, 8}, Quant: q(0.06, 10)})
	ax := g.AddTensor(&graph.Tensor{Name: "axis", DType: graph.Int32, Shape: []int{1}, Data: graph.EncodeInt32s([]int32{1})})
	m := g.AddTensor(&graph.Tensor{Name: "m", DType: graph.Int8, Shape: []int{1, 1}, Quant: q(0.03, 0)})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 1}})
	g.Inputs, g.Outputs = []int{x}, []int{y, l}
	g.AddOp(graph.OpQuantize, []int{x}, []int{xq}, nil)
	g.AddOp(graph.OpAdd, []int{xq, c}, []int{s}, &graph.AddOptions{})
	g.AddOp(graph.OpLeakyRelu, []int{s}, []int{l}, &graph.LeakyReluOptions{Alpha: 0.2})
	g.AddOp(graph.OpMean, []int{l, ax}, []int{m}, &graph.ReducerOptions{KeepDims: true})
	g.AddOp(graph.OpDequantize, []int{m}, []int{y}, nil)
	return g
}

func runAll(t testing.TB, e *interp.Executor, inputs [][]float32) [][]float32 {
	var out [][]float32
	for _, x := range inputs {
		if err := e.SetInputFloat(0, x); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
		r := append(e.OutputFloat(0, nil), e.OutputFloat(1, nil)...)
		out = append(out, r)
	}
	return out
}

func TestConcurrentExecutorsMatchOne(t *testing.T) {
	p, err := interp.Compile(int8Graph(), interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := make([][]float32, 200)
	for i := range inputs {
		inputs[i] = make([]float32, 8)
		for j := range inputs[i] {
			inputs[i][j] = float32(rng.NormFloat64() * 3)
		}
	}
	want := runAll(t, p.NewExecutor(), inputs)
	const workers = 8
	results := make([][][]float32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w] = runAll(t, p.NewExecutor(), inputs)
		}()
	}
	wg.Wait()
	for w := range workers {
		for i := range want {
			for j := range want[i] {
				if results[w][i][j] != want[i][j] {
					t.Fatalf("worker %d input %d: %v, single executor %v", w, i, results[w][i], want[i])
				}
			}
		}
	}
}

func TestRunDoesNotAllocate(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for name, g := range map[string]*graph.Graph{"float": floatChain(), "int8": int8Graph()} {
		p, err := interp.Compile(g, interp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e := p.NewExecutor()
		if n := testing.AllocsPerRun(20, func() { _ = e.Run() }); n != 0 {
			t.Errorf("%s: Run allocates %.1f times", name, n)
		}
	}
}

func TestBatch(t *testing.T) {
	g := floatChain()
	p, err := interp.Compile(g, interp.Options{Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.OutputTensor(0).Shape; len(s) != 3 || s[0] != 3 || s[1] != 2 || s[2] != 2 {
		t.Fatalf("batch 3 output shape %v, want [3 2 2]", s)
	}
	if s := g.Tensors[0].Shape; s[0] != 1 {
		t.Errorf("Compile modified the caller's graph: input shape %v", s)
	}
	e := p.NewExecutor()
	x := []float32{0.5, 1, -4, -5, 1, 1, 1, 1, -1, 5, -3, -10}
	if err := e.SetInputFloat(0, x); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	want := []float32{1.5, 0, 0, 5, 2, 0, 4, 6, 0, 3, 0, 0}
	got := e.OutputFloat(0, nil)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("batch output %v, want %v", got, want)
		}
	}
}

func TestSetInputFloatQuantizes(t *testing.T) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Int8, Shape: []int{5}, Quant: q(0.5, 1)})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{5}, Quant: q(0.5, 1)})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(graph.OpReshape, []int{x}, []int{y}, &graph.ReshapeOptions{NewShape: []int{5}})
	p, err := interp.Compile(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := p.NewExecutor()
	// 0.25/0.5 = 0.5 rounds away from zero to 1 (+zp 1 = 2); -0.25 → -1+1 = 0;
	// 1000 clamps to 127; -1000 to -128.
	if err := e.SetInputFloat(0, []float32{0.25, -0.25, 1000, -1000, 1}); err != nil {
		t.Fatal(err)
	}
	want := []int8{2, 0, 127, -128, 3}
	for i, v := range want {
		if e.Input(0).I8[i] != v {
			t.Fatalf("quantized input %v, want %v", e.Input(0).I8, want)
		}
	}
	_ = e.Run()
	got := e.OutputFloat(0, nil)
	wantF := []float32{0.5, -0.5, 63, -64.5, 1}
	for i := range wantF {
		if got[i] != wantF[i] {
			t.Fatalf("dequantized output %v, want %v", got, wantF)
		}
	}
	if err := e.SetInputFloat(0, []float32{1}); err == nil {
		t.Error("SetInputFloat accepted 1 value for 5 elements")
	}
}

func TestCompileErrors(t *testing.T) {
	// unsupported op: names the op index and kind and wraps ErrUnsupported
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{2}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{2}})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(graph.OpKind(999), []int{x}, []int{y}, nil)
	_, err := interp.Compile(g, interp.Options{})
	if !errors.Is(err, kernels.ErrUnsupported) || !strings.Contains(err.Error(), "op 0 (OP(999))") {
		t.Errorf("unsupported op: %v", err)
	}
	// shape mismatch: ADD of [2] and [3]
	g = &graph.Graph{}
	x = g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{2}})
	z := g.AddTensor(&graph.Tensor{Name: "z", DType: graph.Float32, Shape: []int{3}})
	y = g.AddTensor(&graph.Tensor{Name: "sum", DType: graph.Float32, Shape: []int{3}})
	g.Inputs, g.Outputs = []int{x, z}, []int{y}
	g.AddOp(graph.OpAdd, []int{x, z}, []int{y}, &graph.AddOptions{})
	_, err = interp.Compile(g, interp.Options{})
	if !errors.Is(err, graph.ErrShape) || !strings.Contains(err.Error(), `op 0 (ADD) -> tensor "sum"`) {
		t.Errorf("shape mismatch: %v", err)
	}
	// dtype combination: int8 ADD with a float input
	g = &graph.Graph{}
	x = g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Int8, Shape: []int{2}, Quant: q(1, 0)})
	z = g.AddTensor(&graph.Tensor{Name: "z", DType: graph.Float32, Shape: []int{2}})
	y = g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{2}, Quant: q(1, 0)})
	g.Inputs, g.Outputs = []int{x, z}, []int{y}
	g.AddOp(graph.OpAdd, []int{x, z}, []int{y}, &graph.AddOptions{})
	_, err = interp.Compile(g, interp.Options{})
	if !errors.Is(err, kernels.ErrUnsupported) || !strings.Contains(err.Error(), "int8, float32 -> int8") {
		t.Errorf("dtype mix: %v", err)
	}
	// a hostile shape: rejected before anything is allocated
	g = floatChain()
	g.Tensors[2].Shape = []int{1 << 20, 1 << 20}
	if _, err = interp.Compile(g, interp.Options{}); !errors.Is(err, graph.ErrShape) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("huge tensor: %v", err)
	}
	// invalid graph: input index out of range
	g = floatChain()
	g.Ops[1].Inputs[0] = 42
	if _, err = interp.Compile(g, interp.Options{}); !errors.Is(err, graph.ErrInvalid) {
		t.Errorf("bad index: %v", err)
	}
}

func TestTopK(t *testing.T) {
	got := interp.TopK([]float32{0.1, 0.7, 0.1, 0.05, 0.7}, 3)
	want := []int{1, 4, 0}
	for i, c := range got {
		if c.Index != want[i] {
			t.Fatalf("TopK %v, want indices %v", got, want)
		}
	}
	if len(interp.TopK([]float32{1, 2}, 5)) != 2 {
		t.Error("TopK with k > n")
	}
}

func TestRunRawParallelMatchesSerial(t *testing.T) {
	p, err := interp.Compile(int8Graph(), interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, 8*4*37) // 37 float32 samples of 8 values
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < len(in); i += 4 {
		binary.LittleEndian.PutUint32(in[i:], math.Float32bits(float32(rng.NormFloat64()*4)))
	}
	want, err := p.NewExecutor().RunRaw(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 37*4 {
		t.Fatalf("%d output bytes, want %d", len(want), 37*4)
	}
	got, err := interp.RunRaw(p, in, 4)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("parallel RunRaw differs from serial")
	}
	if _, err := interp.RunRaw(p, in[:5], 4); err == nil || !strings.Contains(err.Error(), "multiple of one sample") {
		t.Errorf("short input: %v", err)
	}
}
