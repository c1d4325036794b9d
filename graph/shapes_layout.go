package graph

import (
	"fmt"
	"math"
)

// Shape rules of the layout, indexing and shape ops, as TFLite's Prepare
// computes them. A rule returns nil (keep the declared shape) when the shape
// depends on a non-constant input; it returns an error for what TFLite
// refuses. The index arithmetic is exported so that kernels, which run the
// same ops on dynamic inputs, resolve parameters exactly as the rules do.

// maxLayoutRank bounds ranks the layout ops accept (TFLite's kernels stop at
// 5 or 6 dimensions; 8 keeps index arithmetic small).
const maxLayoutRank = 8

// opt returns op's options as *T or an error naming the mismatch; a nil
// Options gives the zero value (every field at the schema default).
func opt[T any](op *Op) (*T, error) {
	if op.Options == nil {
		return new(T), nil
	}
	o, ok := op.Options.(*T)
	if !ok {
		return nil, fmt.Errorf("options are %T, want %T", op.Options, new(T))
	}
	return o, nil
}

// constIn returns the constant int values of input k: nil, nil when the
// input is not constant; an error when it is missing or not int32/int64.
func constIn(g *Graph, op *Op, k int) ([]int, error) {
	t, err := in(g, op, k)
	if err != nil {
		return nil, err
	}
	if t.DType != Int32 && t.DType != Int64 {
		return nil, fmt.Errorf("input %d %q is %s, want int32 or int64", k, t.Name, t.DType)
	}
	return constInts(t), nil
}

func clone(s []int) []int { return append([]int{}, s...) }

func shapeSqueeze(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	o, err := opt[SqueezeOptions](op)
	if err != nil {
		return nil, err
	}
	return SqueezeShape(x.Shape, o.Dims)
}

