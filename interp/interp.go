// Package interp compiles a graph.Graph into a Program — validated shapes,
// prepared kernels and a memory plan — and runs it through Executors, one
// per goroutine, without allocating per inference.
//
// A Program is read-only after Compile: constant tensors and prepared
// kernels are shared by every Executor, and each Executor owns one arena in
// which activation buffers whose lifetimes do not overlap share memory.
package interp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// Options configure Compile.
type Options struct {
	// Batch, when > 0, sets dimension 0 of every graph input and re-infers
	// all activation shapes, and the state tensors' batch with them (see
	// graph.RebatchStates: each image keeps its own state row). 0 keeps
	// the shapes stored in the graph.
	Batch int
	// KeepAll disables buffer reuse so every tensor stays readable through
	// Executor.Tensor after Run (layer-by-layer comparison, debugging).
	KeepAll bool
	// Rounding selects whose integer arithmetic to reproduce (see
	// kernels.Options): fixedpoint.DoubleRounding (default) is TFLite's
	// reference kernels and TFLite Micro, bit-exact with the TFLite Micro
	// reference cases; fixedpoint.SingleRounding is TFLite's builtin
	// kernels (single-rounding rescaling); fixedpoint.RuntimeRounding is
	// the TFLite runtime on CPU as shipped, the builtin kernels plus its
	// default XNNPACK delegate (float32 rescaling in int8 conv, depthwise,
	// fully connected and MEAN, XNNPACK's int8 ADD, float QUANTIZE, 8-bit
	// LEAKY_RELU and requantization), bit-exact with the real TFLite
	// interpreter.
	Rounding fixedpoint.Rounding
	// NoRewrite runs the graph exactly op by op as stored. Otherwise
	// (and unless KeepAll) Compile also prepares a faster schedule with
	// bit-identical outputs: MAX_POOL_2D→RELU pairs fused into one pool
	// and, at batch > 1, the per-image ops before the first
	// FULLY_CONNECTED run image by image so their intermediates stay in
	// cache (see fast.go). Executors use it whenever no Observer is set;
	// with one they run the plain op-by-op schedule so every tensor is
	// seen.
	NoRewrite bool
	// ChunkBytes bounds the activation bytes one image-by-image step
	// touches: each step runs as many images as fit (a divisor of the
	// batch; the whole batch means no split). 0 is DefaultChunkBytes; a
	// negative value runs one image per step whatever the size.
	ChunkBytes int
	// ConvPools selects the 8-bit CONV_2D → 2×2 MAX_POOL_2D pairs the
	// fast schedule runs as one op (ConvPoolsNative by default).
	ConvPools ConvPoolMode
	// CarryState keeps state tensors (an LSTM's or SVDF's, see
	// Program.HasState) from one Run to the next, as a TFLite interpreter
	// does until ResetVariableTensors; the raw `run --input` path uses it
	// so K samples give what the TFLite runtime gives. Otherwise every Run
	// starts from zero state: independent samples, what evaluating a
	// classifier needs.
	CarryState bool
	// MaxArenaBytes is the most activation memory one Executor may use
	// (0: DefaultMaxArenaBytes). Compile refuses a graph that needs more,
	// with an error naming the largest tensor, instead of letting
	// NewExecutor allocate it: shapes come from the file.
	MaxArenaBytes int64
	// DeclaredShapes skips graph.CheckShapes and runs every op with the
	// output shape its graph declares. Only TFLite Micro's reference
	// kernel cases want this: TFLite Micro's kernels take the output dims
	// a test gives them (a MEAN with keep_dims declared [1 2] for [2 1]),
	// where the TFLite interpreter re-infers them. Never set it for files.
	DeclaredShapes bool
	// MaxWhileIterations bounds the iterations of one WHILE op per run
	// (0: DefaultMaxWhileIterations); a loop still running then fails with
	// an error naming the op instead of hanging.
	MaxWhileIterations int
}

