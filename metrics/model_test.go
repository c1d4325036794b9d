package metrics

import (
	"math"
	"reflect"
	"testing"
)

// fixtureModel: K=3, class "c" has no samples, one argmax tie, one sample
// with probabilities exactly 0 and 1.
func fixtureModel(t *testing.T) ModelResult {
	t.Helper()
	m, err := NewModel(3, []int{1, 2, 3, 7})
	if err != nil {
		t.Fatal(err)
	}
	samples := []struct {
		label int
		p     []float32
	}{
		{0, []float32{0.7, 0.2, 0.1}}, // correct
		{0, []float32{0.4, 0.4, 0.2}}, // tie 0/1 → 0 (lowest index): correct
		{1, []float32{0.1, 0.3, 0.6}}, // predicted 2: wrong
		{1, []float32{0, 1, 0}},       // exact one-hot: correct
	}
	for _, s := range samples {
		if err := m.Add(s.label, s.p); err != nil {
			t.Fatal(err)
		}
	}
	return m.Result([]string{"a", "b", "c"})
}

func TestModelCountsAndConfusion(t *testing.T) {
	r := fixtureModel(t)
	if r.N != 4 || r.Correct != 3 {
		t.Fatalf("N, Correct = %d, %d; want 4, 3", r.N, r.Correct)
	}
	near(t, "accuracy", r.Accuracy, 0.75, 0)
	wantConf := [][]int64{{2, 0, 0}, {0, 1, 1}, {0, 0, 0}}
	if !reflect.DeepEqual(r.Confusion, wantConf) {
		t.Errorf("confusion = %v, want %v", r.Confusion, wantConf)
	}
	wantNorm := [][]float64{{1, 0, 0}, {0, 0.5, 0.5}, {0, 0, 0}}
	if !reflect.DeepEqual(r.ConfusionNormalized, wantNorm) {
		t.Errorf("normalised = %v, want %v", r.ConfusionNormalized, wantNorm)
	}
	// top-1 0.75; label 1 of sample 3 is second (0.3 < 0.6) so top-2 = 1.
	// k=7 > K is dropped.
	want := []TopKResult{{1, 0.75}, {2, 1}, {3, 1}}
	if !reflect.DeepEqual(r.TopK, want) {
		t.Errorf("top-k = %v, want %v", r.TopK, want)
	}
}

func TestModelPerClass(t *testing.T) {
	r := fixtureModel(t)
	want := []ClassStats{
		{Class: "a", Support: 2, Predicted: 2, Correct: 2, Precision: 1, Recall: 1, F1: 1},
		{Class: "b", Support: 2, Predicted: 1, Correct: 1, Precision: 1, Recall: 0.5, F1: 2 * 0.5 / 1.5},
		// No samples and one wrong prediction: 0/1 precision, 0/0 recall → 0.
		{Class: "c", Support: 0, Predicted: 1, Correct: 0, Precision: 0, Recall: 0, F1: 0},
	}
	if !reflect.DeepEqual(r.PerClass, want) {
		t.Errorf("per class = %+v\nwant %+v", r.PerClass, want)
	}
	// Macro F1 over classes with support: (1 + 2/3)/2.
	near(t, "macro F1", r.MacroF1, (1+2.0/3)/2, 1e-12)
}

func TestModelHistograms(t *testing.T) {
	r := fixtureModel(t)
	// Certainty: correct samples' predicted probabilities 0.7f (=0.6999…,
	// bin 6), 0.4f (=0.4000…06, bin 4), 1.0 (bin 9, the closed last bin).
	third := 1.0 / 3
	wantCert := []float64{0, 0, 0, 0, third, 0, third, 0, 0, third}
	if r.CertaintyCount != 3 || !reflect.DeepEqual(r.CertaintyHist, wantCert) {
		t.Errorf("certainty = %v (n=%d), want %v", r.CertaintyHist, r.CertaintyCount, wantCert)
	}
	// All 12 outputs: 0,0 → bin 0; 0.1f,0.1f → 1; 0.2f,0.2f → 2; 0.3f → 3;
	// 0.4f,0.4f → 4; 0.6f,0.7f → 6; 1 → 9.
	c := []float64{2, 2, 2, 1, 2, 0, 2, 0, 0, 1}
	for i := range c {
		c[i] /= 12
	}
	if !reflect.DeepEqual(r.OutputHist, c) {
		t.Errorf("output hist = %v, want %v", r.OutputHist, c)
	}
}

