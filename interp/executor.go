package interp

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// Observer is called after each op with the op's index, the op and its
// output buffers. The buffers are only valid during the call unless the
// Program was compiled with KeepAll; copy what you need.
type Observer func(opIndex int, op *graph.Op, outs []*kernels.Buffer)

// Executor runs a Program. It owns the arena holding activations, so use one
// Executor per goroutine; many Executors may share one Program.
type Executor struct {
	p *Program
	// The plain schedule: arena, per-tensor buffers (arena view, shared
	// constant, io view, or nil) and each op's argument lists. With a fast
	// schedule only the io views exist until an Observer or Tensor needs
	// the rest (ensurePlain).
	arena     []byte
	bufs      []*kernels.Buffer
	ins       [][]*kernels.Buffer
	outs      [][]*kernels.Buffer
	plainDone bool
	io        []byte
	fast      *fastExec
	obs       Observer
	hook      func(op, image int)
}

// NewExecutor allocates an arena and the buffer views for one worker.
func (p *Program) NewExecutor() *Executor {
	e := &Executor{p: p, bufs: make([]*kernels.Buffer, len(p.g.Tensors))}
	for i := range p.g.Tensors {
		if p.consts[i] != nil {
			e.bufs[i] = p.consts[i]
		}
	}
	if p.fast == nil {
		e.ensurePlain()
		if len(p.vars) > 0 {
			e.ResetState() // int8 state starts at its zero point
		}
		return e
	}
	e.io = newArena(p.ioSize)
	for i, t := range p.g.Tensors {
		if p.ioOffset[i] >= 0 {
			e.bufs[i] = view(t, e.io, p.ioOffset[i])
		}
	}
	e.fast = newFastExec(p.fast, p.consts, e.bufs)
	return e
}

// newArena returns n zeroed bytes, 8-byte aligned (backed by uint64s).
func newArena(n int) []byte {
	return unsafeBytes(make([]uint64, (n+7)/8+1))
}

// ensurePlain allocates the plain schedule's arena and argument lists.
func (e *Executor) ensurePlain() {
	if e.plainDone {
		return
	}
	e.plainDone = true
	p := e.p
	e.arena = newArena(p.plain.size)
	for i, t := range p.g.Tensors {
		if e.bufs[i] == nil && p.plain.offset[i] >= 0 {
			e.bufs[i] = view(t, e.arena, p.plain.offset[i])
		}
	}
	p.dyn.buffers(p.g, e.bufs)
	e.ins, e.outs = argLists(p.g.Ops, e.bufs)
}

// argLists returns each op's input and output buffers.
func argLists(ops []*graph.Op, bufs []*kernels.Buffer) (ins, outs [][]*kernels.Buffer) {
	for _, op := range ops {
		in := make([]*kernels.Buffer, len(op.Inputs))
		for j, t := range op.Inputs {
			if t >= 0 {
				in[j] = bufs[t]
			}
		}
		out := make([]*kernels.Buffer, len(op.Outputs))
		for j, t := range op.Outputs {
			out[j] = bufs[t]
		}
		ins = append(ins, in)
		outs = append(outs, out)
	}
	return ins, outs
}

// Program returns the Program the Executor runs.
func (e *Executor) Program() *Program { return e.p }

// SetObserver installs f to be called after every op of Graph() (nil
// removes it). While one is set, Run executes the plain op-by-op schedule
// (allocating its arena on first use), so f sees every tensor even when
// the Program has a faster rewritten schedule.
func (e *Executor) SetObserver(f Observer) {
	e.obs = f
	if f != nil {
		e.ensurePlain()
	}
}

// SetStepHook installs f to be called after each kernel Run executes,
// without buffers and without changing the schedule (unlike an Observer):
// op is the op's index in Graph().Ops — a MAX_POOL_2D with a fused RELU
// reports its own index, the RELU never fires — and image is the (first)
// image of the step for ops run image by image (Schedule.ImagesPerStep at
// a time), -1 for ops run over the whole batch.
// It is meant for per-op timing; nil removes it.
func (e *Executor) SetStepHook(f func(op, image int)) { e.hook = f }

// Input returns the buffer of graph input i; write the input there before
// Run. Its contents stay as written across runs (inputs are never reused
// for other tensors).
func (e *Executor) Input(i int) *kernels.Buffer {
	if i < 0 || i >= len(e.p.g.Inputs) {
		return nil
	}
	return e.bufs[e.p.g.Inputs[i]]
}

// Output returns the buffer of graph output i, valid after Run until the
// next Run.
func (e *Executor) Output(i int) *kernels.Buffer {
	if i < 0 || i >= len(e.p.g.Outputs) {
		return nil
	}
	return e.bufs[e.p.g.Outputs[i]]
}

// Tensor returns the buffer of tensor idx of Graph(): a constant, or an
// activation. Unless the Program was compiled with KeepAll, an
// intermediate's memory is reused once its last reader has run (and a
// rewritten schedule may not write it at all), so read it from an
// Observer. Tensors no op touches give nil.
func (e *Executor) Tensor(idx int) *kernels.Buffer {
	if idx < 0 || idx >= len(e.bufs) {
		return nil
	}
	e.ensurePlain()
	return e.bufs[idx]
}

