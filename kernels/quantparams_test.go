package kernels

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

func TestEffectiveScaleAndChannelMultipliers(t *testing.T) {
	// 0.5 · 0.25 / 0.125 = 1 → (2^30, 1).
	mult, shift, err := ChannelMultipliers(fixedpoint.DoubleRounding, 0.5, []float32{0.25}, 0.125, 3)
	if err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 3; c++ {
		if mult[c] != 1<<30 || shift[c] != 1 {
			t.Errorf("channel %d: (%d, %d), want (2^30, 1)", c, mult[c], shift[c])
		}
	}
	// The product is formed in double from the float32 scales.
	sIn, sW, sOut := float32(0.1), float32(0.3), float32(0.7)
	want := float64(sIn) * float64(sW) / float64(sOut)
	if got := EffectiveScale(sIn, sW, sOut); got != want {
		t.Errorf("EffectiveScale = %v, want %v", got, want)
	}
	wm, ws := fixedpoint.QuantizeMultiplier(want)
	mult, shift, err = ChannelMultipliers(fixedpoint.DoubleRounding, sIn, []float32{1, sW}, sOut, 2)
	if err != nil {
		t.Fatal(err)
	}
	if mult[1] != wm || shift[1] != ws {
		t.Errorf("per-channel multiplier (%d, %d), want (%d, %d)", mult[1], shift[1], wm, ws)
	}
	if _, _, err := ChannelMultipliers(fixedpoint.DoubleRounding, 1, []float32{1, 1}, 1, 3); err == nil {
		t.Error("2 scales for 3 channels accepted")
	}
	if _, _, err := ChannelMultipliers(fixedpoint.DoubleRounding, 0, []float32{1}, 1, 1); err == nil {
		t.Error("zero input scale accepted")
	}
	if _, _, err := ChannelMultipliers(fixedpoint.DoubleRounding, 1, []float32{float32(math.NaN())}, 1, 1); err == nil {
		t.Error("NaN weight scale accepted")
	}
}

