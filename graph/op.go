package graph

import "fmt"

// OpKind names an operator. The names and semantics follow TFLite's builtin
// operators so that the tflite package maps them one to one.
type OpKind int

// Operators qbench knows. Adding one touches graph (kind + options), tflite
// (mapping), kernels (float + int), shape inference and conformance.
const (
	OpUnknown OpKind = iota
	OpConv2D
	OpDepthwiseConv2D
	OpFullyConnected
	OpMaxPool2D
	OpAveragePool2D
	OpSoftmax
	OpReshape
	OpQuantize
	OpDequantize
	OpAdd
	OpRelu
	OpRelu6
	OpLeakyRelu
	OpLogistic
	OpPad
	OpPadV2
	OpConcatenation
	OpMean

	// Elementwise binary ops (NumPy broadcasting).
	OpMul
	OpSub
	OpDiv
	OpSquaredDifference
	OpMinimum
	OpMaximum
	OpFloorDiv
	OpFloorMod
	OpPow
	OpLess
	OpLessEqual
	OpGreater
	OpGreaterEqual
	OpEqual
	OpNotEqual
	OpLogicalAnd
	OpLogicalOr
	OpSelect
	OpSelectV2
	OpAddN

	// Elementwise unary ops and activations.
	OpAbs
	OpNeg
	OpSqrt
	OpRsqrt
	OpSquare
	OpExp
	OpLog
	OpSin
	OpCos
	OpFloor
	OpCeil
	OpRound
	OpSign
	OpTanh
	OpHardSwish
	OpPrelu
	OpGelu
	OpElu
	OpReluN1To1
	OpRelu0To1
	OpCast
	OpLogicalNot
	OpZerosLike
	OpLogSoftmax
	OpL2Normalization

	// Reductions.
	OpSum
	OpReduceMax
	OpReduceMin
	OpReduceProd
	OpReduceAny
	OpArgMax
	OpArgMin

	// Layout, indexing and shape ops.
	OpSqueeze
	OpExpandDims
	OpTranspose
	OpSplit
	OpSplitV
	OpPack
	OpUnpack
	OpSlice
	OpStridedSlice
	OpTile
	OpGather
	OpGatherND
	OpShape
	OpRank
	OpFill
	OpRange
	OpBroadcastTo
	OpMirrorPad
	OpReverseV2
	OpSpaceToBatchND
	OpBatchToSpaceND
	OpSpaceToDepth
	OpDepthToSpace

	// Image, matrix and sequence ops.
	OpResizeBilinear
	OpResizeNearestNeighbor
	OpTransposeConv
	OpBatchMatMul
	OpL2Pool2D
	OpUnidirectionalSequenceLSTM
	OpSVDF

	// TFLite_Detection_PostProcess, the custom op SSD detectors end with.
	OpDetectionPostProcess

	// Control flow: their bodies are other subgraphs (interp runs them).
	OpWhile
	OpIf
	OpCallOnce

	// Indexing, scan and segment ops (kernels/ops_extra*.go).
	OpAtan2
	OpCumsum
	OpOneHot
	OpReverseSequence
	OpMatrixDiag
	OpMatrixSetDiag
	OpBucketize
	OpSegmentSum
	OpUnsortedSegmentSum
	OpUnsortedSegmentMax
	OpUnsortedSegmentMin
	OpUnsortedSegmentProd
	OpDynamicUpdateSlice
	OpLocalResponseNormalization
	OpEmbeddingLookup

	// Selection, scatter, bitwise and data-dependent ops (kernels/ops_more.go,
	// kernels/ops_dynamic.go). WHERE and UNIQUE outputs have data-dependent
	// shapes: interp sizes them per run (interp/dynamic.go).
	OpTopKV2
	OpScatterND
	OpBroadcastArgs
	OpReduceAll
	OpBitcast
	OpBitwiseXor
	OpRightShift
	OpNonMaxSuppressionV4
	OpNonMaxSuppressionV5
	OpWhere
	OpUnique
	OpConv3D
	OpConv3DTranspose
	OpSparseToDense
)