// Run executes the Program. It does not allocate, except that the first
// Run with an Observer of a rewritten Program prepares the plain
// schedule's kernels the rewritten one does not share.
func (e *Executor) Run() error {
	if len(e.p.vars) > 0 && !e.p.carryState {
		e.ResetState()
	}
	if e.obs == nil && e.fast != nil {
		return e.fast.run(e.p, e.hook)
	}
	for oi, k := range e.p.kernels {
		if err := k.Run(e.ins[oi], e.outs[oi]); err != nil {
			op := e.p.g.Ops[oi]
			return fmt.Errorf("run: op %d (%s) -> tensor %q: %w", oi, op.Kind, tensorName(e.p.g, op), err)
		}
		if e.obs != nil {
			e.obs(oi, e.p.g.Ops[oi], e.outs[oi])
		}
		if e.hook != nil {
			e.hook(oi, -1)
		}
	}
	return nil
}

// SetInputFloat writes real values into graph input i, quantizing them with
// the input's scale and zero point when it is an integer tensor (round half
// away from zero, clamp to the dtype), as TFLite's QUANTIZE does.
func (e *Executor) SetInputFloat(i int, x []float32) error {
	b := e.Input(i)
	if b == nil {
		return fmt.Errorf("input %d out of range [0,%d)", i, len(e.p.g.Inputs))
	}
	t := e.p.InputTensor(i)
	if n := t.NumElements(); len(x) != n {
		return fmt.Errorf("input %d %q: got %d values, shape %v needs %d", i, t.Name, len(x), t.Shape, n)
	}
	switch b.DType {
	case graph.Float32:
		copy(b.F32, x)
		return nil
	case graph.Int8, graph.UInt8, graph.Int16:
	default:
		return fmt.Errorf("input %d %q: cannot set %s from floats", i, t.Name, b.DType)
	}
	s, zp, ok := kernels.QuantParams(t)
	if !ok || !(s > 0) {
		return fmt.Errorf("input %d %q: %s input has no usable quantization", i, t.Name, b.DType)
	}
	if err := kernels.QuantizeFloats(b, x, s, zp); err != nil {
		return fmt.Errorf("input %d %q: %w", i, t.Name, err)
	}
	return nil
}

// OutputFloat returns graph output i as real values, dequantizing integer
// outputs with their scale and zero point. It reuses dst when it is large
// enough. An output without quantization parameters is converted as is.
func (e *Executor) OutputFloat(i int, dst []float32) []float32 {
	b := e.Output(i)
	if b == nil {
		return dst[:0]
	}
	t := e.p.OutputTensor(i)
	n := graph.NumElements(b.Shape) // the run's shape: an output may be sized per run
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	s, zp, ok := kernels.QuantParams(t)
	for j := range n {
		switch b.DType {
		case graph.Float32:
			dst[j] = b.F32[j]
			continue
		case graph.Bool:
			dst[j] = 0
			if b.Bool[j] {
				dst[j] = 1
			}
			continue
		}
		var q int32
		switch b.DType {
		case graph.Int8, graph.Int4:
			q = int32(b.I8[j])
		case graph.UInt8:
			q = int32(b.U8[j])
		case graph.Int16:
			q = int32(b.I16[j])
		case graph.Int32:
			q = b.I32[j]
		case graph.Int64:
			q = int32(b.I64[j])
		}
		if ok {
			dst[j] = kernels.Dequantize(q, s, zp)
		} else {
			dst[j] = float32(q)
		}
	}
	return dst
}

// ResetState resets the program's state tensors (see Program.HasState) as
// TFLite's ResetVariableTensors does: int8 ones to their zero point (the
// integer LSTM's output state starts at real 0), all others to zero. The
// next Run starts a new sequence. Run does it itself unless the program
// carries state (Options.CarryState).
func (e *Executor) ResetState() {
	for _, t := range e.p.vars {
		b := e.bufs[t]
		if b == nil {
			continue
		}
		if q := e.p.g.Tensors[t].Quant; b.DType == graph.Int8 && q != nil && len(q.ZeroPoint) > 0 && q.ZeroPoint[0] != 0 {
			fillInt8(b.I8, int8(q.ZeroPoint[0]))
			continue
		}
		zeroBuffer(b)
	}
}

// fillInt8 sets every element of s to v by doubling copies: a byte loop
// over the SVDF states of tflm_kws_scrambled_i8 at batch 64 (320 KiB, reset
// before every run) took about half of the model's run.
func fillInt8(s []int8, v int8) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for n := 1; n < len(s); n *= 2 {
		copy(s[n:], s[:n])
	}
}

func zeroBuffer(b *kernels.Buffer) {
	clear(b.F32)
	clear(b.I8)
	clear(b.U8)
	clear(b.I16)
	clear(b.I32)
	clear(b.I64)
	clear(b.Bool)
}
