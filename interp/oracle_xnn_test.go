package interp_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// xnnScales draws quantization scales for the runtime-arithmetic cases:
// "tie" scales have few mantissa bits, so that many accumulators land
// exactly on a .5 after rescaling (where single rounding rounds up and
// XNNPACK to even); "real" scales are arbitrary, as trained models have,
// which exposes the float32-versus-Q31 differences next to ties.
type xnnScales struct {
	rng *rand.Rand
	tie bool
}

func (s xnnScales) in() float32 {
	if s.tie {
		return []float32{0.5, 0.25, 0.375, 1}[s.rng.IntN(4)]
	}
	return float32(0.01 + 0.1*s.rng.Float64())
}

func (s xnnScales) w(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		if s.tie {
			v[i] = float32(1+s.rng.IntN(7)) / 256
		} else {
			v[i] = float32(0.002 + 0.02*s.rng.Float64())
		}
	}
	return v
}

func (s xnnScales) out() float32 {
	if s.tie {
		return []float32{1, 0.5, 2, 0.75}[s.rng.IntN(4)]
	}
	return float32(0.02 + 0.2*s.rng.Float64())
}

// xnnConvCase builds a one-op int8 CONV_2D (depthwise when dw) or
// FULLY_CONNECTED (fc) model with weights of the given per-channel-ness,
// optional bias and activation.
func xnnConvCase(rng *rand.Rand, sc xnnScales, kind graph.OpKind, perChannel, withBias bool, act graph.Activation) *graph.Graph {
	h, w, cin, cout, f := 6+rng.IntN(6), 5+rng.IntN(7), 1+rng.IntN(9), 1+rng.IntN(19), 1+2*rng.IntN(2)
	if kind == graph.OpFullyConnected {
		h, cout = 20+rng.IntN(20), 8+rng.IntN(30)
	}
	sIn, sOut := sc.in(), sc.out()
	x := qt(graph.Int8, []int{1, h, w, cin}, sIn, int64(rng.IntN(256)-128))
	var wShape []int
	var opts any
	var y *graph.Tensor
	axis := 0
	switch kind {
	case graph.OpConv2D:
		wShape = []int{cout, f, f, cin}
		opts = &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: act}
		y = qt(graph.Int8, []int{1, h, w, cout}, sOut, int64(rng.IntN(256)-128))
	case graph.OpDepthwiseConv2D:
		m := 1 + rng.IntN(2)
		cout = cin * m
		wShape = []int{1, f, f, cout}
		axis = 3
		opts = &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, DepthMultiplier: m, Activation: act}
		y = qt(graph.Int8, []int{1, h, w, cout}, sOut, int64(rng.IntN(256)-128))
	case graph.OpFullyConnected:
		// h rows of w·cin values.
		x = qt(graph.Int8, []int{h, w * cin}, sIn, int64(rng.IntN(256)-128))
		wShape = []int{cout, w * cin}
		opts = &graph.FullyConnectedOptions{Activation: act}
		y = qt(graph.Int8, []int{h, cout}, sOut, int64(rng.IntN(256)-128))
	}
	nw := 1
	for _, d := range wShape {
		nw *= d
	}
	ws := sc.w(cout)
	if !perChannel {
		ws = ws[:1]
	}
	wt := constOf(graph.Int8, wShape, 1, 0, rng)
	wv := wt.Int8s()
	for i := range wv {
		if wv[i] == -128 {
			wv[i] = -127
		}
	}
	wt.Data = graph.EncodeInt8s(wv)
	wt.Name = "w"
	wt.Quant = &graph.Quantization{Scale: ws, ZeroPoint: make([]int64, len(ws)), Axis: axis}
	consts := []*graph.Tensor{wt}
	if withBias {
		bv := make([]int32, cout)
		bs := make([]float32, len(ws)) // per-tensor weights, per-tensor bias
		for i := range bv {
			bv[i] = int32(rng.IntN(4001) - 2000)
		}
		for i := range bs {
			bs[i] = sIn * ws[i]
		}
		b := i32("b", bv...)
		b.Quant = &graph.Quantization{Scale: bs, ZeroPoint: make([]int64, len(bs))}
		consts = append(consts, b)
	} else {
		consts = append(consts, nil)
	}
	g := &graph.Graph{}
	x.Name, y.Name = "x", "y"
	xi := g.AddTensor(x)
	ins := []int{xi}
	for _, c := range consts {
		if c == nil {
			ins = append(ins, -1)
			continue
		}
		ins = append(ins, g.AddTensor(c))
	}
	yi := g.AddTensor(y)
	g.Inputs, g.Outputs = []int{xi}, []int{yi}
	g.AddOp(kind, ins, []int{yi}, opts)
	return g
}