// Program is a compiled graph, shared read-only by its Executors.
type Program struct {
	g *graph.Graph
	// prepared holds one kernel per op of g; kernels is the plain
	// schedule's (prepared, with aliased RESHAPEs doing nothing).
	prepared []kernels.Kernel
	kernels  []kernels.Kernel
	// consts holds decoded constant tensors (nil for activations).
	consts []*kernels.Buffer
	// plain places the plain schedule's activations. With a fast
	// schedule, graph inputs and outputs are not in it but in the io
	// arena (ioOffset, ioSize), which both schedules share.
	plain    *arenaPlan
	io       []bool // which tensors are in the io arena
	ioOffset []int
	ioSize   int
	// fast is the rewritten schedule Run uses without an Observer, or nil.
	fast *fastPlan
	// vars are the state tensors (graph.Tensor.Variable): zero in a new
	// Executor and, unless carryState, before every Run.
	vars       []int
	carryState bool
	// folded says which ops Compile evaluated at load (see Fold).
	folded FoldReport
	// dyn marks the ops prepared at run time and the tensors sized per
	// run (see dynamic.go); nil for a graph whose shapes are all known.
	dyn *dynPlan
	// scratch is the working memory the program's convolutions share
	// (kernels.Scratch): an executor runs one op at a time.
	scratch *kernels.Scratch
}

// HasState reports whether the program has state tensors (e.g. an LSTM's);
// see Options.CarryState.
func (p *Program) HasState() bool { return len(p.vars) > 0 }

// Folded reports the ops Compile evaluated once at load and replaced by
// constants (see Fold); Graph() no longer holds them.
func (p *Program) Folded() FoldReport { return p.folded }

// aliasedKernel stands in for a RESHAPE whose output shares its input's
// memory: the bytes are already in place.
type aliasedKernel struct{}

func (aliasedKernel) Run(ins, outs []*kernels.Buffer) error { return nil }

// alignment of every buffer in the arena, in bytes (a cache line).
const alignment = 64

// Compile validates g, infers shapes (see Options.Batch), folds constant
// subgraphs (see Fold), prepares a kernel for every op and plans the
// activation arena. Observers and Graph() see the folded graph: tensor
// indices are g's, op indices skip the folded ops. g is not modified: shape
// inference works on a clone. Errors name the op index, kind and tensor.
func Compile(g *graph.Graph, opts Options) (*Program, error) {
	if g == nil {
		return nil, errors.New("compile: nil graph")
	}
	return compileWith(g, opts, newBodies(g, opts))
}

// newBodies starts the set of control-flow bodies one Compile or Check
// shares (g is the main graph, holding the model's subgraph list).
func newBodies(g *graph.Graph, opts Options) *bodies {
	return &bodies{subs: g.Subgraphs, opts: opts, progs: map[int]*body{}, busy: map[int]bool{}}
}

