package tflite

import (
	"fmt"
	"reflect"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/qbench/qbench/graph"
)

// opSpec maps one op beyond the original CNN set (those are in opMappings,
// ops_read.go and ops_write.go): its TFLite code, options union member,
// arity and how its options are read and written. One line per op keeps
// the list of what qbench reads in one place.
type opSpec struct {
	kind    graph.OpKind
	code    int32 // builtin code; codeCustom for a custom op
	options uint8 // BuiltinOptions union member; optNone when the op has none
	ar      arity
	// read decodes the options table (absent: schema defaults); nil for
	// ops whose options table is empty, which then get nil Options.
	read func(o *opt) any
	// write encodes options of the type read returns.
	write  func(w *writer, opts any) flatbuffers.UOffsetT
	custom string // custom code when code == codeCustom
	// readCustom and writeCustom decode and encode a custom op's
	// FlexBuffers options (Op.CustomOptions) as its typed Options.
	readCustom  func(raw []byte) (any, error)
	writeCustom func(opts any) []byte
}

// BuiltinOptions union members of the ops in opSpecs.
const (
	optSVDF                = 6
	optL2Norm              = 12
	optResizeBilinear      = 15
	optSpaceToDepth        = 19
	optMul                 = 21
	optGather              = 23
	optBatchToSpaceND      = 24
	optSpaceToBatchND      = 25
	optTranspose           = 26
	optSub                 = 28
	optDiv                 = 29
	optSqueeze             = 30
	optStridedSlice        = 32
	optExp                 = 33
	optSplit               = 35
	optLogSoftmax          = 36
	optCast                = 37
	optMaximumMinimum      = 39
	optArgMax              = 40
	optLess                = 41
	optNeg                 = 42
	optGreater             = 44
	optGreaterEqual        = 45
	optLessEqual           = 46
	optSelect              = 47
	optSlice               = 48
	optTransposeConv       = 49
	optTile                = 51
	optExpandDims          = 52
	optEqual               = 53
	optNotEqual            = 54
	optShape               = 55
	optPow                 = 56
	optArgMin              = 57
	optPack                = 59
	optLogicalOr           = 60
	optLogicalAnd          = 62
	optLogicalNot          = 63
	optUnpack              = 64
	optFloorDiv            = 65
	optSquare              = 66
	optZerosLike           = 67
	optFill                = 68
	optSeqLSTM             = 71
	optFloorMod            = 72
	optRange               = 73
	optResizeNearest       = 74
	optSquaredDifference   = 76
	optMirrorPad           = 77
	optAbs                 = 78
	optSplitV              = 79
	optReverseV2           = 81
	optAddN                = 82
	optGatherNd            = 83
	optCos                 = 84
	optRank                = 86
	optHardSwish           = 91
	optIf                  = 92
	optWhile               = 93
	optDepthToSpace        = 94
	optSelectV2            = 98
	optBatchMatMul         = 101
	optCallOnce            = 103
	optBroadcastTo         = 104
	optGelu                = 116
	optSign                = 123
	optOneHot              = 61
	optReverseSequence     = 87
	optMatrixDiag          = 88
	optMatrixSetDiag       = 90
	optSegmentSum          = 100
	optCumsum              = 102
	optBucketize           = 115
	optUnsortedSegmentProd = 118
	optUnsortedSegmentMax  = 119
	optUnsortedSegmentMin  = 120
	optUnsortedSegmentSum  = 121
	optAtan2               = 122
	optTopKV2              = 34
	optUnique              = 80
	optWhere               = 85
	optNMSV4               = 95
	optNMSV5               = 96
	optScatterNd           = 97
	optBitcast             = 124
	optBitwiseXor          = 125
	optRightShift          = 126
	optConv3D              = 106
	optSparseToDense       = 50
	optDynamicUpdateSlice  = 117
	optLRN                 = 13
	customDetectionPostPro = "TFLite_Detection_PostProcess"
)

var (
	arUnary  = arity{1, 1, nil, 1}
	arBinary = arity{2, 2, nil, 1}
)

