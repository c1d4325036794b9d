package graph

// UniqueOptions configure UNIQUE: the dtype of its idx output (int32, the
// schema default, or int64).
type UniqueOptions struct{ IdxType DType }

// Conv3DOptions configure CONV_3D (strides and dilations per depth,
// height and width of an NDHWC input).
type Conv3DOptions struct {
	Padding                         Padding
	StrideD, StrideH, StrideW       int
	DilationD, DilationH, DilationW int
	Activation                      Activation
}

// SparseToDenseOptions configure SPARSE_TO_DENSE (TFLite's kernel ignores
// ValidateIndices beyond reading it: it always checks the bounds).
type SparseToDenseOptions struct{ ValidateIndices bool }
