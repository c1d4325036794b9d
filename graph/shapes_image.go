package graph

import "fmt"

// Shape rules of RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, TRANSPOSE_CONV
// and BATCH_MATMUL, as TFLite's Prepare computes them. A size or output
// shape input that is not constant makes the output dynamic: the rule
// returns nil and the kernel checks the value per run.

func shapeResize(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	sz, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("input %q %v must be 4-D", x.Name, x.Shape)
	}
	if sz.DType != Int32 || len(sz.Shape) != 1 || sz.Shape[0] != 2 {
		return nil, fmt.Errorf("size %q must be 2 int32 values, is %s %v", sz.Name, sz.DType, sz.Shape)
	}
	if o, _ := op.Options.(*ResizeOptions); o != nil && op.Kind == OpResizeBilinear && o.AlignCorners && o.HalfPixelCenters {
		return nil, fmt.Errorf("align_corners and half_pixel_centers cannot both be set")
	}
	v := constInts(sz)
	if v == nil {
		return nil, nil
	}
	return ResizeShape(x.Shape, v)
}

// ResizeShape is the output of a resize of 4-D in to size [height, width].
func ResizeShape(in, size []int) ([]int, error) {
	if len(size) != 2 || size[0] <= 0 || size[1] <= 0 {
		return nil, fmt.Errorf("size %v must be two positive values", size)
	}
	return []int{in[0], size[0], size[1], in[3]}, nil
}

// shapeTransposeConv: inputs output_shape (int32 [4]), weights [O, H, W, I],
// input [N, H, W, I] and an optional bias [O]; the output is output_shape.
func shapeTransposeConv(g *Graph, op *Op) ([]int, error) {
	os, err := in(g, op, 0)
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
	if os.DType != Int32 || len(os.Shape) != 1 || os.Shape[0] != 4 {
		return nil, fmt.Errorf("output_shape %q must be 4 int32 values, is %s %v", os.Name, os.DType, os.Shape)
	}
	if len(x.Shape) != 4 || len(w.Shape) != 4 {
		return nil, fmt.Errorf("input %v and weights %v must be 4-D", x.Shape, w.Shape)
	}
	if x.Shape[3] != w.Shape[3] {
		return nil, fmt.Errorf("input %q has %d channels, weights %q %v take %d", x.Name, x.Shape[3], w.Name, w.Shape, w.Shape[3])
	}
	if len(op.Inputs) > 3 && op.Inputs[3] >= 0 {
		b := g.Tensor(op.Inputs[3])
		if b == nil {
			return nil, fmt.Errorf("bias: tensor index %d out of range", op.Inputs[3])
		}
		if NumElements(b.Shape) != w.Shape[0] {
			return nil, fmt.Errorf("bias %q %v needs %d values", b.Name, b.Shape, w.Shape[0])
		}
	}
	if o, _ := op.Options.(*TransposeConvOptions); o == nil || o.StrideH <= 0 || o.StrideW <= 0 {
		return nil, fmt.Errorf("TRANSPOSE_CONV needs positive strides")
	}
	v := constInts(os)
	if v == nil {
		return nil, nil
	}
	return TransposeConvShape(x.Shape, w.Shape, v)
}

// TransposeConvShape checks an output_shape value against the input and
// weights shapes and returns it.
func TransposeConvShape(in, w, outShape []int) ([]int, error) {
	if len(outShape) != 4 {
		return nil, fmt.Errorf("output_shape %v needs 4 values", outShape)
	}
	for _, d := range outShape {
		if d <= 0 {
			return nil, fmt.Errorf("output_shape %v must be positive", outShape)
		}
	}
	if outShape[0] != in[0] || outShape[3] != w[0] {
		return nil, fmt.Errorf("output_shape %v must have the input's batch %d and the weights' %d output channels", outShape, in[0], w[0])
	}
	return clone(outShape), nil
}

// maxMatMulRank is the highest rank TFLite's BATCH_MATMUL takes.
const maxMatMulRank = 5

func shapeBatchMatMul(g *Graph, op *Op) ([]int, error) {
	a, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	b, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	o, err := opt[BatchMatMulOptions](op)
	if err != nil {
		return nil, err
	}
	return BatchMatMulShape(a.Shape, b.Shape, o.AdjX, o.AdjY)
}

// BatchMatMulShape is the output of BATCH_MATMUL: the broadcast batch
// dimensions, then lhs rows by rhs columns.
func BatchMatMulShape(a, b []int, adjX, adjY bool) ([]int, error) {
	if len(a) < 2 || len(b) < 2 || len(a) > maxMatMulRank || len(b) > maxMatMulRank {
		return nil, fmt.Errorf("operands %v and %v must have rank 2 to %d", a, b, maxMatMulRank)
	}
	m, ka := a[len(a)-2], a[len(a)-1]
	if adjX {
		m, ka = ka, m
	}
	kb, n := b[len(b)-2], b[len(b)-1]
	if adjY {
		kb, n = n, kb
	}
	if ka != kb {
		return nil, fmt.Errorf("lhs %v and rhs %v do not agree on the inner dimension (%d vs %d)", a, b, ka, kb)
	}
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r-2; i++ {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("batch dimensions of %v and %v do not broadcast", a, b)
		}
	}
	out[r-2], out[r-1] = m, n
	return out, nil
}