// xnnModes are the arithmetics compared against the oracle.
var xnnModes = []fixedpoint.Rounding{fixedpoint.RuntimeRounding, fixedpoint.SingleRounding, fixedpoint.DoubleRounding}

// oracleMismatches runs g in the oracle and in qbench in every mode on
// k random samples and returns, per mode, how many output values differ.
func oracleMismatches(t *testing.T, or *oracle.Runner, dir, name string, g *graph.Graph, rng *rand.Rand, k int) (bad []int, total int, err error) {
	path := filepath.Join(dir, name+".tflite")
	if err := tflite.WriteFile(path, g); err != nil {
		return nil, 0, fmt.Errorf("write: %w", err)
	}
	var in []byte
	var want []byte
	for _, rnd := range xnnModes {
		p, err := interp.Compile(g, interp.Options{Rounding: rnd})
		if err != nil {
			return nil, 0, err
		}
		if in == nil {
			in = randomInput(rng, p.InputTensor(0), k, -6, 6)
			if want, err = or.Run(path, in); err != nil {
				return nil, 0, err
			}
		}
		got, err := p.NewExecutor().RunRaw(in)
		if err != nil {
			return nil, 0, err
		}
		out := p.OutputTensor(0)
		if len(got) != len(want) {
			return nil, 0, fmt.Errorf("%d output bytes, TFLite %d", len(got), len(want))
		}
		n, _ := compareInts(out.DType, got, want)
		bad = append(bad, n)
		total = len(got) / out.DType.Size()
	}
	return bad, total, nil
}

// TestRuntimeRoundingMatchesTFLite checks fixedpoint.RuntimeRounding
// against the real TFLite runtime (the oracle applies TFLite's default
// XNNPACK delegate) on random int8 CONV_2D, DEPTHWISE_CONV_2D and
// FULLY_CONNECTED layers, per-channel and per-tensor, with and without
// bias and activation, with scales chosen to make rounding ties common
// (and, with QBENCH_ORACLE_ALL=1, arbitrary scales and every combination;
// by default one case per node rule, which keeps the package inside go
// test's time limit): every value must be identical; the single- and
// double-rounding mismatch counts are logged.
func TestRuntimeRoundingMatchesTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per case; skipped with -short")
	}
	every := os.Getenv("QBENCH_ORACLE_ALL") == "1"
	rng := rand.New(rand.NewPCG(13, 17))
	dir := t.TempDir()
	sum := make([]int, len(xnnModes))
	all := 0
	i := 0
	for _, kind := range []graph.OpKind{graph.OpConv2D, graph.OpDepthwiseConv2D, graph.OpFullyConnected} {
		for _, tie := range []bool{true, false} {
			if !tie && !every {
				continue
			}
			for _, perChannel := range []bool{true, false} {
				for _, bias := range []bool{true, false} {
					act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}[rng.IntN(4)]
					if tie && rng.IntN(2) == 0 {
						act = graph.ActNone
					}
					name := fmt.Sprintf("%d-%s-tie%v-pc%v-bias%v-%s", i, kind, tie, perChannel, bias, act)
					i++
					g := xnnConvCase(rng, xnnScales{rng, tie}, kind, perChannel, bias, act)
					// The rules: per-channel conv and depthwise
					// (delegated), per-tensor depthwise without bias
					// (builtin, double rounding), per-tensor and
					// per-channel fully connected.
					if !every && !(kind != graph.OpFullyConnected && perChannel && bias) &&
						!(kind == graph.OpDepthwiseConv2D && !perChannel && !bias) && kind != graph.OpFullyConnected {
						continue
					}
					if !every && kind == graph.OpFullyConnected && !bias {
						continue
					}
					bad, total, err := oracleMismatches(t, or, dir, name, g, rng, 8)
					if err != nil {
						t.Errorf("%s: %v", name, err)
						continue
					}
					all += total
					for m := range bad {
						sum[m] += bad[m]
					}
					t.Logf("%s: of %d values, differ from TFLite: runtime %d, single %d, double %d", name, total, bad[0], bad[1], bad[2])
					if bad[0] != 0 {
						t.Errorf("%s: runtime rounding: %d of %d values differ from TFLite", name, bad[0], total)
					}
				}
			}
		}
	}
	t.Logf("all cases: of %d values, differ from TFLite: runtime %d, single %d, double %d", all, sum[0], sum[1], sum[2])
}

