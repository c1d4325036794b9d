package interp

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// Data-dependent output shapes.
//
// WHERE and UNIQUE give outputs whose size depends on their input's values,
// and ops after them (or after NON_MAX_SUPPRESSION, whose valid count a
// model slices by) get shapes only known when they run. Compile plans the
// activation arena from shapes known before running, so such tensors live
// outside it: a graph with one of these ops marks which ops run "dynamic"
// (planDynamic), and each of those is prepared when it runs, for the
// shapes (and small integer parameter values) its inputs then have, its
// output buffers grown to fit (dynKernel). A graph without these ops is
// compiled exactly as before: no dynamic op, the same plan and schedule.

// dynPlan marks the ops prepared at run time and the tensors they write.
type dynPlan struct {
	op     []bool // per op of the compiled graph
	tensor []bool // per tensor: sized per run, not in the arena
}

// runs reports whether op oi is prepared at run time (false without a plan).
func (d *dynPlan) runs(oi int) bool { return d != nil && d.op[oi] }

// dynamicSources are the op kinds that make a graph dynamic: their
// outputs, or the parameters a model computes from them, vary per run.
func dynamicSource(k graph.OpKind) bool {
	switch k {
	case graph.OpWhere, graph.OpUnique, graph.OpNonMaxSuppressionV4, graph.OpNonMaxSuppressionV5:
		return true
	}
	return false
}

// hasDynamicSource reports whether g has an op of a dynamicSource kind.
func hasDynamicSource(g *graph.Graph) bool {
	return slices.ContainsFunc(g.Ops, func(op *graph.Op) bool { return dynamicSource(op.Kind) })
}

// planDynamic returns which ops of g run with shapes known at run time
// (nil when g has no dynamicSource op): a data-dependent output's op,
// every op reading a tensor such an op writes, and every op whose shape
// rule cannot give an output's shape before running (a parameter computed
// by the model, e.g. a SLICE size from NMS's valid count).
func planDynamic(g *graph.Graph) (*dynPlan, error) {
	if !hasDynamicSource(g) {
		return nil, nil
	}
	d := &dynPlan{op: make([]bool, len(g.Ops)), tensor: make([]bool, len(g.Tensors))}
	for oi, op := range g.Ops {
		dyn := false
		for _, t := range op.Inputs {
			if t >= 0 && t < len(d.tensor) && d.tensor[t] {
				dyn = true
			}
		}
		if isControl(op.Kind) {
			if dyn {
				return nil, fmt.Errorf("op %d (%s) reads a tensor whose shape is only known at run time; control flow on such tensors is not supported", oi, op.Name())
			}
			continue
		}
		for k := range op.Outputs {
			if graph.DataDependentOutput(op.Kind, k) {
				dyn = true
			}
		}
		if !dyn && graph.HasShapeRule(op.Kind) {
			shapes, err := graph.InferOpShapes(g, op)
			if err != nil {
				return nil, fmt.Errorf("op %d (%s): %w", oi, op.Name(), err)
			}
			for k := range op.Outputs {
				if k >= len(shapes) || shapes[k] == nil {
					dyn = true
				}
			}
		}
		if !dyn {
			continue
		}
		d.op[oi] = true
		for _, t := range op.Outputs {
			d.tensor[t] = true
		}
	}
	return d, nil
}

// buffers gives every dynamic tensor an empty buffer of its dtype, which
// its op grows when it runs (a nil plan does nothing).
func (d *dynPlan) buffers(g *graph.Graph, bufs []*kernels.Buffer) {
	if d == nil {
		return
	}
	for i, t := range g.Tensors {
		if d.tensor[i] && bufs[i] == nil {
			bufs[i] = &kernels.Buffer{DType: t.DType, Shape: slices.Clone(t.Shape)}
		}
	}
}

// maxParamElems bounds the integer inputs a dynamic op is prepared with
// as constants (shape parameters: sizes, begins, k, max_output_size).
const maxParamElems = 16

// maxDynCache bounds the preparations one dynamic op keeps; past it the
// cache starts over.
const maxDynCache = 64

// dynKernel prepares its op for the shapes and small integer parameters
// its inputs have when it runs, caching preparations by them, grows the
// output buffers (owned by the Executor) to the shapes the op's shape rule
// gives, or to the bound of a data-dependent output (which the kernel then
// trims), and runs the prepared kernel. Preparing and growing allocate;
// a graph without dynamic ops never gets here.
type dynKernel struct {
	op        *graph.Op
	ins, outs []*graph.Tensor
	kopts     kernels.Options
	budget    int64
	mu        sync.Mutex
	cache     map[string]*dynPrepared
}

type dynPrepared struct {
	k      kernels.Kernel
	shapes [][]int
}

func newDynKernel(g *graph.Graph, op *graph.Op, opts Options, budget int64) *dynKernel {
	k := &dynKernel{op: op, budget: budget, cache: map[string]*dynPrepared{},
		kopts: kernels.Options{Rounding: opts.Rounding, Intermediates: intermediates(g, op)}}
	for _, t := range op.Inputs {
		k.ins = append(k.ins, g.Tensor(t))
	}
	for _, t := range op.Outputs {
		k.outs = append(k.outs, g.Tensor(t))
	}
	return k
}