func TestRequantEpilogue(t *testing.T) {
	op := &graph.Op{Kind: graph.OpConv2D}
	out := &graph.Tensor{Name: "o", DType: graph.Int8, Quant: &graph.Quantization{Scale: []float32{0.5}, ZeroPoint: []int64{-10}}}
	// sIn·sW/sOut = 1·0.25/0.5 = 0.5; RELU6 → [−10, −10+12] = [−10, 2].
	rq, err := newRequant(fixedpoint.DoubleRounding, op, 1, []float32{0.25}, out, graph.ActRelu6, []int64{4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := rq.apply32(0, 0); got != -8 {
		t.Errorf("apply32(0) = %d, want -8", got)
	}
	if got := rq.apply32(10, 0); got != -3 {
		t.Errorf("apply32(10) = %d, want -3", got)
	}
	if got := rq.apply32(100, 0); got != 2 {
		t.Errorf("apply32(100) = %d, want 2", got)
	}
	if got := rq.apply32(-100, 0); got != -10 {
		t.Errorf("apply32(-100) = %d, want -10", got)
	}
	// (−3+4)·0.5 = 0.5: multiplier 2^30 with shift 0 → SRDHM rounds half up → 1.
	if got := rq.apply32(-3, 0); got != -9 {
		t.Errorf("apply32(-3) = %d, want -9", got)
	}
	// int64 path: (6+4)·0.5 = 5 → −5.
	if got := rq.apply64(6, 0); got != -5 {
		t.Errorf("apply64(6) = %d, want -5", got)
	}
}

// ---- TFLite Micro reference cases (../shared/reference/tflite-micro) ----

// refTensor is one tensor of a tflm-ref-case/v1 file.
type refTensor struct {
	Name         string            `json:"name"`
	Omitted      bool              `json:"omitted"`
	DType        string            `json:"dtype"`
	Shape        []int             `json:"shape"`
	Quantization *refQuant         `json:"quantization"`
	Data         []json.RawMessage `json:"data"`
	Compare      string            `json:"compare"`
	Expected     []json.RawMessage `json:"expected"`
	Tolerance    float64           `json:"tolerance"`
	Reference    []json.RawMessage `json:"reference"`
}

type refQuant struct {
	Scale     []float64 `json:"scale"`
	ZeroPoint []int64   `json:"zero_point"`
	Axis      int       `json:"quantized_dimension"`
}

type refCase struct {
	Name    string         `json:"name"`
	Op      string         `json:"op"`
	Options map[string]any `json:"options"`
	Inputs  []refTensor    `json:"inputs"`
	Outputs []refTensor    `json:"outputs"`
}

// refNumbers parses a data array (numbers or "nan"/"inf"/"-inf").
func refNumbers(raw []json.RawMessage) ([]float64, error) {
	out := make([]float64, len(raw))
	for i, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			switch s {
			case "nan":
				out[i] = math.NaN()
			case "inf":
				out[i] = math.Inf(1)
			case "-inf":
				out[i] = math.Inf(-1)
			default:
				return nil, fmt.Errorf("bad value %q", s)
			}
			continue
		}
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sharedDir finds ../shared (see package testshared) or skips the test.
func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// refTensorToGraph builds a graph tensor; constant data is attached when
// withData is set.
func refTensorToGraph(rt refTensor, withData bool) (*graph.Tensor, error) {
	d, err := graph.ParseDType(rt.DType)
	if err != nil {
		return nil, err
	}
	t := &graph.Tensor{Name: rt.Name, DType: d, Shape: append([]int{}, rt.Shape...)}
	if rt.Quantization != nil {
		q := &graph.Quantization{ZeroPoint: rt.Quantization.ZeroPoint, Axis: rt.Quantization.Axis}
		for _, s := range rt.Quantization.Scale {
			q.Scale = append(q.Scale, float32(s))
		}
		t.Quant = q
	}
	if withData {
		v, err := refNumbers(rt.Data)
		if err != nil {
			return nil, err
		}
		t.Data = encodeRef(d, v)
	}
	return t, nil
}

func encodeRef(d graph.DType, v []float64) []byte {
	switch d {
	case graph.Float32:
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return graph.EncodeFloat32s(f)
	case graph.Int8, graph.Int4:
		b := make([]int8, len(v))
		for i, x := range v {
			b[i] = int8(x)
		}
		return graph.EncodeInt8s(b)
	case graph.UInt8, graph.Bool:
		b := make([]byte, len(v))
		for i, x := range v {
			b[i] = byte(x)
		}
		return b
	case graph.Int16:
		b := make([]int16, len(v))
		for i, x := range v {
			b[i] = int16(x)
		}
		return graph.EncodeInt16s(b)
	case graph.Int32:
		b := make([]int32, len(v))
		for i, x := range v {
			b[i] = int32(x)
		}
		return graph.EncodeInt32s(b)
	case graph.Int64:
		b := make([]int64, len(v))
		for i, x := range v {
			b[i] = int64(x)
		}
		return graph.EncodeInt64s(b)
	}
	return nil
}

// refBuffer makes a run-time buffer holding values (or zeros when nil).
func refBuffer(d graph.DType, shape []int, v []float64) *Buffer {
	n := graph.NumElements(shape)
	b := &Buffer{DType: d, Shape: shape}
	switch d {
	case graph.Float32:
		b.F32 = make([]float32, n)
	case graph.Int8, graph.Int4:
		b.I8 = make([]int8, n)
	case graph.UInt8:
		b.U8 = make([]uint8, n)
	case graph.Int16:
		b.I16 = make([]int16, n)
	case graph.Int32:
		b.I32 = make([]int32, n)
	case graph.Int64:
		b.I64 = make([]int64, n)
	}
	for i, x := range v {
		if i >= n {
			break
		}
		switch d {
		case graph.Float32:
			b.F32[i] = float32(x)
		case graph.Int8, graph.Int4:
			b.I8[i] = int8(x)
		case graph.UInt8:
			b.U8[i] = uint8(x)
		case graph.Int16:
			b.I16[i] = int16(x)
		case graph.Int32:
			b.I32[i] = int32(x)
		case graph.Int64:
			b.I64[i] = int64(x)
		}
	}
	return b
}

func bufValues(b *Buffer) []float64 {
	n := bufLen(b)
	out := make([]float64, n)
	for i := range out {
		switch b.DType {
		case graph.Float32:
			out[i] = float64(b.F32[i])
		case graph.Int8, graph.Int4:
			out[i] = float64(b.I8[i])
		case graph.UInt8:
			out[i] = float64(b.U8[i])
		case graph.Int16:
			out[i] = float64(b.I16[i])
		case graph.Int32:
			out[i] = float64(b.I32[i])
		case graph.Int64:
			out[i] = float64(b.I64[i])
		}
	}
	return out
}

func optNum(o map[string]any, key string, def int) int {
	if v, ok := o[key].(float64); ok {
		return int(v)
	}
	return def
}

func optPadding(o map[string]any) graph.Padding {
	if s, _ := o["padding"].(string); s == "VALID" {
		return graph.PaddingValid
	}
	return graph.PaddingSame
}

func optAct(o map[string]any) (graph.Activation, error) {
	s, _ := o["fused_activation_function"].(string)
	if s == "" {
		return graph.ActNone, nil
	}
	return graph.ParseActivation(s)
}

// refOp builds the graph op of a case for the ops this file's kernels cover.
func refOp(c *refCase) (*graph.Op, PrepareFunc, error) {
	kind, err := graph.ParseOpKind(c.Op)
	if err != nil {
		return nil, nil, err
	}
	o := c.Options
	act, err := optAct(o)
	if err != nil {
		return nil, nil, err
	}
	op := &graph.Op{Kind: kind}
	var f PrepareFunc
	switch kind {
	case graph.OpConv2D:
		op.Options = &graph.Conv2DOptions{Padding: optPadding(o), StrideW: optNum(o, "stride_w", 1), StrideH: optNum(o, "stride_h", 1),
			DilationW: optNum(o, "dilation_w_factor", 1), DilationH: optNum(o, "dilation_h_factor", 1), Activation: act}
		f = prepareConv2D
	case graph.OpDepthwiseConv2D:
		op.Options = &graph.DepthwiseConv2DOptions{Padding: optPadding(o), StrideW: optNum(o, "stride_w", 1), StrideH: optNum(o, "stride_h", 1),
			DilationW: optNum(o, "dilation_w_factor", 1), DilationH: optNum(o, "dilation_h_factor", 1),
			DepthMultiplier: optNum(o, "depth_multiplier", 1), Activation: act}
		f = prepareDepthwiseConv2D
	case graph.OpFullyConnected:
		keep, _ := o["keep_num_dims"].(bool)
		op.Options = &graph.FullyConnectedOptions{Activation: act, KeepNumDims: keep}
		f = prepareFullyConnected
	case graph.OpMaxPool2D, graph.OpAveragePool2D:
		op.Options = &graph.Pool2DOptions{Padding: optPadding(o), StrideW: optNum(o, "stride_w", 1), StrideH: optNum(o, "stride_h", 1),
			FilterW: optNum(o, "filter_width", 1), FilterH: optNum(o, "filter_height", 1), Activation: act}
		f = prepareMaxPool2D
		if kind == graph.OpAveragePool2D {
			f = prepareAveragePool2D
		}
	case graph.OpSoftmax:
		beta := 1.0
		if v, ok := o["beta"].(float64); ok {
			beta = v
		}
		op.Options = &graph.SoftmaxOptions{Beta: float32(beta)}
		f = prepareSoftmax
	default:
		return nil, nil, fmt.Errorf("op %s not covered here", c.Op)
	}
	return op, f, nil
}

// runRefCase runs one case and returns a failure description, or "".
func runRefCase(c *refCase) (string, error) {
	op, prep, err := refOp(c)
	if err != nil {
		return "", err
	}
	var ins []*graph.Tensor
	var bufs []*Buffer
	for i, rt := range c.Inputs {
		if rt.Omitted {
			ins = append(ins, nil)
			bufs = append(bufs, nil)
			continue
		}
		t, err := refTensorToGraph(rt, i > 0)
		if err != nil {
			return "", fmt.Errorf("input %q: %w", rt.Name, err)
		}
		ins = append(ins, t)
		v, err := refNumbers(rt.Data)
		if err != nil {
			return "", err
		}
		bufs = append(bufs, refBuffer(t.DType, t.Shape, v))
	}
	ro := c.Outputs[0]
	out, err := refTensorToGraph(ro, false)
	if err != nil {
		return "", err
	}
	k, err := prep(op, ins, []*graph.Tensor{out})
	if err != nil {
		return "", err
	}
	ob := refBuffer(out.DType, out.Shape, nil)
	if err := k.Run(bufs, []*Buffer{ob}); err != nil {
		return "", err
	}
	got := bufValues(ob)
	if out.DType == graph.Float32 {
		exp, err := refNumbers(ro.Expected)
		if err != nil {
			return "", err
		}
		if len(exp) != len(got) {
			return fmt.Sprintf("%d outputs, expected %d", len(got), len(exp)), nil
		}
		for i := range got {
			if math.Abs(got[i]-exp[i]) > ro.Tolerance+1e-6*math.Abs(exp[i]) {
				return fmt.Sprintf("output[%d] = %g, expected %g ± %g", i, got[i], exp[i], ro.Tolerance), nil
			}
		}
		return "", nil
	}
	ref, err := refNumbers(ro.Reference)
	if err != nil {
		return "", err
	}
	if len(ref) != len(got) {
		return fmt.Sprintf("%d outputs, reference has %d", len(got), len(ref)), nil
	}
	for i := range got {
		if got[i] != ref[i] {
			return fmt.Sprintf("output[%d] = %v, reference %v (all: got %v want %v)", i, got[i], ref[i], got, ref), nil
		}
	}
	return "", nil
}

// runRefDir runs every case of one op directory and reports per-case
// results; it returns (passed, total).
func runRefDir(t *testing.T, op string) (int, int) {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "reference", "tflite-micro", "kernels", op)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("../shared not found: no cases in %s", dir)
	}
	sort.Strings(files)
	passed := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var c refCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		msg, err := runRefCase(&c)
		switch {
		case err != nil:
			t.Errorf("%s: %v", c.Name, err)
		case msg != "":
			t.Errorf("%s: %s", c.Name, msg)
		default:
			passed++
		}
	}
	t.Logf("%s: %d/%d reference cases pass", op, passed, len(files))
	return passed, len(files)
}

