package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// tcCase builds the tensors of one random TRANSPOSE_CONV on x (dtype dt):
// output_shape, weights and an optional bias (nil), the output and the
// options. Output sizes are the ones a convolution of the same padding
// would map back to x's size.
func tcCase(r *rand.Rand, x *graph.Tensor, dt graph.DType) (ins []*graph.Tensor, out *graph.Tensor, o *graph.TransposeConvOptions) {
	inH, inW, inC := x.Shape[1], x.Shape[2], x.Shape[3]
	oc, fh, fw := 1+r.IntN(5), 1+r.IntN(4), 1+r.IntN(4)
	o = &graph.TransposeConvOptions{StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3),
		Activation: graph.ActNone}
	size := func(in, f, s int) int {
		if o.Padding == graph.PaddingValid {
			return (in-1)*s + f + r.IntN(s)
		}
		return in*s - r.IntN(s)
	}
	if r.IntN(2) == 0 {
		o.Padding = graph.PaddingValid
	}
	outShape := []int{x.Shape[0], size(inH, fh, o.StrideH), size(inW, fw, o.StrideW), oc}
	os := &graph.Tensor{Name: "output_shape", DType: i32T, Shape: []int{4},
		Data: graph.EncodeInt32s([]int32{int32(outShape[0]), int32(outShape[1]), int32(outShape[2]), int32(outShape[3])})}
	nW := oc * fh * fw * inC
	w := &graph.Tensor{Name: "w", Shape: []int{oc, fh, fw, inC}}
	var bias *graph.Tensor
	hasBias := r.IntN(3) > 0
	out = &graph.Tensor{Name: "y", DType: dt, Shape: outShape}
	taps := float64(fh * fw * inC)
	switch dt {
	case f32T:
		w.DType = f32T
		v := make([]float32, nW)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		w.Data = graph.EncodeFloat32s(v)
		if hasBias {
			b := make([]float32, oc)
			for i := range b {
				b[i] = float32(r.NormFloat64())
			}
			bias = &graph.Tensor{Name: "b", DType: f32T, Shape: []int{oc}, Data: graph.EncodeFloat32s(b)}
		}
	case i8T, i16T:
		sIn, _, _ := QuantParams(x)
		w.DType = i8T
		v := make([]int8, nW)
		for i := range v {
			v[i] = int8(r.IntN(255) - 127)
		}
		w.Data = graph.EncodeInt8s(v)
		scales := make([]float32, oc)
		if r.IntN(3) == 0 {
			scales = scales[:1]
		}
		zps := make([]int64, len(scales))
		for i := range scales {
			scales[i] = float32(0.002 + 0.02*r.Float64())
		}
		w.Quant = &graph.Quantization{Scale: scales, ZeroPoint: zps}
		sOut := float32(float64(sIn) * float64(scales[0]) * 127 * math.Sqrt(taps) * (0.3 + r.Float64()))
		if dt == i16T {
			sOut /= 64
		}
		if r.IntN(3) == 0 {
			// Power-of-two rescaling: half the accumulators land on ties,
			// where the roundings differ.
			for i := range scales {
				scales[i] = scales[0]
			}
			sOut = float32(float64(sIn) * float64(scales[0]) * float64(int(1)<<(2+r.IntN(4))))
		}
		out.Quant = &graph.Quantization{Scale: []float32{sOut}, ZeroPoint: []int64{0}}
		if dt == i8T {
			out.Quant.ZeroPoint[0] = int64(r.IntN(256) - 128)
		}
		if hasBias {
			b32 := make([]int32, oc)
			b64 := make([]int64, oc)
			for i := range b32 {
				b32[i] = int32(r.IntN(20001) - 10000)
				b64[i] = int64(b32[i]) * 37
			}
			bias = &graph.Tensor{Name: "b", DType: i32T, Shape: []int{oc}, Data: graph.EncodeInt32s(b32)}
			if dt == i16T {
				bias = &graph.Tensor{Name: "b", DType: i64T, Shape: []int{oc}, Data: graph.EncodeInt64s(b64)}
			}
		}
	case u8T:
		sIn, _, _ := QuantParams(x)
		w.DType = u8T
		w.Data = make([]byte, nW)
		for i := range w.Data {
			w.Data[i] = byte(r.IntN(256))
		}
		sW := float32(0.002 + 0.02*r.Float64())
		w.Quant = &graph.Quantization{Scale: []float32{sW}, ZeroPoint: []int64{int64(r.IntN(256))}}
		sOut := float32(float64(sIn) * float64(sW) * 127 * math.Sqrt(taps) * (0.3 + r.Float64()))
		out.Quant = &graph.Quantization{Scale: []float32{sOut}, ZeroPoint: []int64{int64(r.IntN(256))}}
		if hasBias {
			b := make([]int32, oc)
			for i := range b {
				b[i] = int32(r.IntN(20001) - 10000)
			}
			bias = &graph.Tensor{Name: "b", DType: i32T, Shape: []int{oc}, Data: graph.EncodeInt32s(b)}
		}
	}
	if bias != nil && dt != f32T {
		sIn, _, _ := QuantParams(x)
		bs := make([]float32, len(w.Quant.Scale))
		for i, s := range w.Quant.Scale {
			bs[i] = sIn * s
		}
		bias.Quant = &graph.Quantization{Scale: bs, ZeroPoint: make([]int64, len(bs))}
	}
	return []*graph.Tensor{os, w, x, bias}, out, o
}

