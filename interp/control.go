package interp

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// Control flow: WHILE, IF and CALL_ONCE run other subgraphs of the model
// (graph.Graph.Subgraphs; index i is Subgraphs[i-1]). Each body is compiled
// once into a Program of its own, with the plain op-by-op schedule, and
// run through Executors pooled per body, so concurrent Executors of the
// main Program never share a body's arena. Values cross into and out of a
// body by copy, and shapes are static: a body's inputs and outputs must
// have the shapes and dtypes of the values the op passes (TFLite resizes
// dynamic ones; qbench refuses them at compile time).

// DefaultMaxWhileIterations bounds the iterations of one WHILE when
// Options.MaxWhileIterations is 0: a loop whose condition never turns false
// ends in an error, not a hang.
const DefaultMaxWhileIterations = 1 << 20

// maxBodyDepth bounds how deeply bodies may nest (WHILE in IF in ...).
const maxBodyDepth = 16

// bodies compiles and shares the subgraphs one Compile needs.
type bodies struct {
	subs  []*graph.Graph
	opts  Options
	progs map[int]*body
	busy  map[int]bool // bodies being compiled: a reference back is a cycle
	depth int
}

// body is one compiled subgraph and its pool of Executors.
type body struct {
	index int
	p     *Program
	pool  sync.Pool // *Executor
}

func (b *body) get() *Executor {
	if e, ok := b.pool.Get().(*Executor); ok {
		return e
	}
	return b.p.NewExecutor()
}

func (b *body) put(e *Executor) { b.pool.Put(e) }

func isControl(k graph.OpKind) bool {
	return k == graph.OpWhile || k == graph.OpIf || k == graph.OpCallOnce
}

// compile returns the Program of subgraph index (1-based), compiling it on
// first use.
func (bs *bodies) compile(index int, role string) (*body, error) {
	if index < 1 || index > len(bs.subs) {
		return nil, fmt.Errorf("%s subgraph %d does not exist (the model has %d)", role, index, len(bs.subs)+1)
	}
	if b := bs.progs[index]; b != nil {
		return b, nil
	}
	if bs.busy[index] {
		return nil, fmt.Errorf("%s subgraph %d refers back to itself (recursion is not run)", role, index)
	}
	if bs.depth >= maxBodyDepth {
		return nil, fmt.Errorf("%s subgraph %d: bodies nest more than %d deep", role, index, maxBodyDepth)
	}
	bs.busy[index] = true
	bs.depth++
	defer func() { bs.busy[index] = false; bs.depth-- }()
	o := bs.opts
	o.Batch, o.KeepAll, o.NoRewrite, o.CarryState, o.DeclaredShapes = 0, false, true, false, false
	p, err := compileWith(bs.subs[index-1], o, bs)
	if err != nil {
		return nil, fmt.Errorf("%s subgraph %d: %w", role, index, err)
	}
	b := &body{index: index, p: p}
	bs.progs[index] = b
	return b, nil
}