var opNames = [...]string{
	"UNKNOWN", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D",
	"AVERAGE_POOL_2D", "SOFTMAX", "RESHAPE", "QUANTIZE", "DEQUANTIZE", "ADD", "RELU",
	"RELU6", "LEAKY_RELU", "LOGISTIC", "PAD", "PADV2", "CONCATENATION", "MEAN",
	"MUL", "SUB", "DIV", "SQUARED_DIFFERENCE", "MINIMUM", "MAXIMUM", "FLOOR_DIV", "FLOOR_MOD", "POW", "LESS",
	"LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL", "LOGICAL_AND", "LOGICAL_OR", "SELECT",
	"SELECT_V2", "ADD_N", "ABS", "NEG", "SQRT", "RSQRT", "SQUARE", "EXP", "LOG", "SIN", "COS", "FLOOR", "CEIL",
	"ROUND", "SIGN", "TANH", "HARD_SWISH", "PRELU", "GELU", "ELU", "RELU_N1_TO_1", "RELU_0_TO_1", "CAST",
	"LOGICAL_NOT", "ZEROS_LIKE", "LOG_SOFTMAX", "L2_NORMALIZATION", "SUM", "REDUCE_MAX", "REDUCE_MIN",
	"REDUCE_PROD", "REDUCE_ANY", "ARG_MAX", "ARG_MIN", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "SPLIT",
	"SPLIT_V", "PACK", "UNPACK", "SLICE", "STRIDED_SLICE", "TILE", "GATHER", "GATHER_ND", "SHAPE", "RANK",
	"FILL", "RANGE", "BROADCAST_TO", "MIRROR_PAD", "REVERSE_V2", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND",
	"SPACE_TO_DEPTH", "DEPTH_TO_SPACE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "TRANSPOSE_CONV",
	"BATCH_MATMUL", "L2_POOL_2D", "UNIDIRECTIONAL_SEQUENCE_LSTM", "SVDF", "TFLite_Detection_PostProcess",
	"WHILE", "IF", "CALL_ONCE",
	"ATAN2", "CUMSUM", "ONE_HOT", "REVERSE_SEQUENCE", "MATRIX_DIAG", "MATRIX_SET_DIAG", "BUCKETIZE",
	"SEGMENT_SUM", "UNSORTED_SEGMENT_SUM", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_MIN", "UNSORTED_SEGMENT_PROD",
	"DYNAMIC_UPDATE_SLICE", "LOCAL_RESPONSE_NORMALIZATION", "EMBEDDING_LOOKUP",
	"TOPK_V2", "SCATTER_ND", "BROADCAST_ARGS", "REDUCE_ALL", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
	"NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "WHERE", "UNIQUE", "CONV_3D", "CONV_3D_TRANSPOSE", "SPARSE_TO_DENSE",
}

// String returns the TFLite builtin name, e.g. "CONV_2D".
func (k OpKind) String() string {
	if k < 0 || int(k) >= len(opNames) {
		return fmt.Sprintf("OP(%d)", int(k))
	}
	return opNames[k]
}

// ParseOpKind maps a TFLite builtin name to its OpKind.
func ParseOpKind(s string) (OpKind, error) {
	for i, n := range opNames {
		if n == s && i != 0 {
			return OpKind(i), nil
		}
	}
	return OpUnknown, fmt.Errorf("unsupported op %s", s)
}

// Padding is TFLite's padding scheme.
type Padding int

// Padding schemes.
const (
	PaddingSame Padding = iota
	PaddingValid
)

func (p Padding) String() string {
	if p == PaddingValid {
		return "VALID"
	}
	return "SAME"
}

// Activation is a fused activation function applied to an op's output.
type Activation int