// opSpecs lists the ops read beyond opMappings, grouped as the kernels are.
var opSpecs = []opSpec{
	// Elementwise binary.
	spec(graph.OpMul, code("MUL"), optMul, arBinary, readArith, writeArith),
	spec(graph.OpSub, code("SUB"), optSub, arBinary, readArith, writeArith),
	spec(graph.OpDiv, code("DIV"), optDiv, arBinary, readArith, writeArith),
	spec(graph.OpSquaredDifference, code("SQUARED_DIFFERENCE"), optSquaredDifference, arBinary, nil, nil),
	spec(graph.OpMinimum, code("MINIMUM"), optMaximumMinimum, arBinary, nil, nil),
	spec(graph.OpMaximum, code("MAXIMUM"), optMaximumMinimum, arBinary, nil, nil),
	spec(graph.OpFloorDiv, code("FLOOR_DIV"), optFloorDiv, arBinary, nil, nil),
	spec(graph.OpFloorMod, code("FLOOR_MOD"), optFloorMod, arBinary, nil, nil),
	spec(graph.OpPow, code("POW"), optPow, arBinary, nil, nil),
	spec(graph.OpLess, code("LESS"), optLess, arBinary, nil, nil),
	spec(graph.OpLessEqual, code("LESS_EQUAL"), optLessEqual, arBinary, nil, nil),
	spec(graph.OpGreater, code("GREATER"), optGreater, arBinary, nil, nil),
	spec(graph.OpGreaterEqual, code("GREATER_EQUAL"), optGreaterEqual, arBinary, nil, nil),
	spec(graph.OpEqual, code("EQUAL"), optEqual, arBinary, nil, nil),
	spec(graph.OpNotEqual, code("NOT_EQUAL"), optNotEqual, arBinary, nil, nil),
	spec(graph.OpLogicalAnd, code("LOGICAL_AND"), optLogicalAnd, arBinary, nil, nil),
	spec(graph.OpLogicalOr, code("LOGICAL_OR"), optLogicalOr, arBinary, nil, nil),
	spec(graph.OpSelect, code("SELECT"), optSelect, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpSelectV2, code("SELECT_V2"), optSelectV2, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpAddN, code("ADD_N"), optAddN, arity{1, -1, nil, 1}, nil, nil),
	spec(graph.OpPrelu, code("PRELU"), optNone, arBinary, nil, nil),

	// Elementwise unary and activations.
	spec(graph.OpAbs, code("ABS"), optAbs, arUnary, nil, nil),
	spec(graph.OpNeg, code("NEG"), optNeg, arUnary, nil, nil),
	spec(graph.OpSqrt, code("SQRT"), optNone, arUnary, nil, nil),
	spec(graph.OpRsqrt, code("RSQRT"), optNone, arUnary, nil, nil),
	spec(graph.OpSquare, code("SQUARE"), optSquare, arUnary, nil, nil),
	spec(graph.OpExp, code("EXP"), optExp, arUnary, nil, nil),
	spec(graph.OpLog, code("LOG"), optNone, arUnary, nil, nil),
	spec(graph.OpSin, code("SIN"), optNone, arUnary, nil, nil),
	spec(graph.OpCos, code("COS"), optCos, arUnary, nil, nil),
	spec(graph.OpFloor, code("FLOOR"), optNone, arUnary, nil, nil),
	spec(graph.OpCeil, code("CEIL"), optNone, arUnary, nil, nil),
	spec(graph.OpRound, code("ROUND"), optNone, arUnary, nil, nil),
	spec(graph.OpSign, code("SIGN"), optSign, arUnary, nil, nil),
	spec(graph.OpTanh, code("TANH"), optNone, arUnary, nil, nil),
	spec(graph.OpHardSwish, code("HARD_SWISH"), optHardSwish, arUnary, nil, nil),
	spec(graph.OpGelu, code("GELU"), optGelu, arUnary, readGelu, writeGelu),
	spec(graph.OpElu, code("ELU"), optNone, arUnary, nil, nil),
	spec(graph.OpReluN1To1, code("RELU_N1_TO_1"), optNone, arUnary, nil, nil),
	spec(graph.OpRelu0To1, code("RELU_0_TO_1"), optNone, arUnary, nil, nil),
	spec(graph.OpCast, code("CAST"), optCast, arUnary, readCast, writeCast),
	spec(graph.OpLogicalNot, code("LOGICAL_NOT"), optLogicalNot, arUnary, nil, nil),
	spec(graph.OpZerosLike, code("ZEROS_LIKE"), optZerosLike, arUnary, nil, nil),
	spec(graph.OpLogSoftmax, code("LOG_SOFTMAX"), optLogSoftmax, arUnary, nil, nil),
	spec(graph.OpL2Normalization, code("L2_NORMALIZATION"), optL2Norm, arUnary, readL2Norm, writeL2Norm),

	// Reductions.
	spec(graph.OpSum, code("SUM"), optReducer, arBinary, readReducer, writeReducer),
	spec(graph.OpReduceMax, code("REDUCE_MAX"), optReducer, arBinary, readReducer, writeReducer),
	spec(graph.OpReduceMin, code("REDUCE_MIN"), optReducer, arBinary, readReducer, writeReducer),
	spec(graph.OpReduceProd, code("REDUCE_PROD"), optReducer, arBinary, readReducer, writeReducer),
	spec(graph.OpReduceAny, code("REDUCE_ANY"), optReducer, arBinary, readReducer, writeReducer),
	spec(graph.OpArgMax, code("ARG_MAX"), optArgMax, arBinary, readArg, writeArg),
	spec(graph.OpArgMin, code("ARG_MIN"), optArgMin, arBinary, readArg, writeArg),

	// Layout, indexing and shape.
	spec(graph.OpSqueeze, code("SQUEEZE"), optSqueeze, arUnary, readSqueeze, writeSqueeze),
	spec(graph.OpExpandDims, code("EXPAND_DIMS"), optExpandDims, arBinary, nil, nil),
	spec(graph.OpTranspose, code("TRANSPOSE"), optTranspose, arBinary, nil, nil),
	spec(graph.OpSplit, code("SPLIT"), optSplit, arity{2, 2, nil, -1}, readSplit, writeSplit),
	spec(graph.OpSplitV, code("SPLIT_V"), optSplitV, arity{3, 3, nil, -1}, readSplit, writeSplit),
	spec(graph.OpPack, code("PACK"), optPack, arity{1, -1, nil, 1}, readPack, writePack),
	spec(graph.OpUnpack, code("UNPACK"), optUnpack, arity{1, 1, nil, -1}, readUnpack, writeUnpack),
	spec(graph.OpSlice, code("SLICE"), optSlice, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpStridedSlice, code("STRIDED_SLICE"), optStridedSlice, arity{4, 4, nil, 1}, readStridedSlice, writeStridedSlice),
	spec(graph.OpTile, code("TILE"), optTile, arBinary, nil, nil),
	spec(graph.OpGather, code("GATHER"), optGather, arBinary, readGather, writeGather),
	spec(graph.OpGatherND, code("GATHER_ND"), optGatherNd, arBinary, nil, nil),
	spec(graph.OpShape, code("SHAPE"), optShape, arUnary, readShape, writeShape),
	spec(graph.OpRank, code("RANK"), optRank, arUnary, nil, nil),
	spec(graph.OpFill, code("FILL"), optFill, arBinary, nil, nil),
	spec(graph.OpRange, code("RANGE"), optRange, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpBroadcastTo, code("BROADCAST_TO"), optBroadcastTo, arBinary, nil, nil),
	spec(graph.OpMirrorPad, code("MIRROR_PAD"), optMirrorPad, arBinary, readMirrorPad, writeMirrorPad),
	spec(graph.OpReverseV2, code("REVERSE_V2"), optReverseV2, arBinary, nil, nil),
	spec(graph.OpSpaceToBatchND, code("SPACE_TO_BATCH_ND"), optSpaceToBatchND, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpBatchToSpaceND, code("BATCH_TO_SPACE_ND"), optBatchToSpaceND, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpSpaceToDepth, code("SPACE_TO_DEPTH"), optSpaceToDepth, arUnary, readBlock, writeBlock),
	spec(graph.OpDepthToSpace, code("DEPTH_TO_SPACE"), optDepthToSpace, arUnary, readBlock, writeBlock),

	// Image, matrix and sequence.
	spec(graph.OpResizeBilinear, code("RESIZE_BILINEAR"), optResizeBilinear, arBinary, readResizeBilinear, writeResizeBilinear),
	spec(graph.OpResizeNearestNeighbor, code("RESIZE_NEAREST_NEIGHBOR"), optResizeNearest, arBinary, readResizeNearest, writeResizeNearest),
	spec(graph.OpTransposeConv, code("TRANSPOSE_CONV"), optTransposeConv, arity{3, 4, []int{3}, 1}, readTransposeConv, writeTransposeConv),
	spec(graph.OpBatchMatMul, code("BATCH_MATMUL"), optBatchMatMul, arBinary, readBatchMatMul, writeBatchMatMul),
	spec(graph.OpL2Pool2D, code("L2_POOL_2D"), optPool2D, arUnary, readPool, writePool),
	// Inputs 1, 5, 9-12, 16, 17 and 20-23 are optional (CIFG, peephole,
	// projection and layer-norm tensors); 18 and 19 are the state variables.
	spec(graph.OpUnidirectionalSequenceLSTM, code("UNIDIRECTIONAL_SEQUENCE_LSTM"), optSeqLSTM,
		arity{20, 24, []int{1, 5, 9, 10, 11, 12, 16, 17, 20, 21, 22, 23}, 1}, readSeqLSTM, writeSeqLSTM),
	spec(graph.OpSVDF, code("SVDF"), optSVDF, arity{5, 5, []int{3}, 1}, readSVDF, writeSVDF),

	// Detection; its options are FlexBuffers custom options (Op.CustomOptions).
	{kind: graph.OpDetectionPostProcess, code: codeCustom, custom: customDetectionPostPro, ar: arity{3, 3, nil, 4},
		readCustom: readDetectionOptions, writeCustom: writeDetectionOptions},

	// Control flow: their bodies are other subgraphs, read and written with the model.
	spec(graph.OpWhile, code("WHILE"), optWhile, arity{0, -1, nil, -1}, readWhile, writeSubgraphs),
	spec(graph.OpIf, code("IF"), optIf, arity{1, -1, nil, -1}, readIf, writeSubgraphs),
	spec(graph.OpCallOnce, code("CALL_ONCE"), optCallOnce, arity{0, 0, nil, 0}, readCallOnce, writeSubgraphs),

	// Indexing, scan and segment ops (kernels/ops_extra*.go).
	spec(graph.OpAtan2, code("ATAN2"), optAtan2, arBinary, nil, nil),
	spec(graph.OpCumsum, code("CUMSUM"), optCumsum, arBinary, readCumsum, writeCumsum),
	spec(graph.OpOneHot, code("ONE_HOT"), optOneHot, arity{4, 4, nil, 1}, readOneHot, writeOneHot),
	spec(graph.OpReverseSequence, code("REVERSE_SEQUENCE"), optReverseSequence, arBinary, readReverseSequence, writeReverseSequence),
	spec(graph.OpMatrixDiag, code("MATRIX_DIAG"), optMatrixDiag, arUnary, nil, nil),
	spec(graph.OpMatrixSetDiag, code("MATRIX_SET_DIAG"), optMatrixSetDiag, arBinary, nil, nil),
	spec(graph.OpBucketize, code("BUCKETIZE"), optBucketize, arUnary, readBucketize, writeBucketize),
	spec(graph.OpSegmentSum, code("SEGMENT_SUM"), optSegmentSum, arBinary, nil, nil),
	spec(graph.OpUnsortedSegmentSum, code("UNSORTED_SEGMENT_SUM"), optUnsortedSegmentSum, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpUnsortedSegmentMax, code("UNSORTED_SEGMENT_MAX"), optUnsortedSegmentMax, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpUnsortedSegmentMin, code("UNSORTED_SEGMENT_MIN"), optUnsortedSegmentMin, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpUnsortedSegmentProd, code("UNSORTED_SEGMENT_PROD"), optUnsortedSegmentProd, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpDynamicUpdateSlice, code("DYNAMIC_UPDATE_SLICE"), optDynamicUpdateSlice, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpEmbeddingLookup, code("EMBEDDING_LOOKUP"), optNone, arBinary, nil, nil),
	spec(graph.OpLocalResponseNormalization, code("LOCAL_RESPONSE_NORMALIZATION"), optLRN, arUnary, readLRN, writeLRN),

	// Selection, scatter, bitwise and data-dependent ops (kernels/ops_more.go, ops_dynamic.go).
	spec(graph.OpTopKV2, code("TOPK_V2"), optTopKV2, arity{2, 2, nil, 2}, nil, nil),
	spec(graph.OpScatterND, code("SCATTER_ND"), optScatterNd, arity{3, 3, nil, 1}, nil, nil),
	spec(graph.OpBroadcastArgs, code("BROADCAST_ARGS"), optNone, arBinary, nil, nil),
	spec(graph.OpReduceAll, code("REDUCE_ALL"), optReducer, arBinary, readReducer, writeReducer),
	spec(graph.OpBitcast, code("BITCAST"), optBitcast, arUnary, nil, nil),
	spec(graph.OpBitwiseXor, code("BITWISE_XOR"), optBitwiseXor, arBinary, nil, nil),
	spec(graph.OpRightShift, code("RIGHT_SHIFT"), optRightShift, arBinary, nil, nil),
	spec(graph.OpNonMaxSuppressionV4, code("NON_MAX_SUPPRESSION_V4"), optNMSV4, arity{5, 5, nil, 2}, nil, nil),
	spec(graph.OpNonMaxSuppressionV5, code("NON_MAX_SUPPRESSION_V5"), optNMSV5, arity{6, 6, nil, 3}, nil, nil),
	spec(graph.OpWhere, code("WHERE"), optWhere, arUnary, nil, nil),
	spec(graph.OpUnique, code("UNIQUE"), optUnique, arity{1, 1, nil, 2}, readUnique, writeUnique),
	spec(graph.OpConv3D, code("CONV_3D"), optConv3D, arity{2, 3, []int{2}, 1}, readConv3D, writeConv3D),
	spec(graph.OpSparseToDense, code("SPARSE_TO_DENSE"), optSparseToDense, arity{4, 4, nil, 1}, readSparseToDense, writeSparseToDense),
	spec(graph.OpConv3DTranspose, code("CONV_3D_TRANSPOSE"), optConv3D, arity{3, 4, []int{3}, 1}, readConv3D, writeConv3D),
}