// prepareControl builds the kernel of a WHILE, IF or CALL_ONCE op.
func (bs *bodies) prepareControl(g *graph.Graph, op *graph.Op) (kernels.Kernel, error) {
	o, ok := op.Options.(*graph.SubgraphOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("%s: missing subgraph options", op.Kind)
	}
	ins := tensorsOf(g, op.Inputs)
	outs := tensorsOf(g, op.Outputs)
	for j, t := range ins {
		if t == nil {
			return nil, fmt.Errorf("%s: input %d is omitted", op.Kind, j)
		}
	}
	switch op.Kind {
	case graph.OpWhile:
		cond, err := bs.compile(o.Cond, "cond")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		bodyP, err := bs.compile(o.Body, "body")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		if len(outs) != len(ins) {
			return nil, fmt.Errorf("%s: %d inputs but %d outputs; the loop variables are both", op.Kind, len(ins), len(outs))
		}
		if err := matchIO(op, "cond", cond.p.g, ins, nil); err != nil {
			return nil, err
		}
		if err := checkCondOutput(op, "cond", cond.p.g); err != nil {
			return nil, err
		}
		if err := matchIO(op, "body", bodyP.p.g, ins, ins); err != nil {
			return nil, err
		}
		if err := matchIO(op, "body", bodyP.p.g, outs, outs); err != nil {
			return nil, err
		}
		max := bs.opts.MaxWhileIterations
		if max <= 0 {
			max = DefaultMaxWhileIterations
		}
		return &whileKernel{op: op, cond: cond, body: bodyP, max: max}, nil
	case graph.OpIf:
		if len(ins) < 1 {
			return nil, fmt.Errorf("%s: needs a condition input", op.Kind)
		}
		if c := ins[0]; c.DType != graph.Bool || c.NumElements() != 1 {
			return nil, fmt.Errorf("%s: condition %q must be one bool (got %s %v)", op.Kind, c.Name, c.DType, c.Shape)
		}
		k := &ifKernel{op: op}
		for i, ref := range []struct {
			idx  int
			role string
		}{{o.Then, "then"}, {o.Else, "else"}} {
			b, err := bs.compile(ref.idx, ref.role)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op.Kind, err)
			}
			if err := matchIO(op, ref.role, b.p.g, ins[1:], outs); err != nil {
				return nil, err
			}
			k.branch[i] = b
		}
		return k, nil
	default: // CALL_ONCE
		b, err := bs.compile(o.Init, "init")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		if len(b.p.g.Inputs) != 0 || len(b.p.g.Outputs) != 0 || len(ins) != 0 || len(outs) != 0 {
			return nil, fmt.Errorf("%s: init subgraph %d has %d inputs and %d outputs, the op %d and %d; all must be 0",
				op.Kind, o.Init, len(b.p.g.Inputs), len(b.p.g.Outputs), len(ins), len(outs))
		}
		return &callOnceKernel{op: op, init: b}, nil
	}
}

func tensorsOf(g *graph.Graph, idx []int) []*graph.Tensor {
	ts := make([]*graph.Tensor, len(idx))
	for j, t := range idx {
		ts[j] = g.Tensor(t)
	}
	return ts
}

// matchIO checks that a body's inputs have the dtypes and shapes of ins and
// (when outs is not nil) its outputs those of outs.
func matchIO(op *graph.Op, role string, bg *graph.Graph, ins, outs []*graph.Tensor) error {
	check := func(what string, have []int, want []*graph.Tensor) error {
		if len(have) != len(want) {
			return fmt.Errorf("%s: %s subgraph has %d %ss, the op passes %d", op.Kind, role, len(have), what, len(want))
		}
		for j, ti := range have {
			bt, t := bg.Tensor(ti), want[j]
			if bt == nil || t == nil {
				return fmt.Errorf("%s: %s subgraph %s %d is missing", op.Kind, role, what, j)
			}
			if bt.DType != t.DType || !slices.Equal(bt.Shape, t.Shape) {
				return fmt.Errorf("%s: %s subgraph %s %d %q is %s %v, the op's %q is %s %v (shapes must be static and equal): %w",
					op.Kind, role, what, j, bt.Name, bt.DType, bt.Shape, t.Name, t.DType, t.Shape, graph.ErrShape)
			}
		}
		return nil
	}
	if err := check("input", bg.Inputs, ins); err != nil {
		return err
	}
	if outs != nil {
		return check("output", bg.Outputs, outs)
	}
	return nil
}

func checkCondOutput(op *graph.Op, role string, bg *graph.Graph) error {
	if len(bg.Outputs) != 1 {
		return fmt.Errorf("%s: %s subgraph has %d outputs, want one bool", op.Kind, role, len(bg.Outputs))
	}
	if t := bg.Tensor(bg.Outputs[0]); t == nil || t.DType != graph.Bool || t.NumElements() != 1 {
		return fmt.Errorf("%s: %s subgraph output must be one bool", op.Kind, role)
	}
	return nil
}