// tcBuild puts several random TRANSPOSE_CONVs of one input into a model.
func tcBuild(r *rand.Rand, dt graph.DType, n int) *ewModel {
	g := &graph.Graph{}
	x := &graph.Tensor{Name: "x", DType: dt, Shape: []int{1 + r.IntN(2), 1 + r.IntN(5), 1 + r.IntN(5), 1 + r.IntN(4)}}
	switch dt {
	case i8T:
		x.Quant = &graph.Quantization{Scale: []float32{float32(0.01 + r.Float64()/10)}, ZeroPoint: []int64{[]int64{-128, 127, int64(r.IntN(256) - 128)}[r.IntN(3)]}}
	case u8T:
		x.Quant = &graph.Quantization{Scale: []float32{float32(0.01 + r.Float64()/10)}, ZeroPoint: []int64{[]int64{0, 255, int64(r.IntN(256))}[r.IntN(3)]}}
	case i16T:
		x.Quant = &graph.Quantization{Scale: []float32{float32(0.0001 + r.Float64()/1000)}, ZeroPoint: []int64{0}}
	}
	xi := g.AddTensor(x)
	g.Inputs = []int{xi}
	m := &ewModel{g: g, x: x, in: x}
	for ci := range n {
		ins, out, o := tcCase(r, x, dt)
		var idx []int
		for k, t := range ins {
			switch {
			case t == nil:
				idx = append(idx, -1)
			case t == x:
				idx = append(idx, xi)
			default:
				t.Name = fmt.Sprintf("c%d_%s", ci, t.Name)
				idx = append(idx, g.AddTensor(t))
			}
			_ = k
		}
		if idx[3] < 0 {
			idx = idx[:3]
		}
		out.Name = fmt.Sprintf("y%d", ci)
		yi := g.AddTensor(out)
		g.AddOp(graph.OpTransposeConv, idx, []int{yi}, o)
		m.ops = append(m.ops, g.Ops[len(g.Ops)-1])
		wq := 0
		if ins[1].Quant != nil {
			wq = len(ins[1].Quant.Scale)
		}
		m.names = append(m.names, fmt.Sprintf("TRANSPOSE_CONV %+v w %v (%d scales) out %v bias %v", *o, ins[1].Shape, wq, out.Shape, ins[3] != nil))
		g.Outputs = append(g.Outputs, yi)
	}
	return m
}

