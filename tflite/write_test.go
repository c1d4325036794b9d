package tflite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/opcases"
)

// diffGraphs describes the first difference between two graphs, or "".
func diffGraphs(a, b *graph.Graph) string {
	if len(a.Tensors) != len(b.Tensors) {
		return fmt.Sprintf("%d tensors vs %d", len(a.Tensors), len(b.Tensors))
	}
	for i := range a.Tensors {
		if !reflect.DeepEqual(a.Tensors[i], b.Tensors[i]) {
			return fmt.Sprintf("tensor %d: %+v vs %+v (quant %+v vs %+v)", i, *a.Tensors[i], *b.Tensors[i], a.Tensors[i].Quant, b.Tensors[i].Quant)
		}
	}
	if len(a.Ops) != len(b.Ops) {
		return fmt.Sprintf("%d ops vs %d", len(a.Ops), len(b.Ops))
	}
	for i := range a.Ops {
		if !reflect.DeepEqual(a.Ops[i], b.Ops[i]) {
			return fmt.Sprintf("op %d: %+v (%+v) vs %+v (%+v)", i, *a.Ops[i], a.Ops[i].Options, *b.Ops[i], b.Ops[i].Options)
		}
	}
	if !reflect.DeepEqual(a.Inputs, b.Inputs) || !reflect.DeepEqual(a.Outputs, b.Outputs) {
		return fmt.Sprintf("io %v->%v vs %v->%v", a.Inputs, a.Outputs, b.Inputs, b.Outputs)
	}
	if a.Description != b.Description {
		return fmt.Sprintf("description %q vs %q", a.Description, b.Description)
	}
	if !reflect.DeepEqual(a.Metadata, b.Metadata) {
		return fmt.Sprintf("metadata %v vs %v", a.Metadata, b.Metadata)
	}
	return ""
}

// TestRoundTripReferenceModels: read → write → read gives the same graph
// for every shared reference model.
func TestRoundTripReferenceModels(t *testing.T) {
	for _, path := range referenceModels(t) {
		g, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Write(g)
		if err != nil {
			t.Fatalf("%s: write: %v", path, err)
		}
		g2, err := Read(data)
		if err != nil {
			t.Fatalf("%s: re-read: %v", path, err)
		}
		if g.Description == "" {
			g.Description = DefaultDescription // what Write records for an empty one
		}
		if d := diffGraphs(g, g2); d != "" {
			t.Errorf("%s: round trip differs: %s", filepath.Base(path), d)
		}
		// Writing is deterministic: the same graph gives the same bytes.
		data2, err := Write(g2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, data2) {
			t.Errorf("%s: second write differs", filepath.Base(path))
		}
	}
}