func spec(k graph.OpKind, c int32, options uint8, ar arity, read func(*opt) any,
	write func(*writer, any) flatbuffers.UOffsetT) opSpec {
	return opSpec{kind: k, code: c, options: options, ar: ar, read: read, write: write}
}

// code returns the builtin code of a TFLite operator name; it panics on a
// name missing from builtinNames, which the package's tests catch at once.
func code(name string) int32 {
	for i, n := range builtinNames {
		if n == name {
			return int32(i)
		}
	}
	panic("tflite: unknown builtin " + name)
}

func specForKind(k graph.OpKind) (*opSpec, bool) {
	for i := range opSpecs {
		if opSpecs[i].kind == k {
			return &opSpecs[i], true
		}
	}
	return nil, false
}

func specForCode(c int32, custom string) (*opSpec, bool) {
	for i := range opSpecs {
		s := &opSpecs[i]
		if s.code == c && (c != codeCustom || s.custom == custom) {
			return s, true
		}
	}
	return nil, false
}

// readSpecOptions decodes the options of a spec'd op.
func readSpecOptions(s *opSpec, t table, present bool) (any, error) {
	if s.read == nil {
		return nil, nil
	}
	o := &opt{t: t, present: present}
	v := s.read(o)
	return v, o.err
}

// checkSpecOptions verifies a spec'd op's options have the type its reader
// produces (nil for ops without options).
func checkSpecOptions(s *opSpec, op *graph.Op) error {
	if s.readCustom != nil {
		if _, ok := op.Options.(*graph.DetectionPostProcessOptions); op.Options != nil && (!ok || reflect.ValueOf(op.Options).IsNil()) {
			return fmt.Errorf("options of type %T do not fit %s", op.Options, op.Kind)
		}
		return nil
	}
	if s.read == nil {
		if op.Options != nil {
			return fmt.Errorf("%s takes no options, got %T", op.Kind, op.Options)
		}
		return nil
	}
	if op.Options == nil {
		return nil
	}
	want := reflect.TypeOf(s.read(&opt{}))
	if reflect.TypeOf(op.Options) != want || reflect.ValueOf(op.Options).IsNil() {
		return fmt.Errorf("options of type %T do not fit %s (want %v)", op.Options, op.Kind, want)
	}
	return nil
}