// param reports whether input j is read as a constant when prepared: a
// small int32/int64 activation.
func (k *dynKernel) param(j int, b *kernels.Buffer) bool {
	t := k.ins[j]
	return t != nil && !t.IsConst() && b != nil && (b.DType == graph.Int32 || b.DType == graph.Int64) &&
		graph.NumElements(b.Shape) <= maxParamElems
}

func (k *dynKernel) key(ins []*kernels.Buffer) string {
	var sb strings.Builder
	for j, b := range ins {
		if b == nil {
			sb.WriteString("-;")
			continue
		}
		for _, d := range b.Shape {
			sb.WriteString(strconv.Itoa(d))
			sb.WriteByte(',')
		}
		if k.param(j, b) {
			sb.WriteByte('=')
			for _, v := range b.I32 {
				sb.WriteString(strconv.Itoa(int(v)))
				sb.WriteByte(',')
			}
			for _, v := range b.I64 {
				sb.WriteString(strconv.FormatInt(v, 10))
				sb.WriteByte(',')
			}
		}
		sb.WriteByte(';')
	}
	return sb.String()
}

// prepare builds the kernel for the inputs' current shapes and parameters.
func (k *dynKernel) prepare(ins []*kernels.Buffer) (*dynPrepared, error) {
	g := &graph.Graph{}
	op := *k.op
	op.Inputs, op.Outputs = nil, nil
	var tins, touts []*graph.Tensor
	for j, t := range k.ins {
		if t == nil || j >= len(ins) || ins[j] == nil {
			op.Inputs = append(op.Inputs, -1)
			tins = append(tins, nil)
			continue
		}
		c := *t
		if !t.IsConst() {
			c.Shape = slices.Clone(ins[j].Shape)
			if k.param(j, ins[j]) {
				c.Data = paramBytes(ins[j])
			}
		}
		op.Inputs = append(op.Inputs, g.AddTensor(&c))
		tins = append(tins, &c)
	}
	for _, t := range k.outs {
		c := *t
		op.Outputs = append(op.Outputs, g.AddTensor(&c))
		touts = append(touts, &c)
	}
	shapes, err := graph.InferOpShapes(g, &op)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", graph.ErrShape, err)
	}
	res := &dynPrepared{}
	for o, t := range touts {
		var s []int
		if o < len(shapes) {
			s = shapes[o]
		}
		if graph.DataDependentOutput(op.Kind, o) {
			switch op.Kind {
			case graph.OpWhere:
				s = graph.WhereBound(tins[0].Shape)
			case graph.OpUnique:
				s, _ = graph.UniqueBound(tins[0].Shape)
			}
		}
		if s == nil {
			return nil, fmt.Errorf("the shape of output %d %q cannot be inferred when it runs (inputs %v)", o, t.Name, dynShapes(ins))
		}
		t.Shape = s
		if n := int64(t.ByteSize()); n > k.budget || n > MaxTensorBytes {
			return nil, fmt.Errorf("output %d %q would have shape %v (%d bytes), more than the arena budget of %d bytes", o, t.Name, s, n, k.budget)
		}
		res.shapes = append(res.shapes, s)
	}
	res.k, err = kernels.PrepareWith(&op, tins, touts, k.kopts)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func dynShapes(ins []*kernels.Buffer) string {
	var s []string
	for _, b := range ins {
		if b == nil {
			s = append(s, "-")
		} else {
			s = append(s, fmt.Sprint(b.Shape))
		}
	}
	return strings.Join(s, ", ")
}

// paramBytes encodes an int32/int64 buffer as constant tensor data.
func paramBytes(b *kernels.Buffer) []byte {
	out := []byte{}
	for _, v := range b.I32 {
		out = binary.LittleEndian.AppendUint32(out, uint32(v))
	}
	for _, v := range b.I64 {
		out = binary.LittleEndian.AppendUint64(out, uint64(v))
	}
	return out
}

func (k *dynKernel) Run(ins, outs []*kernels.Buffer) error {
	key := k.key(ins)
	k.mu.Lock()
	pr, ok := k.cache[key]
	if !ok {
		var err error
		if pr, err = k.prepare(ins); err != nil {
			k.mu.Unlock()
			return err
		}
		if len(k.cache) >= maxDynCache {
			clear(k.cache)
		}
		k.cache[key] = pr
	}
	k.mu.Unlock()
	for o, b := range outs {
		growBuffer(b, pr.shapes[o])
	}
	return pr.k.Run(ins, outs)
}

// growBuffer sets b to shape, reusing its memory when it is large enough.
func growBuffer(b *kernels.Buffer, shape []int) {
	n := graph.NumElements(shape)
	b.Shape = slices.Clone(shape)
	switch b.DType {
	case graph.Float32:
		b.F32 = grow(b.F32, n)
	case graph.Int8, graph.Int4:
		b.I8 = grow(b.I8, n)
	case graph.UInt8:
		b.U8 = grow(b.U8, n)
	case graph.Int16, graph.Float16:
		b.I16 = grow(b.I16, n)
	case graph.Int32:
		b.I32 = grow(b.I32, n)
	case graph.Int64:
		b.I64 = grow(b.I64, n)
	case graph.Bool:
		b.Bool = grow(b.Bool, n)
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
