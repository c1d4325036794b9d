package tflite

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/qbench/qbench/graph"
)

// rawWrite serializes g without Write's validation, to build broken files.
func rawWrite(t *testing.T, g *graph.Graph) []byte {
	t.Helper()
	w := &writer{b: flatbuffers.NewBuilder(0), g: g}
	data, err := w.model()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// twoOps is a float graph: x → RELU → y → RELU6 → z, so the second op has
// opcode index 1 (index 0 is the default and is not stored).
func twoOps() *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", Shape: []int{1, 4}, DType: graph.Float32})
	y := g.AddTensor(&graph.Tensor{Name: "y", Shape: []int{1, 4}, DType: graph.Float32})
	z := g.AddTensor(&graph.Tensor{Name: "z", Shape: []int{1, 4}, DType: graph.Float32})
	g.AddOp(graph.OpRelu, []int{x}, []int{y}, nil)
	g.AddOp(graph.OpRelu6, []int{y}, []int{z}, nil)
	g.Inputs, g.Outputs = []int{x}, []int{z}
	return g
}

// modelTables returns the decoded model, subgraph 0 and its tables.
func modelTables(t *testing.T, data []byte) (m, sg table) {
	t.Helper()
	f := newFbuf(data)
	m, err := f.tableAt(int64(f.u32(0)), "model")
	if err != nil {
		t.Fatal(err)
	}
	subs, _ := m.vec(modelSubgraphs, 4, "subgraphs")
	sg, err = subs.table(0, "subgraph")
	if err != nil {
		t.Fatal(err)
	}
	return m, sg
}

// patch32 overwrites the 4-byte field id of tb in data.
func patch32(t *testing.T, data []byte, tb table, id int, v int32) {
	t.Helper()
	p, err := tb.field(id, 4)
	if err != nil || p == 0 {
		t.Fatalf("field %d of %s not stored (err %v)", id, tb.what, err)
	}
	binary.LittleEndian.PutUint32(data[p:], uint32(v))
}

func wantErr(t *testing.T, data []byte, sentinel error, parts ...string) {
	t.Helper()
	_, err := Read(data)
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %v does not wrap %v", err, sentinel)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
}

func TestReadTensorBufferTooSmall(t *testing.T) {
	g := handGraphs()["fc_16x8"].Clone()
	g.Tensors[1].Data = g.Tensors[1].Data[:4] // weights [2,3] int8 need 6 bytes
	wantErr(t, rawWrite(t, g), ErrCorrupt, `tensor 1 "fcw"`, "buffer 1 has 4 bytes", "6 elements of int8 need 6")
}

func TestReadInt4BufferSize(t *testing.T) {
	g := handGraphs()["depthwise_int4"].Clone()
	data := rawWrite(t, g)
	if _, err := Read(data); err != nil {
		t.Fatal(err) // 12 int4 values → 6 packed bytes is right
	}
	g.Tensors[1].Shape = []int{1, 2, 2, 4} // 16 values need 8 bytes, file has 6
	g.Tensors[1].Quant = nil
	wantErr(t, rawWrite(t, g), ErrCorrupt, "buffer 1 has 6 bytes", "16 elements of int4 need 8")
}

func TestReadOpcodeIndexOutOfRange(t *testing.T) {
	data := rawWrite(t, twoOps())
	_, sg := modelTables(t, data)
	ops, _ := sg.vec(subgraphOperators, 4, "ops")
	op1, _ := ops.table(1, "operator 1")
	patch32(t, data, op1, operatorOpcodeIndex, 7)
	wantErr(t, data, ErrCorrupt, "operator 1: opcode index 7 out of range [0,2)")
}

func TestReadTensorIndexOutOfRange(t *testing.T) {
	g := twoOps()
	g.Ops[1].Inputs = []int{42}
	wantErr(t, rawWrite(t, g), ErrCorrupt, "operator 1 (RELU6): input tensor index 42 out of range [0,3)")
	g = twoOps()
	g.Outputs = []int{-3}
	wantErr(t, rawWrite(t, g), ErrCorrupt, "subgraph output tensor index -3 out of range")
	g = twoOps()
	g.Ops[0].Inputs = []int{-1}
	wantErr(t, rawWrite(t, g), ErrCorrupt, "RELU input 0 is omitted (-1) but required")
}

func TestReadBufferIndexOutOfRange(t *testing.T) {
	g := handGraphs()["pad"].Clone()
	data := rawWrite(t, g)
	_, sg := modelTables(t, data)
	tv, _ := sg.vec(subgraphTensors, 4, "tensors")
	pads, _ := tv.table(1, "tensor 1")
	patch32(t, data, pads, tensorBuffer, 1000)
	wantErr(t, data, ErrCorrupt, `tensor 1 "pads": buffer index 1000 out of range`)
}

