package tflite

import (
	"fmt"
	"sort"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/opcases"
	"github.com/qbench/qbench/interp"
)

// FuzzReadStructured mutates models structurally on top of byte mutation:
// the fuzzer mutates both the model bytes and a mutation program, which
// edits the graph Read returns (tensor shapes and ranks, op input and
// output wiring, op options, graph inputs, op order) before Write and Read
// run again. Byte mutation alone rarely produces a model that still parses
// but whose declared shapes disagree with its ops; this reaches them in a
// few steps.
//
// Properties: Read and Compile never panic, and a model Read accepts has
// declared shapes that agree with the shapes inferred from its inputs and
// options — TFLite's Prepare re-infers every output shape and refuses the
// model otherwise, so a model accepted here with a contradicting
// declaration would run with a buffer of the wrong size. Accepted models
// whose activations fit fuzzArenaBudget are compiled and run once.
//
// Run: nice -n 19 go test -run '^$' -fuzz FuzzReadStructured -parallel 1 ./tflite
func FuzzReadStructured(f *testing.F) {
	seeds := handGraphs()
	seeds["cnn"] = fuzzCNN()
	// Control flow: bodies are compiled and run (a WHILE up to
	// fuzzWhileLimit iterations).
	seeds["while"], seeds["if"], seeds["call_once"] = opcases.CounterLoop(3), opcases.IfBranches(), opcases.CallOnce()
	names := make([]string, 0, len(seeds))
	for n := range seeds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := Write(seeds[n])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte{})
		// One of each mutation, so every kind is in the corpus from the start.
		for k := range byte(numMutations) {
			f.Add(data, []byte{k, 1, 2, 3, k, 3, 5, 7})
		}
	}
	f.Fuzz(func(t *testing.T, data, prog []byte) {
		g, err := Read(data)
		if err != nil {
			return
		}
		mutateGraph(g, prog)
		mutated, err := Write(g)
		if err != nil {
			return
		}
		checkAcceptedShapes(t, mutated)
	})
}

// fuzzArenaBudget bounds the activation memory the fuzzer lets a model use
// before it runs it.
const fuzzArenaBudget = 64 << 20

// checkAcceptedShapes reads data and, when Read accepts it, checks that
// shape inference agrees with every declared shape, then compiles and runs
// the model within fuzzArenaBudget.
func checkAcceptedShapes(t *testing.T, data []byte) {
	t.Helper()
	g, err := Read(data)
	if err != nil {
		return
	}
	// Every op whose inputs have certain shapes (graph inputs, constants,
	// outputs of ops inferred so far) must declare what its shape rule
	// infers; outputs of ops without a rule are whatever TFLite computes
	// at run time, so what reads them is not judged.
	certain := make([]bool, len(g.Tensors))
	for i, tn := range g.Tensors {
		certain[i] = tn.IsConst()
	}
	for _, i := range g.Inputs {
		certain[i] = true
	}
	for oi, op := range g.Ops {
		ok := true
		for _, in := range op.Inputs {
			ok = ok && (in < 0 || certain[in])
		}
		if !ok {
			continue
		}
		shapes, err := graph.InferOpShapes(g, op)
		if err != nil {
			t.Fatalf("Read accepted op %d (%s) whose inputs fit no output shape: %v", oi, op.Kind, err)
		}
		for k, s := range shapes {
			if k >= len(op.Outputs) || s == nil {
				continue
			}
			o := op.Outputs[k]
			if !equalInts(g.Tensors[o].Shape, s) {
				t.Fatalf("Read accepted op %d (%s) declaring output %q as %v; its inputs and options give %v",
					oi, op.Kind, g.Tensors[o].Name, g.Tensors[o].Shape, s)
			}
			certain[o] = true
		}
	}
	declared := 0
	for _, tn := range g.Tensors {
		if !tn.IsConst() {
			declared += tn.ByteSize()
		}
	}
	if declared > fuzzArenaBudget {
		return
	}
	p, err := interp.Compile(g, interp.Options{MaxWhileIterations: fuzzWhileLimit})
	if err != nil {
		return
	}
	if planned, _ := p.ArenaBytes(); planned > fuzzArenaBudget {
		return
	}
	_ = p.NewExecutor().Run() // must not panic; an error is fine
}

// fuzzWhileLimit bounds a mutated WHILE's iterations so a loop that never
// ends costs little.
const fuzzWhileLimit = 1000

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// numMutations is the number of mutation kinds mutateGraph knows.
const numMutations = 8

// fuzzDims are the dimension values mutations pick from: small sizes that
// keep models runnable, and the extreme ones that turned up real bugs.
var fuzzDims = []int{0, 1, 2, 3, 4, 5, 7, 8, 16, 64, 255, 65535, 1 << 20}

