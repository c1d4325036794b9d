package graph

// CumsumOptions configure CUMSUM: Exclusive leaves each element out of its
// own sum, Reverse sums from the end of the axis.
type CumsumOptions struct{ Exclusive, Reverse bool }

// OneHotOptions configure ONE_HOT: the output axis the depth is inserted
// at (-1, the schema default, appends it).
type OneHotOptions struct{ Axis int }

// ReverseSequenceOptions configure REVERSE_SEQUENCE.
type ReverseSequenceOptions struct{ SeqDim, BatchDim int }

// BucketizeOptions configure BUCKETIZE: the sorted bucket boundaries.
type BucketizeOptions struct{ Boundaries []float32 }

func (o *BucketizeOptions) clone() any {
	c := *o
	c.Boundaries = append([]float32(nil), o.Boundaries...)
	return &c
}

// LRNOptions configure LOCAL_RESPONSE_NORMALIZATION.
type LRNOptions struct {
	Radius            int
	Bias, Alpha, Beta float32
}
