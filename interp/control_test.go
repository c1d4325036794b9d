package interp_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/opcases"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/tflite"
)

func floatBytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func runFloat(t *testing.T, p *interp.Program, x []float32) [][]byte {
	t.Helper()
	e := p.NewExecutor()
	if err := e.SetInputBytes(0, floatBytes(x)); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	var outs [][]byte
	for i := range p.NumOutputs() {
		outs = append(outs, e.AppendOutputBytes(i, nil))
	}
	return outs
}

// The counter loop computes v·c + d n times; IF picks its branch by the
// sign of the input's sum; both against a plain Go computation.
func TestControlFlowRuns(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		p, err := interp.Compile(opcases.CounterLoop(n), interp.Options{})
		if err != nil {
			t.Fatalf("WHILE n=%d: %v", n, err)
		}
		x := []float32{0.5, -2, 3}
		want := append([]float32(nil), x...)
		c := []float32{1.5, -0.75, 0.5}
		for range n {
			for j := range want {
				want[j] = float32(want[j]*c[j]) + 0.25
			}
		}
		outs := runFloat(t, p, x)
		if !bytes.Equal(outs[0], floatBytes(want)) {
			t.Errorf("WHILE n=%d: v = % x, want % x", n, outs[0], floatBytes(want))
		}
		if i := int32(binary.LittleEndian.Uint32(outs[1])); i != int32(n) {
			t.Errorf("WHILE n=%d: i = %d", n, i)
		}
	}
	p, err := interp.Compile(opcases.IfBranches(), interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float32{{1, 2, -0.5, 0}, {-1, 0.5, -2, 1}} {
		want := make([]float32, len(x))
		sum := float32(0)
		for _, v := range x {
			sum += v
		}
		for j, v := range x {
			if sum > 0 {
				want[j] = v * 3
			} else {
				want[j] = max(v, 0) - 1
			}
		}
		if got := runFloat(t, p, x)[0]; !bytes.Equal(got, floatBytes(want)) {
			t.Errorf("IF on %v: % x, want % x", x, got, floatBytes(want))
		}
	}
	p, err = interp.Compile(opcases.CallOnce(), interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := runFloat(t, p, []float32{-1, 2, -3, 4, 0}); !bytes.Equal(got[0], floatBytes([]float32{0, 2, 0, 4, 0})) {
		t.Errorf("CALL_ONCE model: % x", got[0])
	}
}

// Executors of one Program run bodies concurrently without sharing arenas.
func TestControlFlowConcurrent(t *testing.T) {
	p, err := interp.Compile(opcases.IfBranches(), interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := p.NewExecutor()
			for i := range 200 {
				s := float32(1 - 2*((w+i)%2))
				x := []float32{s, s, s, s}
				if err := e.SetInputBytes(0, floatBytes(x)); err != nil {
					t.Error(err)
					return
				}
				if err := e.Run(); err != nil {
					t.Error(err)
					return
				}
				want := floatBytes([]float32{3 * s, 3 * s, 3 * s, 3 * s})
				if s < 0 {
					want = floatBytes([]float32{-1, -1, -1, -1})
				}
				if got := e.AppendOutputBytes(0, nil); !bytes.Equal(got, want) {
					t.Errorf("worker %d run %d: % x, want % x", w, i, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Bad control flow fails with an error naming the op: a loop that does
// not end within the limit, a body calling itself, a body qbench cannot
// run (Check agrees with Compile), bodies whose shapes differ from the op's.
func TestControlFlowErrors(t *testing.T) {
	p, err := interp.Compile(opcases.CounterLoop(1000), interp.Options{MaxWhileIterations: 10})
	if err != nil {
		t.Fatal(err)
	}
	e := p.NewExecutor()
	if err := e.Run(); err == nil || !strings.Contains(err.Error(), "WHILE") || !strings.Contains(err.Error(), "10 iterations") {
		t.Errorf("endless loop: %v", err)
	}

	g := opcases.CounterLoop(3)
	body := g.Subgraphs[1]
	body.Ops[1].Kind, body.Ops[1].Options = graph.OpWhile, &graph.SubgraphOptions{Cond: 1, Body: 2, Then: -1, Else: -1, Init: -1}
	body.Ops[1].Inputs, body.Ops[1].Outputs = []int{body.Inputs[0], body.Inputs[1]}, []int{body.AddTensor(&graph.Tensor{Name: "j", DType: graph.Int32, Shape: []int{1}}), body.Ops[1].Outputs[0]}
	if _, err := interp.Compile(g, interp.Options{}); err == nil || !strings.Contains(err.Error(), "refers back to itself") {
		t.Errorf("recursive body: %v", err)
	}

	g = opcases.IfBranches()
	g.Subgraphs[1].Ops[0].Kind, g.Subgraphs[1].Ops[0].Code = graph.OpUnknown, "MY_OP"
	_, cerr := interp.Compile(g, interp.Options{})
	if cerr == nil || !strings.Contains(cerr.Error(), "IF") || !strings.Contains(cerr.Error(), "MY_OP") || !strings.Contains(cerr.Error(), "else subgraph 2") {
		t.Errorf("unsupported op in a body: %v", cerr)
	}
	probs, err := interp.Check(g, interp.Options{})
	if err != nil || len(probs) != 1 || probs[0].Op != "IF" || !strings.Contains(probs[0].Err.Error(), "MY_OP") {
		t.Errorf("Check: %v %+v", err, probs)
	}

	g = opcases.IfBranches()
	g.Subgraphs[0].Tensors[0].Shape = []int{1, 5}
	g.Subgraphs[0].Tensors[1].Shape = []int{1, 5}
	if _, err := interp.Compile(g, interp.Options{}); err == nil || !strings.Contains(err.Error(), "then subgraph input 0") {
		t.Errorf("then branch of another shape: %v", err)
	}
}

// The control-flow models run in the TFLite runtime as in qbench, bit for
// bit, on random inputs (IF on both branches).
func TestControlFlowMatchesTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	or = freshOutputs(t, or)
	r := rand.New(rand.NewSource(91))
	dir := t.TempDir()
	same := 0
	for name, g := range map[string]*graph.Graph{
		"while0": opcases.CounterLoop(0), "while7": opcases.CounterLoop(7), "if": opcases.IfBranches(), "call_once": opcases.CallOnce(),
	} {
		path := filepath.Join(dir, name+".tflite")
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := interp.Compile(g, interp.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := g.Tensors[g.Inputs[0]].NumElements()
		const samples = 8
		var in []byte
		var want [][]byte
		for range samples {
			x := make([]float32, n)
			for j := range x {
				x[j] = float32(r.NormFloat64())
			}
			in = append(in, floatBytes(x)...)
			for o, b := range runFloat(t, p, x) {
				if o == len(want) {
					want = append(want, nil)
				}
				want[o] = append(want[o], b...)
			}
		}
		got, err := or.RunAll(path, in)
		if err != nil {
			t.Fatalf("%s: oracle: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: TFLite gave %d outputs, qbench %d", name, len(got), len(want))
		}
		for o := range want {
			if !bytes.Equal(got[o], want[o]) {
				t.Errorf("%s: output %d: TFLite % x, qbench % x", name, o, got[o], want[o])
				continue
			}
			same += len(want[o]) / 4
		}
	}
	t.Logf("control-flow models: %d values identical with TFLite", same)
}
