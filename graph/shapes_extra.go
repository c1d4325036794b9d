package graph

import "fmt"

// Shape rules of the indexing, scan and segment ops, as TFLite's Prepare
// functions compute them. Rules whose shape depends on a non-constant
// input (depth, segment ids, num_segments) return nil: the declared shape
// is kept and the kernel checks it when it runs.

// shapeAtan2: TFLite's ATAN2 takes two inputs of one shape (no broadcast).
func shapeAtan2(g *Graph, op *Op) ([]int, error) {
	y, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	x, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if !equalShape(y.Shape, x.Shape) {
		return nil, fmt.Errorf("inputs %v and %v differ; ATAN2 does not broadcast", y.Shape, x.Shape)
	}
	return append([]int{}, y.Shape...), nil
}

// OneHotShape is the output shape of ONE_HOT: indices' shape with depth
// inserted at axis (-1: appended).
func OneHotShape(indices []int, depth, axis int) ([]int, error) {
	if axis == -1 {
		axis = len(indices)
	}
	if axis < 0 || axis > len(indices) {
		return nil, fmt.Errorf("axis %d out of range for %d-D indices", axis, len(indices))
	}
	if depth < 0 {
		return nil, fmt.Errorf("depth %d is negative", depth)
	}
	out := append([]int{}, indices[:axis]...)
	out = append(out, depth)
	return append(out, indices[axis:]...), nil
}

func shapeOneHot(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	d, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	o, _ := op.Options.(*OneHotOptions)
	if o == nil {
		return nil, fmt.Errorf("needs its options (axis)")
	}
	dv := constInts(d)
	if len(dv) != 1 {
		return nil, nil // dynamic depth
	}
	return OneHotShape(x.Shape, dv[0], o.Axis)
}

// shapeMatrixDiag: [..., n] gives [..., n, n].
func shapeMatrixDiag(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) < 1 {
		return nil, fmt.Errorf("input %q must have rank at least 1", x.Name)
	}
	return append(append([]int{}, x.Shape...), x.Shape[len(x.Shape)-1]), nil
}

// SegmentSumShape is SEGMENT_SUM's output shape: one row per segment id up
// to the last; as TFLite's Prepare requires, there is one id per data row,
// the first is 0 and each is the previous one or the next.
func SegmentSumShape(data []int, ids []int) ([]int, error) {
	if len(data) < 1 || len(ids) != data[0] {
		return nil, fmt.Errorf("%d segment ids for data %v; want one per row", len(ids), data)
	}
	n := 0
	for i, id := range ids {
		if (i == 0 && id != 0) || (i > 0 && id != ids[i-1] && id != ids[i-1]+1) {
			return nil, fmt.Errorf("segment ids must start at 0 and rise by 0 or 1 (id %d at %d)", id, i)
		}
		n = id + 1
	}
	return append([]int{n}, data[1:]...), nil
}

func shapeSegmentSum(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	s, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	ids := constInts(s)
	if ids == nil {
		return nil, nil
	}
	return SegmentSumShape(x.Shape, ids)
}

// UnsortedSegmentShape is the output shape of UNSORTED_SEGMENT_*: the
// segment ids' shape must lead data's; it is replaced by num_segments.
func UnsortedSegmentShape(data, ids []int, num int) ([]int, error) {
	if len(ids) > len(data) || !equalShape(ids, data[:len(ids)]) {
		return nil, fmt.Errorf("segment ids %v do not lead data %v", ids, data)
	}
	if num < 0 {
		return nil, fmt.Errorf("num_segments %d is negative", num)
	}
	return append([]int{num}, data[len(ids):]...), nil
}

func shapeUnsortedSegment(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	s, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	n, err := in(g, op, 2)
	if err != nil {
		return nil, err
	}
	nv := constInts(n)
	if len(nv) != 1 {
		return nil, nil
	}
	return UnsortedSegmentShape(x.Shape, s.Shape, nv[0])
}

// shapeEmbeddingLookup: one row of value (input 1) per id of the 1-D ids.
func shapeEmbeddingLookup(g *Graph, op *Op) ([]int, error) {
	ids, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	v, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if len(ids.Shape) != 1 || len(v.Shape) < 2 {
		return nil, fmt.Errorf("ids %v must be 1-D and value %v at least 2-D", ids.Shape, v.Shape)
	}
	return append([]int{ids.Shape[0]}, v.Shape[1:]...), nil
}
