package onnx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
)

// field is one decoded protobuf field: a varint/fixed value or bytes.
type field struct {
	num  int
	v    uint64
	data []byte
}

// decode splits a protobuf message into fields (test-side check of the
// hand-written encoder).
func decode(t *testing.T, b []byte) []field {
	t.Helper()
	var out []field
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad key at %x", b)
		}
		b = b[n:]
		f := field{num: int(key >> 3)}
		switch key & 7 {
		case 0:
			f.v, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatal("bad varint")
			}
			b = b[n:]
		case 5:
			f.v = uint64(binary.LittleEndian.Uint32(b))
			b = b[4:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || int(l) > len(b)-n {
				t.Fatal("bad length")
			}
			f.data = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			t.Fatalf("unexpected wire type %d", key&7)
		}
		out = append(out, f)
	}
	return out
}

func fields(t *testing.T, b []byte, num int) []field {
	var out []field
	for _, f := range decode(t, b) {
		if f.num == num {
			out = append(out, f)
		}
	}
	return out
}

func str(t *testing.T, b []byte, num int) string {
	fs := fields(t, b, num)
	if len(fs) == 0 {
		return ""
	}
	return string(fs[0].data)
}

func TestWireEncoding(t *testing.T) {
	m := &msg{}
	m.varint(1, 300)
	m.str(2, "hi")
	m.f32(3, 1)
	m.varint(4, -1)
	want := []byte{0x08, 0xac, 0x02, 0x12, 0x02, 'h', 'i', 0x1d, 0, 0, 0x80, 0x3f, 0x20,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	if !bytes.Equal(m.b, want) {
		t.Fatalf("got % x\nwant % x", m.b, want)
	}
}

func TestPads(t *testing.T) {
	for _, c := range []struct{ in, f, s, out, b, e int }{{5, 3, 2, 3, 1, 1}, {4, 3, 2, 2, 0, 1}, {80, 3, 1, 80, 1, 1}, {80, 2, 2, 40, 0, 0}} {
		b, e := pads(graph.PaddingSame, c.in, c.f, c.s, 1, c.out)
		if b != c.b || e != c.e {
			t.Errorf("SAME in=%d f=%d s=%d: pads %d,%d want %d,%d", c.in, c.f, c.s, b, e, c.b, c.e)
		}
	}
	if b, e := pads(graph.PaddingValid, 5, 3, 1, 1, 3); b != 0 || e != 0 {
		t.Errorf("VALID: %d,%d", b, e)
	}
}

func TestPermuteOHWIToOIHW(t *testing.T) {
	// O=1, H=2, W=1, I=2: src [h0i0, h0i1, h1i0, h1i1] = 1 2 3 4 →
	// OIHW [i0h0, i0h1, i1h0, i1h1] = 1 3 2 4.
	src := []byte{1, 2, 3, 4}
	h, w, ci := 2, 1, 2
	got := permute(src, 1, []int{1, ci, h, w}, func(i []int) int { return ((i[0]*h+i[2])*w+i[3])*ci + i[1] })
	if !bytes.Equal(got, []byte{1, 3, 2, 4}) {
		t.Fatalf("got %v", got)
	}
}

// cnn builds input[1,6,6,2] → CONV 3x3 SAME (3 filters) → MAX_POOL 2x2
// → RELU → RESHAPE [1,27] → FC 4 → SOFTMAX, float or int8.
func cnn(int8Model bool) *graph.Graph {
	g := &graph.Graph{}
	dt := graph.Float32
	q := func(s float32, zp int64) *graph.Quantization {
		if !int8Model {
			return nil
		}
		return &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{zp}}
	}
	if int8Model {
		dt = graph.Int8
	}
	act := func(name string, qq *graph.Quantization, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, Shape: shape, DType: dt, Quant: qq})
	}
	x := act("input", q(0.01, -128), 1, 6, 6, 2)
	var w, b, fw, fb int
	if int8Model {
		w = g.AddTensor(&graph.Tensor{Name: "w", Shape: []int{3, 3, 3, 2}, DType: graph.Int8, Data: make([]byte, 54),
			Quant: &graph.Quantization{Scale: []float32{0.1, 0.2, 0.3}, ZeroPoint: []int64{0, 0, 0}}})
		b = g.AddTensor(&graph.Tensor{Name: "b", Shape: []int{3}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, 2, 3}),
			Quant: &graph.Quantization{Scale: []float32{0.001, 0.002, 0.003}, ZeroPoint: []int64{0, 0, 0}}})
		fw = g.AddTensor(&graph.Tensor{Name: "fw", Shape: []int{4, 27}, DType: graph.Int8, Data: make([]byte, 108),
			Quant: &graph.Quantization{Scale: []float32{0.05}, ZeroPoint: []int64{0}}})
		fb = g.AddTensor(&graph.Tensor{Name: "fb", Shape: []int{4}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{0, 0, 0, 0})})
	} else {
		w = g.AddTensor(&graph.Tensor{Name: "w", Shape: []int{3, 3, 3, 2}, DType: graph.Float32, Data: graph.EncodeFloat32s(make([]float32, 54))})
		b = g.AddTensor(&graph.Tensor{Name: "b", Shape: []int{3}, DType: graph.Float32, Data: graph.EncodeFloat32s(make([]float32, 3))})
		fw = g.AddTensor(&graph.Tensor{Name: "fw", Shape: []int{4, 27}, DType: graph.Float32, Data: graph.EncodeFloat32s(make([]float32, 108))})
		fb = g.AddTensor(&graph.Tensor{Name: "fb", Shape: []int{4}, DType: graph.Float32, Data: graph.EncodeFloat32s(make([]float32, 4))})
	}
	c := act("conv", q(0.02, -5), 1, 6, 6, 3)
	g.AddOp(graph.OpConv2D, []int{x, w, b}, []int{c}, &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
	p := act("pool", q(0.02, -5), 1, 3, 3, 3)
	g.AddOp(graph.OpMaxPool2D, []int{c}, []int{p}, &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
	r := act("relu", q(0.02, -128), 1, 3, 3, 3)
	g.AddOp(graph.OpRelu, []int{p}, []int{r}, nil)
	shape := g.AddTensor(&graph.Tensor{Name: "shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, 27})})
	f := act("flat", q(0.02, -128), 1, 27)
	g.AddOp(graph.OpReshape, []int{r, shape}, []int{f}, &graph.ReshapeOptions{NewShape: []int{1, 27}})
	l := act("logits", q(0.1, 3), 1, 4)
	g.AddOp(graph.OpFullyConnected, []int{f, fw, fb}, []int{l}, &graph.FullyConnectedOptions{})
	o := act("probs", q(1.0/256, -128), 1, 4)
	g.AddOp(graph.OpSoftmax, []int{l}, []int{o}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{x}, []int{o}
	return g
}

// parsed is the part of a ModelProto the tests look at.
type parsed struct {
	opset     uint64
	ops       []string
	nodes     [][]byte
	inits     map[string][]byte
	in, out   []string
	outputsOf map[string]string // value name → producing op type
}

func parse(t *testing.T, b []byte) parsed {
	t.Helper()
	var p parsed
	p.inits = map[string][]byte{}
	p.outputsOf = map[string]string{}
	for _, f := range fields(t, b, modelOpsetImport) {
		p.opset = fields(t, f.data, opsetVersion)[0].v
	}
	gr := fields(t, b, modelGraph)
	if len(gr) != 1 {
		t.Fatalf("%d graphs", len(gr))
	}
	for _, f := range decode(t, gr[0].data) {
		switch f.num {
		case graphNode:
			op := str(t, f.data, nodeOpType)
			p.ops = append(p.ops, op)
			p.nodes = append(p.nodes, f.data)
			for _, o := range fields(t, f.data, nodeOutput) {
				p.outputsOf[string(o.data)] = op
			}
		case graphInitializer:
			p.inits[str(t, f.data, tensorName)] = f.data
		case graphInput:
			p.in = append(p.in, str(t, f.data, valueInfoName))
		case graphOutput:
			p.out = append(p.out, str(t, f.data, valueInfoName))
		}
	}
	return p
}

func TestExportFloatCNN(t *testing.T) {
	g := cnn(false)
	b, err := Export(g)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, b)
	if p.opset != Opset {
		t.Fatalf("opset %d", p.opset)
	}
	want := []string{"Transpose", "Conv", "MaxPool", "Relu", "Transpose", "Reshape", "Gemm", "Softmax"}
	if !slices.Equal(p.ops, want) {
		t.Fatalf("ops %v, want %v", p.ops, want)
	}
	if !slices.Equal(p.in, []string{"input"}) || !slices.Equal(p.out, []string{"probs"}) {
		t.Fatalf("io %v %v", p.in, p.out)
	}
	if p.outputsOf["probs"] != "Softmax" {
		t.Fatalf("output produced by %q", p.outputsOf["probs"])
	}
	// Conv weights are stored OIHW.
	var dims []uint64
	for _, f := range fields(t, p.inits["w"], tensorDims) {
		dims = append(dims, f.v)
	}
	if !slices.Equal(dims, []uint64{3, 2, 3, 3}) {
		t.Fatalf("conv weight dims %v, want OIHW [3 2 3 3]", dims)
	}
	// Conv attributes: SAME 3x3 on 6x6 pads 1 on each side.
	conv := p.nodes[1]
	found := false
	for _, a := range fields(t, conv, nodeAttribute) {
		if str(t, a.data, attrName) == "pads" {
			var v []uint64
			for _, f := range fields(t, a.data, attrIntsField) {
				v = append(v, f.v)
			}
			found = slices.Equal(v, []uint64{1, 1, 1, 1})
		}
	}
	if !found {
		t.Fatal("conv pads [1 1 1 1] not found")
	}
	in, out := IONames(g)
	if !slices.Equal(in, p.in) || !slices.Equal(out, p.out) {
		t.Fatalf("IONames %v %v, export %v %v", in, out, p.in, p.out)
	}
}

func TestExportInt8CNN(t *testing.T) {
	b, err := Export(cnn(true))
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, b)
	// QDQ: integer activations are dequantized before each float op and
	// quantized after it; max pool runs on the integers directly.
	want := []string{"DequantizeLinear", "DequantizeLinear", "Transpose", "DequantizeLinear", "Conv", "QuantizeLinear",
		"MaxPool", "DequantizeLinear", "Relu", "QuantizeLinear", "Transpose", "Reshape",
		"DequantizeLinear", "DequantizeLinear", "DequantizeLinear", "Gemm", "QuantizeLinear",
		"DequantizeLinear", "Softmax", "QuantizeLinear"}
	if !slices.Equal(p.ops, want) {
		t.Fatalf("ops\n%v\nwant\n%v", p.ops, want)
	}
	// Per-channel weight scales: a DequantizeLinear with axis 0 over a
	// [3] scale initializer holding 0.1 0.2 0.3.
	sc := p.inits["w_scale"]
	raw := fields(t, sc, tensorRawData)[0].data
	for i, w := range []float32{0.1, 0.2, 0.3} {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != w {
			t.Fatalf("w_scale[%d] = %v", i, got)
		}
	}
	// The FC bias has no stored scales: they are input × weight scale.
	fb := p.inits["fb_scale"]
	if got := math.Float32frombits(binary.LittleEndian.Uint32(fields(t, fb, tensorRawData)[0].data)); got != float32(0.02)*0.05 {
		t.Fatalf("fb scale %v", got)
	}
}

func TestExportErrors(t *testing.T) {
	g := cnn(false)
	g.Ops[2].Kind = graph.OpSVDF
	g.Ops[2].Options = nil
	if _, err := Export(g); err == nil {
		t.Fatal("want an error")
	} else if !errors.Is(err, ErrUnsupported) && !errors.Is(err, graph.ErrInvalid) {
		t.Fatalf("error %v does not wrap ErrUnsupported", err)
	} else if errors.Is(err, ErrUnsupported) && !strings.Contains(err.Error(), "SVDF") {
		t.Fatalf("error %v does not name the op", err)
	}
	if _, err := Export(nil); err == nil {
		t.Fatal("nil graph: want error")
	}
	// int16 activations cannot be expressed at opset 13.
	g = cnn(true)
	for _, tt := range g.Tensors {
		if tt.Name == "relu" {
			tt.DType = graph.Int16
		}
	}
	if _, err := Export(g); err == nil {
		t.Fatal("int16: want error")
	}
}

func TestExportUInt8Activations(t *testing.T) {
	g := cnn(true)
	b, err := ExportWith(g, Options{UInt8Activations: true})
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, b)
	// The int8 input is converted to uint8 first and the output back.
	if p.ops[0] != "DequantizeLinear" || p.ops[1] != "QuantizeLinear" || p.ops[len(p.ops)-1] != "QuantizeLinear" {
		t.Fatalf("ops %v", p.ops)
	}
	zpType := func(name string) uint64 { return fields(t, p.inits[name], tensorDataType)[0].v }
	if zpType("conv_zero_point") != dtUint8 || zpType("input_zero_point_s8") != dtInt8 || zpType("w_zero_point") != dtInt8 {
		t.Fatalf("zero-point types: conv %d input %d weights %d", zpType("conv_zero_point"), zpType("input_zero_point_s8"), zpType("w_zero_point"))
	}
	// conv's zero point −5 becomes 123 as uint8.
	if raw := fields(t, p.inits["conv_zero_point"], tensorRawData)[0].data; raw[0] != 123 {
		t.Fatalf("conv zero point %d, want 123", raw[0])
	}
	if !slices.Equal(p.out, []string{"probs"}) || p.outputsOf["probs"] != "QuantizeLinear" {
		t.Fatalf("output %v produced by %q", p.out, p.outputsOf["probs"])
	}
}

// TestExportMutatedGraphsDoNotPanic exports randomly damaged graphs: every
// one must give a model or an error, never a panic.
func TestExportMutatedGraphsDoNotPanic(t *testing.T) {
	r := newRand()
	for trial := 0; trial < 2000; trial++ {
		g := cnn(trial%2 == 0)
		switch trial % 7 {
		case 0:
			tt := g.Tensors[r.IntN(len(g.Tensors))]
			if len(tt.Shape) > 0 {
				tt.Shape[r.IntN(len(tt.Shape))] = r.IntN(9) - 1
			}
		case 1:
			tt := g.Tensors[r.IntN(len(g.Tensors))]
			tt.DType = graph.DType(r.IntN(12))
		case 2:
			tt := g.Tensors[r.IntN(len(g.Tensors))]
			if tt.Data != nil {
				tt.Data = tt.Data[:r.IntN(len(tt.Data)+1)]
			}
		case 3:
			op := g.Ops[r.IntN(len(g.Ops))]
			op.Options = nil
		case 4:
			op := g.Ops[r.IntN(len(g.Ops))]
			if len(op.Inputs) > 0 {
				op.Inputs[r.IntN(len(op.Inputs))] = r.IntN(len(g.Tensors)+2) - 1
			}
		case 5:
			tt := g.Tensors[r.IntN(len(g.Tensors))]
			if tt.Quant != nil {
				tt.Quant.Scale = tt.Quant.Scale[:r.IntN(len(tt.Quant.Scale)+1)]
				tt.Quant.Axis = r.IntN(5) - 1
			}
		case 6:
			op := g.Ops[r.IntN(len(g.Ops))]
			op.Kind = graph.OpKind(r.IntN(20))
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("trial %d: panic: %v", trial, p)
				}
			}()
			_, _ = Export(g)
			_, _ = ExportWith(g, Options{UInt8Activations: true})
		}()
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(21, 22)) }