// SqueezeShape drops dims (all size-1 dimensions when dims is empty); a
// listed dimension must exist and have size 1.
func SqueezeShape(in []int, dims []int) ([]int, error) {
	drop := make([]bool, len(in))
	if len(dims) == 0 {
		for i, d := range in {
			drop[i] = d == 1
		}
	}
	for _, d := range dims {
		a := d
		if a < 0 {
			a += len(in)
		}
		if a < 0 || a >= len(in) {
			return nil, fmt.Errorf("squeeze dimension %d out of range for rank %d", d, len(in))
		}
		if in[a] != 1 {
			return nil, fmt.Errorf("cannot squeeze dimension %d of %v: size %d is not 1", d, in, in[a])
		}
		drop[a] = true
	}
	out := []int{}
	for i, d := range in {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

func shapeExpandDims(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	a, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if a.NumElements() != 1 {
		return nil, fmt.Errorf("axis %q must hold one value, has shape %v", a.Name, a.Shape)
	}
	v, err := constIn(g, op, 1)
	if v == nil || err != nil {
		return nil, err
	}
	return ExpandDimsShape(x.Shape, v[0])
}

// ExpandDimsShape inserts a size-1 dimension at axis (-rank-1 <= axis <= rank).
func ExpandDimsShape(in []int, axis int) ([]int, error) {
	a := axis
	if a < 0 {
		a += len(in) + 1
	}
	if a < 0 || a > len(in) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", axis, len(in))
	}
	out := append(clone(in[:a]), 1)
	return append(out, in[a:]...), nil
}

// TransposeShape permutes in by perm, which must name every dimension once.
func TransposeShape(in []int, perm []int) ([]int, error) {
	if len(perm) != len(in) {
		return nil, fmt.Errorf("permutation %v has %d entries for rank %d", perm, len(perm), len(in))
	}
	if len(in) > 6 {
		return nil, fmt.Errorf("transpose of rank %d: at most 6 dimensions", len(in))
	}
	seen := make([]bool, len(in))
	out := make([]int, len(in))
	for i, p := range perm {
		if p < 0 || p >= len(in) || seen[p] {
			return nil, fmt.Errorf("permutation %v is not a permutation of 0..%d", perm, len(in)-1)
		}
		seen[p] = true
		out[i] = in[p]
	}
	return out, nil
}

func normAxis(axis, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return a, nil
}

func shapeSplit(g *Graph, op *Op) ([][]int, error) {
	x, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	o, err := opt[SplitOptions](op)
	if err != nil {
		return nil, err
	}
	if o.NumSplits != len(op.Outputs) {
		return nil, fmt.Errorf("num_splits %d but %d outputs", o.NumSplits, len(op.Outputs))
	}
	a, err := constIn(g, op, 0)
	if a == nil || err != nil {
		return nil, err
	}
	if len(a) != 1 {
		return nil, fmt.Errorf("split axis must be one value, got %v", a)
	}
	sizes, axis, err := SplitSizes(x.Shape, a[0], o.NumSplits, nil)
	if err != nil {
		return nil, err
	}
	return splitShapes(x.Shape, axis, sizes), nil
}

func shapeSplitV(g *Graph, op *Op) ([][]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	o, err := opt[SplitOptions](op)
	if err != nil {
		return nil, err
	}
	if o.NumSplits != len(op.Outputs) {
		return nil, fmt.Errorf("num_splits %d but %d outputs", o.NumSplits, len(op.Outputs))
	}
	sz, err := constIn(g, op, 1)
	if err != nil {
		return nil, err
	}
	a, err := constIn(g, op, 2)
	if sz == nil || a == nil || err != nil {
		return nil, err
	}
	if len(a) != 1 {
		return nil, fmt.Errorf("split axis must be one value, got %v", a)
	}
	sizes, axis, err := SplitSizes(x.Shape, a[0], o.NumSplits, sz)
	if err != nil {
		return nil, err
	}
	return splitShapes(x.Shape, axis, sizes), nil
}

// SplitSizes resolves SPLIT (sizeSplits nil: n equal parts) and SPLIT_V
// (sizeSplits with at most one -1) along axis of in; it returns the size of
// each part and the non-negative axis.
func SplitSizes(in []int, axis, n int, sizeSplits []int) ([]int, int, error) {
	a, err := normAxis(axis, len(in))
	if err != nil {
		return nil, 0, err
	}
	if n <= 0 {
		return nil, 0, fmt.Errorf("num_splits %d must be positive", n)
	}
	dim := in[a]
	if sizeSplits == nil {
		if dim%n != 0 {
			return nil, 0, fmt.Errorf("dimension %d of %v (size %d) does not split into %d equal parts", a, in, dim, n)
		}
		s := make([]int, n)
		for i := range s {
			s[i] = dim / n
		}
		return s, a, nil
	}
	if len(sizeSplits) != n {
		return nil, 0, fmt.Errorf("size_splits %v has %d entries for num_splits %d", sizeSplits, len(sizeSplits), n)
	}
	s := clone(sizeSplits)
	minus, sum := -1, 0
	for i, v := range s {
		switch {
		case v == -1 && minus < 0:
			minus = i
		case v < 0:
			return nil, 0, fmt.Errorf("invalid size_splits %v", sizeSplits)
		default:
			sum += v
		}
	}
	if minus >= 0 {
		if sum > dim {
			return nil, 0, fmt.Errorf("size_splits %v exceed dimension %d (size %d)", sizeSplits, a, dim)
		}
		s[minus] = dim - sum
	} else if sum != dim {
		return nil, 0, fmt.Errorf("size_splits %v sum to %d, dimension %d has size %d", sizeSplits, sum, a, dim)
	}
	return s, a, nil
}

func splitShapes(in []int, axis int, sizes []int) [][]int {
	out := make([][]int, len(sizes))
	for i, n := range sizes {
		out[i] = clone(in)
		out[i][axis] = n
	}
	return out
}

func shapePack(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	o, err := opt[PackOptions](op)
	if err != nil {
		return nil, err
	}
	if o.ValuesCount != len(op.Inputs) {
		return nil, fmt.Errorf("values_count %d but %d inputs", o.ValuesCount, len(op.Inputs))
	}
	for k := 1; k < len(op.Inputs); k++ {
		y, err := in(g, op, k)
		if err != nil {
			return nil, err
		}
		if !equalShape(x.Shape, y.Shape) || x.DType != y.DType {
			return nil, fmt.Errorf("input %d %q (%s %v) differs from input 0 (%s %v)", k, y.Name, y.DType, y.Shape, x.DType, x.Shape)
		}
	}
	return PackShape(x.Shape, o.Axis, len(op.Inputs))
}

// PackShape is the shape of stacking n tensors of shape in along a new axis.
func PackShape(in []int, axis, n int) ([]int, error) {
	a, err := normAxis(axis, len(in)+1)
	if err != nil {
		return nil, err
	}
	out := append(clone(in[:a]), n)
	return append(out, in[a:]...), nil
}

func shapeUnpack(g *Graph, op *Op) ([][]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	o, err := opt[UnpackOptions](op)
	if err != nil {
		return nil, err
	}
	a, err := normAxis(o.Axis, len(x.Shape))
	if err != nil {
		return nil, err
	}
	if x.Shape[a] != o.Num || o.Num != len(op.Outputs) {
		return nil, fmt.Errorf("num %d, %d outputs and dimension %d of %v must agree", o.Num, len(op.Outputs), a, x.Shape)
	}
	s := append(clone(x.Shape[:a]), x.Shape[a+1:]...)
	out := make([][]int, o.Num)
	for i := range out {
		out[i] = clone(s)
	}
	return out, nil
}

func shapeSlice(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	b, err := constIn(g, op, 1)
	if err != nil {
		return nil, err
	}
	s, err := constIn(g, op, 2)
	if b == nil || s == nil || err != nil {
		return nil, err
	}
	_, size, err := SliceBounds(x.Shape, b, s)
	return size, err
}

// SliceBounds checks SLICE's begin and size (-1: to the end) against in and
// returns the begin and the concrete size of each dimension.
func SliceBounds(in, begin, size []int) ([]int, []int, error) {
	if len(begin) != len(in) || len(size) != len(in) {
		return nil, nil, fmt.Errorf("begin %v and size %v need %d values", begin, size, len(in))
	}
	out := make([]int, len(in))
	for i, d := range in {
		b, s := begin[i], size[i]
		if s == -1 {
			s = d - b
		}
		if b < 0 || s < 0 || b+s > d {
			return nil, nil, fmt.Errorf("slice begin %v size %v out of range for %v", begin, size, in)
		}
		out[i] = s
	}
	return clone(begin), out, nil
}

func shapeStridedSlice(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	o, err := opt[StridedSliceOptions](op)
	if err != nil {
		return nil, err
	}
	var v [3][]int
	for k := range v {
		if v[k], err = constIn(g, op, k+1); err != nil {
			return nil, err
		}
		if v[k] == nil {
			return nil, nil
		}
	}
	sp, err := StridedSlice(x.Shape, v[0], v[1], v[2], o)
	if err != nil {
		return nil, err
	}
	return sp.Out, nil
}

// SliceSpec is a resolved STRIDED_SLICE: over the effective input shape
// (the input with new axes inserted), element Start[i] + j*Stride[i] for
// j < Count[i] is taken in dimension i; Out is the output shape (shrunk
// axes removed).
type SliceSpec struct {
	Shape, Start, Stride, Count, Out []int
}

// StridedSlice resolves begin/end/strides and the masks as TFLite does:
// the ellipsis expands to the dimensions begin does not name, a new axis
// is a size-1 input dimension, masked bounds take the whole range in the
// stride's direction, negative indices count from the end and are clamped,
// a shrunk axis takes one element, and with Offset end counts from begin.
func StridedSlice(in, begin, end, strides []int, o *StridedSliceOptions) (*SliceSpec, error) {
	n := len(begin)
	if len(end) != n || len(strides) != n {
		return nil, fmt.Errorf("begin %v, end %v and strides %v differ in length", begin, end, strides)
	}
	if n > 32 {
		return nil, fmt.Errorf("begin has %d values", n)
	}
	bit := func(m, i int) bool { return i < 32 && m&(1<<i) != 0 }
	added := 0
	for i := range n {
		if !bit(o.EllipsisMask, i) && bit(o.NewAxisMask, i) {
			added++
		}
	}
	dims := len(in) + added
	if dims > 5 {
		return nil, fmt.Errorf("strided slice of %d dimensions (with new axes): at most 5", dims)
	}
	// Effective masks over the dims effective dimensions.
	ellipsis := make([]bool, dims)
	newAxis := make([]bool, dims)
	ellStart, expanded := dims, 0
	for i := 0; i < dims; {
		if bit(o.EllipsisMask, i) {
			ellStart = i
			end := max(i+1, min(i+1+added+len(in)-n, dims))
			expanded = end - ellStart - 1
			for ; i < end; i++ {
				ellipsis[i] = true
			}
			continue
		}
		if bit(o.NewAxisMask, i-expanded) {
			newAxis[i] = true
		}
		i++
	}
	sp := &SliceSpec{Shape: make([]int, dims), Start: make([]int, dims), Stride: make([]int, dims), Count: make([]int, dims)}
	shrink := make([]bool, dims)
	addedEll, addedAxes := 0, 0
	for i := range dims {
		var b, e, s int
		var bm, em bool
		switch {
		case ellipsis[i]:
			addedEll = max(0, i-ellStart)
			bm, em, s = true, true, 1
		case newAxis[i]:
			b, e, s = 0, 1, 1
			addedAxes++
		case i >= n+expanded:
			s, bm, em = 1, true, true
		default:
			k := i - addedEll
			if k < 0 || k >= n {
				return nil, fmt.Errorf("strided slice masks do not fit begin %v", begin)
			}
			b, e, s = begin[k], end[k], strides[k]
			if o.Offset {
				e += b
			}
			bm, em, shrink[i] = bit(o.BeginMask, k), bit(o.EndMask, k), bit(o.ShrinkAxisMask, k)
		}
		d := 1
		if !newAxis[i] {
			j := i - addedAxes
			if j < 0 || j >= len(in) {
				return nil, fmt.Errorf("strided slice masks do not fit input %v", in)
			}
			d = in[j]
		}
		sp.Shape[i] = d
		if s == 0 {
			return nil, fmt.Errorf("stride value has to be non-zero")
		}
		start, stop := sliceStart(b, bm, s, d), 0
		if shrink[i] {
			// TensorFlow refuses a shrunk index outside the dimension
			// (TFLite would read out of bounds).
			if d > 0 && (start < 0 || start >= d) {
				return nil, fmt.Errorf("shrunk index %d out of range for dimension %d of size %d", b, i, d)
			}
			stop = start + 1
		} else {
			stop = sliceStop(e, em, s, d)
		}
		if d == 0 {
			start, stop = 0, 0
		}
		cnt := int(math.Ceil(float64(float32(stop-start) / float32(s))))
		cnt = max(cnt, 0)
		sp.Start[i], sp.Stride[i], sp.Count[i] = start, s, cnt
		if !shrink[i] {
			sp.Out = append(sp.Out, cnt)
		}
	}
	if sp.Out == nil {
		sp.Out = []int{}
	}
	return sp, nil
}

func sliceStart(b int, masked bool, stride, d int) int {
	if masked {
		if stride > 0 {
			return 0
		}
		return d - 1
	}
	if b < 0 {
		b += d
	}
	if stride > 0 {
		return min(max(b, 0), d)
	}
	return min(max(b, -1), d-1)
}

func sliceStop(e int, masked bool, stride, d int) int {
	if masked {
		if stride > 0 {
			return d
		}
		return -1
	}
	if e < 0 {
		e += d
	}
	if stride > 0 {
		return min(max(e, 0), d)
	}
	return min(max(e, -1), d-1)
}

// TileShape multiplies each dimension of in by its multiple.
func TileShape(in, multiples []int) ([]int, error) {
	if len(multiples) != len(in) {
		return nil, fmt.Errorf("multiples %v need %d values", multiples, len(in))
	}
	out := make([]int, len(in))
	for i, m := range multiples {
		if m < 0 {
			return nil, fmt.Errorf("negative multiple in %v", multiples)
		}
		out[i] = in[i] * m
	}
	return out, nil
}

func shapeGather(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	idx, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	o, err := opt[GatherOptions](op)
	if err != nil {
		return nil, err
	}
	if idx.DType != Int32 && idx.DType != Int64 && idx.DType != Int16 {
		return nil, fmt.Errorf("positions %q are %s, want int16, int32 or int64", idx.Name, idx.DType)
	}
	s, _, _, err := GatherShape(x.Shape, idx.Shape, o.Axis, o.BatchDims)
	return s, err
}

// GatherShape is GATHER's output shape: params[:axis] + positions[batchDims:]
// + params[axis+1:]; it returns the non-negative axis and batch dims.
func GatherShape(params, positions []int, axis, batchDims int) ([]int, int, int, error) {
	a, err := normAxis(axis, len(params))
	if err != nil {
		return nil, 0, 0, err
	}
	b := batchDims
	if b < 0 {
		b += len(positions)
	}
	if b < 0 || b > len(positions) || b > a {
		return nil, 0, 0, fmt.Errorf("batch_dims %d must be in [0, %d] and at most the axis %d", batchDims, len(positions), a)
	}
	for i := range b {
		if params[i] != positions[i] {
			return nil, 0, 0, fmt.Errorf("batch dimension %d differs: params %v, positions %v", i, params, positions)
		}
	}
	out := append(clone(params[:a]), positions[b:]...)
	return append(out, params[a+1:]...), a, b, nil
}

func shapeGatherND(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	idx, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if idx.DType != Int32 && idx.DType != Int64 && idx.DType != Int16 {
		return nil, fmt.Errorf("indices %q are %s, want int16, int32 or int64", idx.Name, idx.DType)
	}
	return GatherNDShape(x.Shape, idx.Shape)
}

// GatherNDShape is indices[:-1] + params[indices[-1]:].
func GatherNDShape(params, indices []int) ([]int, error) {
	if len(params) < 1 || len(indices) < 1 {
		return nil, fmt.Errorf("params %v and indices %v must have rank at least 1", params, indices)
	}
	k := indices[len(indices)-1]
	if k > len(params) {
		return nil, fmt.Errorf("index depth %d exceeds params rank %d", k, len(params))
	}
	out := append(clone(indices[:len(indices)-1]), params[k:]...)
	return out, nil
}

func shapeShape(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	return []int{len(x.Shape)}, nil
}

func shapeRank(g *Graph, op *Op) ([]int, error) {
	if _, err := in(g, op, 0); err != nil {
		return nil, err
	}
	return []int{}, nil
}

func shapeFill(g *Graph, op *Op) ([]int, error) {
	d, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	v, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if len(d.Shape) != 1 {
		return nil, fmt.Errorf("dims %q must be 1-D, has shape %v", d.Name, d.Shape)
	}
	if v.NumElements() != 1 || len(v.Shape) > 1 {
		return nil, fmt.Errorf("value %q must be a scalar, has shape %v", v.Name, v.Shape)
	}
	dims, err := constIn(g, op, 0)
	if dims == nil || err != nil {
		return nil, err
	}
	for _, n := range dims {
		if n < 0 {
			return nil, fmt.Errorf("negative dimension in %v", dims)
		}
	}
	return dims, nil
}

func shapeRange(g *Graph, op *Op) ([]int, error) {
	var v [3]float64
	for k := range v {
		t, err := in(g, op, k)
		if err != nil {
			return nil, err
		}
		if t.NumElements() != 1 {
			return nil, fmt.Errorf("input %d %q must be a scalar, has shape %v", k, t.Name, t.Shape)
		}
		if !t.IsConst() {
			return nil, nil
		}
		switch t.DType {
		case Int32:
			v[k] = float64(t.Int32s()[0])
		case Int64:
			v[k] = float64(t.Int64s()[0])
		case Float32:
			v[k] = float64(t.Float32s()[0])
		default:
			return nil, fmt.Errorf("input %d %q is %s, want int32, int64 or float32", k, t.Name, t.DType)
		}
	}
	x, _ := in(g, op, 0)
	n, err := RangeSize(v[0], v[1], v[2], x.DType != Float32)
	if err != nil {
		return nil, err
	}
	return []int{n}, nil
}

// RangeSize is the element count of RANGE(start, limit, delta); integral
// selects the integer formula, otherwise the float32 one.
func RangeSize(start, limit, delta float64, integral bool) (int, error) {
	if delta == 0 {
		return 0, fmt.Errorf("range delta must be non-zero")
	}
	if !((start >= limit && delta < 0) || (start <= limit && delta > 0)) {
		return 0, fmt.Errorf("range from %g to %g never reaches the limit with delta %g", start, limit, delta)
	}
	var n float64
	if integral {
		n = math.Floor((math.Abs(limit-start) + math.Abs(delta) - 1) / math.Abs(delta))
	} else {
		// TFLite computes the float count in float32.
		n = math.Ceil(math.Abs(float64(float32(float32(limit-start) / float32(delta)))))
	}
	if n > 1<<31 {
		return 0, fmt.Errorf("range of %g elements is too large", n)
	}
	return int(n), nil
}

// BroadcastToShape checks that in broadcasts to target (at most 8
// dimensions, not fewer than in's).
func BroadcastToShape(in, target []int) ([]int, error) {
	if len(target) > maxLayoutRank || len(target) < len(in) {
		return nil, fmt.Errorf("cannot broadcast %v to %v", in, target)
	}
	off := len(target) - len(in)
	for i, d := range target {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in %v", target)
		}
		if i >= off && in[i-off] != d && in[i-off] != 1 {
			return nil, fmt.Errorf("cannot broadcast %v to %v", in, target)
		}
	}
	return clone(target), nil
}