// writeSpecOptions writes a spec'd op's options table: its options, their
// schema defaults when nil, or the empty table the converter writes for
// option-less ops that have a union member.
func (w *writer) writeSpecOptions(s *opSpec, op *graph.Op) (uint8, flatbuffers.UOffsetT) {
	if s.options == optNone {
		return optNone, 0
	}
	if s.read == nil {
		w.b.StartObject(0)
		return s.options, w.b.EndObject()
	}
	opts := op.Options
	if opts == nil {
		opts = s.read(&opt{})
	}
	return s.options, s.write(w, opts)
}

func readArith(o *opt) any {
	return &graph.ArithOptions{Activation: o.activation(0), PotScaleInt16: o.present && o.boolean(1, true)}
}

func writeArith(w *writer, v any) flatbuffers.UOffsetT {
	a := v.(*graph.ArithOptions)
	w.b.StartObject(2)
	w.b.PrependInt8Slot(0, int8(a.Activation), 0)
	if a.PotScaleInt16 {
		w.b.PrependBoolSlot(1, true, false)
	} else {
		w.b.PrependBoolSlot(1, false, true) // SUB's schema default is true
	}
	return w.b.EndObject()
}

func readGelu(o *opt) any { return &graph.GeluOptions{Approximate: o.boolean(0, false)} }