// mutateGraph applies the mutation program prog to g: each 4 bytes are one
// mutation (kind, then three operands). Mutations keep indices in range so
// that most results still pass Validate and reach the shape checks.
func mutateGraph(g *graph.Graph, prog []byte) {
	nt, nops := len(g.Tensors), len(g.Ops)
	if nt == 0 {
		return
	}
	for i := 0; i+4 <= len(prog); i += 4 {
		kind, a, b, c := prog[i]%numMutations, int(prog[i+1]), int(prog[i+2]), int(prog[i+3])
		switch kind {
		case 0: // one dimension of an activation
			t := g.Tensors[a%nt]
			if t.IsConst() || len(t.Shape) == 0 {
				continue
			}
			t.Shape = append([]int(nil), t.Shape...)
			t.Shape[b%len(t.Shape)] = fuzzDims[c%len(fuzzDims)]
		case 1: // rank of an activation: drop or append a dimension
			t := g.Tensors[a%nt]
			if t.IsConst() {
				continue
			}
			if b%2 == 0 && len(t.Shape) > 0 {
				t.Shape = append([]int(nil), t.Shape[:len(t.Shape)-1]...)
			} else {
				t.Shape = append(append([]int(nil), t.Shape...), fuzzDims[c%len(fuzzDims)])
			}
			t.ShapeSignature = nil
		case 2: // rewire an op input
			if nops == 0 {
				continue
			}
			op := g.Ops[a%nops]
			if len(op.Inputs) == 0 {
				continue
			}
			op.Inputs[b%len(op.Inputs)] = c % nt
		case 3: // rewire an op output
			if nops == 0 {
				continue
			}
			op := g.Ops[a%nops]
			if len(op.Outputs) == 0 {
				continue
			}
			op.Outputs[b%len(op.Outputs)] = c % nt
		case 4: // an op option
			if nops == 0 {
				continue
			}
			mutateOptions(g.Ops[a%nops], b, c)
		case 5: // the graph inputs
			if len(g.Inputs) > 0 {
				g.Inputs[b%len(g.Inputs)] = c % nt
			}
		case 6: // swap two ops
			if nops > 1 {
				x, y := a%nops, b%nops
				g.Ops[x], g.Ops[y] = g.Ops[y], g.Ops[x]
			}
		case 7: // scale a constant's leading dimension with its data intact
			t := g.Tensors[a%nt]
			if !t.IsConst() || len(t.Shape) < 2 || t.Shape[0] == 0 {
				continue
			}
			// Fold a factor between the first two dimensions: the element
			// count stays, so Validate accepts it, but the op sees another
			// filter or weight layout.
			f := 1 + b%4
			if t.Shape[0]%f == 0 {
				t.Shape = append([]int(nil), t.Shape...)
				t.Shape[0] /= f
				t.Shape[1] *= f
			}
		}
	}
}

// mutateOptions sets one field of op's options to a small value (or an
// extreme one), chosen by field and v.
func mutateOptions(op *graph.Op, field, v int) {
	small := []int{0, 1, 2, 3, 5, -1, 65535}[v%7]
	switch o := op.Options.(type) {
	case *graph.Conv2DOptions:
		switch field % 5 {
		case 0:
			o.StrideW = small
		case 1:
			o.StrideH = small
		case 2:
			o.DilationW = small
		case 3:
			o.DilationH = small
		case 4:
			o.Padding = graph.Padding(v % 2)
		}
	case *graph.DepthwiseConv2DOptions:
		switch field % 5 {
		case 0:
			o.StrideW = small
		case 1:
			o.StrideH = small
		case 2:
			o.DepthMultiplier = small
		case 3:
			o.DilationW = small
		case 4:
			o.Padding = graph.Padding(v % 2)
		}
	case *graph.Pool2DOptions:
		switch field % 5 {
		case 0:
			o.FilterW = small
		case 1:
			o.FilterH = small
		case 2:
			o.StrideW = small
		case 3:
			o.StrideH = small
		case 4:
			o.Padding = graph.Padding(v % 2)
		}
	case *graph.FullyConnectedOptions:
		o.KeepNumDims = !o.KeepNumDims
	case *graph.ReshapeOptions:
		if len(o.NewShape) > 0 {
			o.NewShape = append([]int(nil), o.NewShape...)
			o.NewShape[field%len(o.NewShape)] = small
		} else {
			o.NewShape = []int{small}
		}
	case *graph.ConcatenationOptions:
		o.Axis = small
	case *graph.ReducerOptions:
		o.KeepDims = !o.KeepDims
	}
}

// fuzzCNN is a small float classifier with the study's op sequence
// (conv, max-pool, reshape, fully connected, softmax), so mutations can
// break the agreement between consecutive ops.
func fuzzCNN() *graph.Graph {
	g := &graph.Graph{}
	seq := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%7-3) / 8
		}
		return v
	}
	act := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, Shape: shape, DType: graph.Float32})
	}
	cst := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, Shape: shape, DType: graph.Float32,
			Data: graph.EncodeFloat32s(seq(graph.NumElements(shape)))})
	}
	in := act("input", 1, 8, 8, 3)
	w, b := cst("conv0/w", 4, 3, 3, 3), cst("conv0/b", 4)
	c0 := act("conv0", 1, 8, 8, 4)
	g.AddOp(graph.OpConv2D, []int{in, w, b}, []int{c0}, &graph.Conv2DOptions{Padding: graph.PaddingSame,
		StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: graph.ActRelu})
	p0 := act("pool0", 1, 4, 4, 4)
	g.AddOp(graph.OpMaxPool2D, []int{c0}, []int{p0}, &graph.Pool2DOptions{Padding: graph.PaddingValid,
		StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
	shape := g.AddTensor(&graph.Tensor{Name: "flat/shape", Shape: []int{2}, DType: graph.Int32,
		Data: graph.EncodeInt32s([]int32{1, 64})})
	flat := act("flat", 1, 64)
	g.AddOp(graph.OpReshape, []int{p0, shape}, []int{flat}, &graph.ReshapeOptions{NewShape: []int{1, 64}})
	fw, fb := cst("dense/w", 5, 64), cst("dense/b", 5)
	d := act("dense", 1, 5)
	g.AddOp(graph.OpFullyConnected, []int{flat, fw, fb}, []int{d}, &graph.FullyConnectedOptions{})
	out := act("probs", 1, 5)
	g.AddOp(graph.OpSoftmax, []int{d}, []int{out}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{in}, []int{out}
	if err := g.Validate(); err != nil {
		panic(fmt.Sprintf("fuzzCNN: %v", err))
	}
	return g
}