func shapeMirrorPad(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	o, err := opt[MirrorPadOptions](op)
	if err != nil {
		return nil, err
	}
	p, err := constIn(g, op, 1)
	if p == nil || err != nil {
		return nil, err
	}
	return MirrorPadShape(x.Shape, p, o.Symmetric)
}

// MirrorPadShape grows each dimension by its two paddings; a reflected
// padding must be smaller than the dimension, a symmetric one at most it.
func MirrorPadShape(in, pads []int, symmetric bool) ([]int, error) {
	if len(pads) != 2*len(in) {
		return nil, fmt.Errorf("paddings %v need 2 values for each of %d dimensions", pads, len(in))
	}
	out := make([]int, len(in))
	for i, d := range in {
		lim := d - 1
		if symmetric {
			lim = d
		}
		for _, p := range pads[2*i : 2*i+2] {
			if p < 0 || p > lim {
				return nil, fmt.Errorf("padding %d of dimension %d (size %d) out of range", p, i, d)
			}
		}
		out[i] = d + pads[2*i] + pads[2*i+1]
	}
	return out, nil
}

func spaceBatchArgs(g *Graph, op *Op) (*Tensor, []int, []int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := constIn(g, op, 1)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := constIn(g, op, 2)
	if err != nil {
		return nil, nil, nil, err
	}
	return x, b, p, nil
}