// refModel is a whole-model case (models/<group>/<name>.json).
type refModel struct {
	Name        string `json:"name"`
	Model       string `json:"model"`
	Ops         [][]string
	Invocations []struct {
		Inputs []struct {
			Index int               `json:"index"`
			Data  []json.RawMessage `json:"data"`
		} `json:"inputs"`
		Outputs []struct {
			Index     int               `json:"index"`
			Compare   string            `json:"compare"`
			Expected  []json.RawMessage `json:"expected"`
			Tolerance float64           `json:"tolerance"`
			Reference []json.RawMessage `json:"reference"`
		} `json:"outputs"`
	} `json:"invocations"`
}

// heavyPrepareFuncs maps the ops this file's kernels implement.
var heavyPrepareFuncs = map[graph.OpKind]PrepareFunc{
	graph.OpConv2D:          prepareConv2D,
	graph.OpDepthwiseConv2D: prepareDepthwiseConv2D,
	graph.OpFullyConnected:  prepareFullyConnected,
	graph.OpMaxPool2D:       prepareMaxPool2D,
	graph.OpAveragePool2D:   prepareAveragePool2D,
	graph.OpSoftmax:         prepareSoftmax,
}

// TestReferenceModels runs the whole-model cases whose ops are all heavy
// kernels (seanet conv 16x8, network_tester depthwise, hello_world FC)
// with a minimal in-order executor: integer outputs must equal TFLite
// Micro's reference output exactly, float ones lie within tolerance.
func TestReferenceModels(t *testing.T) {
	root := filepath.Join(sharedDir(t), "reference", "tflite-micro", "models")
	files, _ := filepath.Glob(filepath.Join(root, "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join(root, "*", "*", "*.json"))
	files = append(files, more...)
	sort.Strings(files)
	passed, total := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m refModel
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		mine := len(m.Ops) == 1
		for _, o := range m.Ops[0] {
			k, err := graph.ParseOpKind(o)
			if err != nil || heavyPrepareFuncs[k] == nil {
				mine = false
			}
		}
		if !mine {
			continue
		}
		total++
		if msg := runRefModel(filepath.Join(filepath.Dir(f), m.Model), &m); msg != "" {
			t.Errorf("%s: %s", m.Name, msg)
			continue
		}
		passed++
	}
	t.Logf("whole-model cases of heavy ops: %d/%d pass", passed, total)
}

func runRefModel(path string, m *refModel) string {
	g, err := tflite.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	kernelsOf := make([]Kernel, len(g.Ops))
	for i, op := range g.Ops {
		var ins, outs []*graph.Tensor
		for _, ti := range op.Inputs {
			ins = append(ins, g.Tensor(ti))
		}
		for _, ti := range op.Outputs {
			outs = append(outs, g.Tensor(ti))
		}
		k, err := heavyPrepareFuncs[op.Kind](op, ins, outs)
		if err != nil {
			return fmt.Sprintf("op %d: %v", i, err)
		}
		kernelsOf[i] = k
	}
	for n, inv := range m.Invocations {
		bufs := map[int]*Buffer{}
		for _, in := range inv.Inputs {
			v, err := refNumbers(in.Data)
			if err != nil {
				return err.Error()
			}
			t := g.Tensors[g.Inputs[in.Index]]
			bufs[g.Inputs[in.Index]] = refBuffer(t.DType, t.Shape, v)
		}
		for i, op := range g.Ops {
			var ins, outs []*Buffer
			for _, ti := range op.Inputs {
				ins = append(ins, bufs[ti]) // nil for constants: kernels captured them
			}
			for _, ti := range op.Outputs {
				t := g.Tensors[ti]
				b := refBuffer(t.DType, t.Shape, nil)
				bufs[ti] = b
				outs = append(outs, b)
			}
			if err := kernelsOf[i].Run(ins, outs); err != nil {
				return fmt.Sprintf("invocation %d op %d: %v", n, i, err)
			}
		}
		for _, o := range inv.Outputs {
			got := bufValues(bufs[g.Outputs[o.Index]])
			if g.Tensors[g.Outputs[o.Index]].DType == graph.Float32 {
				exp, _ := refNumbers(o.Expected)
				if o.Compare == "reference" || len(exp) == 0 {
					exp, _ = refNumbers(o.Reference)
				}
				for i := range exp {
					if math.Abs(got[i]-exp[i]) > math.Max(o.Tolerance, 1e-5) {
						return fmt.Sprintf("invocation %d output[%d] = %g, want %g", n, i, got[i], exp[i])
					}
				}
				continue
			}
			ref, _ := refNumbers(o.Reference)
			if len(ref) != len(got) {
				return fmt.Sprintf("invocation %d: %d outputs, reference %d", n, len(got), len(ref))
			}
			bad := 0
			first := -1
			for i := range ref {
				if got[i] != ref[i] {
					bad++
					if first < 0 {
						first = i
					}
				}
			}
			if bad > 0 {
				return fmt.Sprintf("invocation %d: %d of %d outputs differ from reference, first [%d] = %v want %v", n, bad, len(ref), first, got[first], ref[first])
			}
		}
	}
	return ""
}

// TestRowInt8MatchesApply32 checks the unrolled epilogues (double and
// single rounding) against apply32.
func TestRowInt8MatchesApply32(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	op := &graph.Op{Kind: graph.OpConv2D}
	for iter := 0; iter < 3000; iter++ {
		n := 1 + r.Intn(70) // vector groups of 16 and a tail
		scales := make([]float32, n)
		for i := range scales {
			scales[i] = float32(math.Exp(r.Float64()*16 - 12))
		}
		if iter%10 == 0 {
			scales[0] = 0 // an all-zero channel: multiplier 0
		}
		var bias []int64
		if iter%4 < 2 {
			bias = make([]int64, n)
			for i := range bias {
				bias[i] = int64(r.Intn(1<<20) - 1<<19)
				if r.Intn(20) == 0 {
					bias[i] = []int64{math.MinInt32, math.MaxInt32}[r.Intn(2)] // acc + bias wraps
				}
			}
		}
		out := qt("out", graph.Int8, []int{1, n}, []float32{float32(0.01 + r.Float64())}, []int64{int64(r.Intn(256) - 128)})
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}[r.Intn(4)]
		rnd := fixedpoint.Rounding(iter % 2) // both arithmetics
		rq, err := newRequant(rnd, op, float32(0.01+r.Float64()), scales, out, act, bias, n)
		if err != nil {
			t.Fatal(err)
		}
		acc := make([]int32, n)
		for i := range acc {
			switch r.Intn(5) {
			case 4:
				acc[i] = []int32{math.MinInt32, math.MaxInt32, math.MinInt32 + 1, -1, 0}[r.Intn(5)]
			case 0:
				acc[i] = int32(r.Uint32())
			case 1:
				acc[i] = int32(r.Intn(64) - 32) // small values: frequent rounding ties
			default:
				acc[i] = int32(r.Intn(1<<22) - 1<<21)
			}
		}
		if rq.fast == nil {
			t.Fatalf("no vector epilogue for shifts %v", rq.shift)
		}
		got, gotGo := make([]int8, n), make([]int8, n)
		rq.rowInt8(got, acc)
		rq.rowInt8Go(gotGo, acc)
		for j, a := range acc {
			if want := int8(rq.apply32(a, j)); got[j] != want || gotGo[j] != want {
				t.Fatalf("%v channel %d acc %d (mult %d shift %d): rowInt8 %d, rowInt8Go %d, apply32 %d", rnd, j, a, rq.mult[j], rq.shift[j], got[j], gotGo[j], want)
			}
		}
	}
}
