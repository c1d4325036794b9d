package kernels

import (
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// prep is what the prepare function of an op in opTable gets: the op, its
// tensors (final shapes, dtypes, quantization; constants carry Data; an
// omitted optional input is nil) and the arithmetic to reproduce.
type prep struct {
	op        *graph.Op
	ins, outs []*graph.Tensor
	inter     []*graph.Tensor // the op's intermediates (Options.Intermediates)
	rnd       fixedpoint.Rounding
	// ref selects the plain reference arithmetic (no tables, no SIMD),
	// which fast paths are differential-tested against.
	ref bool
}

// unsupported returns an ErrUnsupported error naming the op and dtypes.
func (p *prep) unsupported(why string) error { return unsupported(p.op, p.ins, p.outs, why) }

// in returns input k, or nil when it is absent or omitted.
func (p *prep) in(k int) *graph.Tensor {
	if k < len(p.ins) {
		return p.ins[k]
	}
	return nil
}

// out returns output k, or nil when it is absent.
func (p *prep) out(k int) *graph.Tensor {
	if k < len(p.outs) {
		return p.outs[k]
	}
	return nil
}

// opTable holds the prepare function of every op beyond the original CNN
// set (PrepareWith's switch and heavyPrepareWith hold those), one line per
// op, the code in one file per op family. Read-only after initialisation.
var opTable = [graph.NumOpKinds]func(p *prep) (Kernel, error){
	// binary.go: elementwise binary ops with broadcasting.
	graph.OpMul: prepareMul, graph.OpSub: prepareSub, graph.OpDiv: prepareDiv,
	graph.OpSquaredDifference: prepareSquaredDifference, graph.OpMinimum: prepareMinimum,
	graph.OpMaximum: prepareMaximum, graph.OpFloorDiv: prepareFloorDiv, graph.OpFloorMod: prepareFloorMod,
	graph.OpPow: preparePow, graph.OpLess: prepareCompare, graph.OpLessEqual: prepareCompare,
	graph.OpGreater: prepareCompare, graph.OpGreaterEqual: prepareCompare, graph.OpEqual: prepareCompare,
	graph.OpNotEqual: prepareCompare, graph.OpLogicalAnd: prepareLogical, graph.OpLogicalOr: prepareLogical,
	graph.OpSelect: prepareSelect, graph.OpSelectV2: prepareSelect, graph.OpAddN: prepareAddN,
	graph.OpPrelu: preparePrelu,

	// unary.go: elementwise unary ops and activations.
	graph.OpAbs: prepareUnary, graph.OpNeg: prepareUnary, graph.OpSqrt: prepareUnary,
	graph.OpRsqrt: prepareUnary, graph.OpSquare: prepareUnary, graph.OpExp: prepareUnary,
	graph.OpLog: prepareUnary, graph.OpSin: prepareUnary, graph.OpCos: prepareUnary,
	graph.OpFloor: prepareUnary, graph.OpCeil: prepareUnary, graph.OpRound: prepareUnary,
	graph.OpSign: prepareUnary, graph.OpTanh: prepareUnary, graph.OpHardSwish: prepareUnary,
	graph.OpGelu: prepareUnary, graph.OpElu: prepareUnary, graph.OpReluN1To1: prepareUnary,
	graph.OpRelu0To1: prepareUnary, graph.OpCast: prepareCast, graph.OpLogicalNot: prepareLogical,
	graph.OpZerosLike: prepareZerosLike, graph.OpLogSoftmax: prepareLogSoftmax,
	graph.OpL2Normalization: prepareL2Normalization,

	// reduce.go: reductions.
	graph.OpSum: prepareReduce, graph.OpReduceMax: prepareReduce, graph.OpReduceMin: prepareReduce,
	graph.OpReduceProd: prepareReduce, graph.OpReduceAny: prepareReduce,
	graph.OpArgMax: prepareArg, graph.OpArgMin: prepareArg,

	// layout.go: layout, indexing and shape ops.
	graph.OpSqueeze: prepareReshapeLike, graph.OpExpandDims: prepareReshapeLike,
	graph.OpTranspose: prepareTranspose, graph.OpSplit: prepareSplit, graph.OpSplitV: prepareSplit,
	graph.OpPack: preparePack, graph.OpUnpack: prepareUnpack, graph.OpSlice: prepareSlice,
	graph.OpStridedSlice: prepareStridedSlice, graph.OpTile: prepareTile, graph.OpGather: prepareGather,
	graph.OpGatherND: prepareGatherND, graph.OpShape: prepareShape, graph.OpRank: prepareRank,
	graph.OpFill: prepareFill, graph.OpRange: prepareRange, graph.OpBroadcastTo: prepareBroadcastTo,
	graph.OpMirrorPad: prepareMirrorPad, graph.OpReverseV2: prepareReverse,
	graph.OpSpaceToBatchND: prepareSpaceToBatchND, graph.OpBatchToSpaceND: prepareBatchToSpaceND,
	graph.OpSpaceToDepth: prepareSpaceToDepth, graph.OpDepthToSpace: prepareDepthToSpace,

	// resize.go, matmul.go, sequence.go, detection.go.
	graph.OpResizeBilinear: prepareResize, graph.OpResizeNearestNeighbor: prepareResize,
	graph.OpTransposeConv: prepareTransposeConv, graph.OpBatchMatMul: prepareBatchMatMul,
	graph.OpL2Pool2D: prepareL2Pool, graph.OpUnidirectionalSequenceLSTM: prepareSequenceLSTM,
	graph.OpSVDF: prepareSVDF, graph.OpDetectionPostProcess: prepareDetectionPostProcess,

	// ops_extra.go, ops_segment.go: indexing, scan and segment ops.
	graph.OpAtan2: prepareAtan2, graph.OpCumsum: prepareCumsum, graph.OpOneHot: prepareOneHot,
	graph.OpReverseSequence: prepareReverseSequence, graph.OpMatrixDiag: prepareMatrixDiag,
	graph.OpMatrixSetDiag: prepareMatrixSetDiag, graph.OpBucketize: prepareBucketize,
	graph.OpUnsortedSegmentSum: prepareSegment,
	graph.OpUnsortedSegmentMax: prepareSegment, graph.OpUnsortedSegmentMin: prepareSegment,
	graph.OpUnsortedSegmentProd: prepareSegment, graph.OpDynamicUpdateSlice: prepareDynamicUpdateSlice,
	graph.OpLocalResponseNormalization: prepareLRN, graph.OpEmbeddingLookup: prepareEmbeddingLookup,

	// ops_more.go, ops_dynamic.go: selection, scatter, bitwise and
	// data-dependent ops.
	graph.OpTopKV2: prepareTopK, graph.OpScatterND: prepareScatterND, graph.OpBroadcastArgs: prepareBroadcastArgs,
	graph.OpReduceAll: prepareReduce, graph.OpBitcast: prepareBitcast, graph.OpBitwiseXor: prepareBitwise,
	graph.OpRightShift: prepareBitwise, graph.OpSegmentSum: prepareSegmentSum,
	graph.OpNonMaxSuppressionV4: prepareNMS, graph.OpNonMaxSuppressionV5: prepareNMS,
	graph.OpWhere: prepareWhere, graph.OpUnique: prepareUnique, graph.OpConv3D: prepareConv3D,
	graph.OpConv3DTranspose: prepareConv3DTranspose, graph.OpSparseToDense: prepareSparseToDense,
}
