package interp_test

import (
	"bytes"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
)

// TestPlainOnlyKernelsDeferred: a rewritten Program leaves the plain
// schedule's kernels it does not share (the fused ops, and at batch > 1
// the ops it runs image by image) unprepared until a Run with an Observer,
// which then sees the plain program's values; Programs without a rewrite
// defer nothing.
func TestPlainOnlyKernelsDeferred(t *testing.T) {
	g := miniCNN(graph.Float32, 1, "")
	for _, b := range []int{1, 3} {
		fast, err := interp.Compile(g, interp.Options{Batch: b})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := interp.Compile(g, interp.Options{Batch: b, NoRewrite: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := interp.DeferredKernels(plain); n != 0 {
			t.Errorf("batch %d: the plain program deferred %d kernels", b, n)
		}
		deferred := interp.DeferredKernels(fast)
		if deferred == 0 {
			t.Fatalf("batch %d: schedule %+v, no kernel deferred", b, fast.Schedule())
		}
		observe := func(p *interp.Program) [][]byte {
			e := p.NewExecutor()
			x := make([]float32, p.InputTensor(0).NumElements())
			for i := range x {
				x[i] = float32(i%5) - 2
			}
			if err := e.SetInputFloat(0, x); err != nil {
				t.Fatal(err)
			}
			if err := e.Run(); err != nil { // the fast schedule
				t.Fatal(err)
			}
			var got [][]byte
			e.SetObserver(func(i int, op *graph.Op, outs []*kernels.Buffer) {
				got = append(got, interp.AppendBytes(nil, outs[0]))
			})
			if err := e.Run(); err != nil {
				t.Fatal(err)
			}
			return got
		}
		if err := fast.NewExecutor().Run(); err != nil {
			t.Fatal(err)
		}
		if n := interp.DeferredKernels(fast); n != deferred {
			t.Errorf("batch %d: a Run without Observer prepared %d deferred kernels", b, deferred-n)
		}
		got, want := observe(fast), observe(plain)
		if n := interp.DeferredKernels(fast); n != 0 {
			t.Errorf("batch %d: %d kernels still deferred after an observed Run", b, n)
		}
		if len(got) != len(want) {
			t.Fatalf("batch %d: observed %d ops, want %d", b, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("batch %d op %d: observed output differs from the plain program's", b, i)
			}
		}
	}
}