func writeGelu(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.b.PrependBoolSlot(0, v.(*graph.GeluOptions).Approximate, false)
	return w.b.EndObject()
}

// dtype reads a TensorType field; an absent field gives graph.Unknown.
func (o *opt) dtype(id int) graph.DType {
	if !o.present || o.err != nil {
		return graph.Unknown
	}
	if pos, err := o.t.field(id, 1); err != nil || pos == 0 {
		o.err = err
		return graph.Unknown
	}
	tt := o.i8(id, 0)
	d, ok := dtypeFromTFLite(tt)
	if !ok && o.err == nil {
		o.err = fmt.Errorf("%w tensor type %s", ErrUnsupported, tensorTypeName(tt))
	}
	return d
}

func (w *writer) dtypeSlot(id int, d graph.DType) {
	if tt, ok := dtypeToTFLite(d); ok && d != graph.Unknown {
		w.b.PrependInt8Slot(id, tt, -1) // always written: float32 is 0
	}
}

func readCast(o *opt) any { return &graph.CastOptions{InType: o.dtype(0), OutType: o.dtype(1)} }

func writeCast(w *writer, v any) flatbuffers.UOffsetT {
	c := v.(*graph.CastOptions)
	w.b.StartObject(2)
	w.dtypeSlot(0, c.InType)
	w.dtypeSlot(1, c.OutType)
	return w.b.EndObject()
}

func readL2Norm(o *opt) any { return &graph.L2NormOptions{Activation: o.activation(0)} }

func writeL2Norm(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.b.PrependInt8Slot(0, int8(v.(*graph.L2NormOptions).Activation), 0)
	return w.b.EndObject()
}

func readReducer(o *opt) any { return &graph.ReducerOptions{KeepDims: o.boolean(0, false)} }

func writeReducer(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.b.PrependBoolSlot(0, v.(*graph.ReducerOptions).KeepDims, false)
	return w.b.EndObject()
}

func readArg(o *opt) any {
	d := o.dtype(0)
	if d == graph.Unknown {
		d = graph.Int64 // TFLite's default output_type is INT64
	}
	return &graph.ArgOptions{OutType: d}
}

func writeArg(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.dtypeSlot(0, v.(*graph.ArgOptions).OutType)
	return w.b.EndObject()
}

func (o *opt) ints(id int, what string) []int {
	if !o.present || o.err != nil {
		return nil
	}
	v, err := o.t.vec(id, 4, what)
	if err != nil {
		o.err = err
		return nil
	}
	r, err := v.ints()
	if err != nil {
		o.err = err
	}
	return r
}

func readSqueeze(o *opt) any { return &graph.SqueezeOptions{Dims: o.ints(0, "squeeze_dims")} }

func writeSqueeze(w *writer, v any) flatbuffers.UOffsetT {
	dims := v.(*graph.SqueezeOptions).Dims
	var off flatbuffers.UOffsetT
	if len(dims) > 0 {
		off = w.int32Vector(dims)
	}
	w.b.StartObject(1)
	if off != 0 {
		w.b.PrependUOffsetTSlot(0, off, 0)
	}
	return w.b.EndObject()
}

