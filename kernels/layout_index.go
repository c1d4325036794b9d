package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// Indexing and shape ops whose work depends on input values at run time
// (GATHER, GATHER_ND), that join several inputs (PACK), or that make values
// from shapes and scalars (SHAPE, RANK, FILL, RANGE).

// indexAt reads position i of an int16/int32/int64 index buffer.
func indexAt(b *Buffer, i int) int {
	switch b.DType {
	case graph.Int16:
		return int(b.I16[i])
	case graph.Int32:
		return int(b.I32[i])
	default:
		return int(b.I64[i])
	}
}

func indexDType(d graph.DType) bool {
	return d == graph.Int16 || d == graph.Int32 || d == graph.Int64
}

// gatherKernel copies, for every batch and outer index, the inner block
// picked by each position. Out-of-range positions are an error, as in
// TFLite.
type gatherKernel struct {
	op                                   graph.OpKind
	width                                int
	batch, outer, axisSize, inner, count int
}

func (k *gatherKernel) Run(ins, outs []*Buffer) error {
	x, idx, y := rawBytes(ins[0]), ins[1], rawBytes(outs[0])
	blk := k.inner * k.width
	for b := range k.batch {
		for o := range k.outer {
			row := b*k.outer + o
			for c := range k.count {
				pos := indexAt(idx, b*k.count+c)
				if pos < 0 || pos >= k.axisSize {
					return fmt.Errorf("%s: position %d out of range [0, %d)", k.op, pos, k.axisSize)
				}
				src := (row*k.axisSize + pos) * blk
				dst := (row*k.count + c) * blk
				copy(y[dst:dst+blk], x[src:src+blk])
			}
		}
	}
	return nil
}

func prepareGather(p *prep) (Kernel, error) {
	if eb, ok := p.op.Options.(*EmbeddingBagOptions); ok {
		return prepareEmbeddingBag(p, eb)
	}
	x, idx, y := p.in(0), p.in(1), p.out(0)
	if idx == nil || !indexDType(idx.DType) {
		return nil, p.unsupported("positions must be int16, int32 or int64")
	}
	if err := p.sameData(x, y); err != nil {
		return nil, err
	}
	o, _ := p.op.Options.(*graph.GatherOptions)
	if o == nil {
		o = &graph.GatherOptions{}
	}
	out, a, b, err := graph.GatherShape(x.Shape, idx.Shape, o.Axis, o.BatchDims)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
	}
	if !equalInts(out, y.Shape) {
		return nil, fmt.Errorf("%s: output %q has shape %v, op makes %v: %w", p.op.Kind, y.Name, y.Shape, out, graph.ErrShape)
	}
	return &gatherKernel{
		op: p.op.Kind, width: x.DType.Size(),
		batch: graph.NumElements(x.Shape[:b]), outer: graph.NumElements(x.Shape[b:a]), axisSize: x.Shape[a],
		inner: graph.NumElements(x.Shape[a+1:]), count: graph.NumElements(idx.Shape[b:]),
	}, nil
}

// gatherNDKernel copies the params slice each index tuple names.
type gatherNDKernel struct {
	op          graph.OpKind
	width       int
	depth, rows int
	dims, st    []int // params' leading depth dimensions and their element strides
	inner       int
}

func (k *gatherNDKernel) Run(ins, outs []*Buffer) error {
	x, idx, y := rawBytes(ins[0]), ins[1], rawBytes(outs[0])
	blk := k.inner * k.width
	for r := range k.rows {
		off := 0
		for j := range k.depth {
			v := indexAt(idx, r*k.depth+j)
			if v < 0 || v >= k.dims[j] {
				return fmt.Errorf("%s: index %d out of range [0, %d) in dimension %d", k.op, v, k.dims[j], j)
			}
			off += v * k.st[j]
		}
		copy(y[r*blk:(r+1)*blk], x[off*k.width:off*k.width+blk])
	}
	return nil
}