// compileWith is Compile with the bodies control-flow ops refer to.
func compileWith(g *graph.Graph, opts Options, bs *bodies) (*Program, error) {
	g, folded, err := loadGraph(g, opts)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	budget := opts.MaxArenaBytes
	if budget <= 0 {
		budget = DefaultMaxArenaBytes
	}
	// One activation above the budget is refused before kernels prepare
	// scratch space sized from it; the whole plan is checked below.
	if i, n := largestActivation(g); n > budget {
		t := g.Tensors[i]
		return nil, fmt.Errorf("compile: tensor %d %q (shape %v, %s) needs %d bytes, more than the arena budget of %d bytes (interp.Options.MaxArenaBytes)",
			i, t.Name, t.Shape, t.DType, n, budget)
	}
	dyn, err := planDynamic(g)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	p := &Program{g: g, folded: folded, consts: make([]*kernels.Buffer, len(g.Tensors)), carryState: opts.CarryState, dyn: dyn,
		scratch: kernels.NewScratch()}
	written := writable(g)
	for i, t := range g.Tensors {
		if !t.IsConst() {
			continue
		}
		b, err := constBuffer(t, !written[i])
		if err != nil {
			return nil, fmt.Errorf("compile: tensor %d %q: %w", i, t.Name, err)
		}
		p.consts[i] = b
	}
	for oi, op := range g.Ops {
		ins := make([]*graph.Tensor, len(op.Inputs))
		for j, ti := range op.Inputs {
			ins[j] = g.Tensor(ti)
		}
		outs := make([]*graph.Tensor, len(op.Outputs))
		for j, ti := range op.Outputs {
			outs[j] = g.Tensor(ti)
		}
		if dyn.runs(oi) {
			p.prepared = append(p.prepared, newDynKernel(g, op, opts, budget))
			continue
		}
		k, err := prepareOp(g, op, ins, outs, opts, bs, p.scratch)
		if err != nil {
			return nil, fmt.Errorf("compile: op %d (%s) -> tensor %q: %w", oi, op.Name(), tensorName(g, op), err)
		}
		p.prepared = append(p.prepared, k)
	}
	for i, t := range g.Tensors {
		if t.Variable && p.consts[i] == nil {
			p.vars = append(p.vars, i)
		}
	}
	// State tensors must keep their bytes between runs, which the plain
	// schedule guarantees by keeping them alive from its start to its end;
	// the rewritten schedule does not plan them, so stateful models keep
	// the plain one, as do graphs with tensors sized per run.
	if !opts.KeepAll && !opts.NoRewrite && len(p.vars) == 0 && dyn == nil {
		f, err := p.buildFast(opts)
		if err != nil {
			return nil, fmt.Errorf("compile: %w", err)
		}
		p.fast = f
		if f != nil {
			p.deferPlainOnly(g, opts, bs)
		}
	}
	spec := planSpec{g: g, ops: g.Ops, consts: p.consts, keepAll: opts.KeepAll}
	if p.fast != nil {
		spec.external = p.io
	} else {
		if dyn != nil {
			spec.external = dyn.tensor // sized per run, outside the arena
		}
		// Graph inputs stay alive for the whole run so what a caller wrote
		// is still there for the next Run; they cost little next to
		// activations.
		spec.fromStart = append(append([]int(nil), g.Inputs...), p.vars...)
		spec.toEnd = append(append(append([]int(nil), g.Inputs...), g.Outputs...), p.vars...)
	}
	plain, err := planArena(spec)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	p.plain = plain
	p.kernels = stageKernels(g.Ops, p.prepared, plain.alias)
	if planned, _ := p.ArenaBytes(); int64(planned) > budget {
		i, n := largestActivation(g)
		return nil, fmt.Errorf("compile: activations need %d bytes at once, more than the arena budget of %d bytes (interp.Options.MaxArenaBytes; largest: tensor %d %q, %d bytes)",
			planned, budget, i, g.Tensors[i].Name, n)
	}
	return p, nil
}

// prepareOp prepares one op's kernel: the kernels package's, or a
// control-flow op's, which runs compiled bodies.
// sc is the program's shared scratch (nil: the kernel keeps its own).
func prepareOp(g *graph.Graph, op *graph.Op, ins, outs []*graph.Tensor, opts Options, bs *bodies, sc *kernels.Scratch) (kernels.Kernel, error) {
	if isControl(op.Kind) {
		return bs.prepareControl(g, op)
	}
	return kernels.PrepareWith(op, ins, outs, kernels.Options{Rounding: opts.Rounding, Intermediates: intermediates(g, op), Scratch: sc})
}

// intermediates resolves op's intermediate tensors (nil when it has none).
func intermediates(g *graph.Graph, op *graph.Op) []*graph.Tensor {
	if len(op.Intermediates) == 0 {
		return nil
	}
	ts := make([]*graph.Tensor, len(op.Intermediates))
	for i, t := range op.Intermediates {
		ts[i] = g.Tensor(t)
	}
	return ts
}

// loadGraph is what Compile (and Check, so both agree) does before
// preparing kernels: validate, check declared shapes, apply Options.Batch,
// fold constant subgraphs and bound tensor sizes. It returns the graph the
// kernels are prepared for.
func loadGraph(g *graph.Graph, opts Options) (*graph.Graph, FoldReport, error) {
	var none FoldReport
	if g == nil {
		return nil, none, errors.New("nil graph")
	}
	if err := g.Validate(); err != nil {
		return nil, none, err
	}
	if !opts.DeclaredShapes {
		if err := graph.CheckShapes(g); err != nil {
			return nil, none, err
		}
	}
	if opts.Batch < 0 {
		return nil, none, fmt.Errorf("negative batch %d", opts.Batch)
	}
	if opts.Batch > 0 {
		shapes := make([][]int, len(g.Inputs))
		changed := false
		for i, ti := range g.Inputs {
			s := append([]int(nil), g.Tensors[ti].Shape...)
			if len(s) == 0 {
				return nil, none, fmt.Errorf("input %d %q is a scalar and has no batch dimension", i, g.Tensors[ti].Name)
			}
			if s[0] != opts.Batch {
				s[0] = opts.Batch
				changed = true
			}
			shapes[i] = s
		}
		if changed {
			orig := g
			g = g.CloneSharingData() // new shapes, the same weights
			if err := graph.InferShapes(g, shapes); err != nil {
				return nil, none, fmt.Errorf("batch %d: %w", opts.Batch, err)
			}
			graph.RebatchStates(orig, g)
		}
	}
	g, folded, err := Fold(g)
	if err != nil {
		return nil, none, err
	}
	if err := checkSizes(g); err != nil {
		return nil, none, err
	}
	return g, folded, nil
}

