package graph

import (
	"slices"
	"strings"
	"testing"
)

func ints32(shape []int, v ...int32) *Tensor {
	if shape == nil {
		shape = []int{len(v)}
	}
	return &Tensor{Name: "p", DType: Int32, Shape: shape, Data: EncodeInt32s(v)}
}

// layoutGraph is x (shape) → op(x, params...) → outputs.
func layoutGraph(kind OpKind, opts any, x []int, nOut int, params ...*Tensor) (*Graph, *Op) {
	g := &Graph{}
	xi := g.AddTensor(&Tensor{Name: "x", DType: Float32, Shape: x})
	ins := []int{xi}
	if kind == OpSplit { // the axis comes first
		ins = nil
		for _, p := range params {
			ins = append(ins, g.AddTensor(p))
		}
		ins = append(ins, xi)
		params = nil
	}
	for _, p := range params {
		ins = append(ins, g.AddTensor(p))
	}
	var outs []int
	for range nOut {
		outs = append(outs, g.AddTensor(&Tensor{Name: "y", DType: Float32}))
	}
	op := g.AddOp(kind, ins, outs, opts)
	g.Inputs, g.Outputs = []int{xi}, outs
	return g, op
}

func TestLayoutShapeRules(t *testing.T) {
	cases := []struct {
		name   string
		kind   OpKind
		opts   any
		x      []int
		nOut   int
		params []*Tensor
		want   [][]int // nil with err "": not inferable
		err    string
	}{
		{"squeeze-all", OpSqueeze, &SqueezeOptions{}, []int{1, 3, 1, 2}, 1, nil, [][]int{{3, 2}}, ""},
		{"squeeze-dims", OpSqueeze, &SqueezeOptions{Dims: []int{-2}}, []int{1, 3, 1, 2}, 1, nil, [][]int{{1, 3, 2}}, ""},
		{"squeeze-not-1", OpSqueeze, &SqueezeOptions{Dims: []int{1}}, []int{1, 3}, 1, nil, nil, "not 1"},
		{"squeeze-range", OpSqueeze, &SqueezeOptions{Dims: []int{2}}, []int{1, 3}, 1, nil, nil, "out of range"},
		{"expand-neg", OpExpandDims, nil, []int{2, 3}, 1, []*Tensor{ints32([]int{}, -1)}, [][]int{{2, 3, 1}}, ""},
		{"expand-range", OpExpandDims, nil, []int{2, 3}, 1, []*Tensor{ints32([]int{}, 4)}, nil, "out of range"},
		{"transpose", OpTranspose, nil, []int{2, 3, 4}, 1, []*Tensor{ints32(nil, 2, 0, 1)}, [][]int{{4, 2, 3}}, ""},
		{"transpose-dup", OpTranspose, nil, []int{2, 3}, 1, []*Tensor{ints32(nil, 0, 0)}, nil, "not a permutation"},
		{"split", OpSplit, &SplitOptions{NumSplits: 2}, []int{2, 6}, 2, []*Tensor{ints32([]int{}, -1)}, [][]int{{2, 3}, {2, 3}}, ""},
		{"split-uneven", OpSplit, &SplitOptions{NumSplits: 4}, []int{2, 6}, 4, []*Tensor{ints32([]int{}, 1)}, nil, "equal parts"},
		{"split-count", OpSplit, &SplitOptions{NumSplits: 3}, []int{2, 6}, 2, []*Tensor{ints32([]int{}, 1)}, nil, "num_splits"},
		{"splitv", OpSplitV, &SplitOptions{NumSplits: 3}, []int{7, 2}, 3, []*Tensor{ints32(nil, 2, -1, 1), ints32([]int{}, 0)}, [][]int{{2, 2}, {4, 2}, {1, 2}}, ""},
		{"splitv-sum", OpSplitV, &SplitOptions{NumSplits: 2}, []int{7, 2}, 2, []*Tensor{ints32(nil, 2, 1), ints32([]int{}, 0)}, nil, "sum to"},
		{"pack", OpPack, &PackOptions{ValuesCount: 1, Axis: -1}, []int{2, 3}, 1, nil, [][]int{{2, 3, 1}}, ""},
		{"pack-count", OpPack, &PackOptions{ValuesCount: 2}, []int{2, 3}, 1, nil, nil, "values_count"},
		{"unpack", OpUnpack, &UnpackOptions{Num: 3, Axis: 1}, []int{2, 3}, 3, nil, [][]int{{2}, {2}, {2}}, ""},
		{"unpack-num", OpUnpack, &UnpackOptions{Num: 2, Axis: 1}, []int{2, 3}, 2, nil, nil, "must agree"},
		{"slice", OpSlice, nil, []int{4, 5}, 1, []*Tensor{ints32(nil, 1, 2), ints32(nil, -1, 2)}, [][]int{{3, 2}}, ""},
		{"slice-range", OpSlice, nil, []int{4, 5}, 1, []*Tensor{ints32(nil, 1, 4), ints32(nil, 1, 2)}, nil, "out of range"},
		{"strided-shrink", OpStridedSlice, &StridedSliceOptions{ShrinkAxisMask: 1}, []int{4}, 1,
			[]*Tensor{ints32(nil, 0), ints32(nil, 1), ints32(nil, 1)}, [][]int{{}}, ""},
		{"strided-neg", OpStridedSlice, &StridedSliceOptions{}, []int{10}, 1,
			[]*Tensor{ints32(nil, -1), ints32(nil, 0), ints32(nil, -3)}, [][]int{{3}}, ""},
		{"strided-ellipsis-newaxis", OpStridedSlice, &StridedSliceOptions{EllipsisMask: 1, NewAxisMask: 2}, []int{2, 3, 4}, 1,
			[]*Tensor{ints32(nil, 0, 0), ints32(nil, 0, 0), ints32(nil, 1, 1)}, [][]int{{2, 3, 4, 1}}, ""},
		{"strided-masks", OpStridedSlice, &StridedSliceOptions{BeginMask: 1, EndMask: 2}, []int{5, 6}, 1,
			[]*Tensor{ints32(nil, 3, 1), ints32(nil, 4, 0), ints32(nil, 2, 2)}, [][]int{{2, 3}}, ""},
		{"strided-offset", OpStridedSlice, &StridedSliceOptions{Offset: true}, []int{8}, 1,
			[]*Tensor{ints32(nil, 2), ints32(nil, 3), ints32(nil, 1)}, [][]int{{3}}, ""},
		{"strided-zero-stride", OpStridedSlice, &StridedSliceOptions{}, []int{8}, 1,
			[]*Tensor{ints32(nil, 0), ints32(nil, 3), ints32(nil, 0)}, nil, "non-zero"},
		{"strided-shrink-range", OpStridedSlice, &StridedSliceOptions{ShrinkAxisMask: 1}, []int{4}, 1,
			[]*Tensor{ints32(nil, 4), ints32(nil, 5), ints32(nil, 1)}, nil, "out of range"},
		{"tile", OpTile, nil, []int{2, 3}, 1, []*Tensor{ints32(nil, 2, 1)}, [][]int{{4, 3}}, ""},
		{"tile-len", OpTile, nil, []int{2, 3}, 1, []*Tensor{ints32(nil, 2)}, nil, "multiples"},
		{"gather", OpGather, &GatherOptions{Axis: 1}, []int{2, 5, 3}, 1, []*Tensor{ints32([]int{4, 2})}, [][]int{{2, 4, 2, 3}}, ""},
		{"gather-batch", OpGather, &GatherOptions{Axis: 1, BatchDims: 1}, []int{2, 5, 3}, 1, []*Tensor{ints32([]int{2, 4})}, [][]int{{2, 4, 3}}, ""},
		{"gather-batch-mismatch", OpGather, &GatherOptions{Axis: 1, BatchDims: 1}, []int{2, 5, 3}, 1, []*Tensor{ints32([]int{3, 4})}, nil, "batch dimension"},
		{"gather-nd", OpGatherND, nil, []int{2, 5, 3}, 1, []*Tensor{ints32([]int{4, 2})}, [][]int{{4, 3}}, ""},
		{"gather-nd-deep", OpGatherND, nil, []int{2, 5}, 1, []*Tensor{ints32([]int{1, 3})}, nil, "exceeds"},
		{"shape", OpShape, &ShapeOptions{}, []int{2, 5, 3}, 1, nil, [][]int{{3}}, ""},
		{"rank", OpRank, nil, []int{2, 5, 3}, 1, nil, [][]int{{}}, ""},
		{"broadcast", OpBroadcastTo, nil, []int{3, 1}, 1, []*Tensor{ints32(nil, 2, 3, 4)}, [][]int{{2, 3, 4}}, ""},
		{"broadcast-bad", OpBroadcastTo, nil, []int{3, 2}, 1, []*Tensor{ints32(nil, 3, 4)}, nil, "cannot broadcast"},
		{"mirror-reflect", OpMirrorPad, &MirrorPadOptions{}, []int{3, 4}, 1, []*Tensor{ints32([]int{2, 2}, 2, 0, 1, 3)}, [][]int{{5, 8}}, ""},
		{"mirror-reflect-too-far", OpMirrorPad, &MirrorPadOptions{}, []int{3, 4}, 1, []*Tensor{ints32([]int{2, 2}, 3, 0, 0, 0)}, nil, "out of range"},
		{"s2b", OpSpaceToBatchND, nil, []int{1, 5, 4, 3}, 1, []*Tensor{ints32(nil, 2, 2), ints32([]int{2, 2}, 1, 0, 0, 0)}, [][]int{{4, 3, 2, 3}}, ""},
		{"s2b-indivisible", OpSpaceToBatchND, nil, []int{1, 5, 4, 3}, 1, []*Tensor{ints32(nil, 2, 2), ints32([]int{2, 2}, 0, 0, 0, 0)}, nil, "multiple of block"},
		{"b2s", OpBatchToSpaceND, nil, []int{4, 3, 2, 3}, 1, []*Tensor{ints32(nil, 2, 2), ints32([]int{2, 2}, 1, 0, 0, 1)}, [][]int{{1, 5, 3, 3}}, ""},
		{"b2s-batch", OpBatchToSpaceND, nil, []int{3, 3, 2, 3}, 1, []*Tensor{ints32(nil, 2, 2), ints32([]int{2, 2}, 0, 0, 0, 0)}, nil, "batch"},
		{"s2d", OpSpaceToDepth, &BlockOptions{BlockSize: 2}, []int{1, 4, 6, 3}, 1, nil, [][]int{{1, 2, 3, 12}}, ""},
		{"s2d-indivisible", OpSpaceToDepth, &BlockOptions{BlockSize: 4}, []int{1, 4, 6, 3}, 1, nil, nil, "multiples"},
		{"d2s", OpDepthToSpace, &BlockOptions{BlockSize: 2}, []int{1, 2, 3, 12}, 1, nil, [][]int{{1, 4, 6, 3}}, ""},
		{"d2s-depth", OpDepthToSpace, &BlockOptions{BlockSize: 2}, []int{1, 2, 3, 6}, 1, nil, nil, "multiple"},
	}
	for _, c := range cases {
		g, op := layoutGraph(c.kind, c.opts, c.x, c.nOut, c.params...)
		got, err := InferOpShapes(g, op)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %d shapes, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			if !slices.Equal(got[i], c.want[i]) {
				t.Errorf("%s: output %d shape %v, want %v", c.name, i, got[i], c.want[i])
			}
		}
	}
}

// TestLayoutShapeRulesDynamic: a shape that depends on a non-constant
// parameter is not inferred (the declared shape is kept), never guessed.
func TestLayoutShapeRulesDynamic(t *testing.T) {
	dyn := &Tensor{Name: "p", DType: Int32, Shape: []int{2}}
	for _, kind := range []OpKind{OpTranspose, OpTile, OpBroadcastTo, OpReverseV2} {
		g, op := layoutGraph(kind, nil, []int{2, 3}, 1, dyn)
		got, err := InferOpShapes(g, op)
		if err != nil {
			t.Errorf("%s: %v", kind, err)
		}
		if kind == OpReverseV2 {
			if len(got) != 1 || !slices.Equal(got[0], []int{2, 3}) {
				t.Errorf("%s: %v, want the input's shape", kind, got)
			}
		} else if got != nil {
			t.Errorf("%s: inferred %v from a dynamic parameter", kind, got)
		}
	}
}
