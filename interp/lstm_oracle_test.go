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

// lstmRun runs g (written to path) in qbench with state carried across the
// k samples of in, as TFLite's interpreter does between Invoke calls, and in
// the oracle; it returns both outputs' raw bytes.
func lstmRun(t *testing.T, or *oracle.Runner, g *graph.Graph, path string, in []byte) (got, want []byte, dt graph.DType) {
	t.Helper()
	p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding, CarryState: true})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	got, err = p.NewExecutor().RunRaw(in)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want, err = or.Run(path, in)
	if err != nil {
		t.Fatalf("%s: oracle: %v", path, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d output bytes, TFLite %d", path, len(got), len(want))
	}
	return got, want, p.OutputTensor(0).DType
}

// floatRangeError returns the largest |got−want| relative to the range of
// want (the zoo's float acceptance: within 1e-5 of the output range), and
// that range.
func floatRangeError(got, want []byte) (rel, rng float64) {
	lo, hi, worst := math.Inf(1), math.Inf(-1), 0.0
	for i := 0; i+4 <= len(want); i += 4 {
		b := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[i:])))
		lo, hi = min(lo, b), max(hi, b)
	}
	for i := 0; i+4 <= len(want); i += 4 {
		a := float64(math.Float32frombits(binary.LittleEndian.Uint32(got[i:])))
		b := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[i:])))
		if d := math.Abs(a - b); !(d <= worst) {
			worst = d
		}
	}
	rng = hi - lo
	if rng == 0 {
		rng = 1
	}
	return worst / rng, hi - lo
}

// TestLSTMZooFloatMatchesTFLite runs TFLite Micro's float MNIST LSTM on 6
// random images with the state carried over, against TFLite: the LSTM's
// own output sequence ([1 28 20], cut after the op) and the softmax must be
// within 1e-5 of their output range.
func TestLSTMZooFloatMatchesTFLite(t *testing.T) {
	g, or := zooOracle(t, "tflm_mnist_lstm.tflite", "runs the float LSTM in TFLite")
	rng := rand.New(rand.NewPCG(14, 3))
	in := randomInput(rng, g.Tensor(g.Inputs[0]), 6, 0, 1)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		g    *graph.Graph
	}{{"lstm", cutAfter(g, 0)}, {"softmax", g}} {
		path := filepath.Join(dir, c.name+".tflite")
		if err := tflite.WriteFile(path, c.g); err != nil {
			t.Fatal(err)
		}
		got, want, _ := lstmRun(t, or, c.g, path, in)
		rel, r := floatRangeError(got, want)
		t.Logf("%s: worst difference %.3g of the output range %.3g", c.name, rel, r)
		if !(rel <= 1e-5) {
			t.Errorf("%s: worst difference %.3g of the output range, want ≤ 1e-5", c.name, rel)
		}
	}
}

// lstmCase is one single-op LSTM variant.
type lstmCase struct {
	cifg, peephole, projection, projBias, layerNorm, timeMajor bool
	act                                                        graph.Activation
	cellClip, projClip                                         float32
}

func (c lstmCase) String() string {
	s := fmt.Sprintf("act=%s", c.act)
	for _, f := range []struct {
		on   bool
		name string
	}{{c.cifg, "cifg"}, {c.peephole, "peephole"}, {c.projection, "proj"}, {c.projBias, "projbias"},
		{c.layerNorm, "layernorm"}, {c.timeMajor, "timemajor"}, {c.cellClip > 0, "cellclip"}, {c.projClip > 0, "projclip"}} {
		if f.on {
			s += "," + f.name
		}
	}
	return s
}