// handGraphs builds one small graph per op kind with quantized and float
// tensors, per-channel weights, int4 data, metadata and omitted inputs.
func handGraphs() map[string]*graph.Graph {
	q := func(s float32, z int64) *graph.Quantization {
		return &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{z}}
	}
	gs := map[string]*graph.Graph{}
	add := func(name string, kind graph.OpKind, opts any, in []*graph.Tensor, out *graph.Tensor, graphInputs []int) {
		g := &graph.Graph{}
		var ins []int
		for _, t := range in {
			if t == nil {
				ins = append(ins, -1)
				continue
			}
			ins = append(ins, g.AddTensor(t))
		}
		o := g.AddTensor(out)
		g.AddOp(kind, ins, []int{o}, opts)
		g.Inputs = graphInputs
		g.Outputs = []int{o}
		gs[name] = g
	}
	act := func(shape []int, dt graph.DType, quant *graph.Quantization) *graph.Tensor {
		return &graph.Tensor{Name: fmt.Sprintf("t%v%s", shape, dt), Shape: shape, DType: dt, Quant: quant}
	}
	// Per-channel int8 conv filter [2,3,3,1] with bias int32.
	filt := &graph.Tensor{Name: "filter", Shape: []int{2, 3, 3, 1}, DType: graph.Int8,
		Data:  graph.EncodeInt8s([]int8{1, -2, 3, -4, 5, -6, 7, -8, 9, -1, 2, -3, 4, -5, 6, -7, 8, -9}),
		Quant: &graph.Quantization{Scale: []float32{0.5, 0.25}, ZeroPoint: []int64{0, 0}, Axis: 0}}
	bias := &graph.Tensor{Name: "bias", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{100, -100}),
		Quant: &graph.Quantization{Scale: []float32{0.05, 0.025}, ZeroPoint: []int64{0, 0}}}
	add("conv_int8", graph.OpConv2D, &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 2, StrideH: 1, DilationW: 1, DilationH: 2, Activation: graph.ActRelu6},
		[]*graph.Tensor{act([]int{1, 5, 5, 1}, graph.Int8, q(0.1, -3)), filt, bias}, act([]int{1, 5, 3, 2}, graph.Int8, q(0.2, 4)), []int{0})
	fF := &graph.Tensor{Name: "ffilter", Shape: []int{1, 1, 1, 2}, DType: graph.Float32, Data: graph.EncodeFloat32s([]float32{1.5, -2})}
	add("conv_float_nobias", graph.OpConv2D, &graph.Conv2DOptions{Padding: graph.PaddingValid, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1},
		[]*graph.Tensor{act([]int{1, 2, 2, 2}, graph.Float32, nil), fF, nil}, act([]int{1, 2, 2, 1}, graph.Float32, nil), []int{0})
	dwf := &graph.Tensor{Name: "dw", Shape: []int{1, 2, 2, 3}, DType: graph.Int4,
		Data:  graph.EncodeInt8s([]int8{-8, 7, 0, 1, -1, 2, 3, -3, 4, -4, 5, -5}),
		Quant: &graph.Quantization{Scale: []float32{1, 2, 3}, ZeroPoint: []int64{0, 0, 0}, Axis: 3}}
	add("depthwise_int4", graph.OpDepthwiseConv2D, &graph.DepthwiseConv2DOptions{Padding: graph.PaddingValid, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, DepthMultiplier: 1, Activation: graph.ActRelu},
		[]*graph.Tensor{act([]int{1, 3, 3, 3}, graph.Int8, q(0.1, 0)), dwf, nil}, act([]int{1, 2, 2, 3}, graph.Int8, q(0.3, -1)), []int{0})
	fcw := &graph.Tensor{Name: "fcw", Shape: []int{2, 3}, DType: graph.Int8, Data: graph.EncodeInt8s([]int8{1, 2, 3, 4, 5, 6}), Quant: q(0.01, 0)}
	fcb := &graph.Tensor{Name: "fcb", Shape: []int{2}, DType: graph.Int64, Data: graph.EncodeInt64s([]int64{1 << 40, -5}), Quant: q(0.001, 0)}
	add("fc_16x8", graph.OpFullyConnected, &graph.FullyConnectedOptions{KeepNumDims: true, Activation: graph.ActReluN1To1},
		[]*graph.Tensor{act([]int{1, 3}, graph.Int16, q(0.1, 0)), fcw, fcb}, act([]int{1, 2}, graph.Int16, q(0.2, 0)), []int{0})
	add("maxpool", graph.OpMaxPool2D, &graph.Pool2DOptions{Padding: graph.PaddingSame, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 3},
		[]*graph.Tensor{act([]int{1, 4, 4, 2}, graph.Int8, q(0.5, 1))}, act([]int{1, 2, 2, 2}, graph.Int8, q(0.5, 1)), []int{0})
	add("avgpool", graph.OpAveragePool2D, &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: 1, StrideH: 1, FilterW: 2, FilterH: 2, Activation: graph.ActRelu},
		[]*graph.Tensor{act([]int{1, 3, 3, 1}, graph.Float32, nil)}, act([]int{1, 2, 2, 1}, graph.Float32, nil), []int{0})
	add("softmax", graph.OpSoftmax, &graph.SoftmaxOptions{Beta: 0.75},
		[]*graph.Tensor{act([]int{1, 10}, graph.Int8, q(0.1, 2))}, act([]int{1, 10}, graph.Int8, q(1.0/256, -128)), []int{0})
	shp := &graph.Tensor{Name: "shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{-1, 6})}
	add("reshape", graph.OpReshape, &graph.ReshapeOptions{NewShape: []int{-1, 6}},
		[]*graph.Tensor{act([]int{1, 2, 3}, graph.UInt8, q(1, 128)), shp}, act([]int{1, 6}, graph.UInt8, q(1, 128)), []int{0})
	add("reshape_noshape", graph.OpReshape, &graph.ReshapeOptions{},
		[]*graph.Tensor{act([]int{6}, graph.Float32, nil)}, act([]int{2, 3}, graph.Float32, nil), []int{0})
	add("quantize", graph.OpQuantize, nil, []*graph.Tensor{act([]int{1, 4}, graph.Float32, nil)}, act([]int{1, 4}, graph.Int16, q(0.001, 0)), []int{0})
	add("dequantize", graph.OpDequantize, nil, []*graph.Tensor{act([]int{1, 4}, graph.Int8, q(0.1, 7))}, act([]int{1, 4}, graph.Float32, nil), []int{0})
	add("add", graph.OpAdd, &graph.AddOptions{Activation: graph.ActRelu},
		[]*graph.Tensor{act([]int{1, 2, 2, 3}, graph.Int16, q(0.1, 0)), act([]int{3}, graph.Int16, q(0.2, 0))}, act([]int{1, 2, 2, 3}, graph.Int16, q(0.3, 0)), []int{0, 1})
	add("add_pot", graph.OpAdd, &graph.AddOptions{PotScaleInt16: true},
		[]*graph.Tensor{act([]int{2}, graph.Int16, q(0.5, 0)), act([]int{2}, graph.Int16, q(0.5, 0))}, act([]int{2}, graph.Int16, q(0.5, 0)), []int{0, 1})
	add("relu", graph.OpRelu, nil, []*graph.Tensor{act([]int{3}, graph.Int8, q(0.1, -128))}, act([]int{3}, graph.Int8, q(0.1, -128)), []int{0})
	add("relu6", graph.OpRelu6, nil, []*graph.Tensor{act([]int{3}, graph.Float32, nil)}, act([]int{3}, graph.Float32, nil), []int{0})
	add("leaky", graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: 0.2},
		[]*graph.Tensor{act([]int{1, 3}, graph.Int16, q(0.1, 0))}, act([]int{1, 3}, graph.Int16, q(0.1, 0)), []int{0})
	add("logistic", graph.OpLogistic, nil, []*graph.Tensor{act([]int{1, 3}, graph.Int8, q(0.1, 0))}, act([]int{1, 3}, graph.Int8, q(1.0/256, -128)), []int{0})
	pads := &graph.Tensor{Name: "pads", Shape: []int{2, 2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{0, 0, 1, 2})}
	add("pad", graph.OpPad, nil, []*graph.Tensor{act([]int{1, 3}, graph.Float32, nil), pads}, act([]int{1, 6}, graph.Float32, nil), []int{0})
	cval := &graph.Tensor{Name: "cval", DType: graph.Int8, Data: []byte{0xfe}, Quant: q(0.1, 0)} // scalar: nil shape
	add("padv2", graph.OpPadV2, nil, []*graph.Tensor{act([]int{1, 3}, graph.Int8, q(0.1, 0)), pads, cval}, act([]int{1, 6}, graph.Int8, q(0.1, 0)), []int{0})
	add("concat", graph.OpConcatenation, &graph.ConcatenationOptions{Axis: -1, Activation: graph.ActNone},
		[]*graph.Tensor{act([]int{1, 2}, graph.Bool, nil), act([]int{1, 3}, graph.Bool, nil), act([]int{1, 1}, graph.Bool, nil)}, act([]int{1, 6}, graph.Bool, nil), []int{0, 1, 2})
	axes := &graph.Tensor{Name: "axes", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, 2})}
	add("mean", graph.OpMean, &graph.ReducerOptions{KeepDims: true},
		[]*graph.Tensor{act([]int{1, 4, 4, 8}, graph.Int8, q(0.1, 1)), axes}, act([]int{1, 1, 1, 8}, graph.Int8, q(0.1, 1)), []int{0})
	// Metadata, shape signature, min/max and an explicit version.
	g := gs["conv_int8"].Clone()
	g.Metadata = map[string][]byte{"qbench.preprocess": []byte(`{"size":[80,80]}`), "empty": nil, "bin": {0, 1, 2}}
	g.Tensors[0].ShapeSignature = []int{-1, 5, 5, 1}
	g.Tensors[0].Quant.Min = []float32{-1}
	g.Tensors[0].Quant.Max = []float32{1.5}
	g.Ops[0].Version = 5
	g.Description = "hand built"
	gs["conv_meta"] = g
	// Float16 quantization: a FLOAT16 constant DEQUANTIZEd to float32, and
	// a FLOAT16 graph input (carried; only DEQUANTIZE reads it).
	add("dequantize_float16_const", graph.OpDequantize, nil,
		[]*graph.Tensor{{Name: "w16", Shape: []int{2, 2}, DType: graph.Float16, Data: []byte{0, 0x3c, 1, 0, 0, 0x7c, 0xff, 0xff}}},
		act([]int{2, 2}, graph.Float32, nil), nil)
	add("dequantize_float16_input", graph.OpDequantize, nil,
		[]*graph.Tensor{act([]int{1, 3}, graph.Float16, nil)}, act([]int{1, 3}, graph.Float32, nil), []int{0})
	// Ops with several outputs and data-dependent shapes, on constants
	// (seeds for the fuzzers: UNIQUE's idx_out_type, NMS's arity).
	i32c := func(name string, shape []int, v ...int32) *graph.Tensor {
		return &graph.Tensor{Name: name, Shape: shape, DType: graph.Int32, Data: graph.EncodeInt32s(v)}
	}
	f32c := func(name string, shape []int, v ...float32) *graph.Tensor {
		return &graph.Tensor{Name: name, Shape: shape, DType: graph.Float32, Data: graph.EncodeFloat32s(v)}
	}
	multi := func(name string, kind graph.OpKind, opts any, in, out []*graph.Tensor) {
		g := &graph.Graph{}
		var ins, outs []int
		for _, t := range in {
			ins = append(ins, g.AddTensor(t))
		}
		for _, t := range out {
			outs = append(outs, g.AddTensor(t))
		}
		g.AddOp(kind, ins, outs, opts)
		g.Outputs = outs
		gs[name] = g
	}
	multi("unique_idx64", graph.OpUnique, &graph.UniqueOptions{IdxType: graph.Int64}, []*graph.Tensor{i32c("u", []int{5}, 3, 1, 3, 2, 1)},
		[]*graph.Tensor{act([]int{5}, graph.Int32, nil), act([]int{5}, graph.Int64, nil)})
	multi("topk", graph.OpTopKV2, nil, []*graph.Tensor{f32c("v", []int{2, 3}, 1, 5, 2, 0, -1, 4), i32c("k", []int{}, 2)},
		[]*graph.Tensor{act([]int{2, 2}, graph.Float32, nil), act([]int{2, 2}, graph.Int32, nil)})
	multi("nms_v5", graph.OpNonMaxSuppressionV5, nil, []*graph.Tensor{f32c("boxes", []int{2, 4}, 0, 0, 1, 1, 0, 0, 0.5, 1),
		f32c("scores", []int{2}, 0.9, 0.8), i32c("max", []int{}, 2), f32c("iou", []int{}, 0.5), f32c("thr", []int{}, 0), f32c("sigma", []int{}, 0.5)},
		[]*graph.Tensor{act([]int{2}, graph.Int32, nil), act([]int{2}, graph.Float32, nil), act([]int{}, graph.Int32, nil)})
	add("where", graph.OpWhere, nil, []*graph.Tensor{{Name: "cond", Shape: []int{2, 2}, DType: graph.Bool, Data: []byte{1, 0, 0, 1}}},
		act([]int{4, 2}, graph.Int64, nil), nil)
	return gs
}