// Fused activations, in TFLite's enum order.
const (
	ActNone Activation = iota
	ActRelu
	ActReluN1To1
	ActRelu6
	ActTanh
	ActSignBit
	ActSigmoid
)

var actNames = [...]string{"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT", "SIGMOID"}

func (a Activation) String() string {
	if a < 0 || int(a) >= len(actNames) {
		return fmt.Sprintf("ACT(%d)", int(a))
	}
	return actNames[a]
}

// ParseActivation maps a TFLite name such as "RELU6" to an Activation.
func ParseActivation(s string) (Activation, error) {
	for i, n := range actNames {
		if n == s {
			return Activation(i), nil
		}
	}
	return ActNone, fmt.Errorf("unknown fused activation %q", s)
}

// Conv2DOptions configure CONV_2D.
type Conv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int
	DilationW, DilationH int
	Activation           Activation
}

// DepthwiseConv2DOptions configure DEPTHWISE_CONV_2D.
type DepthwiseConv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int
	DilationW, DilationH int
	DepthMultiplier      int
	Activation           Activation
}

// FullyConnectedOptions configure FULLY_CONNECTED.
type FullyConnectedOptions struct {
	Activation  Activation
	KeepNumDims bool
	// AsymmetricQuantizeInputs makes a hybrid (float input, int8 weights)
	// FULLY_CONNECTED quantize each input row with a zero point instead of
	// symmetrically.
	AsymmetricQuantizeInputs bool
}

// Pool2DOptions configure MAX_POOL_2D and AVERAGE_POOL_2D.
type Pool2DOptions struct {
	Padding          Padding
	StrideW, StrideH int
	FilterW, FilterH int
	Activation       Activation
}

// SoftmaxOptions configure SOFTMAX.
type SoftmaxOptions struct{ Beta float32 }

// ReshapeOptions configure RESHAPE when the shape is not a second input.
type ReshapeOptions struct{ NewShape []int }

// AddOptions configure ADD.
type AddOptions struct {
	Activation Activation
	// PotScaleInt16 selects TFLite's power-of-two int16 path; qbench only
	// supports the general path (false), which TFLite uses for converted models.
	PotScaleInt16 bool
}

// LeakyReluOptions configure LEAKY_RELU.
type LeakyReluOptions struct{ Alpha float32 }

// ConcatenationOptions configure CONCATENATION.
type ConcatenationOptions struct {
	Axis       int
	Activation Activation
}

// ReducerOptions configure MEAN.
type ReducerOptions struct{ KeepDims bool }

// Op is one operator application. Inputs and Outputs index Graph.Tensors;
// an omitted optional input (e.g. no bias) is -1. Options holds the typed
// options struct for the kind (pointer), or nil for ops without options.
type Op struct {
	Kind    OpKind
	Inputs  []int
	Outputs []int
	// Intermediates are tensors TFLite's operator carries beside its inputs
	// and outputs (the `intermediates` field): the integer LSTM's five hold
	// the quantization of its gate pre-activations and hidden state. Their
	// data is never read; only their quantization matters.
	Intermediates []int
	Options       any
	// Version is the operator version a file format should record; 0 lets
	// the writer choose.
	Version int
	// Code is the file format's name of an operator qbench does not model
	// (Kind OpUnknown): a builtin name such as "RFFT2D" or a custom code.
	// Such ops can be read and inspected, not run or written.
	Code string
	// CustomOptions holds a custom op's raw options (TFLite: FlexBuffers),
	// kept so the op can be written back unchanged.
	CustomOptions []byte
}

// Name returns the op's name: its kind's TFLite name, or Code for an
// operator qbench does not model.
func (op *Op) Name() string {
	if op.Kind == OpUnknown && op.Code != "" {
		return op.Code
	}
	return op.Kind.String()
}

// NumOpKinds is one more than the largest OpKind, for tables indexed by kind.
const NumOpKinds = OpSparseToDense + 1