func readSplit(o *opt) any { return &graph.SplitOptions{NumSplits: o.i32(0, 0)} }

func writeSplit(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.b.PrependInt32Slot(0, int32(v.(*graph.SplitOptions).NumSplits), 0)
	return w.b.EndObject()
}

func readPack(o *opt) any { return &graph.PackOptions{ValuesCount: o.i32(0, 0), Axis: o.i32(1, 0)} }

func writePack(w *writer, v any) flatbuffers.UOffsetT {
	p := v.(*graph.PackOptions)
	w.b.StartObject(2)
	w.b.PrependInt32Slot(0, int32(p.ValuesCount), 0)
	w.b.PrependInt32Slot(1, int32(p.Axis), 0)
	return w.b.EndObject()
}

func readUnpack(o *opt) any { return &graph.UnpackOptions{Num: o.i32(0, 0), Axis: o.i32(1, 0)} }

func writeUnpack(w *writer, v any) flatbuffers.UOffsetT {
	p := v.(*graph.UnpackOptions)
	w.b.StartObject(2)
	w.b.PrependInt32Slot(0, int32(p.Num), 0)
	w.b.PrependInt32Slot(1, int32(p.Axis), 0)
	return w.b.EndObject()
}

func readStridedSlice(o *opt) any {
	return &graph.StridedSliceOptions{BeginMask: o.i32(0, 0), EndMask: o.i32(1, 0), EllipsisMask: o.i32(2, 0),
		NewAxisMask: o.i32(3, 0), ShrinkAxisMask: o.i32(4, 0), Offset: o.boolean(5, false)}
}

func writeStridedSlice(w *writer, v any) flatbuffers.UOffsetT {
	s := v.(*graph.StridedSliceOptions)
	w.b.StartObject(6)
	w.b.PrependInt32Slot(0, int32(s.BeginMask), 0)
	w.b.PrependInt32Slot(1, int32(s.EndMask), 0)
	w.b.PrependInt32Slot(2, int32(s.EllipsisMask), 0)
	w.b.PrependInt32Slot(3, int32(s.NewAxisMask), 0)
	w.b.PrependInt32Slot(4, int32(s.ShrinkAxisMask), 0)
	w.b.PrependBoolSlot(5, s.Offset, false)
	return w.b.EndObject()
}

func readGather(o *opt) any { return &graph.GatherOptions{Axis: o.i32(0, 0), BatchDims: o.i32(1, 0)} }

func writeGather(w *writer, v any) flatbuffers.UOffsetT {
	g := v.(*graph.GatherOptions)
	w.b.StartObject(2)
	w.b.PrependInt32Slot(0, int32(g.Axis), 0)
	w.b.PrependInt32Slot(1, int32(g.BatchDims), 0)
	return w.b.EndObject()
}

func readShape(o *opt) any {
	d := o.dtype(0)
	if d == graph.Unknown || d == graph.Float32 { // absent (0 = FLOAT32 is not a valid out_type): INT32
		d = graph.Int32
	}
	return &graph.ShapeOptions{OutType: d}
}

func writeShape(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.dtypeSlot(0, v.(*graph.ShapeOptions).OutType)
	return w.b.EndObject()
}

func readMirrorPad(o *opt) any { return &graph.MirrorPadOptions{Symmetric: o.i8(0, 0) == 1} }

func writeMirrorPad(w *writer, v any) flatbuffers.UOffsetT {
	var m int8
	if v.(*graph.MirrorPadOptions).Symmetric {
		m = 1
	}
	w.b.StartObject(1)
	w.b.PrependInt8Slot(0, m, 0)
	return w.b.EndObject()
}

func readBlock(o *opt) any {
	b := &graph.BlockOptions{BlockSize: o.i32(0, 0)}
	if o.present {
		o.positive("block_size", b.BlockSize)
	}
	return b
}

func writeBlock(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.b.PrependInt32Slot(0, int32(v.(*graph.BlockOptions).BlockSize), 0)
	return w.b.EndObject()
}

func readResizeBilinear(o *opt) any {
	return &graph.ResizeOptions{AlignCorners: o.boolean(2, false), HalfPixelCenters: o.boolean(3, false)}
}

func writeResizeBilinear(w *writer, v any) flatbuffers.UOffsetT {
	r := v.(*graph.ResizeOptions)
	w.b.StartObject(4)
	w.b.PrependBoolSlot(2, r.AlignCorners, false)
	w.b.PrependBoolSlot(3, r.HalfPixelCenters, false)
	return w.b.EndObject()
}

func readResizeNearest(o *opt) any {
	return &graph.ResizeOptions{AlignCorners: o.boolean(0, false), HalfPixelCenters: o.boolean(1, false)}
}

func writeResizeNearest(w *writer, v any) flatbuffers.UOffsetT {
	r := v.(*graph.ResizeOptions)
	w.b.StartObject(2)
	w.b.PrependBoolSlot(0, r.AlignCorners, false)
	w.b.PrependBoolSlot(1, r.HalfPixelCenters, false)
	return w.b.EndObject()
}