// Ops qbench does not model are read as OpUnknown named by their code, so
// such models can be inspected; writing them is refused naming the op.
func TestReadOpsNotModelled(t *testing.T) {
	patchCode := func(code int32, byteCode byte) []byte {
		data := rawWrite(t, twoOps())
		m, _ := modelTables(t, data)
		codes, _ := m.vec(modelOperatorCodes, 4, "codes")
		c0, _ := codes.table(0, "code 0")
		patch32(t, data, c0, opcodeBuiltinCode, code)
		p, _ := c0.field(opcodeDeprecatedBuiltin, 1)
		data[p] = byteCode
		return data
	}
	for _, c := range []struct {
		code     int32
		byteCode byte
		name     string
	}{
		{15, 15, "LSH_PROJECTION"},
		{32, 32, "CUSTOM"},
		{131, 127, "RFFT2D"}, // codes above 127 live only in builtin_code
	} {
		g, err := Read(patchCode(c.code, c.byteCode))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		op := g.Ops[0]
		if op.Kind != graph.OpUnknown || op.Name() != c.name {
			t.Errorf("code %d read as %v %q, want UNKNOWN %q", c.code, op.Kind, op.Name(), c.name)
		}
		if _, err := Write(g); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: Write: %v, want an unsupported error naming the op", c.name, err)
		}
	}
}

func TestReadShapeMismatch(t *testing.T) {
	g := handGraphs()["conv_int8"].Clone()
	g.Tensors[1].Quant.Scale = append(g.Tensors[1].Quant.Scale, 0.1) // 3 scales, 2 output channels
	g.Tensors[1].Quant.ZeroPoint = append(g.Tensors[1].Quant.ZeroPoint, 0)
	wantErr(t, rawWrite(t, g), ErrCorrupt, `tensor 1 "filter"`, "3 per-channel scales do not match dimension 0")

	g = handGraphs()["conv_int8"].Clone()
	g.Tensors[0].ShapeSignature = []int{-1, 5}
	wantErr(t, rawWrite(t, g), ErrCorrupt, "shape signature [-1 5] has rank 2 but shape [1 5 5 1] has rank 4")

	g = handGraphs()["relu"].Clone()
	g.Tensors[0].Shape = []int{3, -2}
	wantErr(t, rawWrite(t, g), ErrCorrupt, "negative dimension in shape [3 -2]")

	g = handGraphs()["relu"].Clone()
	g.Tensors[0].Shape = []int{1 << 20, 1 << 20}
	wantErr(t, rawWrite(t, g), ErrCorrupt, "more than 2147483647 elements")
}

func TestReadBadOptions(t *testing.T) {
	g := handGraphs()["maxpool"].Clone()
	g.Ops[0].Options = &graph.Pool2DOptions{StrideW: 1, StrideH: 1, FilterW: 0, FilterH: 2}
	wantErr(t, rawWrite(t, g), ErrCorrupt, "operator 0 (MAX_POOL_2D)", "filter_width is 0")
	g = handGraphs()["conv_int8"].Clone()
	g.Ops[0].Options.(*graph.Conv2DOptions).Padding = 5
	wantErr(t, rawWrite(t, g), ErrCorrupt, "invalid padding 5")
}

func TestReadNoSubgraphs(t *testing.T) {
	b := flatbuffers.NewBuilder(0)
	b.StartObject(modelNumFields)
	b.PrependUint32Slot(modelVersion, 3, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte(fileIdentifier))
	wantErr(t, b.FinishedBytes(), ErrCorrupt, "no subgraphs")
}

// TestReadHugeVectorLength: a vector length claiming 2^32-1 elements must
// be rejected before anything is allocated from it.
func TestReadHugeVectorLength(t *testing.T) {
	data := rawWrite(t, twoOps())
	_, sg := modelTables(t, data)
	p, err := sg.ref(subgraphTensors)
	if err != nil || p == 0 {
		t.Fatal("no tensors vector")
	}
	binary.LittleEndian.PutUint32(data[p:], 0xffffffff)
	wantErr(t, data, ErrCorrupt, "tensors: 4294967295 elements", "outside the")
}

// TestReadBufferOffsetSize covers buffers stored outside the FlatBuffer
// (offset/size, used by models over 2 GB): in range reads the bytes, out of
// range is an error.
func TestReadBufferOffsetSize(t *testing.T) {
	g := handGraphs()["pad"]
	pads := g.Tensors[1].Data
	ext := externalBufferModel(t, g, uint64(len(pads)))
	got, err := Read(ext)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Tensors[1].Data) != string(pads) {
		t.Fatalf("pads % x, want % x", got.Tensors[1].Data, pads)
	}
	bad := append([]byte(nil), ext[:len(ext)-4]...) // cut the external bytes
	wantErr(t, bad, ErrCorrupt, "buffer 1: offset", "is outside the")
}