// TestTransposeConvMatchesTFLite runs models of random TRANSPOSE_CONVs
// (strides 1-3, both paddings, odd sizes, with and without bias, fused
// activations; per-channel and per-tensor int8 weights; uint8 weights with
// a zero point; 16x8 with int64 bias) in the real TFLite interpreter and
// in qbench (runtime rounding): integer outputs must be identical, float
// within 1e-5 of the output range.
func TestTransposeConvMatchesTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	const samples = 3
	dir := t.TempDir()
	var ops, agree, values int
	nModels := 4
	if os.Getenv("QBENCH_TC_EXPLORE") == "1" {
		nModels = 12
	}
	for _, dt := range []graph.DType{f32T, i8T, u8T, i16T} {
		if only := os.Getenv("QBENCH_TC_DTYPE"); only != "" && only != dt.String() {
			continue
		}
		for mi := range nModels {
			seed := uint64(31)
			if v := os.Getenv("QBENCH_TC_SEED"); v != "" {
				fmt.Sscan(v, &seed)
			}
			r := rand.New(rand.NewPCG(seed, uint64(dt)*100+uint64(mi)))
			m := tcBuild(r, dt, 6)
			in, want := ewOracleRun(t, or, dir, fmt.Sprintf("tc-%s-%d", dt, mi), r, m, samples)
			step := len(in) / samples
			for oi, op := range m.ops {
				ops++
				out := m.g.Tensors[m.g.Outputs[oi]]
				osz := out.NumElements() * out.DType.Size()
				ok := true
				for s := range samples {
					if os.Getenv("QBENCH_TC_EXPLORE") == "1" {
						var names []string
						for _, rnd := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
							g, err := runEwOp(m, op, Options{Rounding: rnd}, in[s*step:(s+1)*step])
							if bad, _ := ewCompare(out.DType, g, want[oi][s*osz:(s+1)*osz]); err == nil && bad == 0 {
								names = append(names, rnd.String())
							}
						}
						if dt == i8T {
							kk, _ := PrepareWith(op, []*graph.Tensor{m.g.Tensors[op.Inputs[0]], m.g.Tensors[op.Inputs[1]], m.x, nil}[:len(op.Inputs)], []*graph.Tensor{out}, Options{Rounding: fixedpoint.RuntimeRounding})
							if len(op.Inputs) == 4 {
								kk, _ = PrepareWith(op, []*graph.Tensor{m.g.Tensors[op.Inputs[0]], m.g.Tensors[op.Inputs[1]], m.x, m.g.Tensors[op.Inputs[3]]}, []*graph.Tensor{out}, Options{Rounding: fixedpoint.RuntimeRounding})
							}
							k := kk.(*tconvKernel)
							sIn, _, _ := QuantParams(m.x)
							sOut, _, _ := QuantParams(out)
							ws := m.g.Tensors[op.Inputs[1]].Quant.Scale
							k.xnn = make([]float32, k.g.outC)
							for c := range k.xnn {
								k.xnn[c] = fixedpoint.FP32Scale(sIn, ws[min(c, len(ws)-1)], sOut)
							}
							y := ewAlloc(out)
							var feed []*Buffer
							for _, ti := range op.Inputs {
								tt := m.g.Tensors[ti]
								if tt == m.x {
									feed = append(feed, ewDecode(tt.DType, tt.Shape, in[s*step:(s+1)*step]))
								} else {
									feed = append(feed, ewDecode(tt.DType, tt.Shape, tt.Data))
								}
							}
							if err := k.Run(feed, []*Buffer{y}); err == nil {
								if bad, _ := ewCompare(out.DType, ewEncode(y), want[oi][s*osz:(s+1)*osz]); bad == 0 {
									names = append(names, "xnn")
								}
							}
						}
						t.Logf("%s %s: agree %v", dt, m.names[oi], names)
					}
					got, err := runEwOp(m, op, Options{Rounding: fixedpoint.RuntimeRounding}, in[s*step:(s+1)*step])
					if err != nil {
						t.Fatalf("%s %s: %v", dt, m.names[oi], err)
					}
					values += out.NumElements()
					if bad, first := ewCompare(out.DType, got, want[oi][s*osz:(s+1)*osz]); bad > 0 {
						t.Errorf("%s model %d %s (x %v %s, out %s): %d of %d values differ from TFLite; %s", dt, mi, m.names[oi],
							m.x.Shape, quantString(m.x), quantString(out), bad, out.NumElements(), first)
						ok = false
						break
					}
				}
				if ok {
					agree++
				}
			}
		}
	}
	t.Logf("%d of %d TRANSPOSE_CONV ops agree with TFLite (%d values)", agree, ops, values)
}

