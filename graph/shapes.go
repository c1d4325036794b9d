package graph

import (
	"errors"
	"fmt"
)

// ErrShape is wrapped by every shape-inference error, so callers can tell a
// shape mismatch from other invalid graphs.
var ErrShape = errors.New("shape mismatch")

// InferShapes sets the shapes of the graph inputs to inputShapes (nil keeps
// the current ones) and recomputes the shape of every op output in order.
// It is how a graph saved with batch 1 is run with a larger batch.
//
// A given output shape is kept when it equals the inferred one and replaced
// otherwise; ops whose shape depends on a non-constant tensor keep theirs.
// Errors name the op index, kind and tensor and wrap ErrShape.
func InferShapes(g *Graph, inputShapes [][]int) error {
	if inputShapes != nil {
		if len(inputShapes) != len(g.Inputs) {
			return fmt.Errorf("%w: %d input shapes given for %d graph inputs", ErrShape, len(inputShapes), len(g.Inputs))
		}
		for i, s := range inputShapes {
			t := g.Tensor(g.Inputs[i])
			if t == nil {
				return fmt.Errorf("%w: graph input %d: tensor index %d out of range", ErrShape, i, g.Inputs[i])
			}
			for _, d := range s {
				if d < 0 {
					return fmt.Errorf("%w: graph input %d %q: negative dimension in %v", ErrShape, i, t.Name, s)
				}
			}
			if len(s) != len(t.Shape) {
				return fmt.Errorf("%w: graph input %d %q: shape %v has rank %d, model expects rank %d (%v)",
					ErrShape, i, t.Name, s, len(s), len(t.Shape), t.Shape)
			}
			t.Shape = append([]int(nil), s...)
		}
	}
	for oi, op := range g.Ops {
		if len(op.Outputs) == 0 {
			continue
		}
		for _, o := range op.Outputs {
			if g.Tensor(o) == nil {
				return fmt.Errorf("%w: op %d (%s): output tensor index %d out of range", ErrShape, oi, op.Name(), o)
			}
		}
		shapes, err := InferOpShapes(g, op)
		if err != nil {
			return fmt.Errorf("%w: op %d (%s) output %q: %v", ErrShape, oi, op.Name(), g.Tensor(op.Outputs[0]).Name, err)
		}
		for k, shape := range shapes {
			if k >= len(op.Outputs) || shape == nil { // cannot infer (e.g. dynamic shape input): keep the given shape
				continue
			}
			if out := g.Tensor(op.Outputs[k]); !equalShape(shape, out.Shape) {
				out.Shape = shape
			}
		}
	}
	return nil
}

// shapeRule infers the shapes of an op's outputs from its inputs' shapes,
// constant inputs and options: one entry per output, nil where the shape
// cannot be known before running (a dynamic shape input). A nil result
// means no output can be inferred.
type shapeRule func(g *Graph, op *Op) ([][]int, error)

// InferOpShapes returns the output shapes of op inferred as TFLite's Prepare
// computes them (see shapeRule). Kinds without a rule give nil.
func InferOpShapes(g *Graph, op *Op) ([][]int, error) {
	if op.Kind <= OpUnknown || op.Kind >= NumOpKinds {
		return nil, nil
	}
	rule := shapeRules[op.Kind]
	if rule == nil {
		return nil, nil
	}
	return rule(g, op)
}

// single adapts a one-output rule.
func single(f func(g *Graph, op *Op) ([]int, error)) shapeRule {
	return func(g *Graph, op *Op) ([][]int, error) {
		s, err := f(g, op)
		if err != nil || s == nil {
			return nil, err
		}
		return [][]int{s}, nil
	}
}

