package explain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/report"
)

func constF(name string, shape []int, v []float32) *graph.Tensor {
	return &graph.Tensor{Name: name, Shape: shape, DType: graph.Float32, Data: graph.EncodeFloat32s(v)}
}

// outlierModel is a 4-class classifier of 8-d Gaussian clusters:
// FC(17, RELU) → FC(4) → SOFTMAX. Hidden units 0..15 are relu(±x_i); unit 16
// is an "outlier channel" with weights 1000 and bias −1e5, which ReLU always
// silences in float. With one weight scale per tensor it forces a scale of
// 1000/127, rounding every other weight of the layer to zero.
func outlierModel(means [][]float32) *graph.Graph {
	const d, h, k = 8, 17, 4
	w1 := make([]float32, h*d)
	b1 := make([]float32, h)
	for i := 0; i < d; i++ {
		w1[i*d+i] = 1
		w1[(i+8)*d+i] = -1
	}
	for i := 0; i < d; i++ {
		w1[16*d+i] = 1000
	}
	b1[16] = -1e5
	w2 := make([]float32, k*h)
	b2 := make([]float32, k)
	for c := 0; c < k; c++ {
		var n2 float32
		for i := 0; i < d; i++ {
			w2[c*h+i] = means[c][i]
			w2[c*h+i+8] = -means[c][i]
			n2 += means[c][i] * means[c][i]
		}
		b2[c] = -n2 / 2
	}
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "input", Shape: []int{1, d}, DType: graph.Float32})
	wt1 := g.AddTensor(constF("w1", []int{h, d}, w1))
	bt1 := g.AddTensor(constF("b1", []int{h}, b1))
	hid := g.AddTensor(&graph.Tensor{Name: "hidden", Shape: []int{1, h}, DType: graph.Float32})
	g.AddOp(graph.OpFullyConnected, []int{in, wt1, bt1}, []int{hid}, &graph.FullyConnectedOptions{Activation: graph.ActRelu})
	wt2 := g.AddTensor(constF("w2", []int{k, h}, w2))
	bt2 := g.AddTensor(constF("b2", []int{k}, b2))
	lo := g.AddTensor(&graph.Tensor{Name: "logits", Shape: []int{1, k}, DType: graph.Float32})
	g.AddOp(graph.OpFullyConnected, []int{hid, wt2, bt2}, []int{lo}, &graph.FullyConnectedOptions{})
	pr := g.AddTensor(&graph.Tensor{Name: "probs", Shape: []int{1, k}, DType: graph.Float32})
	g.AddOp(graph.OpSoftmax, []int{lo}, []int{pr}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{in}, []int{pr}
	return g
}

// clusters returns class means and n samples per class (σ = 0.6).
func clusters(seed int64, n int) ([][]float32, [][]float32, []int) {
	rng := rand.New(rand.NewSource(seed))
	means := make([][]float32, 4)
	for c := range means {
		means[c] = make([]float32, 8)
		for i := range means[c] {
			means[c][i] = float32(rng.Float64()*4 - 2)
		}
	}
	var xs [][]float32
	var ls []int
	for i := 0; i < n; i++ {
		for c := range means {
			x := make([]float32, 8)
			for j := range x {
				x[j] = means[c][j] + float32(rng.NormFloat64()*0.6)
			}
			xs = append(xs, x)
			ls = append(ls, c)
		}
	}
	return means, xs, ls
}

// outlierCase returns the float model, its per-tensor int8 quantization and
// evaluation data.
func outlierCase(t *testing.T) (*graph.Graph, *graph.Graph, [][]float32, []int) {
	t.Helper()
	means, calib, _ := clusters(1, 50)
	f := outlierModel(means)
	q, _, err := quant.Quantize(context.Background(), f, quant.SliceSamples(calib), quant.Options{PerTensor: true})
	if err != nil {
		t.Fatal(err)
	}
	_, eval, labels := clusters(1, 100) // same means (same seed), more samples
	return f, q, eval, labels
}