// TestTransposeConvReference checks the scatter on values worked out by
// hand: a 2x1 input [1, 2] with a 1x3 filter [1, 10, 100], stride 2, VALID
// (output width 5: the two filter copies overlap in the middle), then the
// same with SAME padding (output 4: the conv that maps 4 back to 2 pads one
// column after, none before, so the last column is cut) and a RELU6 clamp.
func TestTransposeConvReference(t *testing.T) {
	run := func(pad graph.Padding, outW int, act graph.Activation, dt graph.DType) []int32 {
		x := &graph.Tensor{Name: "x", DType: dt, Shape: []int{1, 1, 2, 1}}
		w := &graph.Tensor{Name: "w", DType: dt, Shape: []int{1, 1, 3, 1}}
		y := &graph.Tensor{Name: "y", DType: dt, Shape: []int{1, 1, outW, 1}}
		xb := &Buffer{DType: dt, Shape: x.Shape}
		switch dt {
		case f32T:
			w.Data = graph.EncodeFloat32s([]float32{1, 10, 100})
			xb.F32 = []float32{1, 2}
		case i8T: // scales 1 (x), 1 (w), 2 (y): the output halves the sums
			w.Data = graph.EncodeInt8s([]int8{1, 10, 100})
			x.Quant = &graph.Quantization{Scale: []float32{1}, ZeroPoint: []int64{-1}}
			w.Quant = &graph.Quantization{Scale: []float32{1}, ZeroPoint: []int64{0}}
			y.Quant = &graph.Quantization{Scale: []float32{4}, ZeroPoint: []int64{0}}
			xb.I8 = []int8{0, 1} // 1 and 2 with zero point -1
		}
		os := &graph.Tensor{Name: "os", DType: i32T, Shape: []int{4}, Data: graph.EncodeInt32s([]int32{1, 1, int32(outW), 1})}
		op := &graph.Op{Kind: graph.OpTransposeConv, Options: &graph.TransposeConvOptions{Padding: pad, StrideH: 1, StrideW: 2, Activation: act}}
		k, err := PrepareWith(op, []*graph.Tensor{os, w, x}, []*graph.Tensor{y}, Options{Rounding: fixedpoint.DoubleRounding})
		if err != nil {
			t.Fatal(err)
		}
		out := ewAlloc(y)
		if err := k.Run([]*Buffer{ewDecode(i32T, []int{4}, os.Data), ewDecode(dt, w.Shape, w.Data), xb}, []*Buffer{out}); err != nil {
			t.Fatal(err)
		}
		var r []int32
		for i := range outW {
			if dt == f32T {
				r = append(r, int32(out.F32[i]))
			} else {
				r = append(r, getInt(out, i))
			}
		}
		return r
	}
	check := func(name string, got []int32, want string) {
		if fmt.Sprint(got) != want {
			t.Errorf("%s: %v, want %s", name, got, want)
		}
	}
	check("float VALID", run(graph.PaddingValid, 5, graph.ActNone, f32T), "[1 10 102 20 200]")
	check("float SAME", run(graph.PaddingSame, 4, graph.ActNone, f32T), "[1 10 102 20]")
	check("float SAME RELU6", run(graph.PaddingSame, 4, graph.ActRelu6, f32T), "[1 6 6 6]")
	// int8: sums / 4 in double rounding: 0.25 rounds up to 1 in the
	// doubling high multiply (1·2^30 + 2^30 >> 31), then 1/2 away from zero.
	check("int8 VALID", run(graph.PaddingValid, 5, graph.ActNone, i8T), "[1 3 26 5 50]")
}

// TestTransposeConvTableCovered walks opTable for TRANSPOSE_CONV: the dtypes
// the oracle test covers prepare, others are refused with ErrUnsupported.
func TestTransposeConvTableCovered(t *testing.T) {
	if opTable[graph.OpTransposeConv] == nil {
		t.Fatal("TRANSPOSE_CONV: not in opTable")
	}
	r := rand.New(rand.NewPCG(8, 8))
	for _, dt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT} {
		bdt := dt
		if dt == i32T || dt == i64T || dt == boolT {
			bdt = f32T // build a valid float layer, then retype it
		}
		m := tcBuild(r, bdt, 1)
		op := m.ops[0]
		var ins []*graph.Tensor
		for _, i := range op.Inputs {
			ins = append(ins, m.g.Tensors[i])
		}
		out := m.g.Tensors[op.Outputs[0]]
		if bdt != dt {
			x, y := *ins[2], *out
			x.DType, y.DType = dt, dt
			ins[2], out = &x, &y
		}
		_, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{})
		covered := bdt == dt
		switch {
		case covered && err != nil:
			t.Errorf("%s: %v", dt, err)
		case !covered && !errors.Is(err, ErrUnsupported):
			t.Errorf("%s: want ErrUnsupported, got %v", dt, err)
		}
	}
}