// TestZooInt8ModelsRuntimeRounding runs the zoo's int8 MLPerf Tiny models
// (../shared/models/zoo/mlt_*_i8.tflite and mlt_strww.tflite) on random inputs in the oracle
// and in qbench: RuntimeRounding must be bit-identical; the single- and
// double-rounding mismatch counts are logged.
func TestZooInt8ModelsRuntimeRounding(t *testing.T) {
	zoo := filepath.Join(sharedDir(t), "models", "zoo")
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node per model; skipped with -short")
	}
	paths, _ := filepath.Glob(filepath.Join(zoo, "mlt_*_i8.tflite"))
	if len(paths) == 0 {
		t.Skipf("no mlt_*_i8.tflite in %s", zoo)
	}
	// The streaming wake word is int8 too, with tall 1-D depthwise
	// windows (the tap-grouped kernel's main case).
	strww := filepath.Join(zoo, "mlt_strww.tflite")
	if _, err := os.Stat(strww); err == nil {
		paths = append(paths, strww)
	}
	rng := rand.New(rand.NewPCG(23, 29))
	for _, p := range paths {
		name := filepath.Base(p)
		g, err := tflite.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var in, want []byte
		for _, rnd := range xnnModes {
			prog, err := interp.Compile(g, interp.Options{Rounding: rnd})
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
			if in == nil {
				in = randomInput(rng, prog.InputTensor(0), 4, -1, 1)
				if want, err = or.Run(p, in); err != nil {
					t.Errorf("%s: oracle: %v", name, err)
					break
				}
			}
			got, err := prog.NewExecutor().RunRaw(in)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
			out := prog.OutputTensor(0)
			bad, worst := compareInts(out.DType, got, want)
			t.Logf("%s (%s): %d of %d outputs differ from TFLite (by up to %d)", name, rnd, bad, len(got)/out.DType.Size(), worst)
			if rnd == fixedpoint.RuntimeRounding && bad > 0 {
				t.Errorf("%s: runtime rounding: %d outputs differ from TFLite", name, bad)
			}
		}
	}
}