func readTransposeConv(o *opt) any {
	c := &graph.TransposeConvOptions{Padding: o.padding(0), StrideW: o.i32(1, 0), StrideH: o.i32(2, 0),
		Activation: o.activation(3)}
	if bt := o.i8(4, 0); bt != 0 && o.err == nil {
		o.err = fmt.Errorf("%w quantized_bias_type %s", ErrUnsupported, tensorTypeName(bt))
	}
	if o.present {
		o.positive("stride_w", c.StrideW)
		o.positive("stride_h", c.StrideH)
	}
	return c
}

func writeTransposeConv(w *writer, v any) flatbuffers.UOffsetT {
	c := v.(*graph.TransposeConvOptions)
	w.b.StartObject(5)
	w.b.PrependInt8Slot(0, int8(c.Padding), 0)
	w.b.PrependInt32Slot(1, int32(c.StrideW), 0)
	w.b.PrependInt32Slot(2, int32(c.StrideH), 0)
	w.b.PrependInt8Slot(3, int8(c.Activation), 0)
	return w.b.EndObject()
}

func readBatchMatMul(o *opt) any {
	return &graph.BatchMatMulOptions{AdjX: o.boolean(0, false), AdjY: o.boolean(1, false),
		AsymmetricQuantizeInputs: o.boolean(2, false)}
}

func writeBatchMatMul(w *writer, v any) flatbuffers.UOffsetT {
	m := v.(*graph.BatchMatMulOptions)
	w.b.StartObject(3)
	w.b.PrependBoolSlot(0, m.AdjX, false)
	w.b.PrependBoolSlot(1, m.AdjY, false)
	w.b.PrependBoolSlot(2, m.AsymmetricQuantizeInputs, false)
	return w.b.EndObject()
}

func readPool(o *opt) any {
	c := &graph.Pool2DOptions{Padding: o.padding(0), StrideW: o.i32(1, 0), StrideH: o.i32(2, 0),
		FilterW: o.i32(3, 0), FilterH: o.i32(4, 0), Activation: o.activation(5)}
	if o.present {
		o.positive("stride_w", c.StrideW)
		o.positive("stride_h", c.StrideH)
		o.positive("filter_width", c.FilterW)
		o.positive("filter_height", c.FilterH)
	}
	return c
}

func writePool(w *writer, v any) flatbuffers.UOffsetT {
	o, b := v.(*graph.Pool2DOptions), w.b
	b.StartObject(6)
	b.PrependInt8Slot(0, int8(o.Padding), 0)
	b.PrependInt32Slot(1, int32(o.StrideW), 0)
	b.PrependInt32Slot(2, int32(o.StrideH), 0)
	b.PrependInt32Slot(3, int32(o.FilterW), 0)
	b.PrependInt32Slot(4, int32(o.FilterH), 0)
	b.PrependInt8Slot(5, int8(o.Activation), 0)
	return b.EndObject()
}

func readSeqLSTM(o *opt) any {
	return &graph.SequenceLSTMOptions{Activation: o.activation(0), CellClip: o.f32(1, 0), ProjClip: o.f32(2, 0),
		TimeMajor: o.boolean(3, false), AsymmetricQuantizeInputs: o.boolean(4, false),
		DiagonalRecurrentTensors: o.boolean(5, false)}
}

func writeSeqLSTM(w *writer, v any) flatbuffers.UOffsetT {
	l := v.(*graph.SequenceLSTMOptions)
	w.b.StartObject(6)
	w.b.PrependInt8Slot(0, int8(l.Activation), 0)
	w.b.PrependFloat32Slot(1, l.CellClip, 0)
	w.b.PrependFloat32Slot(2, l.ProjClip, 0)
	w.b.PrependBoolSlot(3, l.TimeMajor, false)
	w.b.PrependBoolSlot(4, l.AsymmetricQuantizeInputs, false)
	w.b.PrependBoolSlot(5, l.DiagonalRecurrentTensors, false)
	return w.b.EndObject()
}

func readSVDF(o *opt) any {
	return &graph.SVDFOptions{Rank: o.i32(0, 0), Activation: o.activation(1), AsymmetricQuantizeInputs: o.boolean(2, false)}
}

func writeSVDF(w *writer, v any) flatbuffers.UOffsetT {
	s := v.(*graph.SVDFOptions)
	w.b.StartObject(3)
	w.b.PrependInt32Slot(0, int32(s.Rank), 0)
	w.b.PrependInt8Slot(1, int8(s.Activation), 0)
	w.b.PrependBoolSlot(2, s.AsymmetricQuantizeInputs, false)
	return w.b.EndObject()
}

func readWhile(o *opt) any {
	return &graph.SubgraphOptions{Cond: o.i32(0, 0), Body: o.i32(1, 0), Then: -1, Else: -1, Init: -1}
}

func readIf(o *opt) any {
	return &graph.SubgraphOptions{Then: o.i32(0, 0), Else: o.i32(1, 0), Cond: -1, Body: -1, Init: -1}
}