func shapeSpaceToBatchND(g *Graph, op *Op) ([]int, error) {
	x, b, p, err := spaceBatchArgs(g, op)
	if b == nil || p == nil || err != nil {
		return nil, err
	}
	return SpaceToBatchShape(x.Shape, b, p)
}

func checkBlock(in, block, pads []int) error {
	if len(in) < 3 || len(in) > 4 {
		return fmt.Errorf("input %v must be 3-D or 4-D", in)
	}
	m := len(in) - 2
	if len(block) != m || len(pads) != 2*m {
		return fmt.Errorf("block shape %v and paddings/crops %v must cover the %d spatial dimensions of %v", block, pads, m, in)
	}
	for i, v := range block {
		if v < 1 {
			return fmt.Errorf("block shape %v must be positive", block)
		}
		if pads[2*i] < 0 || pads[2*i+1] < 0 {
			return fmt.Errorf("negative paddings/crops %v", pads)
		}
	}
	return nil
}

// SpaceToBatchShape pads the spatial dimensions and moves blocks of them
// into the batch.
func SpaceToBatchShape(in, block, pads []int) ([]int, error) {
	if err := checkBlock(in, block, pads); err != nil {
		return nil, err
	}
	out := clone(in)
	for i, b := range block {
		d := in[i+1] + pads[2*i] + pads[2*i+1]
		if d%b != 0 {
			return nil, fmt.Errorf("padded dimension %d (%d) is not a multiple of block %d", i+1, d, b)
		}
		out[i+1] = d / b
		out[0] *= b
	}
	return out, nil
}