// copyBuffer copies src's values into dst (same dtype and element count).
func copyBuffer(dst, src *kernels.Buffer) error {
	if dst == nil || src == nil {
		return errors.New("missing buffer")
	}
	if dst.DType != src.DType {
		return fmt.Errorf("copy %s into %s", src.DType, dst.DType)
	}
	n := -1
	switch {
	case src.F32 != nil || dst.F32 != nil:
		n = copyN(dst.F32, src.F32)
	case src.I8 != nil || dst.I8 != nil:
		n = copyN(dst.I8, src.I8)
	case src.U8 != nil || dst.U8 != nil:
		n = copyN(dst.U8, src.U8)
	case src.I16 != nil || dst.I16 != nil:
		n = copyN(dst.I16, src.I16)
	case src.I32 != nil || dst.I32 != nil:
		n = copyN(dst.I32, src.I32)
	case src.I64 != nil || dst.I64 != nil:
		n = copyN(dst.I64, src.I64)
	case src.Bool != nil || dst.Bool != nil:
		n = copyN(dst.Bool, src.Bool)
	default:
		return nil // both empty
	}
	if n < 0 {
		return fmt.Errorf("copy of %s values: sizes differ", src.DType)
	}
	return nil
}

func copyN[T any](dst, src []T) int {
	if len(dst) != len(src) {
		return -1
	}
	return copy(dst, src)
}

// runBody copies ins into a body's inputs, runs it and copies its outputs
// into outs (nil: leave them in the executor, returned for reading).
func runBody(e *Executor, ins []*kernels.Buffer, outs []*kernels.Buffer) error {
	for j, b := range ins {
		if err := copyBuffer(e.Input(j), b); err != nil {
			return fmt.Errorf("input %d: %w", j, err)
		}
	}
	if err := e.Run(); err != nil {
		return err
	}
	for j, b := range outs {
		if err := copyBuffer(b, e.Output(j)); err != nil {
			return fmt.Errorf("output %d: %w", j, err)
		}
	}
	return nil
}

// whileKernel runs body while cond holds, the loop variables living in the
// op's outputs.
type whileKernel struct {
	op         *graph.Op
	cond, body *body
	max        int
}

func (k *whileKernel) Run(ins, outs []*kernels.Buffer) error {
	for j := range ins {
		if err := copyBuffer(outs[j], ins[j]); err != nil {
			return fmt.Errorf("%s: loop variable %d: %w", k.op.Kind, j, err)
		}
	}
	ce, be := k.cond.get(), k.body.get()
	defer k.cond.put(ce)
	defer k.body.put(be)
	for it := 0; ; it++ {
		if err := runBody(ce, outs, nil); err != nil {
			return fmt.Errorf("%s: cond subgraph %d, iteration %d: %w", k.op.Kind, k.cond.index, it, err)
		}
		if c := ce.Output(0); len(c.Bool) != 1 || !c.Bool[0] {
			return nil
		}
		if it >= k.max {
			return fmt.Errorf("%s: still looping after %d iterations (interp.Options.MaxWhileIterations)", k.op.Kind, k.max)
		}
		if err := runBody(be, outs, outs); err != nil {
			return fmt.Errorf("%s: body subgraph %d, iteration %d: %w", k.op.Kind, k.body.index, it, err)
		}
	}
}

// ifKernel runs the then (branch[0]) or else (branch[1]) subgraph.
type ifKernel struct {
	op     *graph.Op
	branch [2]*body
}

func (k *ifKernel) Run(ins, outs []*kernels.Buffer) error {
	c := ins[0]
	if c == nil || len(c.Bool) != 1 {
		return fmt.Errorf("%s: condition is not one bool", k.op.Kind)
	}
	b := k.branch[1]
	if c.Bool[0] {
		b = k.branch[0]
	}
	e := b.get()
	defer b.put(e)
	if err := runBody(e, ins[1:], outs); err != nil {
		return fmt.Errorf("%s: subgraph %d: %w", k.op.Kind, b.index, err)
	}
	return nil
}

// callOnceKernel runs its init subgraph at the first Run of the Program, as
// TFLite runs it at an interpreter's first invocation. Without resource
// variables (which qbench does not model) an init subgraph has no effect
// outside itself; running it checks that it runs.
type callOnceKernel struct {
	op   *graph.Op
	init *body
	once sync.Once
	err  error
}

func (k *callOnceKernel) Run(ins, outs []*kernels.Buffer) error {
	k.once.Do(func() {
		e := k.init.get()
		defer k.init.put(e)
		if err := e.Run(); err != nil {
			k.err = fmt.Errorf("%s: init subgraph %d: %w", k.op.Kind, k.init.index, err)
		}
	})
	return k.err
}