// TestRuntimeRoundingLightOpsMatchTFLite checks the other int8 ops the
// TFLite runtime's delegate takes against the oracle, with scales that
// make ties common: MEAN over height and width (XNNPACK's float32 global
// average pooling), ADD of two activations, of a constant and of a
// broadcast constant (XNNPACK's 21-bit multipliers), and float to int8
// QUANTIZE of exact ties (XNNPACK multiplies by 1/scale and rounds half to
// even). RuntimeRounding must be identical; the other modes' mismatches
// are logged.
func TestRuntimeRoundingLightOpsMatchTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per case; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(5, 3))
	dir := t.TempDir()
	s := []int{1, 16, 16, 8}
	zp := func() int64 { return int64(rng.IntN(200) - 100) }
	// One scale pair by default (go test's time limit); all four with
	// QBENCH_ORACLE_ALL=1.
	pairs := [][2]float32{{0.0625, 0.5}}
	if os.Getenv("QBENCH_ORACLE_ALL") == "1" {
		pairs = append(pairs, [2]float32{0.25, 0.75}, [2]float32{0.5, 1}, [2]float32{0.1, 0.3})
	}
	type lightCase struct {
		name string
		g    *graph.Graph
		in   []byte
	}
	var cs []lightCase
	for _, sc := range pairs {
		add := func(name string, g *graph.Graph, in []byte) {
			cs = append(cs, lightCase{fmt.Sprintf("%s-%g-%g", name, sc[0], sc[1]), g, in})
		}
		add("mean", oneOp(graph.OpMean, &graph.ReducerOptions{KeepDims: true}, qt(graph.Int8, []int{1, 5, 6, 200}, sc[0], zp()), qt(graph.Int8, []int{1, 1, 1, 200}, sc[1], zp()), i32("axis", 1, 2)), nil)
		add("mean-2d", oneOp(graph.OpMean, &graph.ReducerOptions{}, qt(graph.Int8, []int{1, 4, 4, 200}, sc[0], zp()), qt(graph.Int8, []int{1, 200}, sc[1], zp()), i32("axis", 2, 1)), nil)
		x, y := qt(graph.Int8, s, sc[0], zp()), qt(graph.Int8, s, sc[1], zp())
		x.Name, y.Name = "x", "y"
		g := &graph.Graph{}
		xi, yi := g.AddTensor(x), g.AddTensor(y)
		g.Inputs, g.Outputs = []int{xi}, []int{yi}
		g.AddOp(graph.OpAdd, []int{xi, xi}, []int{yi}, &graph.AddOptions{})
		add("add-xx", g, nil)
		add("add-const", oneOp(graph.OpAdd, &graph.AddOptions{}, qt(graph.Int8, s, sc[0], 3), qt(graph.Int8, s, sc[1], -5), constOf(graph.Int8, s, sc[0]*1.5, 7, rng)), nil)
		add("add-bcast", oneOp(graph.OpAdd, &graph.AddOptions{Activation: graph.ActRelu}, qt(graph.Int8, s, sc[0], 3), qt(graph.Int8, s, sc[1], -5), constOf(graph.Int8, []int{8}, sc[0]*1.5, 7, rng)), nil)
		var in []byte
		for range 4 * 16 * 16 * 8 {
			f := (float32(rng.IntN(200)-100) + 0.5) * sc[0] // exact ties
			if rng.IntN(3) == 0 {
				f = float32(rng.NormFloat64()) * 10 * sc[0]
			}
			in = binary.LittleEndian.AppendUint32(in, math.Float32bits(f))
		}
		add("quantize-float", oneOp(graph.OpQuantize, nil, qt(graph.Float32, s, 0, 0), qt(graph.Int8, s, sc[0], zp())), in)
	}
	for _, c := range cs {
		path := filepath.Join(dir, c.name+".tflite")
		if err := tflite.WriteFile(path, c.g); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var want, in []byte
		var bad []int
		for _, rnd := range xnnModes {
			p, err := interp.Compile(c.g, interp.Options{Rounding: rnd})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if want == nil {
				if in = c.in; in == nil {
					in = randomInput(rng, p.InputTensor(0), 4, -6, 6)
				}
				if want, err = or.Run(path, in); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
			}
			got, err := p.NewExecutor().RunRaw(in)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			n, _ := compareInts(p.OutputTensor(0).DType, got, want)
			bad = append(bad, n)
		}
		t.Logf("%s: of %d values, differ from TFLite: runtime %d, single %d, double %d", c.name, len(want), bad[0], bad[1], bad[2])
		if bad[0] != 0 {
			t.Errorf("%s: runtime rounding: %d values differ from TFLite", c.name, bad[0])
		}
	}
}