// shapeRules maps every kind to its rule; the rules of the op families live
// beside each other in shapes_*.go. Read-only after initialisation.
var shapeRules = [NumOpKinds]shapeRule{
	OpConv2D: single(inferOp), OpDepthwiseConv2D: single(inferOp), OpFullyConnected: single(inferOp),
	OpMaxPool2D: single(inferPool), OpAveragePool2D: single(inferPool), OpSoftmax: single(inferOp),
	OpReshape: single(inferOp), OpQuantize: single(inferOp), OpDequantize: single(inferOp),
	OpAdd: single(inferOp), OpRelu: single(inferOp), OpRelu6: single(inferOp), OpLeakyRelu: single(inferOp),
	OpLogistic: single(inferOp), OpPad: single(inferOp), OpPadV2: single(inferOp),
	OpConcatenation: single(inferOp), OpMean: single(inferOp),

	// Elementwise binary: NumPy broadcast of the two inputs.
	OpMul: single(shapeBroadcast), OpSub: single(shapeBroadcast), OpDiv: single(shapeBroadcast),
	OpSquaredDifference: single(shapeBroadcast), OpMinimum: single(shapeBroadcast),
	OpMaximum: single(shapeBroadcast), OpFloorDiv: single(shapeBroadcast), OpFloorMod: single(shapeBroadcast),
	OpPow: single(shapeBroadcast), OpLess: single(shapeBroadcast), OpLessEqual: single(shapeBroadcast),
	OpGreater: single(shapeBroadcast), OpGreaterEqual: single(shapeBroadcast), OpEqual: single(shapeBroadcast),
	OpNotEqual: single(shapeBroadcast), OpLogicalAnd: single(shapeBroadcast), OpLogicalOr: single(shapeBroadcast),
	OpPrelu:  single(shapeBroadcast),
	OpSelect: single(shapeSelect), OpSelectV2: single(shapeSelect), OpAddN: single(shapeAddN),

	// Elementwise unary: the input's shape.
	OpAbs: single(shapeSame), OpNeg: single(shapeSame), OpSqrt: single(shapeSame), OpRsqrt: single(shapeSame),
	OpSquare: single(shapeSame), OpExp: single(shapeSame), OpLog: single(shapeSame), OpSin: single(shapeSame),
	OpCos: single(shapeSame), OpFloor: single(shapeSame), OpCeil: single(shapeSame), OpRound: single(shapeSame),
	OpSign: single(shapeSame), OpTanh: single(shapeSame), OpHardSwish: single(shapeSame),
	OpGelu: single(shapeSame), OpElu: single(shapeSame), OpReluN1To1: single(shapeSame),
	OpRelu0To1: single(shapeSame), OpCast: single(shapeSame), OpLogicalNot: single(shapeSame),
	OpZerosLike: single(shapeSame), OpLogSoftmax: single(shapeSame), OpL2Normalization: single(shapeSame),
	OpReverseV2: single(shapeSame),

	// Reductions.
	OpSum: single(shapeReduce), OpReduceMax: single(shapeReduce), OpReduceMin: single(shapeReduce),
	OpReduceProd: single(shapeReduce), OpReduceAny: single(shapeReduce),
	OpArgMax: single(shapeArg), OpArgMin: single(shapeArg),

	// Layout, indexing and shape ops (shapes_layout.go).
	OpSqueeze: single(shapeSqueeze), OpExpandDims: single(shapeExpandDims), OpTranspose: single(withConstParam(TransposeShape)),
	OpSplit: shapeSplit, OpSplitV: shapeSplitV, OpPack: single(shapePack), OpUnpack: shapeUnpack,
	OpSlice: single(shapeSlice), OpStridedSlice: single(shapeStridedSlice), OpTile: single(withConstParam(TileShape)),
	OpGather: single(shapeGather), OpGatherND: single(shapeGatherND), OpShape: single(shapeShape),
	OpRank: single(shapeRank), OpFill: single(shapeFill), OpRange: single(shapeRange),
	OpBroadcastTo: single(withConstParam(BroadcastToShape)), OpMirrorPad: single(shapeMirrorPad),
	OpSpaceToBatchND: single(shapeSpaceToBatchND), OpBatchToSpaceND: single(shapeBatchToSpaceND),
	OpSpaceToDepth: single(shapeSpaceToDepth), OpDepthToSpace: single(shapeDepthToSpace),

	// Image, matrix and sequence ops (shapes_misc.go).
	OpResizeBilinear: single(shapeResize), OpResizeNearestNeighbor: single(shapeResize),
	OpTransposeConv: single(shapeTransposeConv), OpBatchMatMul: single(shapeBatchMatMul),
	OpL2Pool2D: single(inferPool), OpUnidirectionalSequenceLSTM: single(shapeSequenceLSTM),
	OpSVDF: single(shapeSVDF), OpDetectionPostProcess: shapeDetectionPostProcess,

	// Indexing, scan and segment ops (shapes_extra.go).
	OpAtan2: single(shapeAtan2), OpCumsum: single(shapeSame), OpOneHot: single(shapeOneHot),
	OpReverseSequence: single(shapeSame), OpMatrixDiag: single(shapeMatrixDiag),
	OpMatrixSetDiag: single(shapeSame), OpBucketize: single(shapeSame), OpSegmentSum: single(shapeSegmentSum),
	OpUnsortedSegmentSum: single(shapeUnsortedSegment), OpUnsortedSegmentMax: single(shapeUnsortedSegment),
	OpUnsortedSegmentMin: single(shapeUnsortedSegment), OpUnsortedSegmentProd: single(shapeUnsortedSegment),

	OpDynamicUpdateSlice: single(shapeSame), OpLocalResponseNormalization: single(shapeSame),
	OpEmbeddingLookup: single(shapeEmbeddingLookup),

	// Selection, scatter, bitwise and data-dependent ops (shapes_more.go).
	OpTopKV2: shapeTopK, OpScatterND: single(shapeScatterND), OpBroadcastArgs: single(shapeBroadcastArgs),
	OpReduceAll: single(shapeReduce), OpBitcast: single(shapeBitcast), OpBitwiseXor: single(shapeBroadcast),
	OpRightShift: single(shapeBroadcast), OpNonMaxSuppressionV4: shapeNMS, OpNonMaxSuppressionV5: shapeNMS,
	OpWhere: shapeWhere, OpUnique: shapeUnique, OpConv3D: single(shapeConv3D),
	OpConv3DTranspose: single(shapeConv3DTranspose), OpSparseToDense: single(shapeSparseToDense),
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// in returns input k of op or an error when it is missing.
func in(g *Graph, op *Op, k int) (*Tensor, error) {
	if k >= len(op.Inputs) || op.Inputs[k] < 0 {
		return nil, fmt.Errorf("input %d is missing", k)
	}
	t := g.Tensor(op.Inputs[k])
	if t == nil {
		return nil, fmt.Errorf("input %d: tensor index %d out of range", k, op.Inputs[k])
	}
	return t, nil
}

// constInts decodes a constant int32 or int64 tensor, or returns nil when it
// is not constant.
func constInts(t *Tensor) []int {
	if t == nil || !t.IsConst() {
		return nil
	}
	var v []int
	switch t.DType {
	case Int32:
		for _, x := range t.Int32s() {
			v = append(v, int(x))
		}
	case Int64:
		for _, x := range t.Int64s() {
			v = append(v, int(x))
		}
	default:
		return nil
	}
	if v == nil {
		v = []int{}
	}
	return v
}

// inferPool infers MAX_POOL_2D, AVERAGE_POOL_2D and L2_POOL_2D.
func inferPool(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	o, ok := op.Options.(*Pool2DOptions)
	if p, isPool := op.Options.(interface{ Pool2D() *Pool2DOptions }); !ok && isPool {
		// A rewritten pool (kernels.MaxPoolMapOptions) carries them.
		o, ok = p.Pool2D(), true
	}
	if !ok || o == nil {
		return nil, fmt.Errorf("options are %T", op.Options)
	}
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("input %v must be 4-D", x.Shape)
	}
	return []int{x.Shape[0], ConvOutputSize(o.Padding, x.Shape[1], o.FilterH, o.StrideH, 1),
		ConvOutputSize(o.Padding, x.Shape[2], o.FilterW, o.StrideW, 1), x.Shape[3]}, nil
}