// floatLSTM builds a one-op float LSTM graph of case c with random weights.
func floatLSTM(rng *rand.Rand, c lstmCase, batch, time, nIn, nCell, nOut int) *graph.Graph {
	g := &graph.Graph{}
	add := func(name string, shape []int, scale float64) int {
		v := make([]float32, 1)
		n := 1
		for _, d := range shape {
			n *= d
		}
		v = make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)})
	}
	xShape := []int{batch, time, nIn}
	if c.timeMajor {
		xShape = []int{time, batch, nIn}
	}
	ins := make([]int, 24)
	for i := range ins {
		ins[i] = -1
	}
	ins[0] = g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: xShape})
	ws := 1 / math.Sqrt(float64(nIn+nOut))
	for gi := range 4 {
		if gi == 0 && c.cifg {
			continue
		}
		ins[1+gi] = add(fmt.Sprintf("w%d", gi), []int{nCell, nIn}, ws)
		ins[5+gi] = add(fmt.Sprintf("r%d", gi), []int{nCell, nOut}, ws)
		ins[12+gi] = add(fmt.Sprintf("b%d", gi), []int{nCell}, 0.5)
		if c.peephole && gi != 2 {
			ins[9+map[int]int{0: 0, 1: 1, 3: 2}[gi]] = add(fmt.Sprintf("p%d", gi), []int{nCell}, 0.5)
		}
		if c.layerNorm {
			ins[20+gi] = add(fmt.Sprintf("ln%d", gi), []int{nCell}, 0.5)
		}
	}
	if c.projection {
		ins[16] = add("proj", []int{nOut, nCell}, 1/math.Sqrt(float64(nCell)))
		if c.projBias {
			ins[17] = add("projb", []int{nOut}, 0.2)
		}
	}
	ins[18] = g.AddTensor(&graph.Tensor{Name: "h", DType: graph.Float32, Shape: []int{batch, nOut}, Variable: true})
	ins[19] = g.AddTensor(&graph.Tensor{Name: "c", DType: graph.Float32, Shape: []int{batch, nCell}, Variable: true})
	if !c.layerNorm {
		ins = ins[:20]
	}
	yShape := []int{xShape[0], xShape[1], nOut}
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: yShape})
	g.Inputs, g.Outputs = []int{ins[0]}, []int{y}
	g.AddOp(graph.OpUnidirectionalSequenceLSTM, ins, []int{y}, &graph.SequenceLSTMOptions{
		Activation: c.act, CellClip: c.cellClip, ProjClip: c.projClip, TimeMajor: c.timeMajor})
	return g
}

// lstmCases covers every variant flag at least once, plus n random mixes
// when QBENCH_ORACLE_ALL=1 (each case is one node run; the fixed ones keep
// the package's default test time down).
func lstmCases(rng *rand.Rand, n int) []lstmCase {
	if os.Getenv("QBENCH_ORACLE_ALL") != "1" {
		n = 0
	}
	cs := []lstmCase{
		{act: graph.ActTanh},
		{act: graph.ActTanh, cifg: true, peephole: true},
		{act: graph.ActTanh, peephole: true, projection: true, projBias: true, cellClip: 0.7, projClip: 0.3},
		{act: graph.ActTanh, layerNorm: true, timeMajor: true},
		{act: graph.ActTanh, cifg: true, layerNorm: true, projection: true},
		{act: graph.ActRelu, timeMajor: true, cellClip: 2},
		{act: graph.ActSigmoid, projection: true, projBias: true}, // the runtime applies no sigmoid here
		{act: graph.ActNone, peephole: true},
	}
	acts := []graph.Activation{graph.ActTanh, graph.ActRelu, graph.ActSigmoid, graph.ActRelu6, graph.ActNone}
	for range n {
		c := lstmCase{act: acts[rng.IntN(len(acts))], cifg: rng.IntN(2) == 0, peephole: rng.IntN(2) == 0,
			projection: rng.IntN(2) == 0, layerNorm: rng.IntN(2) == 0, timeMajor: rng.IntN(2) == 0}
		c.projBias = c.projection && rng.IntN(2) == 0
		if rng.IntN(2) == 0 {
			c.cellClip = float32(0.5 + rng.Float64()*3)
		}
		if c.projection && rng.IntN(2) == 0 {
			c.projClip = float32(0.2 + rng.Float64())
		}
		cs = append(cs, c)
	}
	return cs
}