func TestModelScores(t *testing.T) {
	r := fixtureModel(t)
	f := func(v float32) float64 { x := float64(v); return x * math.Log(x) }
	ln3 := math.Log(3)
	h1 := -(f(0.7) + f(0.2) + f(0.1)) / ln3
	h2 := -(2*f(0.4) + f(0.2)) / ln3
	h3 := -(f(0.1) + f(0.3) + f(0.6)) / ln3
	near(t, "entropy", r.MeanNormalizedEntropy, (h1+h2+h3+0)/4, 1e-12)
	// The per-sample values land in their own bins: the one-hot sample
	// at 0, the others where their entropies fall, each a quarter.
	wantEnt := make([]float64, HistBins)
	for _, h := range []float64{0, h1, h2, h3} {
		wantEnt[HistBin(h)] += 0.25
	}
	if !reflect.DeepEqual(r.EntropyHist, wantEnt) || HistBin(h1) == HistBin(h2) && HistBin(h2) == HistBin(h3) {
		t.Errorf("entropy hist = %v, want %v (h = %.3f %.3f %.3f)", r.EntropyHist, wantEnt, h1, h2, h3)
	}
	// NLL: −(ln 0.7 + ln 0.4 + ln 0.3 + ln 1)/4 = 0.6185.
	near(t, "nll", r.NLL, -(math.Log(0.7)+math.Log(0.4)+math.Log(0.3))/4, 1e-6)
	// Brier: (0.14 + 0.56 + 0.86 + 0)/4 = 0.39.
	near(t, "brier", r.Brier, 0.39, 1e-6)
	near(t, "mean confidence", r.MeanConfidence, (0.7+0.4+0.6+1)/4, 1e-6)
	near(t, "mean margin", r.MeanMargin, (0.5+0+0.3+1)/4, 1e-6)
	// Confidences 0.7 (bin 10, right), 0.4 (bin 6, right), 0.6 (bin 9,
	// wrong), 1.0 (bin 14, right): ECE = (0.3 + 0.6 + 0.6 + 0)/4 = 0.375.
	near(t, "ece", r.ECE, 0.375, 1e-6)
	if len(r.Reliability) != ECEBins {
		t.Fatalf("%d reliability bins", len(r.Reliability))
	}
	b9 := r.Reliability[9]
	if b9.Count != 1 || b9.Accuracy != 0 || math.Abs(b9.MeanConfidence-0.6) > 1e-6 {
		t.Errorf("reliability bin 9 = %+v", b9)
	}
	if r.Reliability[14].Count != 1 || r.Reliability[14].Accuracy != 1 {
		t.Errorf("reliability bin 14 = %+v", r.Reliability[14])
	}
	near(t, "bin 9 lo", b9.Lo, 9.0/15, 0)
}

func TestModelNLLClamp(t *testing.T) {
	m, _ := NewModel(2, nil)
	if err := m.Add(0, []float32{0, 1}); err != nil {
		t.Fatal(err)
	}
	r := m.Result(nil)
	near(t, "clamped nll", r.NLL, -math.Log(NLLClamp), 1e-9)
	near(t, "brier worst", r.Brier, 2, 0)
	if r.PerClass[0].Class != "0" {
		t.Errorf("unnamed class = %q, want \"0\"", r.PerClass[0].Class)
	}
}

func TestModelEmptyAndErrors(t *testing.T) {
	if _, err := NewModel(0, nil); err == nil {
		t.Error("NewModel(0) should fail")
	}
	m, _ := NewModel(3, nil)
	if err := m.Add(3, []float32{1, 0, 0}); err == nil {
		t.Error("label out of range should fail")
	}
	if err := m.Add(-1, []float32{1, 0, 0}); err == nil {
		t.Error("negative label should fail")
	}
	if err := m.Add(0, []float32{1, 0}); err == nil {
		t.Error("short vector should fail")
	}
	r := m.Result(nil)
	if r.N != 0 || r.Accuracy != 0 || r.AccuracyCI != (Interval{0, 1}) || r.ECE != 0 {
		t.Errorf("empty result = %+v", r)
	}
	for _, v := range r.CertaintyHist {
		if v != 0 {
			t.Errorf("empty certainty hist = %v", r.CertaintyHist)
		}
	}
}

func TestModelNonFinite(t *testing.T) {
	m, _ := NewModel(3, nil)
	nan := float32(math.NaN())
	if err := m.Add(1, []float32{nan, 0.9, float32(math.Inf(-1))}); err != nil {
		t.Fatal(err)
	}
	r := m.Result(nil)
	if r.NonFinite != 2 || r.Correct != 1 {
		t.Errorf("NonFinite, Correct = %d, %d; want 2, 1", r.NonFinite, r.Correct)
	}
	if math.IsNaN(r.NLL) || math.IsNaN(r.MeanNormalizedEntropy) || math.IsNaN(r.Brier) {
		t.Errorf("NaN leaked: %+v", r)
	}
	near(t, "sum deviation", r.MaxSumDeviation, 0.1, 1e-6)
}