// externalBufferModel writes g (whose tensor 1 is its only constant) with
// buffer 1 stored after the FlatBuffer via offset/size.
func externalBufferModel(t *testing.T, g *graph.Graph, size uint64) []byte {
	t.Helper()
	c := g.Clone()
	ext := c.Tensors[1].Data
	c.Tensors[1].Data = nil
	w := &writer{b: flatbuffers.NewBuilder(0), g: c}
	b := w.b
	// Buffer 0 (empty) and buffer 1 (offset/size, offset patched below).
	b.StartObject(bufferNumFields)
	empty := b.EndObject()
	b.StartObject(bufferNumFields)
	b.PrependUint64Slot(bufferOffset, 0xdeadbeefcafe, 0)
	b.PrependUint64Slot(bufferSize, size, 0)
	ext1 := b.EndObject()
	buffers := w.tableVector([]flatbuffers.UOffsetT{empty, ext1})
	b.StartObject(opcodeNumFields)
	b.PrependInt32Slot(opcodeBuiltinCode, 34, 0)
	b.PrependInt8Slot(opcodeDeprecatedBuiltin, 34, 0)
	codes := w.tableVector([]flatbuffers.UOffsetT{b.EndObject()})
	var tensors []flatbuffers.UOffsetT
	for i, tt := range c.Tensors {
		buf := 0
		if i == 1 {
			buf = 1
		}
		off, err := w.tensor(i, tt, buf)
		if err != nil {
			t.Fatal(err)
		}
		tensors = append(tensors, off)
	}
	tv := w.tableVector(tensors)
	op := w.operator(c.Ops[0], 0)
	ops := w.tableVector([]flatbuffers.UOffsetT{op})
	in, out := w.int32Vector(c.Inputs), w.int32Vector(c.Outputs)
	b.StartObject(subgraphNumFields)
	b.PrependUOffsetTSlot(subgraphTensors, tv, 0)
	b.PrependUOffsetTSlot(subgraphInputs, in, 0)
	b.PrependUOffsetTSlot(subgraphOutputs, out, 0)
	b.PrependUOffsetTSlot(subgraphOperators, ops, 0)
	subs := w.tableVector([]flatbuffers.UOffsetT{b.EndObject()})
	b.StartObject(modelNumFields)
	b.PrependUint32Slot(modelVersion, 3, 0)
	b.PrependUOffsetTSlot(modelOperatorCodes, codes, 0)
	b.PrependUOffsetTSlot(modelSubgraphs, subs, 0)
	b.PrependUOffsetTSlot(modelBuffers, buffers, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte(fileIdentifier))
	data := append([]byte(nil), b.FinishedBytes()...)
	// Patch the placeholder offset to the end of the FlatBuffer and append.
	f := newFbuf(data)
	m, err := f.tableAt(int64(f.u32(0)), "model")
	if err != nil {
		t.Fatal(err)
	}
	bv, _ := m.vec(modelBuffers, 4, "buffers")
	b1, _ := bv.table(1, "buffer 1")
	p, _ := b1.field(bufferOffset, 8)
	binary.LittleEndian.PutUint64(data[p:], uint64(len(data)))
	return append(data, ext...)
}

// TestReadRank1AxisOutOfRange: TFLite Micro's person-detection model stores
// rank-1 per-channel biases with quantized_dimension 3 (the filter's axis).
// With one scale per element the axis can only be 0, and the reader says so
// instead of refusing the file; anything else with a bad axis stays refused.
func TestReadRank1AxisOutOfRange(t *testing.T) {
	g := handGraphs()["conv_int8"].Clone()
	b := g.Tensors[g.Ops[0].Inputs[2]]
	if len(b.Shape) != 1 || len(b.Quant.Scale) < 2 {
		t.Fatalf("test graph's bias is %v with %d scales; want a rank-1 per-channel bias", b.Shape, len(b.Quant.Scale))
	}
	b.Quant.Axis = 3
	got, err := Read(rawWrite(t, g))
	if err != nil {
		t.Fatalf("rank-1 per-channel bias with quantized_dimension 3: %v", err)
	}
	if a := got.Tensors[g.Ops[0].Inputs[2]].Quant.Axis; a != 0 {
		t.Errorf("axis read as %d, want 0", a)
	}

	g = handGraphs()["conv_int8"].Clone()
	g.Tensors[g.Ops[0].Inputs[1]].Quant.Axis = 5 // rank-4 filter: no guessing
	wantErr(t, rawWrite(t, g), ErrCorrupt, "per-channel scales do not match dimension 5")
}
