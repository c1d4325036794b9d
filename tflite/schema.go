// Package tflite reads and writes TensorFlow Lite model files (FlatBuffers,
// schema TFL3) to and from qbench's format-independent graph.Graph.
//
// The reader validates every offset, vector length, index and constant
// buffer size against the file before using it, so a truncated, corrupt or
// hostile file yields an error naming what is wrong, never a panic or a huge
// allocation. Errors wrap ErrCorrupt (malformed file) or ErrUnsupported (a
// well-formed file using something qbench does not implement) so callers can
// branch with errors.Is.
//
// Table and field ids follow tensorflow/lite/schema/schema.fbs.
package tflite

import (
	"errors"
	"fmt"

	"github.com/qbench/qbench/graph"
)

// ErrCorrupt is wrapped by errors about malformed files: truncation, bad
// offsets, out-of-range indices, buffers that do not match their tensors.
var ErrCorrupt = errors.New("corrupt tflite file")

// ErrUnsupported is wrapped by errors about valid files that use operators,
// types or features qbench does not implement. Its text reads as a prefix:
// "unsupported op TANH (builtin code 28) at operator 3".
var ErrUnsupported = errors.New("unsupported")

// fileIdentifier is the FlatBuffers file identifier of schema version 3.
const fileIdentifier = "TFL3"

// schemaVersion is the Model.version written by Write.
const schemaVersion = 3

// Field ids of the tables qbench reads and writes (schema.fbs order).
const (
	modelVersion        = 0
	modelOperatorCodes  = 1
	modelSubgraphs      = 2
	modelDescription    = 3
	modelBuffers        = 4
	modelMetadataBuffer = 5
	modelMetadata       = 6
	modelNumFields      = 8 // including signature_defs, which qbench does not write

	opcodeDeprecatedBuiltin = 0
	opcodeCustomCode        = 1
	opcodeVersion           = 2
	opcodeBuiltinCode       = 3
	opcodeNumFields         = 4

	subgraphTensors   = 0
	subgraphInputs    = 1
	subgraphOutputs   = 2
	subgraphOperators = 3
	subgraphName      = 4
	subgraphNumFields = 5

	tensorShape          = 0
	tensorType           = 1
	tensorBuffer         = 2
	tensorName           = 3
	tensorQuantization   = 4
	tensorIsVariable     = 5
	tensorSparsity       = 6
	tensorShapeSignature = 7
	tensorNumFields      = 8

	quantMin         = 0
	quantMax         = 1
	quantScale       = 2
	quantZeroPoint   = 3
	quantDetailsType = 4
	quantDetails     = 5
	quantDimension   = 6
	quantNumFields   = 7

	operatorOpcodeIndex        = 0
	operatorInputs             = 1
	operatorOutputs            = 2
	operatorBuiltinOptionsType = 3
	operatorBuiltinOptions     = 4
	operatorCustomOptions      = 5
	operatorIntermediates      = 8 // after custom_options_format and mutating_variable_inputs
	operatorNumFields          = 9

	bufferData      = 0
	bufferOffset    = 1
	bufferSize      = 2
	bufferNumFields = 3

	metadataName      = 0
	metadataBuffer    = 1
	metadataNumFields = 2
)

// TFLite TensorType values.
const (
	ttFloat32 = 0
	ttFloat16 = 1
	ttInt32   = 2
	ttUInt8   = 3
	ttInt64   = 4
	ttString  = 5
	ttBool    = 6
	ttInt16   = 7
	ttInt8    = 9
	ttInt4    = 17
	ttFloat64 = 10
	ttUInt64  = 12
	ttUInt32  = 15
	ttUInt16  = 16
)

var tensorTypeNames = [...]string{
	"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64",
	"INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16",
}

func tensorTypeName(t int8) string {
	if t >= 0 && int(t) < len(tensorTypeNames) {
		return tensorTypeNames[t]
	}
	return fmt.Sprintf("type %d", t)
}

