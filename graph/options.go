package graph

// Options of the operators beyond the original CNN set. Field names follow
// TFLite's option tables (schema.fbs); defaults are the schema's.

// ArithOptions configure MUL, SUB and DIV.
type ArithOptions struct {
	Activation Activation
	// PotScaleInt16 selects SUB's power-of-two int16 path (SUB only; the
	// schema default is true, the converter writes false for general scales).
	PotScaleInt16 bool
}

// GatherOptions configure GATHER.
type GatherOptions struct {
	Axis      int
	BatchDims int
}

// SqueezeOptions configure SQUEEZE; empty Dims squeezes every size-1 axis.
type SqueezeOptions struct{ Dims []int }

// SplitOptions configure SPLIT and SPLIT_V.
type SplitOptions struct{ NumSplits int }

// StridedSliceOptions configure STRIDED_SLICE (bit i of a mask refers to
// dimension i of the begin/end/strides vectors).
type StridedSliceOptions struct {
	BeginMask, EndMask, EllipsisMask, NewAxisMask, ShrinkAxisMask int
	// Offset: end is an offset from begin rather than an absolute index.
	Offset bool
}

// CastOptions configure CAST; the tensors' dtypes are authoritative, these
// are what the file recorded (Unknown when absent).
type CastOptions struct{ InType, OutType DType }

// ArgOptions configure ARG_MAX and ARG_MIN: the output index dtype.
type ArgOptions struct{ OutType DType }

// ShapeOptions configure SHAPE: the output dtype (Int32 by default).
type ShapeOptions struct{ OutType DType }

// PackOptions configure PACK.
type PackOptions struct{ ValuesCount, Axis int }

// UnpackOptions configure UNPACK.
type UnpackOptions struct{ Num, Axis int }

// BlockOptions configure SPACE_TO_DEPTH and DEPTH_TO_SPACE.
type BlockOptions struct{ BlockSize int }

// MirrorPadOptions configure MIRROR_PAD; Symmetric includes the border.
type MirrorPadOptions struct{ Symmetric bool }

// ResizeOptions configure RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR.
type ResizeOptions struct{ AlignCorners, HalfPixelCenters bool }

// TransposeConvOptions configure TRANSPOSE_CONV.
type TransposeConvOptions struct {
	Padding          Padding
	StrideW, StrideH int
	Activation       Activation
}

// BatchMatMulOptions configure BATCH_MATMUL.
type BatchMatMulOptions struct {
	AdjX, AdjY               bool
	AsymmetricQuantizeInputs bool
}

// GeluOptions configure GELU.
type GeluOptions struct{ Approximate bool }

// SequenceLSTMOptions configure UNIDIRECTIONAL_SEQUENCE_LSTM.
type SequenceLSTMOptions struct {
	Activation               Activation
	CellClip, ProjClip       float32
	TimeMajor                bool
	AsymmetricQuantizeInputs bool
	DiagonalRecurrentTensors bool
}

// SVDFOptions configure SVDF.
type SVDFOptions struct {
	Rank                     int
	Activation               Activation
	AsymmetricQuantizeInputs bool
}

// L2NormOptions configure L2_NORMALIZATION.
type L2NormOptions struct{ Activation Activation }

// DetectionPostProcessOptions configure TFLite_Detection_PostProcess (read
// from the op's FlexBuffer custom options).
type DetectionPostProcessOptions struct {
	MaxDetections          int
	MaxClassesPerDetection int
	DetectionsPerClass     int
	NumClasses             int
	NMSScoreThreshold      float32
	NMSIoUThreshold        float32
	YScale, XScale         float32
	HScale, WScale         float32
	UseRegularNMS          bool
}

// SubgraphOptions configure WHILE, IF and CALL_ONCE: indices into the
// model's subgraph list (-1 when not used by the kind).
type SubgraphOptions struct {
	Cond, Body int // WHILE
	Then, Else int // IF
	Init       int // CALL_ONCE
}

func (o *SqueezeOptions) clone() any {
	c := *o
	c.Dims = append([]int(nil), o.Dims...)
	return &c
}
