// Package graph is qbench's format-independent model representation: tensors
// with shapes, dtypes, constant data and quantization parameters, operators
// with typed options, and the graph's inputs and outputs.
//
// Every other package meets here: file formats (tflite, onnx) convert to and
// from a Graph, and the interpreter, quantizer and trainer only ever see one.
// The package holds no arithmetic beyond shape bookkeeping.
package graph

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is the element type of a tensor.
type DType int

// Element types supported by qbench. Int4 values are stored unpacked in the
// graph (one signed value -8..7 per byte); file formats pack and unpack them.
// Float16 values are stored as IEEE binary16 bit patterns, little endian;
// qbench computes nothing in float16, DEQUANTIZE widens them to float32.
const (
	Unknown DType = iota
	Float32
	Int8
	UInt8
	Int16
	Int32
	Int64
	Bool
	Int4
	Float16 // appended so that the values above keep their numbers
	// UInt16, UInt32, UInt64 and Float64 are read, listed and written but
	// never computed: TFLite models carry them in pre- and post-processing
	// (TFLite Micro's signal ops), and inspect must list such models.
	UInt16
	UInt32
	UInt64
	Float64
)

var dtypeNames = [...]string{"unknown", "float32", "int8", "uint8", "int16", "int32", "int64", "bool", "int4", "float16",
	"uint16", "uint32", "uint64", "float64"}

// String returns the lower-case name used in JSON files and messages.
func (d DType) String() string {
	if d < 0 || int(d) >= len(dtypeNames) {
		return fmt.Sprintf("dtype(%d)", int(d))
	}
	return dtypeNames[d]
}

// ParseDType maps a name such as "int8" back to its DType.
func ParseDType(s string) (DType, error) {
	for i, n := range dtypeNames {
		if n == s && i != 0 {
			return DType(i), nil
		}
	}
	return Unknown, fmt.Errorf("unknown dtype %q", s)
}

// Size is the number of bytes one element occupies in Tensor.Data.
// Int4 occupies one byte because the graph keeps it unpacked.
func (d DType) Size() int {
	switch d {
	case Float32, Int32:
		return 4
	case Int8, UInt8, Bool, Int4:
		return 1
	case Int16, Float16, UInt16:
		return 2
	case UInt32:
		return 4
	case Int64, UInt64, Float64:
		return 8
	}
	return 0
}

// Computed reports whether qbench has kernels for the dtype; the others
// (UInt16, UInt32, UInt64, Float64, and Float16 outside DEQUANTIZE) are
// carried through files only.
func (d DType) Computed() bool {
	switch d {
	case Float32, Int8, UInt8, Int16, Int32, Int64, Bool, Int4:
		return true
	}
	return false
}

// IsInteger reports whether the dtype is a quantizable integer type.
func (d DType) IsInteger() bool {
	switch d {
	case Int8, UInt8, Int16, Int32, Int64, Int4:
		return true
	}
	return false
}

// Quantization maps stored integers q to real values r = Scale·(q − ZeroPoint).
// With one scale the tensor is quantized per tensor; with several, per channel
// along Axis (the quantized dimension), one scale and zero point per index.
type Quantization struct {
	Scale     []float32
	ZeroPoint []int64
	Axis      int
	// Min and Max are optional calibration ranges carried through file
	// formats; they are informational and never used by kernels.
	Min, Max []float32
}

// PerChannel reports whether the tensor has more than one scale.
func (q *Quantization) PerChannel() bool { return q != nil && len(q.Scale) > 1 }

// Clone returns a deep copy.
func (q *Quantization) Clone() *Quantization {
	if q == nil {
		return nil
	}
	return &Quantization{
		Scale:     append([]float32(nil), q.Scale...),
		ZeroPoint: append([]int64(nil), q.ZeroPoint...),
		Axis:      q.Axis,
		Min:       append([]float32(nil), q.Min...),
		Max:       append([]float32(nil), q.Max...),
	}
}

// Tensor is a node of the graph: an activation, or a constant when Data is set.
type Tensor struct {
	Name  string
	Shape []int
	DType DType
	// Data holds constant contents as little-endian bytes in DType's layout
	// (Int4 unpacked, one byte per value); nil for activations.
	Data  []byte
	Quant *Quantization
	// ShapeSignature keeps dynamic dimensions (-1) as a file declared them;
	// Shape always holds concrete sizes (the batch defaults to 1).
	ShapeSignature []int
	// Variable marks a state tensor (TFLite's is_variable, e.g. an LSTM's
	// or SVDF's state): no op produces it, ops read and update it across
	// invocations, and it starts as zeros.
	Variable bool
	// Folded marks Data that interp.Fold computed at load: in the file, and
	// in TFLite, the tensor is computed at run time (dynamic), which changes
	// the kernel TFLite picks for some consumers (its XNNPACK delegate takes
	// a resize or transposed convolution only with static parameters).
	Folded bool
}

// IsConst reports whether the tensor carries constant data.
func (t *Tensor) IsConst() bool { return t.Data != nil }

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int { return NumElements(t.Shape) }

// NumElements is the product of shape's dimensions (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ByteSize is the number of bytes the tensor's elements occupy in the graph.
func (t *Tensor) ByteSize() int { return t.NumElements() * t.DType.Size() }

// Float32s decodes constant float32 data. It panics on a dtype mismatch,
// which is a programming error; callers validate dtypes first.
func (t *Tensor) Float32s() []float32 {
	t.mustBe(Float32)
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out
}

// Int8s decodes constant int8 (or unpacked int4) data.
func (t *Tensor) Int8s() []int8 {
	if t.DType != Int8 && t.DType != Int4 {
		t.mustBe(Int8)
	}
	out := make([]int8, len(t.Data))
	for i, b := range t.Data {
		out[i] = int8(b)
	}
	return out
}

// Int16s decodes constant int16 data.
func (t *Tensor) Int16s() []int16 {
	t.mustBe(Int16)
	out := make([]int16, len(t.Data)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(t.Data[2*i:]))
	}
	return out
}

// Int32s decodes constant int32 data.
func (t *Tensor) Int32s() []int32 {
	t.mustBe(Int32)
	out := make([]int32, len(t.Data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out
}

// Int64s decodes constant int64 data.
func (t *Tensor) Int64s() []int64 {
	t.mustBe(Int64)
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out
}

func (t *Tensor) mustBe(d DType) {
	if t.DType != d {
		panic(fmt.Sprintf("graph: tensor %q is %s, not %s", t.Name, t.DType, d))
	}
}

// EncodeFloat32s encodes values as little-endian float32 bytes.
func EncodeFloat32s(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// EncodeInt8s encodes values as bytes.
func EncodeInt8s(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// EncodeInt16s encodes values as little-endian int16 bytes.
func EncodeInt16s(v []int16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
	}
	return b
}

// EncodeInt32s encodes values as little-endian int32 bytes.
func EncodeInt32s(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

// EncodeInt64s encodes values as little-endian int64 bytes.
func EncodeInt64s(v []int64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return b
}