// DefaultMaxArenaBytes is the activation memory budget of one Executor
// when Options.MaxArenaBytes is 0: far above what the models qbench runs
// need (seed-cnn at batch 64 plans under 100 MB), far below what a hostile
// file's shapes can ask for.
const DefaultMaxArenaBytes = 2 << 30

// largestActivation returns the index and byte size of the largest
// non-constant tensor (-1, 0 when there is none).
func largestActivation(g *graph.Graph) (int, int64) {
	best, n := -1, int64(0)
	for i, t := range g.Tensors {
		if t.IsConst() {
			continue
		}
		if b := int64(t.ByteSize()); best < 0 || b > n {
			best, n = i, b
		}
	}
	return best, n
}

// placeIO lays the graph inputs and outputs out one after another in the
// io arena, which the plain and the fast schedule share so that what a
// caller wrote and reads is the same memory whichever runs, and returns
// which tensors are there.
func (p *Program) placeIO() []bool {
	io := make([]bool, len(p.g.Tensors))
	p.ioOffset = make([]int, len(p.g.Tensors))
	for i := range p.ioOffset {
		p.ioOffset[i] = -1
	}
	for _, t := range append(append([]int(nil), p.g.Inputs...), p.g.Outputs...) {
		if io[t] || p.consts[t] != nil {
			continue
		}
		io[t] = true
		p.ioOffset[t] = p.ioSize
		p.ioSize += (p.g.Tensors[t].ByteSize() + alignment - 1) / alignment * alignment
	}
	p.io = io
	return io
}

// MaxTensorBytes bounds one tensor's size; a file declaring a larger
// activation is rejected before anything is allocated for it.
const MaxTensorBytes = 1 << 31

// checkSizes rejects shapes whose element count overflows or whose byte
// size exceeds MaxTensorBytes, before kernels or the arena allocate.
func checkSizes(g *graph.Graph) error {
	for i, t := range g.Tensors {
		n := int64(t.DType.Size())
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && n > MaxTensorBytes/int64(d)) {
				return fmt.Errorf("tensor %d %q: shape %v of %s exceeds %d bytes: %w", i, t.Name, t.Shape, t.DType, int64(MaxTensorBytes), graph.ErrShape)
			}
			n *= int64(d)
		}
	}
	return nil
}

func tensorName(g *graph.Graph, op *graph.Op) string {
	if len(op.Outputs) > 0 {
		if t := g.Tensor(op.Outputs[0]); t != nil {
			return t.Name
		}
	}
	return ""
}

// Graph returns the compiled graph (with inferred shapes); treat it as
// read-only.
func (p *Program) Graph() *graph.Graph { return p.g }

// ArenaBytes returns the bytes of activation memory one Executor's Run
// uses, and what the plain schedule would hold without buffer reuse. (With
// an Observer set, an Executor of a rewritten Program also allocates the
// plain schedule's arena.)
func (p *Program) ArenaBytes() (planned, withoutReuse int) {
	if p.fast != nil {
		return p.ioSize + p.fast.arenaSize(), p.plain.naiveSize + p.ioSize
	}
	return p.plain.size, p.plain.naiveSize
}

// NumInputs returns the number of graph inputs.
func (p *Program) NumInputs() int { return len(p.g.Inputs) }

// NumOutputs returns the number of graph outputs.
func (p *Program) NumOutputs() int { return len(p.g.Outputs) }

// InputTensor returns graph input i (shape, dtype, quantization), or nil.
func (p *Program) InputTensor(i int) *graph.Tensor {
	if i < 0 || i >= len(p.g.Inputs) {
		return nil
	}
	return p.g.Tensor(p.g.Inputs[i])
}

// OutputTensor returns graph output i, or nil.
func (p *Program) OutputTensor(i int) *graph.Tensor {
	if i < 0 || i >= len(p.g.Outputs) {
		return nil
	}
	return p.g.Tensor(p.g.Outputs[i])
}