func prepareGatherND(p *prep) (Kernel, error) {
	x, idx, y := p.in(0), p.in(1), p.out(0)
	if idx == nil || !indexDType(idx.DType) {
		return nil, p.unsupported("indices must be int16, int32 or int64")
	}
	if err := p.sameData(x, y); err != nil {
		return nil, err
	}
	out, err := graph.GatherNDShape(x.Shape, idx.Shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
	}
	if !equalInts(out, y.Shape) {
		return nil, fmt.Errorf("%s: output %q has shape %v, op makes %v: %w", p.op.Kind, y.Name, y.Shape, out, graph.ErrShape)
	}
	d := idx.Shape[len(idx.Shape)-1]
	st := strides(x.Shape)
	return &gatherNDKernel{op: p.op.Kind, width: x.DType.Size(), depth: d,
		rows: graph.NumElements(idx.Shape[:len(idx.Shape)-1]), dims: x.Shape[:d], st: st[:d],
		inner: graph.NumElements(x.Shape[d:])}, nil
}

// packKernel interleaves n equally shaped inputs along a new axis.
type packKernel struct {
	width, outer, inner int
}

func (k *packKernel) Run(ins, outs []*Buffer) error {
	y := rawBytes(outs[0])
	blk := k.inner * k.width
	n := len(ins)
	for i, in := range ins {
		x := rawBytes(in)
		for o := range k.outer {
			dst := (o*n + i) * blk
			copy(y[dst:dst+blk], x[o*blk:(o+1)*blk])
		}
	}
	return nil
}

func preparePack(p *prep) (Kernel, error) {
	o, ok := p.op.Options.(*graph.PackOptions)
	if !ok {
		return nil, fmt.Errorf("%s: options are %T", p.op.Kind, p.op.Options)
	}
	y := p.out(0)
	x := p.in(0)
	for i, t := range p.ins {
		if t == nil {
			return nil, fmt.Errorf("%s: input %d is missing", p.op.Kind, i)
		}
		if !equalInts(t.Shape, x.Shape) {
			return nil, fmt.Errorf("%s: input %d %q shape %v differs from input 0's %v: %w", p.op.Kind, i, t.Name, t.Shape, x.Shape, graph.ErrShape)
		}
		if err := p.sameData(t, y); err != nil {
			return nil, err
		}
	}
	if o.ValuesCount != len(p.ins) {
		return nil, fmt.Errorf("%s: values_count %d but %d inputs", p.op.Kind, o.ValuesCount, len(p.ins))
	}
	out, err := graph.PackShape(x.Shape, o.Axis, len(p.ins))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
	}
	if !equalInts(out, y.Shape) {
		return nil, fmt.Errorf("%s: output %q has shape %v, op makes %v: %w", p.op.Kind, y.Name, y.Shape, out, graph.ErrShape)
	}
	a := o.Axis
	if a < 0 {
		a += len(x.Shape) + 1
	}
	return &packKernel{width: x.DType.Size(), outer: graph.NumElements(x.Shape[:a]), inner: graph.NumElements(x.Shape[a:])}, nil
}

// constKernel writes values fixed at prepare (SHAPE, RANK of a static
// shape).
type constKernel struct{ vals []int64 }

func (k constKernel) Run(ins, outs []*Buffer) error {
	y := outs[0]
	for i, v := range k.vals {
		if y.DType == graph.Int64 {
			y.I64[i] = v
		} else {
			y.I32[i] = int32(v)
		}
	}
	return nil
}

func prepareShape(p *prep) (Kernel, error) {
	x, y := p.in(0), p.out(0)
	if y.DType != graph.Int32 && y.DType != graph.Int64 {
		return nil, p.unsupported("output must be int32 or int64")
	}
	if !equalInts(y.Shape, []int{len(x.Shape)}) {
		return nil, fmt.Errorf("%s: output %q has shape %v, want [%d]: %w", p.op.Kind, y.Name, y.Shape, len(x.Shape), graph.ErrShape)
	}
	var k constKernel
	for _, d := range x.Shape {
		k.vals = append(k.vals, int64(d))
	}
	return k, nil
}

func prepareRank(p *prep) (Kernel, error) {
	x, y := p.in(0), p.out(0)
	if y.DType != graph.Int32 || y.NumElements() != 1 {
		return nil, p.unsupported("output must be one int32")
	}
	return constKernel{vals: []int64{int64(len(x.Shape))}}, nil
}

