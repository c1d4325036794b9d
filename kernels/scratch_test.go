package kernels

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"runtime"
	"sync"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestScratchBlocks: get hands out n bytes, reuses a free block (growing
// it when it is shorter), keeps blocks across garbage collections, and
// makes a new one only while every block is held.
func TestScratchBlocks(t *testing.T) {
	s := NewScratch()
	a := s.get(100)
	if len(*a) != 100 {
		t.Fatalf("get(100) has %d bytes", len(*a))
	}
	s.put(a)
	if b := s.get(50); b != a || len(*b) != 50 {
		t.Fatal("get(50) did not reuse the free 100-byte block")
	} else {
		s.put(b)
	}
	c := s.get(1000)
	if c != a || len(*c) != 1000 {
		t.Fatal("get(1000) did not grow the free block")
	}
	d := s.get(10)
	if d == c {
		t.Fatal("a held block was handed out twice")
	}
	s.put(c)
	s.put(d)
	runtime.GC()
	runtime.GC()
	e, f := s.get(1000), s.get(1000)
	if (e != c && e != d) || (f != c && f != d) || e == f {
		t.Fatal("blocks were not kept across garbage collections")
	}
	if len(*e) != 1000 || len(*f) != 1000 {
		t.Fatal("blocks after GC have the wrong length")
	}
}

// floatConvCase is a random float CONV_2D (odd shapes, any padding and
// stride) for the shared-scratch test.
func floatConvCase(r *rand.Rand) (*graph.Op, []*graph.Tensor, *graph.Tensor) {
	pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[r.Intn(2)]
	h, w, f, s := 5+r.Intn(12), 5+r.Intn(12), 1+r.Intn(3), 1+r.Intn(2)
	cin, cout := 1+r.Intn(9), 1+r.Intn(20)
	wv := make([]float32, cout*f*f*cin)
	for i := range wv {
		wv[i] = r.Float32()*2 - 1
	}
	oh, ow := graph.ConvOutputSize(pad, h, f, s, 1), graph.ConvOutputSize(pad, w, f, s, 1)
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, h, w, cin}}
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, oh, ow, cout}}
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: pad, StrideW: s, StrideH: s, DilationW: 1, DilationH: 1}}
	return op, []*graph.Tensor{in, constF32("w", []int{cout, f, f, cin}, wv), nil}, out
}

// TestSharedScratchMatchesOwn: uint8 and float convolutions of many
// shapes prepared with one shared Scratch, run in turn and from two
// goroutines at once, give the bytes of the same kernels with scratch of
// their own.
func TestSharedScratchMatchesOwn(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	shared := NewScratch()
	type pair struct {
		name      string
		own, shrd Kernel
		x         *Buffer
		out       *graph.Tensor
	}
	var ps []pair
	for i := 0; i < 40; i++ {
		var op *graph.Op
		var ins []*graph.Tensor
		var out *graph.Tensor
		var x *Buffer
		if i%2 == 0 {
			c := randU8Conv(r, graph.OpConv2D, i)
			op, ins, out = c.op, c.ins, c.out
			x = randU8Buffer(r, ins[0], 1+r.Intn(3))
		} else {
			op, ins, out = floatConvCase(r)
			x = refBuffer(graph.Float32, append([]int{1 + r.Intn(3)}, ins[0].Shape[1:]...), nil)
			for j := range x.F32 {
				x.F32[j] = r.Float32()*2 - 1
			}
		}
		rnd := []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding}[r.Intn(3)]
		own, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{Rounding: rnd})
		if err != nil {
			t.Fatal(err)
		}
		shrd, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{Rounding: rnd, Scratch: shared})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, pair{op.Kind.String() + " " + out.DType.String(), own, shrd, x, out})
	}
	run := func(k Kernel, p pair) []byte {
		shape := append([]int{p.x.Shape[0]}, p.out.Shape[1:]...)
		y := refBuffer(p.out.DType, shape, nil)
		if err := k.Run([]*Buffer{p.x}, []*Buffer{y}); err != nil {
			t.Error(err)
		}
		var b []byte
		for _, v := range y.F32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return append(b, y.U8...)
	}
	want := make([][]byte, len(ps))
	for i, p := range ps {
		want[i] = run(p.own, p)
	}
	check := func(rounds int) {
		for range rounds {
			for i, p := range ps {
				if got := run(p.shrd, p); !bytes.Equal(got, want[i]) {
					t.Errorf("case %d (%s): shared scratch gives other bytes", i, p.name)
					return
				}
			}
		}
	}
	check(1)
	shared.blocks.mu.Lock()
	nblk := len(shared.blocks.all)
	shared.blocks.mu.Unlock()
	if nblk == 0 {
		t.Fatal("no kernel took its scratch from the shared Scratch")
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); check(3) }()
	}
	wg.Wait()
}
