package graph

import "fmt"

// Shape rules of TOPK_V2, SCATTER_ND, BROADCAST_ARGS, BITCAST, the bitwise
// ops, NON_MAX_SUPPRESSION_V4/V5, WHERE and UNIQUE, as TFLite's Prepare
// computes them. A rule whose shape depends on a non-constant input (TOPK
// k, SCATTER_ND shape, NMS max_output_size) returns nil; WHERE's and
// UNIQUE's first outputs depend on the input's values, so their rules give
// nil for them and interp sizes them when the op runs (WhereBound and
// UniqueBound give the most they can hold).

// shapeTopK: the input's shape with the last dimension k (both outputs).
func shapeTopK(g *Graph, op *Op) ([][]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	kt, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) == 0 {
		return nil, fmt.Errorf("TOPK_V2 input must have rank 1 or more, got a scalar")
	}
	k := constInts(kt)
	if k == nil {
		return nil, nil
	}
	if len(k) != 1 {
		return nil, fmt.Errorf("k must hold one value, got %d", len(k))
	}
	if last := x.Shape[len(x.Shape)-1]; k[0] < 0 || k[0] > last {
		return nil, fmt.Errorf("k %d is outside [0, %d] (the input's last dimension)", k[0], last)
	}
	s := append(append([]int{}, x.Shape[:len(x.Shape)-1]...), k[0])
	return [][]int{s, append([]int{}, s...)}, nil
}

// shapeScatterND: the constant shape input (input 2).
func shapeScatterND(g *Graph, op *Op) ([]int, error) {
	idx, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	upd, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	st, err := in(g, op, 2)
	if err != nil {
		return nil, err
	}
	s := constInts(st)
	if s == nil {
		return nil, nil
	}
	if err := ScatterNDCheck(idx.Shape, upd.Shape, s); err != nil {
		return nil, err
	}
	return s, nil
}

// ScatterNDCheck verifies SCATTER_ND's shapes as TFLite's Prepare does:
// indices [..., nd] with nd at most the output's rank, updates
// indices[:-1] + shape[nd:], no negative output dimension.
func ScatterNDCheck(indices, updates, shape []int) error {
	if len(indices) < 1 {
		return fmt.Errorf("indices must have rank 1 or more")
	}
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("shape %v has a negative dimension", shape)
		}
	}
	outer := len(indices) - 1
	nd := indices[outer]
	if nd > len(shape) {
		return fmt.Errorf("indices' last dimension %d exceeds the output rank %d", nd, len(shape))
	}
	want := append(append([]int{}, indices[:outer]...), shape[nd:]...)
	if !equalShape(want, updates) {
		return fmt.Errorf("updates %v, want %v (indices %v, shape %v)", updates, want, indices, shape)
	}
	return nil
}

// shapeBroadcastArgs: a vector as long as the longer shape input.
func shapeBroadcastArgs(g *Graph, op *Op) ([]int, error) {
	a, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	b, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 1 || len(b.Shape) != 1 {
		return nil, fmt.Errorf("BROADCAST_ARGS takes two vectors, got %v and %v", a.Shape, b.Shape)
	}
	return []int{max(a.Shape[0], b.Shape[0])}, nil
}

// BitcastShape is BITCAST's output shape for an input of shape x and
// element size from bytes to elements of to bytes: the same shape when the
// sizes match, a new last dimension from/to when the input's elements are
// larger, the last dimension (which must be to/from) dropped when smaller.
func BitcastShape(x []int, from, to int) ([]int, error) {
	switch {
	case from <= 0 || to <= 0:
		return nil, fmt.Errorf("element sizes %d and %d", from, to)
	case from == to:
		return append([]int{}, x...), nil
	case from > to:
		if from%to != 0 {
			return nil, fmt.Errorf("%d-byte elements do not split into %d-byte ones", from, to)
		}
		return append(append([]int{}, x...), from/to), nil
	}
	if to%from != 0 || len(x) == 0 || x[len(x)-1] != to/from {
		return nil, fmt.Errorf("input %v of %d-byte elements does not end in a dimension of %d to make %d-byte ones", x, from, to/max(from, 1), to)
	}
	return append([]int{}, x[:len(x)-1]...), nil
}

// shapeBitcast reads the output dtype from the declared output tensor.
func shapeBitcast(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	if len(op.Outputs) == 0 || g.Tensor(op.Outputs[0]) == nil {
		return nil, fmt.Errorf("missing output")
	}
	y := g.Tensor(op.Outputs[0])
	return BitcastShape(x.Shape, x.DType.Size(), y.DType.Size())
}

// shapeNMS: selected_indices (and for V5 selected_scores) hold
// max_output_size entries, padded with zeros past valid_outputs (a scalar),
// so with a constant max_output_size every shape is static.
func shapeNMS(g *Graph, op *Op) ([][]int, error) {
	boxes, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	scores, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if len(boxes.Shape) != 2 || boxes.Shape[1] != 4 {
		return nil, fmt.Errorf("boxes must be [num_boxes, 4], got %v", boxes.Shape)
	}
	if len(scores.Shape) != 1 || scores.Shape[0] != boxes.Shape[0] {
		return nil, fmt.Errorf("scores must be [%d], got %v", boxes.Shape[0], scores.Shape)
	}
	mt, err := in(g, op, 2)
	if err != nil {
		return nil, err
	}
	m := constInts(mt)
	if m == nil {
		return nil, nil
	}
	if len(m) != 1 || m[0] < 0 {
		return nil, fmt.Errorf("max_output_size must be one value >= 0, got %v", m)
	}
	if op.Kind == OpNonMaxSuppressionV5 {
		return [][]int{{m[0]}, {m[0]}, {}}, nil
	}
	return [][]int{{m[0]}, {}}, nil
}

