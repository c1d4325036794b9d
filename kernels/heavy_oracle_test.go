package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// oracleCase is a single-op model for the cross-check against the real
// TFLite interpreter.
type oracleCase struct {
	name string
	g    *graph.Graph
	prep PrepareFunc
}

func oneOpGraph(kind graph.OpKind, opts any, in *graph.Tensor, consts []*graph.Tensor, out *graph.Tensor) *graph.Graph {
	g := &graph.Graph{}
	ii := g.AddTensor(in)
	inputs := []int{ii}
	for _, c := range consts {
		if c == nil {
			inputs = append(inputs, -1)
			continue
		}
		inputs = append(inputs, g.AddTensor(c))
	}
	oi := g.AddTensor(out)
	g.AddOp(kind, inputs, []int{oi}, opts)
	g.Inputs, g.Outputs = []int{ii}, []int{oi}
	return g
}

func oracleCases(r *rand.Rand) []oracleCase {
	randI8 := func(n, lo, hi int) []int8 {
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(lo + r.Intn(hi-lo+1))
		}
		return v
	}
	randI32 := func(n, amp int) []int32 {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.Intn(2*amp+1) - amp)
		}
		return v
	}
	scalesN := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*r.Float64())
		}
		return v
	}
	var cs []oracleCase
	// int8 CONV_2D: per-channel weights, SAME/VALID, strides, dilation, activations.
	for i, c := range []struct {
		h, w, cin, cout, f, s, d int
		pad                      graph.Padding
		act                      graph.Activation
	}{
		{9, 9, 3, 8, 3, 1, 1, graph.PaddingSame, graph.ActRelu},
		{10, 7, 4, 5, 3, 2, 1, graph.PaddingSame, graph.ActRelu6},
		{8, 8, 2, 4, 3, 1, 2, graph.PaddingValid, graph.ActNone},
		{6, 6, 16, 8, 1, 1, 1, graph.PaddingValid, graph.ActNone},
	} {
		ws := scalesN(c.cout, 0.002, 0.02)
		wq := constI8("w", graph.Int8, []int{c.cout, c.f, c.f, c.cin}, randI8(c.cout*c.f*c.f*c.cin, -127, 127), ws)
		wq.Quant.Axis = 0
		sIn := float32(0.05)
		bs := make([]float32, c.cout)
		for j := range bs {
			bs[j] = sIn * ws[j]
		}
		b := constI32("b", randI32(c.cout, 2000), bs)
		b.Quant.Axis = 0
		in := qt("in", graph.Int8, []int{1, c.h, c.w, c.cin}, []float32{sIn}, []int64{-7})
		oh := graph.ConvOutputSize(c.pad, c.h, c.f, c.s, c.d)
		ow := graph.ConvOutputSize(c.pad, c.w, c.f, c.s, c.d)
		out := qt("out", graph.Int8, []int{1, oh, ow, c.cout}, []float32{0.08}, []int64{5})
		opts := &graph.Conv2DOptions{Padding: c.pad, StrideW: c.s, StrideH: c.s, DilationW: c.d, DilationH: c.d, Activation: c.act}
		cs = append(cs, oracleCase{fmt.Sprintf("conv_int8_%d", i), oneOpGraph(graph.OpConv2D, opts, in, []*graph.Tensor{wq, b}, out), prepareConv2D})
	}
	// int8 DEPTHWISE_CONV_2D with multipliers 1 and 2.
	for i, m := range []int{1, 2} {
		cin, cout := 4, 4*m
		ws := scalesN(cout, 0.002, 0.02)
		wq := constI8("w", graph.Int8, []int{1, 3, 3, cout}, randI8(9*cout, -127, 127), ws)
		wq.Quant.Axis = 3
		bs := make([]float32, cout)
		for j := range bs {
			bs[j] = 0.05 * ws[j]
		}
		b := constI32("b", randI32(cout, 2000), bs)
		in := qt("in", graph.Int8, []int{1, 7, 6, cin}, []float32{0.05}, []int64{3})
		out := qt("out", graph.Int8, []int{1, 4, 3, cout}, []float32{0.03}, []int64{-2})
		opts := &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideW: 2, StrideH: 2, DilationW: 1, DilationH: 1, DepthMultiplier: m, Activation: graph.ActRelu}
		cs = append(cs, oracleCase{fmt.Sprintf("depthwise_int8_%d", i), oneOpGraph(graph.OpDepthwiseConv2D, opts, in, []*graph.Tensor{wq, b}, out), prepareDepthwiseConv2D})
	}
	// int8 FULLY_CONNECTED, per-tensor weights.
	{
		wq := constI8("w", graph.Int8, []int{10, 32}, randI8(320, -127, 127), []float32{0.01})
		b := constI32("b", randI32(10, 3000), []float32{0.05 * 0.01})
		in := qt("in", graph.Int8, []int{1, 32}, []float32{0.05}, []int64{-1})
		out := qt("out", graph.Int8, []int{1, 10}, []float32{0.1}, []int64{4})
		cs = append(cs, oracleCase{"fc_int8", oneOpGraph(graph.OpFullyConnected, &graph.FullyConnectedOptions{}, in, []*graph.Tensor{wq, b}, out), prepareFullyConnected})
	}
	// int8 pools (SAME pads clip the average window).
	for i, kind := range []graph.OpKind{graph.OpAveragePool2D, graph.OpMaxPool2D} {
		in := qt("in", graph.Int8, []int{1, 7, 7, 3}, []float32{0.1}, []int64{2})
		out := qt("out", graph.Int8, []int{1, 4, 4, 3}, []float32{0.1}, []int64{2})
		opts := &graph.Pool2DOptions{Padding: graph.PaddingSame, StrideW: 2, StrideH: 2, FilterW: 3, FilterH: 3}
		prep := prepareAveragePool2D
		if i == 1 {
			prep = prepareMaxPool2D
		}
		cs = append(cs, oracleCase{fmt.Sprintf("pool_int8_%d", i), oneOpGraph(kind, opts, in, nil, out), prep})
	}
	// int8 SOFTMAX.
	{
		in := qt("in", graph.Int8, []int{1, 43}, []float32{0.1}, []int64{0})
		out := qt("out", graph.Int8, []int{1, 43}, []float32{1.0 / 256}, []int64{-128})
		cs = append(cs, oracleCase{"softmax_int8", oneOpGraph(graph.OpSoftmax, &graph.SoftmaxOptions{Beta: 1}, in, nil, out), prepareSoftmax})
	}
	// float CONV_2D.
	{
		wv := make([]float32, 8*3*3*3)
		for i := range wv {
			wv[i] = float32(r.NormFloat64() * 0.3)
		}
		in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, 9, 9, 3}}
		out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, 5, 5, 8}}
		opts := &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 2, StrideH: 2, DilationW: 1, DilationH: 1, Activation: graph.ActRelu}
		b := constF32("b", []int{8}, []float32{0.1, -0.1, 0.2, 0, 0, 0.3, -0.2, 0.05})
		cs = append(cs, oracleCase{"conv_float", oneOpGraph(graph.OpConv2D, opts, in, []*graph.Tensor{constF32("w", []int{8, 3, 3, 3}, wv), b}, out), prepareConv2D})
	}
	return cs
}