// TestLSTMFloatOneOpMatchesTFLite writes one-op float LSTMs (every variant:
// CIFG, peephole, projection with and without bias, layer norm, clipping,
// time- and batch-major, activations; random shapes) and compares them with
// TFLite over 3 invocations of carried state: within 1e-5 of the output range.
func TestLSTMFloatOneOpMatchesTFLite(t *testing.T) {
	sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per variant; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(14, 4))
	dir := t.TempDir()
	for i, c := range lstmCases(rng, 6) {
		batch, time, nIn, nCell := 1+rng.IntN(3), 1+rng.IntN(5), 1+rng.IntN(9), 2+rng.IntN(9)
		nOut := nCell
		if c.projection {
			nOut = 1 + rng.IntN(8)
		}
		g := floatLSTM(rng, c, batch, time, nIn, nCell, nOut)
		path := filepath.Join(dir, fmt.Sprintf("lstm%d.tflite", i))
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%v: write: %v", c, err)
		}
		in := randomInput(rng, g.Tensor(g.Inputs[0]), 3, -2, 2)
		got, want, _ := lstmRun(t, or, g, path, in)
		if rel, r := floatRangeError(got, want); !(rel <= 1e-5) {
			t.Errorf("%v (batch %d time %d input %d cell %d output %d): worst difference %.3g of the output range %.3g",
				c, batch, time, nIn, nCell, nOut, rel, r)
		}
	}
}

// TestLSTMZooIntMatchesTFLite runs the Coral integer MNIST LSTM (uint8 I/O
// through QUANTIZE, an 8x8->16 LSTM inside) on 6 random images with the
// state carried over: the LSTM's int8 output sequence (cut after the op)
// and the model's uint8 output must be identical to TFLite's.
func TestLSTMZooIntMatchesTFLite(t *testing.T) {
	g, or := zooOracle(t, "coral_lstm_mnist_ptq.tflite", "runs the integer LSTM in TFLite")
	rng := rand.New(rand.NewPCG(14, 7))
	in := randomInput(rng, g.Tensor(g.Inputs[0]), 6, 0, 0)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		g    *graph.Graph
	}{{"lstm", cutAfter(g, 1)}, {"model", g}} {
		path := filepath.Join(dir, c.name+".tflite")
		if err := tflite.WriteFile(path, c.g); err != nil {
			t.Fatal(err)
		}
		got, want, dt := lstmRun(t, or, c.g, path, in)
		bad, worst := compareInts(dt, got, want)
		t.Logf("%s: %d of %d values differ from TFLite (worst by %d)", c.name, bad, len(got)/dt.Size(), worst)
		if bad > 0 {
			t.Errorf("%s: %d of %d values differ from TFLite (worst by %d)", c.name, bad, len(got)/dt.Size(), worst)
		}
	}
}

