// Package kernels holds qbench's operator implementations: float32 and
// integer variants side by side, one file per op family. Integer kernels
// follow TFLite's reference semantics bit for bit.
//
// A kernel is prepared once per op (shape checks, packed weights, fixed-point
// multipliers) and then run many times, concurrently from several
// executors: a Kernel must not mutate itself in Run.
package kernels

import "github.com/qbench/qbench/graph"

// Buffer is a typed view of one tensor's memory during execution. Exactly one
// of the slices matching DType is set.
type Buffer struct {
	DType graph.DType
	Shape []int
	F32   []float32
	I8    []int8 // int8 and unpacked int4
	U8    []uint8
	I16   []int16 // int16, and float16 as its bit patterns
	I32   []int32
	I64   []int64
	Bool  []bool
}

// Kernel is a prepared operator. ins follow the op's TFLite input order
// (nil for an omitted optional input); outs follow its outputs. Constant
// inputs are passed too, but kernels normally use what Prepare captured.
type Kernel interface {
	Run(ins, outs []*Buffer) error
}

// PrepareFunc builds a Kernel for op, given its input and output tensors
// with final shapes, dtypes and quantization (constants carry Data; an
// omitted optional input is nil). It returns an error naming the op and the
// offending tensor when the combination is unsupported or inconsistent.
type PrepareFunc func(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error)