func inferOp(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	switch op.Kind {
	case OpConv2D, OpDepthwiseConv2D:
		w, err := in(g, op, 1)
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != 4 || len(w.Shape) != 4 {
			return nil, fmt.Errorf("input %v and filter %v must be 4-D", x.Shape, w.Shape)
		}
		var pad Padding
		var sw, sh, dw, dh int
		// A conv fused with the pool after it (kernels.ConvPoolOptions)
		// writes the pool's output: the conv's shape, pooled.
		var pool *Pool2DOptions
		if cp, ok := op.Options.(interface {
			Conv2D() *Conv2DOptions
			Pool2D() *Pool2DOptions
		}); ok && op.Kind == OpConv2D {
			o := cp.Conv2D()
			if pool = cp.Pool2D(); o == nil || pool == nil {
				return nil, fmt.Errorf("fused conv and pool options %T lack the conv's or the pool's", op.Options)
			}
			pad, sw, sh, dw, dh = o.Padding, o.StrideW, o.StrideH, o.DilationW, o.DilationH
		} else if o, ok := op.Options.(*Conv2DOptions); ok && op.Kind == OpConv2D {
			pad, sw, sh, dw, dh = o.Padding, o.StrideW, o.StrideH, o.DilationW, o.DilationH
		} else if o, ok := op.Options.(*DepthwiseConv2DOptions); ok && op.Kind == OpDepthwiseConv2D {
			pad, sw, sh, dw, dh = o.Padding, o.StrideW, o.StrideH, o.DilationW, o.DilationH
		} else {
			return nil, fmt.Errorf("options are %T", op.Options)
		}
		oc := w.Shape[0]
		if op.Kind == OpDepthwiseConv2D {
			oc = w.Shape[3]
		}
		h, wd := ConvOutputSize(pad, x.Shape[1], w.Shape[1], sh, dh), ConvOutputSize(pad, x.Shape[2], w.Shape[2], sw, dw)
		if pool != nil {
			h = ConvOutputSize(pool.Padding, h, pool.FilterH, pool.StrideH, 1)
			wd = ConvOutputSize(pool.Padding, wd, pool.FilterW, pool.StrideW, 1)
		}
		return []int{x.Shape[0], h, wd, oc}, nil
	case OpMaxPool2D, OpAveragePool2D:
		return inferPool(g, op)
	case OpFullyConnected:
		w, err := in(g, op, 1)
		if err != nil {
			return nil, err
		}
		if len(w.Shape) != 2 || w.Shape[1] == 0 {
			return nil, fmt.Errorf("weights %v must be [out, in]", w.Shape)
		}
		n := NumElements(x.Shape)
		if n%w.Shape[1] != 0 {
			return nil, fmt.Errorf("input %v has %d elements, not a multiple of the weights' input size %d", x.Shape, n, w.Shape[1])
		}
		if o, ok := op.Options.(*FullyConnectedOptions); ok && o.KeepNumDims {
			s := append([]int(nil), x.Shape...)
			s[len(s)-1] = w.Shape[0]
			return s, nil
		}
		return []int{n / w.Shape[1], w.Shape[0]}, nil
	case OpSoftmax, OpQuantize, OpDequantize, OpRelu, OpRelu6, OpLeakyRelu, OpLogistic:
		return append([]int(nil), x.Shape...), nil
	case OpReshape:
		return inferReshape(g, op, x)
	case OpAdd:
		y, err := in(g, op, 1)
		if err != nil {
			return nil, err
		}
		return BroadcastShapes(x.Shape, y.Shape)
	case OpPad, OpPadV2:
		p, err := in(g, op, 1)
		if err != nil {
			return nil, err
		}
		pads := constInts(p)
		if pads == nil {
			return nil, nil
		}
		if len(pads) != 2*len(x.Shape) {
			return nil, fmt.Errorf("paddings %v need 2 values for each of the %d input dimensions", p.Shape, len(x.Shape))
		}
		s := make([]int, len(x.Shape))
		for i := range s {
			if pads[2*i] < 0 || pads[2*i+1] < 0 {
				return nil, fmt.Errorf("negative padding %v", pads)
			}
			s[i] = x.Shape[i] + pads[2*i] + pads[2*i+1]
		}
		return s, nil
	case OpConcatenation:
		o, ok := op.Options.(*ConcatenationOptions)
		if !ok {
			return nil, fmt.Errorf("options are %T", op.Options)
		}
		axis := o.Axis
		if axis < 0 {
			axis += len(x.Shape)
		}
		if axis < 0 || axis >= len(x.Shape) {
			return nil, fmt.Errorf("axis %d out of range for rank %d", o.Axis, len(x.Shape))
		}
		s := append([]int(nil), x.Shape...)
		for k := 1; k < len(op.Inputs); k++ {
			y, err := in(g, op, k)
			if err != nil {
				return nil, err
			}
			if len(y.Shape) != len(s) {
				return nil, fmt.Errorf("input %d shape %v has a different rank from %v", k, y.Shape, x.Shape)
			}
			for d := range s {
				if d == axis {
					s[d] += y.Shape[d]
				} else if y.Shape[d] != s[d] {
					return nil, fmt.Errorf("input %d shape %v differs from %v outside axis %d", k, y.Shape, x.Shape, axis)
				}
			}
		}
		return s, nil
	case OpMean:
		a, err := in(g, op, 1)
		if err != nil {
			return nil, err
		}
		axes := constInts(a)
		if axes == nil {
			return nil, nil
		}
		keep := false
		if o, ok := op.Options.(*ReducerOptions); ok {
			keep = o.KeepDims
		}
		red, err := ReduceAxes(axes, len(x.Shape))
		if err != nil {
			return nil, err
		}
		var s []int
		for d, n := range x.Shape {
			switch {
			case !red[d]:
				s = append(s, n)
			case keep:
				s = append(s, 1)
			}
		}
		if s == nil {
			s = []int{}
		}
		return s, nil
	}
	return nil, nil
}

