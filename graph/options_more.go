package graph

// UniqueOptions configure UNIQUE: the dtype of its idx output (int32, the
// schema default, or int64).
type UniqueOptions struct{ IdxType DType }