// TestHeavyKernelsMatchTFLite writes single-op models, runs them in the
// real TFLite interpreter (internal/oracle; skipped when not installed) and
// through these kernels in RuntimeRounding mode on the same random inputs:
// integer outputs must be identical, float outputs within 1e-5.
func TestHeavyKernelsMatchTFLite(t *testing.T) {
	if testing.Short() {
		t.Skip("about 10 s of TFLite runs; skipped with -short")
	}
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	r := rand.New(rand.NewSource(15))
	dir := t.TempDir()
	const samples = 8
	for _, c := range oracleCases(r) {
		path := filepath.Join(dir, c.name+".tflite")
		if err := tflite.WriteFile(path, c.g); err != nil {
			t.Fatalf("%s: write: %v", c.name, err)
		}
		in := c.g.Tensors[c.g.Inputs[0]]
		out := c.g.Tensors[c.g.Outputs[0]]
		n := in.NumElements()
		raw := make([]byte, 0, samples*n*4)
		xb := refBuffer(in.DType, []int{samples * n}, nil)
		for i := 0; i < samples*n; i++ {
			if in.DType == graph.Float32 {
				v := float32(r.NormFloat64())
				xb.F32[i] = v
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
			} else {
				v := int8(r.Intn(256) - 128)
				xb.I8[i] = v
				raw = append(raw, byte(v))
			}
		}
		want, err := or.Run(path, raw)
		if err != nil {
			t.Fatalf("%s: oracle: %v", c.name, err)
		}
		op := c.g.Ops[0]
		var ins []*graph.Tensor
		for _, ti := range op.Inputs {
			ins = append(ins, c.g.Tensor(ti))
		}
		// The oracle is the TFLite runtime with its XNNPACK delegate (see fixedpoint.Rounding).
		k, err := heavyPrepareWith(op.Kind, fixedpoint.RuntimeRounding)(op, ins, []*graph.Tensor{out})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		// All samples go through one Run: conv-like kernels take the batch
		// from the buffer; softmax and fully connected take rows.
		yb := refBuffer(out.DType, []int{samples * out.NumElements()}, nil)
		if err := k.Run([]*Buffer{xb}, []*Buffer{yb}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := bufValues(yb)
		bad := 0
		for i, g := range got {
			var w float64
			if out.DType == graph.Float32 {
				w = float64(math.Float32frombits(binary.LittleEndian.Uint32(want[4*i:])))
				if math.Abs(g-w) > 1e-5 {
					bad++
				}
			} else {
				w = float64(int8(want[i]))
				if g != w {
					bad++
				}
			}
			if bad == 1 && g != w {
				t.Errorf("%s: output %d = %v, TFLite %v", c.name, i, g, w)
			}
		}
		if len(want) != len(got)*out.DType.Size() {
			t.Errorf("%s: TFLite gave %d bytes, want %d", c.name, len(want), len(got)*out.DType.Size())
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d outputs differ from TFLite", c.name, bad, len(got))
		} else {
			t.Logf("%s: %d outputs identical to TFLite", c.name, len(got))
		}
	}
}

// TestSharedInt8ModelsMatchTFLite runs the int8 models of the reference set
// whose ops are all heavy kernels (hello_world_int8: three FULLY_CONNECTED;
// network_tester: DEPTHWISE_CONV_2D) on random inputs through the oracle
// and through these kernels. In RuntimeRounding mode every output must be
// identical; the test also reports how many differ in the other modes.
func TestSharedInt8ModelsMatchTFLite(t *testing.T) {
	models := filepath.Join(sharedDir(t), "reference", "tflite-micro", "models")
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	r := rand.New(rand.NewSource(16))
	for _, name := range []string{"hello_world/hello_world_int8.tflite", "network_tester/network_model.tflite"} {
		path := filepath.Join(models, name)
		g, err := tflite.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		in := g.Tensors[g.Inputs[0]]
		n := in.NumElements()
		samples := max(1, 4096/n)
		raw := make([]byte, samples*n)
		for i := range raw {
			raw[i] = byte(r.Intn(256))
		}
		want, err := or.Run(path, raw)
		if err != nil {
			t.Fatalf("%s: oracle: %v", name, err)
		}
		for _, rnd := range []fixedpoint.Rounding{fixedpoint.RuntimeRounding, fixedpoint.SingleRounding, fixedpoint.DoubleRounding} {
			got, err := runGraphInt8(g, rnd, raw)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			diff := 0
			for i := range got {
				if i >= len(want) || got[i] != int8(want[i]) {
					diff++
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d outputs, TFLite %d", name, len(got), len(want))
			}
			if rnd == fixedpoint.RuntimeRounding && diff > 0 {
				t.Errorf("%s (%s rounding): %d of %d outputs differ from TFLite", name, rnd, diff, len(got))
			} else {
				t.Logf("%s (%s rounding): %d of %d outputs differ from TFLite", name, rnd, diff, len(got))
			}
		}
	}
}

// runGraphInt8 runs a single-input int8 graph made only of heavy ops over
// every sample in raw, in op order, and returns the concatenated outputs.
func runGraphInt8(g *graph.Graph, rnd fixedpoint.Rounding, raw []byte) ([]int8, error) {
	ks := make([]Kernel, len(g.Ops))
	for i, op := range g.Ops {
		var ins, outs []*graph.Tensor
		for _, ti := range op.Inputs {
			ins = append(ins, g.Tensor(ti))
		}
		for _, ti := range op.Outputs {
			outs = append(outs, g.Tensor(ti))
		}
		f := heavyPrepareWith(op.Kind, rnd)
		if f == nil {
			return nil, fmt.Errorf("op %d: %s is not a heavy op", i, op.Kind)
		}
		k, err := f(op, ins, outs)
		if err != nil {
			return nil, err
		}
		ks[i] = k
	}
	in := g.Tensors[g.Inputs[0]]
	n := in.NumElements()
	var res []int8
	for s := 0; s+n <= len(raw); s += n {
		bufs := map[int]*Buffer{}
		x := refBuffer(graph.Int8, in.Shape, nil)
		for i := range x.I8 {
			x.I8[i] = int8(raw[s+i])
		}
		bufs[g.Inputs[0]] = x
		for i, op := range g.Ops {
			var ins, outs []*Buffer
			for _, ti := range op.Inputs {
				ins = append(ins, bufs[ti])
			}
			for _, ti := range op.Outputs {
				t := g.Tensors[ti]
				b := refBuffer(t.DType, t.Shape, nil)
				bufs[ti] = b
				outs = append(outs, b)
			}
			if err := ks[i].Run(ins, outs); err != nil {
				return nil, err
			}
		}
		res = append(res, bufs[g.Outputs[0]].I8...)
	}
	return res, nil
}