func shapeBatchToSpaceND(g *Graph, op *Op) ([]int, error) {
	x, b, c, err := spaceBatchArgs(g, op)
	if b == nil || c == nil || err != nil {
		return nil, err
	}
	return BatchToSpaceShape(x.Shape, b, c)
}

// BatchToSpaceShape moves batch blocks back into the spatial dimensions and
// crops them.
func BatchToSpaceShape(in, block, crops []int) ([]int, error) {
	if err := checkBlock(in, block, crops); err != nil {
		return nil, err
	}
	out := clone(in)
	prod := 1
	for i, b := range block {
		prod *= b
		d := in[i+1]*b - crops[2*i] - crops[2*i+1]
		if d < 0 {
			return nil, fmt.Errorf("crops %v exceed dimension %d", crops, i+1)
		}
		out[i+1] = d
	}
	if in[0]%prod != 0 {
		return nil, fmt.Errorf("batch %d is not a multiple of the block size %d", in[0], prod)
	}
	out[0] = in[0] / prod
	return out, nil
}

func blockArgs(g *Graph, op *Op) ([]int, int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, 0, err
	}
	o, err := opt[BlockOptions](op)
	if err != nil {
		return nil, 0, err
	}
	if len(x.Shape) != 4 {
		return nil, 0, fmt.Errorf("input %v must be 4-D", x.Shape)
	}
	if o.BlockSize < 1 {
		return nil, 0, fmt.Errorf("block size %d must be positive", o.BlockSize)
	}
	return x.Shape, o.BlockSize, nil
}