// dtypeFromTFLite maps a TensorType to a graph dtype.
func dtypeFromTFLite(t int8) (graph.DType, bool) {
	switch t {
	case ttFloat32:
		return graph.Float32, true
	case ttInt32:
		return graph.Int32, true
	case ttUInt8:
		return graph.UInt8, true
	case ttInt64:
		return graph.Int64, true
	case ttBool:
		return graph.Bool, true
	case ttInt16:
		return graph.Int16, true
	case ttInt8:
		return graph.Int8, true
	case ttInt4:
		return graph.Int4, true
	case ttFloat16:
		return graph.Float16, true
	case ttUInt16:
		return graph.UInt16, true
	case ttUInt32:
		return graph.UInt32, true
	case ttUInt64:
		return graph.UInt64, true
	case ttFloat64:
		return graph.Float64, true
	}
	return graph.Unknown, false
}

// dtypeToTFLite maps a graph dtype to a TensorType.
func dtypeToTFLite(d graph.DType) (int8, bool) {
	switch d {
	case graph.Float32:
		return ttFloat32, true
	case graph.Int32:
		return ttInt32, true
	case graph.UInt8:
		return ttUInt8, true
	case graph.Int64:
		return ttInt64, true
	case graph.Bool:
		return ttBool, true
	case graph.Int16:
		return ttInt16, true
	case graph.Int8:
		return ttInt8, true
	case graph.Int4:
		return ttInt4, true
	case graph.Float16:
		return ttFloat16, true
	case graph.UInt16:
		return ttUInt16, true
	case graph.UInt32:
		return ttUInt32, true
	case graph.UInt64:
		return ttUInt64, true
	case graph.Float64:
		return ttFloat64, true
	}
	return 0, false
}

// BuiltinOptions union type values for the options qbench maps.
const (
	optNone            = 0
	optConv2D          = 1
	optDepthwiseConv2D = 2
	optPool2D          = 5
	optFullyConnected  = 8
	optSoftmax         = 9
	optConcatenation   = 10
	optAdd             = 11
	optReshape         = 17
	optPad             = 22
	optReducer         = 27
	optDequantize      = 38
	optPadV2           = 43
	optLeakyRelu       = 75
	optQuantize        = 89
)

// Builtin operator codes.
const (
	codeCustom      = 32
	codePlaceholder = 127 // PLACEHOLDER_FOR_GREATER_OP_CODES
)

// opMapping ties a graph op kind to its TFLite builtin code and the options
// union member TFLite uses for it (optNone for ops without options; the
// empty tables such as PadOptions are accepted on read and written when
// the TFLite converter writes them).
type opMapping struct {
	kind    graph.OpKind
	code    int32
	options uint8
}

var opMappings = []opMapping{
	{graph.OpAdd, 0, optAdd},
	{graph.OpAveragePool2D, 1, optPool2D},
	{graph.OpConcatenation, 2, optConcatenation},
	{graph.OpConv2D, 3, optConv2D},
	{graph.OpDepthwiseConv2D, 4, optDepthwiseConv2D},
	{graph.OpDequantize, 6, optNone},
	{graph.OpFullyConnected, 9, optFullyConnected},
	{graph.OpLogistic, 14, optNone},
	{graph.OpMaxPool2D, 17, optPool2D},
	{graph.OpRelu, 19, optNone},
	{graph.OpRelu6, 21, optNone},
	{graph.OpReshape, 22, optReshape},
	{graph.OpSoftmax, 25, optSoftmax},
	{graph.OpPad, 34, optNone},
	{graph.OpMean, 40, optReducer},
	{graph.OpPadV2, 60, optNone},
	{graph.OpLeakyRelu, 98, optLeakyRelu},
	{graph.OpQuantize, 114, optNone},
}

func mappingForCode(code int32) (opMapping, bool) {
	for _, m := range opMappings {
		if m.code == code {
			return m, true
		}
	}
	return opMapping{}, false
}

func mappingForKind(k graph.OpKind) (opMapping, bool) {
	for _, m := range opMappings {
		if m.kind == k {
			return m, true
		}
	}
	return opMapping{}, false
}

// BuiltinName returns TFLite's name for a builtin operator code, e.g.
// "TANH" for 28, or "BUILTIN_<code>" for codes this package does not know.
func BuiltinName(code int32) string {
	if code >= 0 && int(code) < len(builtinNames) {
		return builtinNames[code]
	}
	return fmt.Sprintf("BUILTIN_%d", code)
}