// WhereBound is the largest WHERE output for a condition of shape x: every
// element true, one row of coordinates each.
func WhereBound(x []int) []int { return []int{NumElements(x), len(x)} }

// shapeWhere checks WHERE's input and leaves its data-dependent output
// unknown (nil).
func shapeWhere(g *Graph, op *Op) ([][]int, error) {
	if _, err := in(g, op, 0); err != nil {
		return nil, err
	}
	return nil, nil
}

// UniqueBound gives UNIQUE's largest outputs for an input of shape x:
// every value distinct (y), and idx, which always has x's shape.
func UniqueBound(x []int) (y, idx []int) {
	return []int{NumElements(x)}, append([]int{}, x...)
}

// shapeUnique: idx has the input's shape; y, data-dependent, is unknown.
func shapeUnique(g *Graph, op *Op) ([][]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 1 {
		return nil, fmt.Errorf("UNIQUE takes a vector, got %v", x.Shape)
	}
	return [][]int{nil, append([]int{}, x.Shape...)}, nil
}

// DataDependentOutput reports whether output k of an op of kind kind has
// a shape that depends on its input's values (WHERE's coordinates,
// UNIQUE's values), so it is only known once the op has run.
func DataDependentOutput(kind OpKind, k int) bool {
	return (kind == OpWhere || kind == OpUnique) && k == 0
}

// HasShapeRule reports whether kind has a shape rule (InferOpShapes gives
// nil for kinds without one, and for outputs a rule cannot know).
func HasShapeRule(kind OpKind) bool {
	return kind > OpUnknown && kind < NumOpKinds && shapeRules[kind] != nil
}

// Conv3DShape is CONV_3D's output for an NDHWC input and a [kd, kh, kw,
// in, out] filter, as TFLite's Prepare computes it.
func Conv3DShape(x, w []int, o *Conv3DOptions) ([]int, error) {
	if len(x) != 5 || len(w) != 5 {
		return nil, fmt.Errorf("CONV_3D takes a 5-D input and filter, got %v and %v", x, w)
	}
	if w[3] != x[4] {
		return nil, fmt.Errorf("filter %v has %d input channels, the input %v has %d", w, w[3], x, x[4])
	}
	stride := []int{o.StrideD, o.StrideH, o.StrideW}
	dil := []int{o.DilationD, o.DilationH, o.DilationW}
	out := []int{x[0]}
	for d := range 3 {
		if stride[d] < 1 || dil[d] < 1 {
			return nil, fmt.Errorf("strides %v and dilations %v must be at least 1", stride, dil)
		}
		eff := (w[d]-1)*dil[d] + 1
		n := (x[d+1] + stride[d] - 1) / stride[d]
		if o.Padding == PaddingValid {
			n = (x[d+1] - eff + stride[d]) / stride[d]
		}
		out = append(out, max(n, 0))
	}
	return append(out, w[4]), nil
}

func shapeConv3D(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	w, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	o, ok := op.Options.(*Conv3DOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("CONV_3D without options")
	}
	return Conv3DShape(x.Shape, w.Shape, o)
}

// Conv3DTransposeCheck verifies CONV_3D_TRANSPOSE's shapes: output_shape
// out (NDHWC), a [kd, kh, kw, out, in] filter w and an NDHWC input x whose
// spatial size the forward convolution of out would give.
func Conv3DTransposeCheck(out, w, x []int, o *Conv3DOptions) error {
	if len(out) != 5 || len(w) != 5 || len(x) != 5 {
		return fmt.Errorf("CONV_3D_TRANSPOSE takes a 5-D output shape, filter and input, got %v, %v and %v", out, w, x)
	}
	if out[4] != w[3] || x[4] != w[4] || out[0] != x[0] {
		return fmt.Errorf("filter %v does not map input %v to output %v (filter is [kd, kh, kw, out, in])", w, x, out)
	}
	fwd, err := Conv3DShape(append(append([]int{}, out[:4]...), w[4]), []int{w[0], w[1], w[2], w[4], w[3]}, o)
	if err != nil {
		return err
	}
	if !equalShape(fwd[:4], x[:4]) {
		return fmt.Errorf("output %v convolves back to %v, not the input %v", out, fwd, x)
	}
	return nil
}

func shapeConv3DTranspose(g *Graph, op *Op) ([]int, error) {
	st, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	w, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	x, err := in(g, op, 2)
	if err != nil {
		return nil, err
	}
	o, ok := op.Options.(*Conv3DOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("CONV_3D_TRANSPOSE without options")
	}
	out := constInts(st)
	if out == nil {
		return nil, nil
	}
	if err := Conv3DTransposeCheck(out, w.Shape, x.Shape, o); err != nil {
		return nil, err
	}
	return out, nil
}

// shapeSparseToDense: the constant output_shape input (input 1).
func shapeSparseToDense(g *Graph, op *Op) ([]int, error) {
	st, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	s := constInts(st)
	if s == nil {
		return nil, nil
	}
	for _, d := range s {
		if d < 0 {
			return nil, fmt.Errorf("output_shape %v has a negative dimension", s)
		}
	}
	return s, nil
}
