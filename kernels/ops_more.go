package kernels

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/qbench/qbench/graph"
)

// TOPK_V2, SCATTER_ND, BROADCAST_ARGS, BITCAST, BITWISE_XOR, RIGHT_SHIFT and
// SEGMENT_SUM as TFLite's builtin kernels compute them. None rescales: the
// quantized forms move or combine stored values, as TFLite's do.

// topKKernel keeps, per row of the last dimension, the k largest values in
// TFLite's order: larger value first, equal values by lower index (its
// TopContainer comparator), so ties come out as the runtime's do.
type topKKernel struct {
	rows, n, k int
}

func topKRow[T cmp.Ordered](x []T, idx []int32) {
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(x[b], x[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

func topK[T cmp.Ordered](k *topKKernel, x, vals []T, outIdx func(i int, v int32), scratch []int32) {
	for r := range k.rows {
		row := x[r*k.n : (r+1)*k.n]
		topKRow(row, scratch)
		for j := range k.k {
			vals[r*k.k+j] = row[scratch[j]]
			outIdx(r*k.k+j, scratch[j])
		}
	}
}

func (k *topKKernel) Run(ins, outs []*Buffer) error {
	if kv, err := bufInts(ins[1]); err != nil || len(kv) != 1 || kv[0] != k.k {
		return fmt.Errorf("TOPK_V2: k %v differs from the %d the output was planned for", kv, k.k)
	}
	if k.k == 0 {
		return nil
	}
	scratch := make([]int32, k.n)
	idx := outs[1]
	set := func(i int, v int32) { idx.I32[i] = v }
	if idx.DType == graph.Int64 {
		set = func(i int, v int32) { idx.I64[i] = int64(v) }
	}
	x, y := ins[0], outs[0]
	switch x.DType {
	case graph.Float32:
		topK(k, x.F32, y.F32, set, scratch)
	case graph.Int8:
		topK(k, x.I8, y.I8, set, scratch)
	case graph.UInt8:
		topK(k, x.U8, y.U8, set, scratch)
	case graph.Int32:
		topK(k, x.I32, y.I32, set, scratch)
	case graph.Int64:
		topK(k, x.I64, y.I64, set, scratch)
	}
	return nil
}

func prepareTopK(p *prep) (Kernel, error) {
	x, kt, y, idx := p.in(0), p.in(1), p.out(0), p.out(1)
	if y == nil || idx == nil {
		return nil, fmt.Errorf("%s: needs two outputs (values, indices)", p.op.Kind)
	}
	switch x.DType {
	case graph.Float32, graph.Int8, graph.UInt8, graph.Int32, graph.Int64:
	default:
		return nil, p.unsupported("dtype (the runtime's TOPK_V2 refuses int16 too)")
	}
	if y.DType != x.DType || (idx.DType != graph.Int32 && idx.DType != graph.Int64) || kt.DType != graph.Int32 {
		return nil, p.unsupported("values keep the input's dtype, indices are int32 or int64, k is int32")
	}
	kv := tensorInts(kt)
	if kv == nil {
		return nil, p.unsupported("k must be constant (interp re-prepares the op when it is computed)")
	}
	shapes, err := inferShapes(p)
	if err != nil {
		return nil, err
	}
	for o := range 2 {
		if err := p.checkOut(o, shapes[o]); err != nil {
			return nil, err
		}
	}
	n := x.Shape[len(x.Shape)-1]
	return &topKKernel{rows: x.NumElements() / max(n, 1), n: n, k: kv[0]}, nil
}

// inferShapes runs the op's shape rule on p's tensors (held in a graph of
// their own, the op's inputs and outputs renumbered 0..n-1).
func inferShapes(p *prep) ([][]int, error) {
	g := &graph.Graph{}
	op := *p.op
	op.Inputs, op.Outputs = nil, nil
	for _, t := range p.ins {
		if t == nil {
			op.Inputs = append(op.Inputs, -1)
			continue
		}
		op.Inputs = append(op.Inputs, len(g.Tensors))
		g.Tensors = append(g.Tensors, t)
	}
	for _, t := range p.outs {
		op.Outputs = append(op.Outputs, len(g.Tensors))
		g.Tensors = append(g.Tensors, t)
	}
	s, err := graph.InferOpShapes(g, &op)
	if err == nil && len(s) < len(p.outs) {
		err = fmt.Errorf("no shape rule")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", p.op.Kind, graph.ErrShape, err)
	}
	return s, nil
}

// scatterKernel is TFLite's ScatterNd: a zeroed output, each update slice
// added at the flat offset its index row gives (duplicates add up; bool
// ORs). As in TFLite only the flat offset is bounds-checked.
type scatterKernel struct {
	nSlices, slice, nd int
	strides            []int // output elements per step of each indexed dimension
}

func scatterAdd[T int8 | uint8 | int32 | int64 | float32](dst, src []T, to, from, n int) {
	for j := range n {
		dst[to+j] += src[from+j]
	}
}

func (k *scatterKernel) Run(ins, outs []*Buffer) error {
	ix, err := bufInts(ins[0])
	if err != nil {
		return fmt.Errorf("SCATTER_ND: indices: %w", err)
	}
	u, y := ins[1], outs[0]
	clearBuffer(y)
	total := graph.NumElements(y.Shape)
	for i := range k.nSlices {
		to := 0
		for j := range k.nd {
			to += ix[i*k.nd+j] * k.strides[j]
		}
		if to < 0 || to+k.slice > total {
			return fmt.Errorf("SCATTER_ND: index row %v is out of bounds for output %v", ix[i*k.nd:(i+1)*k.nd], y.Shape)
		}
		from := i * k.slice
		switch y.DType {
		case graph.Float32:
			scatterAdd(y.F32, u.F32, to, from, k.slice)
		case graph.Int8:
			scatterAdd(y.I8, u.I8, to, from, k.slice)
		case graph.UInt8:
			scatterAdd(y.U8, u.U8, to, from, k.slice)
		case graph.Int32:
			scatterAdd(y.I32, u.I32, to, from, k.slice)
		case graph.Int64:
			scatterAdd(y.I64, u.I64, to, from, k.slice)
		case graph.Bool:
			for j := range k.slice {
				y.Bool[to+j] = y.Bool[to+j] || u.Bool[from+j]
			}
		}
	}
	return nil
}

func prepareScatterND(p *prep) (Kernel, error) {
	ix, u, st, y := p.in(0), p.in(1), p.in(2), p.out(0)
	switch u.DType {
	case graph.Float32, graph.Int8, graph.UInt8, graph.Int32, graph.Int64, graph.Bool:
	default:
		return nil, p.unsupported("dtype")
	}
	if y.DType != u.DType || (ix.DType != graph.Int32 && ix.DType != graph.Int64) || st.DType != ix.DType {
		return nil, p.unsupported("indices and shape are int32 (or both int64), the output has the updates' dtype")
	}
	if err := graph.ScatterNDCheck(ix.Shape, u.Shape, y.Shape); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", p.op.Kind, graph.ErrShape, err)
	}
	if s := tensorInts(st); s != nil && !equalInts(s, y.Shape) {
		return nil, fmt.Errorf("%s: shape input %v, output %q planned %v: %w", p.op.Kind, s, y.Name, y.Shape, graph.ErrShape)
	}
	outer := len(ix.Shape) - 1
	k := &scatterKernel{nd: ix.Shape[outer], nSlices: graph.NumElements(ix.Shape[:outer])}
	k.slice = graph.NumElements(y.Shape[k.nd:])
	rem := y.NumElements()
	for d := range k.nd {
		rem /= max(y.Shape[d], 1)
		k.strides = append(k.strides, rem)
	}
	return k, nil
}

// clearBuffer zeroes every element of b.
func clearBuffer(b *Buffer) {
	clear(b.F32)
	clear(b.I8)
	clear(b.U8)
	clear(b.I16)
	clear(b.I32)
	clear(b.I64)
	clear(b.Bool)
}

// broadcastArgsKernel is tf.broadcast_dynamic_shape on two shape vectors.
type broadcastArgsKernel struct{}

func (broadcastArgsKernel) Run(ins, outs []*Buffer) error {
	a, err := bufInts(ins[0])
	if err != nil {
		return err
	}
	b, err := bufInts(ins[1])
	if err != nil {
		return err
	}
	y := outs[0]
	n := len(y.I32) + len(y.I64)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		d := da
		switch {
		case da == db, db == 1:
		case da == 1:
			d = db
		default:
			return fmt.Errorf("BROADCAST_ARGS: shapes %v and %v do not broadcast (dimension %d: %d against %d)", a, b, i, da, db)
		}
		if y.DType == graph.Int64 {
			y.I64[i] = int64(d)
		} else {
			y.I32[i] = int32(d)
		}
	}
	return nil
}

func prepareBroadcastArgs(p *prep) (Kernel, error) {
	a, b, y := p.in(0), p.in(1), p.out(0)
	if (a.DType != graph.Int32 && a.DType != graph.Int64) || b.DType != a.DType || y.DType != a.DType {
		return nil, p.unsupported("takes int32 or int64 shapes")
	}
	if len(a.Shape) != 1 || len(b.Shape) != 1 {
		return nil, fmt.Errorf("%s: inputs %v and %v must be vectors: %w", p.op.Kind, a.Shape, b.Shape, graph.ErrShape)
	}
	if err := p.checkOut(0, []int{max(a.Shape[0], b.Shape[0])}); err != nil {
		return nil, err
	}
	return broadcastArgsKernel{}, nil
}

// bitcastKernel copies the input's bytes into the output's dtype (both
// little-endian in memory, as on every machine TFLite runs on).
type bitcastKernel struct{}

func (bitcastKernel) Run(ins, outs []*Buffer) error {
	copy(rawBytes(outs[0]), rawBytes(ins[0]))
	return nil
}

func prepareBitcast(p *prep) (Kernel, error) {
	x, y := p.in(0), p.out(0)
	for _, d := range []graph.DType{x.DType, y.DType} {
		switch d {
		case graph.Float32, graph.Int8, graph.UInt8, graph.Int16, graph.Int32, graph.Int64:
		default:
			return nil, p.unsupported("dtype")
		}
	}
	want, err := graph.BitcastShape(x.Shape, x.DType.Size(), y.DType.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", p.op.Kind, graph.ErrShape, err)
	}
	if err := p.checkOut(0, want); err != nil {
		return nil, err
	}
	return bitcastKernel{}, nil
}

// bitwiseKernel is BITWISE_XOR or RIGHT_SHIFT with NumPy broadcasting.
// RIGHT_SHIFT clamps the shift to [0, bits-1] as TFLite does (so a
// negative or too large shift is defined); signed values shift
// arithmetically.
type bitwiseKernel struct {
	bc  *broadcast
	xor bool
}

func bitwise[T int8 | uint8 | int16 | int32](bc *broadcast, a, b, y []T, xor bool, bits T) {
	if xor {
		bc.each(func(o, i1, i2 int) { y[o] = a[i1] ^ b[i2] })
		return
	}
	bc.each(func(o, i1, i2 int) {
		s := min(max(b[i2], 0), bits-1)
		y[o] = a[i1] >> s
	})
}

func (k *bitwiseKernel) Run(ins, outs []*Buffer) error {
	a, b, y := ins[0], ins[1], outs[0]
	switch y.DType {
	case graph.Int8:
		bitwise(k.bc, a.I8, b.I8, y.I8, k.xor, 8)
	case graph.UInt8:
		bitwise(k.bc, a.U8, b.U8, y.U8, k.xor, 8)
	case graph.Int16:
		bitwise(k.bc, a.I16, b.I16, y.I16, k.xor, 16)
	case graph.Int32:
		bitwise(k.bc, a.I32, b.I32, y.I32, k.xor, 32)
	}
	return nil
}

func prepareBitwise(p *prep) (Kernel, error) {
	a, b, y := p.in(0), p.in(1), p.out(0)
	switch a.DType {
	case graph.Int8, graph.UInt8, graph.Int16, graph.Int32:
	default:
		return nil, p.unsupported("takes int8, uint8, int16 or int32")
	}
	if b.DType != a.DType || y.DType != a.DType {
		return nil, p.unsupported("inputs and output must share one dtype")
	}
	bc, err := newBroadcast(a.Shape, b.Shape, y.Shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", p.op.Kind, graph.ErrShape, err)
	}
	return &bitwiseKernel{bc: bc, xor: p.op.Kind == graph.OpBitwiseXor}, nil
}

// segmentSumKernel is TFLite's SegmentSum: a zeroed output, each data row
// added to the row its id names, in data order.
type segmentSumKernel struct{ inner int }

func (k *segmentSumKernel) Run(ins, outs []*Buffer) error {
	ids, err := bufInts(ins[1])
	if err != nil {
		return fmt.Errorf("SEGMENT_SUM: segment ids: %w", err)
	}
	x, y := ins[0], outs[0]
	want, err := graph.SegmentSumShape(x.Shape, ids)
	if err != nil {
		return fmt.Errorf("SEGMENT_SUM: %w", err)
	}
	if !equalInts(want, y.Shape) {
		return fmt.Errorf("SEGMENT_SUM: output would have shape %v, planned %v: %w", want, y.Shape, graph.ErrShape)
	}
	if y.DType == graph.Float32 {
		segFold(graph.OpUnsortedSegmentSum, x.F32, y.F32, ids, k.inner, 0)
	} else {
		segFold(graph.OpUnsortedSegmentSum, x.I32, y.I32, ids, k.inner, 0)
	}
	return nil
}

func prepareSegmentSum(p *prep) (Kernel, error) {
	x, s, y := p.in(0), p.in(1), p.out(0)
	if x.DType != y.DType || (x.DType != graph.Float32 && x.DType != graph.Int32) {
		return nil, p.unsupported("takes float32 or int32")
	}
	if s.DType != graph.Int32 || len(s.Shape) != 1 || len(x.Shape) < 1 || s.Shape[0] != x.Shape[0] {
		return nil, fmt.Errorf("%s: segment ids %q (%s %v) must be int32, one per row of data %v: %w", p.op.Kind, s.Name, s.DType, s.Shape, x.Shape, graph.ErrShape)
	}
	if len(y.Shape) != len(x.Shape) || !equalInts(y.Shape[1:], x.Shape[1:]) {
		return nil, fmt.Errorf("%s: output %q has shape %v for data %v: %w", p.op.Kind, y.Name, y.Shape, x.Shape, graph.ErrShape)
	}
	return &segmentSumKernel{inner: graph.NumElements(x.Shape[1:])}, nil
}

// sparseToDenseKernel is TFLite's SparseToDense: the output filled with
// default_value, then each index row's value (or the one scalar value)
// written in order, a later duplicate overwriting; an index outside the
// output fails the run, as TFLite's bounds check does.
type sparseToDenseKernel struct {
	n, rank int // index rows, values per row
	strides []int
}

func (k *sparseToDenseKernel) Run(ins, outs []*Buffer) error {
	ix, err := bufInts(ins[0])
	if err != nil {
		return fmt.Errorf("SPARSE_TO_DENSE: indices: %w", err)
	}
	vals, def, y := ins[2], ins[3], outs[0]
	total := graph.NumElements(y.Shape)
	for i := range total {
		copyElem(y, i, def, 0)
	}
	for r := range k.n {
		at := 0
		for d := range k.rank {
			v := ix[r*k.rank+d]
			if v < 0 || v >= y.Shape[d] {
				return fmt.Errorf("SPARSE_TO_DENSE: index %v is outside the output %v", ix[r*k.rank:(r+1)*k.rank], y.Shape)
			}
			at += v * k.strides[d]
		}
		src := r
		if graph.NumElements(vals.Shape) == 1 {
			src = 0
		}
		copyElem(y, at, vals, src)
	}
	return nil
}

// copyElem sets y[i] to x[j] (same dtype).
func copyElem(y *Buffer, i int, x *Buffer, j int) {
	switch y.DType {
	case graph.Float32:
		y.F32[i] = x.F32[j]
	case graph.Int8:
		y.I8[i] = x.I8[j]
	case graph.UInt8:
		y.U8[i] = x.U8[j]
	case graph.Int32:
		y.I32[i] = x.I32[j]
	case graph.Int64:
		y.I64[i] = x.I64[j]
	}
}

func prepareSparseToDense(p *prep) (Kernel, error) {
	ix, st, vals, def, y := p.in(0), p.in(1), p.in(2), p.in(3), p.out(0)
	switch vals.DType {
	case graph.Float32, graph.Int8, graph.UInt8, graph.Int32, graph.Int64:
	default:
		return nil, p.unsupported("dtype")
	}
	if def.DType != vals.DType || y.DType != vals.DType || (ix.DType != graph.Int32 && ix.DType != graph.Int64) || st.DType != ix.DType {
		return nil, p.unsupported("indices and output_shape are int32 (or int64), values, default and output one dtype")
	}
	if s := tensorInts(st); s != nil && !equalInts(s, y.Shape) {
		return nil, fmt.Errorf("%s: output_shape %v, output %q planned %v: %w", p.op.Kind, s, y.Name, y.Shape, graph.ErrShape)
	}
	k := &sparseToDenseKernel{n: 1, rank: 1}
	switch len(ix.Shape) {
	case 0:
	case 1:
		k.n = ix.Shape[0]
	case 2:
		k.n, k.rank = ix.Shape[0], ix.Shape[1]
	default:
		return nil, fmt.Errorf("%s: indices %v must have rank 0, 1 or 2: %w", p.op.Kind, ix.Shape, graph.ErrShape)
	}
	if k.rank != len(y.Shape) || def.NumElements() != 1 || (vals.NumElements() != 1 && vals.NumElements() != k.n) {
		return nil, fmt.Errorf("%s: indices %v, values %v and default %v do not fit output %v: %w", p.op.Kind, ix.Shape, vals.Shape, def.Shape, y.Shape, graph.ErrShape)
	}
	rem := y.NumElements()
	for d := range k.rank {
		rem /= max(y.Shape[d], 1)
		k.strides = append(k.strides, rem)
	}
	return k, nil
}