// TestRoundTripHandGraphs covers every op kind, dtype and option field.
func TestRoundTripHandGraphs(t *testing.T) {
	kinds := map[graph.OpKind]bool{}
	for name, g := range handGraphs() {
		t.Run(name, func(t *testing.T) {
			data, err := Write(g)
			if err != nil {
				t.Fatal(err)
			}
			g2, err := Read(data)
			if err != nil {
				t.Fatal(err)
			}
			want := compat(g).Clone()
			if want.Description == "" {
				want.Description = DefaultDescription
			}
			for _, op := range want.Ops {
				if op.Version == 0 {
					op.Version = OpVersion(g, op)
				}
				kinds[op.Kind] = true
			}
			// A metadata entry with no bytes reads back as empty, not nil.
			for k, v := range want.Metadata {
				if v == nil {
					want.Metadata[k] = []byte{}
				}
			}
			if d := diffGraphs(want, g2); d != "" {
				t.Fatal(d)
			}
		})
	}
	for k := graph.OpConv2D; k <= graph.OpMean; k++ {
		if !kinds[k] {
			t.Errorf("no hand-built graph for %s", k)
		}
	}
}

// TestWriteOperatorCodes checks the raw operator code fields: both the
// deprecated byte and the int32 code, and the versions chosen.
func TestWriteOperatorCodes(t *testing.T) {
	gs := handGraphs()
	cases := []struct {
		graph   string
		code    int32
		version int
	}{
		{"conv_int8", 3, 3}, {"conv_float_nobias", 3, 1}, {"depthwise_int4", 4, 7}, {"fc_16x8", 9, 7},
		{"maxpool", 17, 2}, {"softmax", 25, 2}, {"quantize", 114, 2}, {"dequantize", 6, 2},
		{"add", 0, 3}, {"leaky", 98, 2}, {"padv2", 60, 2}, {"mean", 40, 2}, {"conv_meta", 3, 5},
	}
	for _, c := range cases {
		data, err := Write(gs[c.graph])
		if err != nil {
			t.Fatal(err)
		}
		r := &reader{f: newFbuf(data)}
		m, err := r.f.tableAt(int64(r.f.u32(0)), "model")
		if err != nil {
			t.Fatal(err)
		}
		cv, _ := m.vec(modelOperatorCodes, 4, "codes")
		ct, err := cv.table(0, "code")
		if err != nil {
			t.Fatal(err)
		}
		dep, _ := ct.i8(opcodeDeprecatedBuiltin, 0)
		code, _ := ct.i32(opcodeBuiltinCode, 0)
		ver, _ := ct.i32(opcodeVersion, 1)
		wantDep := c.code
		if wantDep > 127 {
			wantDep = 127
		}
		if code != c.code || int32(dep) != wantDep || int(ver) != c.version {
			t.Errorf("%s: code %d dep %d version %d, want %d %d %d", c.graph, code, dep, ver, c.code, wantDep, c.version)
		}
		// Buffer 0 must be the empty sentinel.
		bv, _ := m.vec(modelBuffers, 4, "buffers")
		b0, _ := bv.table(0, "buffer 0")
		d, _ := b0.vec(bufferData, 1, "data")
		if d.len() != 0 {
			t.Errorf("%s: buffer 0 has %d bytes", c.graph, d.len())
		}
	}
}