// ReduceAxes resolves possibly negative, possibly repeated axes of a rank-n
// tensor to a set; it errors when an axis is out of range.
func ReduceAxes(axes []int, n int) ([]bool, error) {
	red := make([]bool, n)
	for _, a := range axes {
		if a < 0 {
			a += n
		}
		if a < 0 || a >= n {
			return nil, fmt.Errorf("axis %d out of range for rank %d", a, n)
		}
		red[a] = true
	}
	return red, nil
}

// BroadcastShapes returns the NumPy-style broadcast of two shapes.
func BroadcastShapes(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	s := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			s[i] = da
		case da == 1:
			s[i] = db
		case db == 1:
			s[i] = da
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return s, nil
}

// inferReshape resolves the target shape from the shape input (when constant)
// or the options, with one -1 stretch dimension. When the target was saved
// for a different batch (its first dimension does not fit the element
// count), the first dimension follows the input's batch.
func inferReshape(g *Graph, op *Op, x *Tensor) ([]int, error) {
	var target []int
	if len(op.Inputs) > 1 && op.Inputs[1] >= 0 {
		st := g.Tensor(op.Inputs[1])
		if st == nil {
			return nil, fmt.Errorf("shape input index %d out of range", op.Inputs[1])
		}
		target = constInts(st)
		if target == nil && !st.IsConst() {
			return nil, nil // dynamic shape tensor: trust the file
		}
	}
	if target == nil {
		if o, ok := op.Options.(*ReshapeOptions); ok && o.NewShape != nil {
			target = append([]int(nil), o.NewShape...)
		}
	}
	if target == nil {
		return nil, nil
	}
	return ResolveReshape(x.Shape, target)
}

// ResolveReshape returns the concrete shape of reshaping a tensor of shape
// from to target, which may hold one -1 (stretch) dimension. When the sizes
// differ only because the batch changed (a target of [1, ...] saved with
// batch 1), the first target dimension takes the batch.
func ResolveReshape(from, target []int) ([]int, error) {
	n := NumElements(from)
	s := make([]int, len(target))
	copy(s, target)
	stretch, known := -1, 1
	for i, d := range s {
		switch {
		case d == -1 && stretch < 0:
			stretch = i
		case d < 0:
			return nil, fmt.Errorf("invalid new shape %v", target)
		default:
			known *= d
		}
	}
	if stretch >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", from, n, target)
		}
		s[stretch] = n / known
		return s, nil
	}
	if known == n {
		return s, nil
	}
	// A target saved for batch 1 ([1, ...]) follows a larger batch.
	if len(s) > 1 && s[0] == 1 && known > 0 && n%known == 0 {
		s[0] = n / known
		return s, nil
	}
	return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v (%d elements)", from, n, target, known)
}