// intLSTM builds a one-op integer 8x8->16 LSTM of case c with random
// weights and random quantization (zero points included), the five
// intermediates carrying the gate scales (layer norm) and the hidden one.
func intLSTM(rng *rand.Rand, c lstmCase, batch, time, nIn, nCell, nOut int) *graph.Graph {
	g := &graph.Graph{}
	q := func(s float64, zp int) *graph.Quantization {
		return &graph.Quantization{Scale: []float32{float32(s)}, ZeroPoint: []int64{int64(zp)}}
	}
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	i8 := func(name string, shape []int, s float64) int {
		n := shape[0]
		if len(shape) > 1 {
			n *= shape[1]
		}
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(rng.IntN(255) - 127)
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Int8, Shape: shape, Data: graph.EncodeInt8s(v), Quant: q(s, 0)})
	}
	i16 := func(name string, n int, s float64, lo, hi int) int {
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(lo + rng.IntN(hi-lo+1))
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Int16, Shape: []int{n}, Data: graph.EncodeInt16s(v), Quant: q(s, 0)})
	}
	i32 := func(name string, n int, s float64, lim int) int {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(rng.IntN(2*lim+1) - lim)
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Int32, Shape: []int{n}, Data: graph.EncodeInt32s(v), Quant: q(s, 0)})
	}
	xShape := []int{batch, time, nIn}
	if c.timeMajor {
		xShape = []int{time, batch, nIn}
	}
	sIn, sOut := u(0.005, 0.02), u(0.004, 0.012)
	zIn, zOut := rng.IntN(60)-30, rng.IntN(60)-30
	cellBits := 9 + rng.IntN(7) // cell state scale 2^-9 … 2^-15
	ins := make([]int, 24)
	for i := range ins {
		ins[i] = -1
	}
	ins[0] = g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Int8, Shape: xShape, Quant: q(sIn, zIn)})
	for gi := range 4 {
		if gi == 0 && c.cifg {
			continue
		}
		sw, sr := u(0.003, 0.02), u(0.003, 0.02)
		ins[1+gi] = i8(fmt.Sprintf("w%d", gi), []int{nCell, nIn}, sw)
		ins[5+gi] = i8(fmt.Sprintf("r%d", gi), []int{nCell, nOut}, sr)
		ins[12+gi] = i32(fmt.Sprintf("b%d", gi), nCell, sw*sIn, 3000)
		if c.peephole && gi != 2 {
			ins[9+map[int]int{0: 0, 1: 1, 3: 2}[gi]] = i16(fmt.Sprintf("p%d", gi), nCell, u(1e-5, 1e-4), -20000, 20000)
		}
		if c.layerNorm {
			ins[20+gi] = i16(fmt.Sprintf("ln%d", gi), nCell, u(5e-5, 2e-4), 2000, 20000)
		}
	}
	if c.projection {
		ins[16] = i8("proj", []int{nOut, nCell}, u(0.005, 0.03))
		if c.projBias {
			ins[17] = i32("projb", nOut, 1e-5, 2000)
		}
	}
	ins[18] = g.AddTensor(&graph.Tensor{Name: "h", DType: graph.Int8, Shape: []int{batch, nOut}, Variable: true, Quant: q(sOut, zOut)})
	ins[19] = g.AddTensor(&graph.Tensor{Name: "c", DType: graph.Int16, Shape: []int{batch, nCell}, Variable: true,
		Quant: q(math.Ldexp(1, -cellBits), 0)})
	if !c.layerNorm {
		ins = ins[:20]
	}
	var inter []int
	for i := range 4 {
		qi := (*graph.Quantization)(nil)
		dt := graph.Float32
		if c.layerNorm {
			qi, dt = q(u(0.5, 2)/4096, 0), graph.Int16
		}
		inter = append(inter, g.AddTensor(&graph.Tensor{Name: fmt.Sprintf("inter%d", i), DType: dt, Shape: []int{0}, Quant: qi}))
	}
	hs, hz := sOut, zOut
	if c.projection {
		hs, hz = u(0.004, 0.01), rng.IntN(40)-20
	}
	inter = append(inter, g.AddTensor(&graph.Tensor{Name: "hidden", DType: graph.Int8, Shape: []int{0}, Quant: q(hs, hz)}))
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{xShape[0], xShape[1], nOut}, Quant: q(sOut, zOut)})
	g.Inputs, g.Outputs = []int{ins[0]}, []int{y}
	op := g.AddOp(graph.OpUnidirectionalSequenceLSTM, ins, []int{y}, &graph.SequenceLSTMOptions{
		Activation: graph.ActTanh, CellClip: c.cellClip, ProjClip: c.projClip, TimeMajor: c.timeMajor})
	op.Intermediates = inter
	return g
}