// TestOutlierChannel is the acceptance test: explain ranks the layer with
// the outlier channel first by isolated error, and the fix search keeps
// exactly that layer in float and recovers accuracy within the target.
func TestOutlierChannel(t *testing.T) {
	f, q, eval, labels := outlierCase(t)
	_, calib, calibLabels := clusters(1, 50)
	res, err := Explain(context.Background(), f, q, SliceData(eval, labels), Options{Split: "eval", TargetDrop: 1, Threads: 2,
		Calib: SliceData(calib, calibLabels)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + buf.String())
	if res.FloatAccuracy < 95 || res.Drop < 20 {
		t.Fatalf("setup: float %.1f%%, drop %.1f — the outlier should destroy the int8 model", res.FloatAccuracy, res.Drop)
	}
	if res.Matching != "name" || len(res.Unmatched) != 0 {
		t.Errorf("matching %s, unmatched %v", res.Matching, res.Unmatched)
	}
	var first Layer
	for _, l := range res.Layers {
		if l.Rank == 1 {
			first = l
		}
	}
	if first.Name != "hidden" {
		t.Fatalf("worst isolated layer %q, want hidden", first.Name)
	}
	fix := res.Fix
	if fix == nil || !fix.Met || !slices.Equal(fix.FloatLayers, []string{"hidden"}) || !slices.Equal(fix.FloatOps, []int{0}) {
		t.Fatalf("fix = %+v, want exactly [hidden] kept float", fix)
	}
	if fix.Drop > 1 || fix.Graph == nil {
		t.Errorf("fix drop %.2f > 1 or no model", fix.Drop)
	}
	// No candidate is verified or listed twice.
	for i, a := range fix.Tried {
		for _, b := range fix.Tried[:i] {
			if a.Variant == b.Variant && slices.Equal(a.FloatLayers, b.FloatLayers) {
				t.Errorf("candidate %q %v listed twice", a.Variant, a.FloatLayers)
			}
		}
	}
	// Per-channel weights (recalibrated with each method too) also fix it.
	if len(fix.Alternatives) != 6 {
		t.Fatalf("alternatives %+v", fix.Alternatives)
	}
	for _, a := range fix.Alternatives {
		if !a.Met {
			t.Errorf("alternative %q misses the target: %.2f", a.Variant, a.Accuracy)
		}
	}
	// The best fix of any kind leads the output and is what gets written:
	// per-channel weights (an int8 model) before the float island.
	if fix.Best == nil || fix.Best.Kind != KindPerChannel || fix.Best.Confirm == nil || !fix.Best.Confirm.Met {
		t.Fatalf("best fix %+v", fix.Best)
	}
	if lines := strings.Split(buf.String(), "\n"); !strings.HasPrefix(lines[1], "best fix (per-channel weights)") {
		t.Errorf("output does not lead with the best fix:\n%s", buf.String())
	}
	dir := t.TempDir() + "/ex"
	if err := res.WriteFolder(dir); err != nil {
		t.Fatal(err)
	}
	if fix.Model != dir+"/"+FileRequantized {
		t.Errorf("model written to %q", fix.Model)
	}
	if len(res.Classes) == 0 || res.Classes[0].Layers[0].Name != "hidden" {
		t.Errorf("class attribution %+v", res.Classes)
	}
	// JSON carries the fields the issue names.
	buf.Reset()
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["schema"] != "qbench.explain/v1" {
		t.Errorf("schema %v", m["schema"])
	}
	l0 := m["layers"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "op", "sqnr_db", "cosine", "max_abs_error", "clipped_fraction", "isolated_sqnr_db"} {
		if _, ok := l0[k]; !ok {
			t.Errorf("layers[0] lacks %q", k)
		}
	}
	fx := m["fix"].(map[string]any)
	for _, k := range []string{"float_layers", "accuracy"} {
		if _, ok := fx[k]; !ok {
			t.Errorf("fix lacks %q", k)
		}
	}
}

// TestIsolatedVersusAccumulated checks the error bookkeeping on a healthy
// per-channel model: the input's isolated error equals its accumulated
// error, errors are small, and rounding noise is near the uniform 0.29 steps.
func TestIsolatedVersusAccumulated(t *testing.T) {
	means, calib, _ := clusters(2, 50)
	f := outlierModel(means)
	q, _, err := quant.Quantize(context.Background(), f, quant.SliceSamples(calib), quant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, eval, labels := clusters(2, 25)
	res, err := Explain(context.Background(), f, q, SliceData(eval, labels), Options{TargetDrop: -1})
	if err != nil {
		t.Fatal(err)
	}
	// A stride over the samples gives the same accuracies and nearly the
	// same layer statistics.
	strided, err := Explain(context.Background(), f, q, SliceData(eval, labels), Options{TargetDrop: -1, LayerEvery: 3, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if strided.Samples != 100 || strided.LayerSamples != 34 || strided.QuantAccuracy != res.QuantAccuracy || strided.FloatAccuracy != res.FloatAccuracy {
		t.Errorf("strided: %d samples, %d layer samples, acc %.2f/%.2f vs %.2f/%.2f", strided.Samples, strided.LayerSamples,
			strided.FloatAccuracy, strided.QuantAccuracy, res.FloatAccuracy, res.QuantAccuracy)
	}
	for i, l := range strided.Layers {
		if math.Abs(l.SQNR-res.Layers[i].SQNR) > 3 {
			t.Errorf("%s: strided SQNR %.1f vs %.1f", l.Name, l.SQNR, res.Layers[i].SQNR)
		}
	}
	if res.Fix != nil {
		t.Error("fix search ran without a target")
	}
	if math.Abs(res.Drop) > 2 {
		t.Errorf("per-channel drop %.2f", res.Drop)
	}
	for _, l := range res.Layers {
		if l.Name == "input" {
			if l.IsoSQNR != l.SQNR || l.RMSEOverScale < 0.2 || l.RMSEOverScale > 0.4 {
				t.Errorf("input: iso %.2f acc %.2f rmse/scale %.3f", l.IsoSQNR, l.SQNR, l.RMSEOverScale)
			}
		}
		if l.Name == "hidden" && (l.IsoSQNR < 25 || l.Cosine < 0.99) {
			t.Errorf("hidden: isolated SQNR %.1f cosine %.4f", l.IsoSQNR, l.Cosine)
		}
		// Softmax has a fixed range ending at 255/256, which confident
		// probabilities exceed: that is saturation, not data shift.
		if l.Name != "probs" && l.OutsideRange > 0.01 {
			t.Errorf("%s: %.3f outside calibrated range on in-distribution data", l.Name, l.OutsideRange)
		}
	}
}

// TestDataShift: a shifted split (inputs scaled ×3) leaves the calibrated
// ranges far more often than the calibration-like split.
func TestDataShift(t *testing.T) {
	means, calib, _ := clusters(3, 50)
	f := outlierModel(means)
	q, _, err := quant.Quantize(context.Background(), f, quant.SliceSamples(calib), quant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, eval, labels := clusters(3, 25)
	shifted := make([][]float32, len(eval))
	for i, x := range eval {
		shifted[i] = make([]float32, len(x))
		for j, v := range x {
			shifted[i][j] = 3 * v
		}
	}
	res, err := Explain(context.Background(), f, q, SliceData(eval, labels), Options{Split: "same", TargetDrop: -1,
		Shift: []NamedData{{"bright", SliceData(shifted, labels)}}})
	if err != nil {
		t.Fatal(err)
	}
	ds := res.DataShift
	if !slices.Equal(ds.Splits, []string{"same", "bright"}) {
		t.Fatalf("splits %v", ds.Splits)
	}
	for _, row := range ds.Tensors {
		if row.Name == "input" && !(row.Outside[1] > 0.3 && row.Outside[0] < 0.01) {
			t.Errorf("input outside fractions %v", row.Outside)
		}
		// Every value tripled: so is the mean, and the peak passes the limit.
		if row.Name == "input" && (math.Abs(row.Mean[1]-3*row.Mean[0]) > 1e-4*math.Abs(row.Mean[1]) || !(row.Peak[1] > 1.5 && row.Peak[0] <= 1.01)) {
			t.Errorf("input mean %v peak %v", row.Mean, row.Peak)
		}
	}
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[len(res.Notes)-1], "likely cause") {
		t.Errorf("notes %q should report clipping from data shift", res.Notes)
	}
	var buf bytes.Buffer
	_ = res.WriteTable(&buf)
	if !strings.Contains(buf.String(), "data shift") {
		t.Error("table lacks the data-shift section")
	}
}

func TestMatchByOrder(t *testing.T) {
	means, calib, _ := clusters(4, 10)
	f := outlierModel(means)
	q, _, err := quant.Quantize(context.Background(), f, quant.SliceSamples(calib), quant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range q.Tensors {
		x.Name = "t" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
	}
	m, unmatched, how := MatchTensors(f, q)
	if how != "order" || len(m) != 4 || len(unmatched) != 0 {
		t.Fatalf("by order: %d matches, unmatched %v, how %s", len(m), unmatched, how)
	}
	if m[0].Name != "input" || m[1].Name != "hidden" || m[3].Name != "probs" {
		t.Errorf("matches %+v", m)
	}
	// Explain works on the renamed pair, fix search included.
	_, eval, labels := clusters(4, 10)
	res, err := Explain(context.Background(), f, q, SliceData(eval, labels), Options{TargetDrop: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matching != "order" || res.Fix == nil || !res.Fix.Met || strings.Contains(strings.Join(res.Notes, "|"), "skipped") {
		t.Errorf("explain by order: matching %s fix %+v notes %v", res.Matching, res.Fix, res.Notes)
	}
}

func TestHTMLSelfContained(t *testing.T) {
	f, q, eval, labels := outlierCase(t)
	res, err := Explain(context.Background(), f, q, SliceData(eval[:40], labels[:40]), Options{TargetDrop: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if !strings.Contains(s, "<svg") || strings.Contains(s, "http") || strings.Contains(s, "<script") {
		t.Error("HTML should be self-contained inline SVG without scripts or links")
	}
	if !strings.Contains(s, "hidden") {
		t.Error("HTML lacks the layer names")
	}
	// The same look as compare's report.html: its stylesheet and plot frame.
	if !strings.Contains(s, report.Stylesheet()) || !strings.Contains(s, `<svg class="plot"`) {
		t.Error("HTML does not use report.html's style")
	}
	for _, want := range []string{"Layers", "isolated", "accumulated", "Observed range vs calibrated range", "Fix (target drop"} {
		if !strings.Contains(s, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// A data-shift table and a name that needs escaping.
	res.DataShift = &DataShift{Splits: []string{"a", "b<c>"}, Samples: []int{1, 2},
		Tensors: []ShiftRow{{Name: "x", Outside: []float64{0, 0.25}}}}
	buf.Reset()
	if err := res.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	s = buf.String()
	if !strings.Contains(s, "Data shift") || !strings.Contains(s, "b&lt;c&gt; (2)") || !strings.Contains(s, "<td>25.000</td>") || strings.Contains(s, "b<c>") {
		t.Error("data-shift section missing or not escaped")
	}
}

// TestHBarsEdgeCases: empty, all-zero, negative and NaN values give a
// valid plot without NaN coordinates, and long lists are cut.
func TestHBarsEdgeCases(t *testing.T) {
	names := make([]string, 100)
	vals := make([]float64, 100)
	for i := range names {
		names[i] = fmt.Sprintf("layer%d", i)
		vals[i] = float64(i) - 50
	}
	vals[3] = math.NaN()
	for _, c := range []struct {
		names []string
		v     []float64
	}{{nil, nil}, {[]string{"a"}, []float64{0}}, {names, vals}} {
		s := hbars("t", c.names, []hseries{{"s", c.v}}, "%.1f", 1)
		if strings.Contains(s, "NaN") || strings.Contains(s, "Inf") || !strings.HasSuffix(s, "</svg>") {
			t.Errorf("bad plot for %d rows: %.200s", len(c.names), s)
		}
		if len(c.names) > plotRows && strings.Count(s, "<rect") > plotRows+1 {
			t.Errorf("plot not cut to %d rows", plotRows)
		}
	}
	if s := rangePlot([]Layer{{Name: "z", RangeMin: 0, RangeMax: 0, FloatMin: 0, FloatMax: 0}}); strings.Contains(s, "NaN") {
		t.Error("degenerate range plot has NaN")
	}
}

// TestShiftNoteRuledOut: no split leaves the ranges, so the note rules
// clipping out and names the tensor whose mean moved most relative to its
// range (b: 0.2 of a width-2 range = 10%; a: 1 of a width-100 range = 1%).
func TestShiftNoteRuledOut(t *testing.T) {
	ds := &DataShift{Splits: []string{"train", "held-out"}, Samples: []int{10, 10}, Tensors: []ShiftRow{
		{Name: "a", Outside: []float64{0, 0}, Mean: []float64{10, 11}, Peak: []float64{0.5, 0.6}},
		{Name: "b", Outside: []float64{0, 0.0001}, Mean: []float64{0.1, 0.3}, Peak: []float64{0.8, 0.9}},
	}}
	layers := []Layer{{Name: "a", RangeMin: -50, RangeMax: 50}, {Name: "b", RangeMin: -1, RangeMax: 1}}
	n := shiftNote(ds, layers)
	for _, want := range []string{"ruled out", "0% on train", "0.010% on held-out (b)", "differ most at b", "10.00% of its calibrated range", "90% on held-out"} {
		if !strings.Contains(n, want) {
			t.Errorf("note %q lacks %q", n, want)
		}
	}
	if strings.Contains(n, "less of the calibrated ranges") {
		t.Errorf("note %q reports under-use where there is none", n)
	}
	ds.Tensors[1].Peak = []float64{0.4, 0.9}
	ds.Splits = []string{"held-out", "train"}
	ds.Tensors[0].Peak = []float64{0.6, 0.5}
	if n := shiftNote(ds, layers); !strings.Contains(n, "held-out uses much less of the calibrated ranges than train (at b its values reach 40% of the limit vs 90%)") {
		t.Errorf("note %q lacks the under-use", n)
	}
	if p := peakOfRange(-3, 2, -4, 8); p != 0.75 {
		t.Errorf("peak %g, want 0.75 (min side)", p)
	}
	if p := peakOfRange(0, 10, 0, 5); p != 2 {
		t.Errorf("peak %g, want 2", p)
	}
}

// TestShiftNoteIgnoresFixedRanges: a softmax output saturates at 255/256
// by design, so its "outside" values must not make the note blame data
// shift, while a clipped activation still does.
func TestShiftNoteIgnoresFixedRanges(t *testing.T) {
	ds := &DataShift{Splits: []string{"train", "held-out"}, Samples: []int{10, 10}, Tensors: []ShiftRow{
		{Name: "conv", Outside: []float64{0, 0}, Mean: []float64{0, 0}, Peak: []float64{0.5, 0.5}},
		{Name: "probabilities", Outside: []float64{0.02, 0.03}, Mean: []float64{0.03, 0.03}, Peak: []float64{1, 1}},
	}}
	layers := []Layer{{Name: "conv", Op: "CONV_2D", RangeMin: -1, RangeMax: 1}, {Name: "probabilities", Op: "SOFTMAX", RangeMin: 0, RangeMax: 1}}
	if n := shiftNote(ds, layers); !strings.Contains(n, "ruled out") || strings.Contains(n, "probabilities") && strings.Contains(n, "likely cause") {
		t.Errorf("softmax saturation blamed on data shift: %q", n)
	}
	ds.Tensors[0].Outside = []float64{0, 0.05}
	if n := shiftNote(ds, layers); !strings.Contains(n, "5.000% on held-out (conv)") || !strings.Contains(n, "likely cause") {
		t.Errorf("clipped activation not reported: %q", n)
	}
}

// TestLimitCounts: saturated values are counted at both limits, except the
// limit that is the zero point (a real zero is not clipping).
func TestLimitCounts(t *testing.T) {
	v8 := []int8{-128, 5, 127, 127, -3}
	if lo, hi, n := limitCounts(v8, 0, math.MinInt8, math.MaxInt8); lo != -128 || hi != 127 || n != 3 {
		t.Errorf("int8: %d %d %d, want -128 127 3", lo, hi, n)
	}
	if _, _, n := limitCounts(v8, -128, math.MinInt8, math.MaxInt8); n != 2 {
		t.Errorf("int8 zp -128: %d clipped, want 2", n)
	}
	v16 := []int16{-32768, 0, 32767, 100}
	if lo, hi, n := limitCounts(v16, 32767, math.MinInt16, math.MaxInt16); lo != -32768 || hi != 32767 || n != 1 {
		t.Errorf("int16 zp 32767: %d %d %d, want -32768 32767 1", lo, hi, n)
	}
	if lo, hi, n := limitCounts([]int8{}, 0, math.MinInt8, math.MaxInt8); lo != math.MaxInt64 || hi != math.MinInt64 || n != 0 {
		t.Errorf("empty: %d %d %d", lo, hi, n)
	}
}

// A cost that rounds to zero never prints as "-0.0".
func TestSigned1(t *testing.T) {
	for v, want := range map[float64]string{0: "+0.0", math.Copysign(0, -1): "+0.0", -0.04: "+0.0", 0.04: "+0.0", -0.06: "-0.1", 2.25: "+2.3", -3: "-3.0"} {
		if got := signed1(v); got != want {
			t.Errorf("signed1(%g) = %q, want %q", v, got, want)
		}
	}
}