func shapeSpaceToDepth(g *Graph, op *Op) ([]int, error) {
	s, b, err := blockArgs(g, op)
	if err != nil {
		return nil, err
	}
	if s[1]%b != 0 || s[2]%b != 0 {
		return nil, fmt.Errorf("height and width of %v must be multiples of block size %d", s, b)
	}
	return []int{s[0], s[1] / b, s[2] / b, s[3] * b * b}, nil
}

func shapeDepthToSpace(g *Graph, op *Op) ([]int, error) {
	s, b, err := blockArgs(g, op)
	if err != nil {
		return nil, err
	}
	if s[3]%(b*b) != 0 {
		return nil, fmt.Errorf("depth of %v must be a multiple of block size %d squared", s, b)
	}
	return []int{s[0], s[1] * b, s[2] * b, s[3] / (b * b)}, nil
}

// withConstParam is the shape rule of an op whose output shape follows from
// its first input's shape and the constant values of its second input
// (TRANSPOSE's permutation, TILE's multiples, BROADCAST_TO's target). While
// that input is not constant the rule returns nil: the declared shape stands
// until the parameter is resolved at run time.
func withConstParam(f func(in, param []int) ([]int, error)) func(*Graph, *Op) ([]int, error) {
	return func(g *Graph, op *Op) ([]int, error) {
		x, err := in(g, op, 0)
		if err != nil {
			return nil, err
		}
		p, err := constIn(g, op, 1)
		if p == nil || err != nil {
			return nil, err
		}
		return f(x.Shape, p)
	}
}