// writable marks the tensors a run may write or a caller fill: op outputs
// and intermediates, graph inputs and outputs, state tensors.
func writable(g *graph.Graph) []bool {
	w := make([]bool, len(g.Tensors))
	mark := func(ts []int) {
		for _, t := range ts {
			if t >= 0 && t < len(w) {
				w[t] = true
			}
		}
	}
	for _, op := range g.Ops {
		mark(op.Outputs)
		mark(op.Intermediates)
	}
	mark(g.Inputs)
	mark(g.Outputs)
	for i, t := range g.Tensors {
		w[i] = w[i] || t.Variable
	}
	return w
}

// constBuffer decodes a constant tensor into a typed buffer. With view
// (the tensor is read only: see writable), float32, int32, int8 and uint8
// data is viewed in place where the machine is little-endian and the bytes
// are aligned: a second copy of a model's weights was a good part of its
// peak memory, and a Program never writes its graph.
func constBuffer(t *graph.Tensor, view bool) (*kernels.Buffer, error) {
	b := &kernels.Buffer{DType: t.DType, Shape: t.Shape}
	n := len(t.Data)
	var p unsafe.Pointer
	if n > 0 {
		p = unsafe.Pointer(&t.Data[0])
	}
	aligned := func(size int) bool {
		return view && littleEndian() && n > 0 && n%size == 0 && uintptr(p)%uintptr(size) == 0
	}
	switch t.DType {
	case graph.Float32:
		if aligned(4) {
			b.F32 = unsafe.Slice((*float32)(p), n/4)
			break
		}
		b.F32 = t.Float32s()
	case graph.Int8, graph.Int4:
		if aligned(1) {
			b.I8 = unsafe.Slice((*int8)(p), n)
			break
		}
		b.I8 = t.Int8s()
	case graph.UInt8:
		if aligned(1) {
			b.U8 = t.Data[:n:n]
			break
		}
		b.U8 = append([]uint8(nil), t.Data...)
	case graph.Int16:
		b.I16 = t.Int16s()
	case graph.Float16:
		// Buffers carry float16 as its bit patterns (see kernels.Buffer).
		b.I16 = make([]int16, len(t.Data)/2)
		for i := range b.I16 {
			b.I16[i] = int16(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	case graph.Int32:
		if aligned(4) {
			b.I32 = unsafe.Slice((*int32)(p), n/4)
			break
		}
		b.I32 = t.Int32s()
	case graph.Int64:
		b.I64 = t.Int64s()
	case graph.Bool:
		b.Bool = make([]bool, len(t.Data))
		for i, v := range t.Data {
			b.Bool[i] = v != 0
		}
	default:
		return nil, fmt.Errorf("unsupported constant dtype %s", t.DType)
	}
	return b, nil
}

// view makes a typed buffer of tensor t over arena bytes starting at off.
// The arena is 8-byte aligned and offsets are multiples of alignment, so
// every element type is properly aligned.
func view(t *graph.Tensor, arena []byte, off int) *kernels.Buffer {
	b := &kernels.Buffer{DType: t.DType, Shape: t.Shape}
	n := t.NumElements()
	if n == 0 {
		return b
	}
	p := unsafe.Pointer(&arena[off])
	switch t.DType {
	case graph.Float32:
		b.F32 = unsafe.Slice((*float32)(p), n)
	case graph.Int8, graph.Int4:
		b.I8 = unsafe.Slice((*int8)(p), n)
	case graph.UInt8:
		b.U8 = unsafe.Slice((*uint8)(p), n)
	case graph.Int16, graph.Float16:
		b.I16 = unsafe.Slice((*int16)(p), n)
	case graph.Int32:
		b.I32 = unsafe.Slice((*int32)(p), n)
	case graph.Int64:
		b.I64 = unsafe.Slice((*int64)(p), n)
	case graph.Bool:
		// Bytes of the arena are only ever written as 0 or 1 through this
		// view (the arena starts zeroed), so they are valid bools.
		b.Bool = unsafe.Slice((*bool)(p), n)
	}
	return b
}

// unsafeBytes views a []uint64 as bytes (same backing array, kept alive by
// the returned slice).
func unsafeBytes(w []uint64) []byte {
	if len(w) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 8*len(w))
}

// littleEndian reports whether the machine stores integers and floats
// little-endian, the byte order of graph.Tensor.Data.
func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}