func TestWriteRejects(t *testing.T) {
	gs := handGraphs()
	bad := gs["conv_int8"].Clone()
	bad.Ops[0].Options = &graph.Conv2DOptions{StrideW: 0, StrideH: 1, DilationW: 1, DilationH: 1}
	if _, err := Write(bad); err == nil || !strings.Contains(err.Error(), "stride_w") {
		t.Errorf("stride 0: %v", err)
	}
	bad = gs["relu"].Clone()
	bad.Ops[0].Kind = graph.OpKind(999)
	if _, err := Write(bad); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown kind: %v", err)
	}
	bad = gs["depthwise_int4"].Clone()
	bad.Tensors[1].Data[0] = 9
	if _, err := Write(bad); err == nil || !strings.Contains(err.Error(), "int4") {
		t.Errorf("int4 out of range: %v", err)
	}
	bad = gs["pad"].Clone()
	bad.Ops[0].Inputs = bad.Ops[0].Inputs[:1]
	if _, err := Write(bad); err == nil || !strings.Contains(err.Error(), "PAD has 1 inputs") {
		t.Errorf("arity: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.tflite")
	g := handGraphs()["softmax"]
	if err := WriteFile(p, g); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
}

// Control-flow models keep their subgraphs through Write and Read: bodies,
// their names, ops, tensors and the ops' subgraph indices.
func TestRoundTripSubgraphs(t *testing.T) {
	for name, g := range map[string]*graph.Graph{
		"while": opcases.CounterLoop(4), "if": opcases.IfBranches(), "call_once": opcases.CallOnce(),
	} {
		data, err := Write(g)
		if err != nil {
			t.Fatalf("%s: write: %v", name, err)
		}
		r, err := Read(data)
		if err != nil {
			t.Fatalf("%s: read: %v", name, err)
		}
		if len(r.Subgraphs) != len(g.Subgraphs) {
			t.Fatalf("%s: %d subgraphs back, wrote %d", name, len(r.Subgraphs), len(g.Subgraphs))
		}
		for si, sg := range append([]*graph.Graph{g}, g.Subgraphs...) {
			rg := r
			if si > 0 {
				rg = r.Subgraphs[si-1]
				if rg.Name != sg.Name {
					t.Errorf("%s: subgraph %d named %q, wrote %q", name, si, rg.Name, sg.Name)
				}
			}
			if len(rg.Ops) != len(sg.Ops) || len(rg.Tensors) != len(sg.Tensors) ||
				!slices.Equal(rg.Inputs, sg.Inputs) || !slices.Equal(rg.Outputs, sg.Outputs) {
				t.Fatalf("%s: subgraph %d: %d ops %d tensors in %v out %v, wrote %d %d %v %v", name, si,
					len(rg.Ops), len(rg.Tensors), rg.Inputs, rg.Outputs, len(sg.Ops), len(sg.Tensors), sg.Inputs, sg.Outputs)
			}
			for oi, op := range sg.Ops {
				ro := rg.Ops[oi]
				if ro.Kind != op.Kind || !slices.Equal(ro.Inputs, op.Inputs) || !slices.Equal(ro.Outputs, op.Outputs) {
					t.Errorf("%s: subgraph %d op %d: %s %v->%v, wrote %s %v->%v", name, si, oi, ro.Kind, ro.Inputs, ro.Outputs, op.Kind, op.Inputs, op.Outputs)
				}
				if so, ok := op.Options.(*graph.SubgraphOptions); ok {
					if ro, ok := ro.Options.(*graph.SubgraphOptions); !ok || *ro != *so {
						t.Errorf("%s: subgraph %d op %d options %+v, wrote %+v", name, si, oi, ro, so)
					}
				}
			}
			for ti, tt := range sg.Tensors {
				rt := rg.Tensors[ti]
				if rt.Name != tt.Name || rt.DType != tt.DType || !slices.Equal(rt.Shape, tt.Shape) || !bytes.Equal(rt.Data, tt.Data) {
					t.Errorf("%s: subgraph %d tensor %d: %q %s %v, wrote %q %s %v", name, si, ti, rt.Name, rt.DType, rt.Shape, tt.Name, tt.DType, tt.Shape)
				}
			}
		}
	}
	// A body index out of range is refused, naming the op.
	g := opcases.IfBranches()
	g.Ops[2].Options = &graph.SubgraphOptions{Then: 1, Else: 3, Cond: -1, Body: -1, Init: -1}
	if _, err := Write(g); err == nil || !strings.Contains(err.Error(), "IF") {
		t.Errorf("write with else subgraph 3 of 3: %v", err)
	}
}