// TestLSTMIntOneOpMatchesTFLite writes one-op integer 8x8->16 LSTMs (every
// variant, random shapes, scales, zero points and cell-state scales 2^-9 …
// 2^-15) and compares them with TFLite over 3 invocations of carried
// state: outputs must be identical.
func TestLSTMIntOneOpMatchesTFLite(t *testing.T) {
	sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per variant; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(14, 8))
	dir := t.TempDir()
	for i, c := range lstmCases(rng, 8) {
		c.act = graph.ActTanh
		batch, time, nIn, nCell := 1+rng.IntN(3), 1+rng.IntN(5), 1+rng.IntN(12), 2+rng.IntN(12)
		nOut := nCell
		if c.projection {
			nOut = 1 + rng.IntN(10)
			if c.peephole { // TFLite's integer peephole reads n_output weights
				nOut = 1 + rng.IntN(nCell)
			}
		}
		g := intLSTM(rng, c, batch, time, nIn, nCell, nOut)
		path := filepath.Join(dir, fmt.Sprintf("lstm%d.tflite", i))
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%v: write: %v", c, err)
		}
		in := randomInput(rng, g.Tensor(g.Inputs[0]), 3, 0, 0)
		got, want, dt := lstmRun(t, or, g, path, in)
		if bad, worst := compareInts(dt, got, want); bad > 0 {
			t.Errorf("%v (batch %d time %d input %d cell %d output %d): %d of %d values differ from TFLite (worst by %d)",
				c, batch, time, nIn, nCell, nOut, bad, len(got), worst)
		}
	}
}

// hybridize turns a float one-op LSTM's weight matrices (gates, peephole,
// projection) into symmetric int8 with one scale each, as a dynamic-range
// converter writes them.
func hybridize(g *graph.Graph, asymmetric bool) {
	op := g.Ops[0]
	op.Options.(*graph.SequenceLSTMOptions).AsymmetricQuantizeInputs = asymmetric
	for k, ti := range op.Inputs {
		if ti < 0 || k == 0 || (k > 11 && k != 16) {
			continue
		}
		t := g.Tensors[ti]
		v := t.Float32s()
		m := float32(0)
		for _, x := range v {
			m = max(m, float32(math.Abs(float64(x))))
		}
		s := m / 127
		q := make([]int8, len(v))
		for i, x := range v {
			q[i] = int8(math.Round(float64(x / s)))
		}
		t.DType, t.Data = graph.Int8, graph.EncodeInt8s(q)
		t.Quant = &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{0}}
	}
}

// TestLSTMHybridOneOpMatchesTFLite writes one-op hybrid LSTMs (float
// activations, int8 weights; every variant, symmetric and asymmetric input
// quantization) and compares them with TFLite over 3 invocations of carried
// state: within 1e-5 of the output range.
func TestLSTMHybridOneOpMatchesTFLite(t *testing.T) {
	sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per variant; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(14, 9))
	dir := t.TempDir()
	for i, c := range lstmCases(rng, 6) {
		batch, time, nIn, nCell := 1+rng.IntN(3), 1+rng.IntN(5), 1+rng.IntN(9), 2+rng.IntN(9)
		nOut := nCell
		if c.projection {
			nOut = 1 + rng.IntN(8)
		}
		g := floatLSTM(rng, c, batch, time, nIn, nCell, nOut)
		asym := i%2 == 1
		hybridize(g, asym)
		path := filepath.Join(dir, fmt.Sprintf("lstm%d.tflite", i))
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%v: write: %v", c, err)
		}
		in := randomInput(rng, g.Tensor(g.Inputs[0]), 3, -2, 2)
		got, want, _ := lstmRun(t, or, g, path, in)
		if rel, r := floatRangeError(got, want); !(rel <= 1e-5) {
			t.Errorf("%v asymmetric=%v (batch %d time %d input %d cell %d output %d): worst difference %.3g of the output range %.3g",
				c, asym, batch, time, nIn, nCell, nOut, rel, r)
		}
	}
}