func readCallOnce(o *opt) any {
	return &graph.SubgraphOptions{Init: o.i32(0, 0), Cond: -1, Body: -1, Then: -1, Else: -1}
}

func writeSubgraphs(w *writer, v any) flatbuffers.UOffsetT {
	s := v.(*graph.SubgraphOptions)
	w.b.StartObject(2)
	switch {
	case s.Init >= 0:
		w.b.PrependInt32Slot(0, int32(s.Init), 0)
	case s.Then >= 0:
		w.b.PrependInt32Slot(0, int32(s.Then), 0)
		w.b.PrependInt32Slot(1, int32(s.Else), 0)
	default:
		w.b.PrependInt32Slot(0, int32(s.Cond), 0)
		w.b.PrependInt32Slot(1, int32(s.Body), 0)
	}
	return w.b.EndObject()
}

// readCustomOptions decodes a custom op's FlexBuffers options into its
// typed options; custom ops without a decoder keep only the raw bytes.
func readCustomOptions(s *opSpec, raw []byte) (any, error) {
	if s.readCustom == nil {
		return nil, nil
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: %s has no custom options", ErrCorrupt, s.custom)
	}
	v, err := s.readCustom(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s custom options: %w", ErrCorrupt, s.custom, err)
	}
	return v, nil
}

// customOptionsBytes is what the writer stores as op's custom options: the
// bytes read from the file when they still decode to op's Options (keys
// qbench does not model survive), else Options encoded afresh.
func customOptionsBytes(op *graph.Op) []byte {
	s, ok := specForKind(op.Kind)
	if !ok || s.writeCustom == nil || op.Options == nil {
		return op.CustomOptions
	}
	if len(op.CustomOptions) > 0 {
		if v, err := s.readCustom(op.CustomOptions); err == nil && reflect.DeepEqual(v, op.Options) {
			return op.CustomOptions
		}
	}
	return s.writeCustom(op.Options)
}

// Keys of TFLite_Detection_PostProcess's options, as TFLite's kernel reads
// them.
const (
	detMaxDetections   = "max_detections"
	detMaxClassesPer   = "max_classes_per_detection"
	detDetectionsPer   = "detections_per_class"
	detUseRegularNMS   = "use_regular_nms"
	detScoreThreshold  = "nms_score_threshold"
	detIoUThreshold    = "nms_iou_threshold"
	detNumClasses      = "num_classes"
	detYScale          = "y_scale"
	detXScale          = "x_scale"
	detHScale          = "h_scale"
	detWScale          = "w_scale"
	detDefaultPerClass = 100 // TFLite's default when detections_per_class is absent
)

// readDetectionOptions decodes TFLite_Detection_PostProcess's options as
// TFLite's kernel does: absent numbers are 0, an absent
// detections_per_class is 100 and an absent use_regular_nms false.
func readDetectionOptions(raw []byte) (any, error) {
	m, err := readFlexMap(raw)
	if err != nil {
		return nil, err
	}
	o := &graph.DetectionPostProcessOptions{
		MaxDetections:          int(m.get(detMaxDetections).asInt32()),
		MaxClassesPerDetection: int(m.get(detMaxClassesPer).asInt32()),
		DetectionsPerClass:     detDefaultPerClass,
		NumClasses:             int(m.get(detNumClasses).asInt32()),
		NMSScoreThreshold:      m.get(detScoreThreshold).asFloat32(),
		NMSIoUThreshold:        m.get(detIoUThreshold).asFloat32(),
		YScale:                 m.get(detYScale).asFloat32(),
		XScale:                 m.get(detXScale).asFloat32(),
		HScale:                 m.get(detHScale).asFloat32(),
		WScale:                 m.get(detWScale).asFloat32(),
	}
	if v := m.get(detDetectionsPer); !v.isNull() {
		o.DetectionsPerClass = int(v.asInt32())
	}
	if v := m.get(detUseRegularNMS); !v.isNull() {
		o.UseRegularNMS = v.asBool()
	}
	return o, nil
}

// writeDetectionOptions encodes the options with every key, as the
// converter writes them.
func writeDetectionOptions(v any) []byte {
	o := v.(*graph.DetectionPostProcessOptions)
	i := func(k string, n int) flexEntry { return flexEntry{key: k, typ: flexInt, i: int64(n)} }
	f := func(k string, x float32) flexEntry { return flexEntry{key: k, typ: flexFloat, f: x} }
	return writeFlexMap([]flexEntry{
		i(detMaxDetections, o.MaxDetections), i(detMaxClassesPer, o.MaxClassesPerDetection),
		i(detDetectionsPer, o.DetectionsPerClass), i(detNumClasses, o.NumClasses),
		{key: detUseRegularNMS, typ: flexBool, b: o.UseRegularNMS},
		f(detScoreThreshold, o.NMSScoreThreshold), f(detIoUThreshold, o.NMSIoUThreshold),
		f(detYScale, o.YScale), f(detXScale, o.XScale), f(detHScale, o.HScale), f(detWScale, o.WScale),
	})
}