// fillKernel repeats a scalar.
type fillKernel struct {
	op    graph.OpKind
	width int
}

func (k *fillKernel) Run(ins, outs []*Buffer) error {
	dims, err := bufInts(ins[0])
	if err != nil {
		return fmt.Errorf("%s: dims: %w", k.op, err)
	}
	if !equalInts(dims, outs[0].Shape) {
		return fmt.Errorf("%s: dims %v differ from the planned output shape %v: %w", k.op, dims, outs[0].Shape, graph.ErrShape)
	}
	v, y := rawBytes(ins[1]), rawBytes(outs[0])
	for i := 0; i < len(y); i += k.width {
		copy(y[i:i+k.width], v)
	}
	return nil
}

func prepareFill(p *prep) (Kernel, error) {
	d, v, y := p.in(0), p.in(1), p.out(0)
	if d == nil || (d.DType != graph.Int32 && d.DType != graph.Int64) || len(d.Shape) != 1 {
		return nil, p.unsupported("dims must be a 1-D int32 or int64 tensor")
	}
	if v == nil || v.NumElements() != 1 || len(v.Shape) > 1 {
		return nil, p.unsupported("value must be a scalar")
	}
	if err := p.sameData(v, y); err != nil {
		return nil, err
	}
	if y.DType == graph.UInt8 {
		return nil, p.unsupported("TFLite's FILL has no uint8 kernel")
	}
	if dims := tensorInts(d); dims != nil && !equalInts(dims, y.Shape) {
		return nil, fmt.Errorf("%s: dims %v but output %q has shape %v: %w", p.op.Kind, dims, y.Name, y.Shape, graph.ErrShape)
	}
	return &fillKernel{op: p.op.Kind, width: y.DType.Size()}, nil
}

// rangeKernel writes start, start+delta, ... accumulating as TFLite does
// (for float32 the sum is rounded at every step).
type rangeKernel struct{ op graph.OpKind }

func (k rangeKernel) Run(ins, outs []*Buffer) error {
	y := outs[0]
	n := len(rawBytes(y)) / y.DType.Size()
	switch y.DType {
	case graph.Float32:
		s, l, d := ins[0].F32[0], ins[1].F32[0], ins[2].F32[0]
		if err := rangeCheck(k.op, float64(s), float64(l), float64(d), false, n); err != nil {
			return err
		}
		v := s
		for i := range n {
			y.F32[i] = v
			v += d
		}
	case graph.Int32:
		s, l, d := ins[0].I32[0], ins[1].I32[0], ins[2].I32[0]
		if err := rangeCheck(k.op, float64(s), float64(l), float64(d), true, n); err != nil {
			return err
		}
		v := s
		for i := range n {
			y.I32[i] = v
			v += d
		}
	case graph.Int64:
		s, l, d := ins[0].I64[0], ins[1].I64[0], ins[2].I64[0]
		if err := rangeCheck(k.op, float64(s), float64(l), float64(d), true, n); err != nil {
			return err
		}
		v := s
		for i := range n {
			y.I64[i] = v
			v += d
		}
	}
	return nil
}

func rangeCheck(op graph.OpKind, s, l, d float64, integral bool, n int) error {
	m, err := graph.RangeSize(s, l, d, integral)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if m != n {
		return fmt.Errorf("%s: range has %d elements, planned output %d: %w", op, m, n, graph.ErrShape)
	}
	return nil
}

func prepareRange(p *prep) (Kernel, error) {
	y := p.out(0)
	switch y.DType {
	case graph.Float32, graph.Int32, graph.Int64:
	default:
		return nil, p.unsupported("dtype")
	}
	for k := range 3 {
		t := p.in(k)
		if t == nil || t.DType != y.DType || t.NumElements() != 1 {
			return nil, p.unsupported(fmt.Sprintf("input %d must be a %s scalar", k, y.DType))
		}
	}
	if len(y.Shape) != 1 {
		return nil, fmt.Errorf("%s: output %q shape %v must be 1-D: %w", p.op.Kind, y.Name, y.Shape, graph.ErrShape)
	}
	return rangeKernel{op: p.op.Kind}, nil
}
