package onnx

import (
	"encoding/binary"
	"math"
)

// msg is a protobuf message being encoded: fields are appended in order
// with the wire format written out by hand (varints, fixed32 and
// length-delimited fields are all ONNX needs), so the package has no
// protobuf dependency.
type msg struct{ b []byte }

func (m *msg) tag(field, wire int) { m.b = binary.AppendUvarint(m.b, uint64(field)<<3|uint64(wire)) }

// varint appends an int64 field (negative values take ten bytes, as
// protobuf's int64 encoding requires).
func (m *msg) varint(field int, v int64) {
	m.tag(field, 0)
	m.b = binary.AppendUvarint(m.b, uint64(v))
}

// f32 appends a float field (wire type 5, fixed32).
func (m *msg) f32(field int, v float32) {
	m.tag(field, 5)
	m.b = binary.LittleEndian.AppendUint32(m.b, math.Float32bits(v))
}

// bytes appends a length-delimited field.
func (m *msg) bytes(field int, v []byte) {
	m.tag(field, 2)
	m.b = binary.AppendUvarint(m.b, uint64(len(v)))
	m.b = append(m.b, v...)
}

func (m *msg) str(field int, s string) { m.bytes(field, []byte(s)) }

// sub appends an embedded message.
func (m *msg) sub(field int, s *msg) { m.bytes(field, s.b) }

// ONNX protobuf field numbers (onnx.proto3), named for readability.
const (
	// ModelProto
	modelIRVersion     = 1
	modelProducerName  = 2
	modelProducerVer   = 3
	modelDocString     = 6
	modelGraph         = 7
	modelOpsetImport   = 8
	opsetDomain        = 1
	opsetVersion       = 2
	graphNode          = 1
	graphName          = 2
	graphInitializer   = 5
	graphInput         = 11
	graphOutput        = 12
	nodeInput          = 1
	nodeOutput         = 2
	nodeName           = 3
	nodeOpType         = 4
	nodeAttribute      = 5
	attrName           = 1
	attrF              = 2
	attrI              = 3
	attrIntsField      = 8
	attrType           = 20
	attrTypeFloat      = 1
	attrTypeInt        = 2
	attrTypeInts       = 7
	tensorDims         = 1
	tensorDataType     = 2
	tensorName         = 8
	tensorRawData      = 9
	valueInfoName      = 1
	valueInfoType      = 2
	typeTensorType     = 1
	typeTensorElemType = 1
	typeTensorShape    = 2
	shapeDim           = 1
	dimValue           = 1
	dimParam           = 2
)

// ONNX TensorProto.DataType values.
const (
	dtFloat = 1
	dtUint8 = 2
	dtInt8  = 3
	dtInt16 = 5
	dtInt32 = 6
	dtInt64 = 7
)
