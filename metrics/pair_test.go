package metrics

import (
	"reflect"
	"testing"
)

func fixturePair(t *testing.T) PairResult {
	t.Helper()
	p, err := NewPair(3)
	if err != nil {
		t.Fatal(err)
	}
	samples := []struct {
		label  int
		pa, pb []float32
	}{
		{0, []float32{0.7, 0.2, 0.1}, []float32{0.6, 0.3, 0.1}}, // both right
		{0, []float32{0.8, 0.1, 0.1}, []float32{0.3, 0.5, 0.2}}, // right → wrong
		{1, []float32{0.5, 0.4, 0.1}, []float32{0.2, 0.7, 0.1}}, // wrong → right
		{1, []float32{0.1, 0.2, 0.7}, []float32{0.1, 0.1, 0.8}}, // both wrong, agree
	}
	for _, s := range samples {
		if err := p.Add(s.label, s.pa, s.pb); err != nil {
			t.Fatal(err)
		}
	}
	return p.Result([]string{"a", "b", "c"})
}

func TestPairCounts(t *testing.T) {
	r := fixturePair(t)
	near(t, "agreement", r.Agreement, 0.5, 0)
	if r.BothCorrect != 1 || r.BothWrong != 1 || r.CorrectToWrong != 1 || r.WrongToCorrect != 1 {
		t.Errorf("flips = %+v", r)
	}
	// One discordant pair each way: p = min(1, 2·3/4) = 1.
	near(t, "mcnemar", r.McNemarP, 1, 0)
	near(t, "accuracy delta", r.AccuracyDelta, 0, 0)
}

func TestPairPerClassAndConfusionChanges(t *testing.T) {
	r := fixturePair(t)
	wantPC := []ClassDelta{
		{Class: "a", Support: 2, AccuracyA: 1, AccuracyB: 0.5, Delta: -0.5},
		{Class: "b", Support: 2, AccuracyA: 0, AccuracyB: 0.5, Delta: 0.5},
		{Class: "c", Support: 0}, // no samples: all 0
	}
	if !reflect.DeepEqual(r.PerClass, wantPC) {
		t.Errorf("per class = %+v\nwant %+v", r.PerClass, wantPC)
	}
	// A: row0 [2 0 0], row1 [1 0 1]; B: row0 [1 1 0], row1 [0 1 1].
	wantDelta := [][]int64{{-1, 1, 0}, {-1, 1, 0}, {0, 0, 0}}
	if !reflect.DeepEqual(r.ConfusionDelta, wantDelta) {
		t.Errorf("confusion delta = %v, want %v", r.ConfusionDelta, wantDelta)
	}
	// Equal |Δ| → ordered by true class.
	wantCh := []ConfusionChange{
		{True: 0, Pred: 1, TrueClass: "a", PredClass: "b", CountA: 0, CountB: 1, Delta: 1},
		{True: 1, Pred: 0, TrueClass: "b", PredClass: "a", CountA: 1, CountB: 0, Delta: -1},
	}
	if !reflect.DeepEqual(r.ConfusionChanges, wantCh) {
		t.Errorf("changes = %+v\nwant %+v", r.ConfusionChanges, wantCh)
	}
}

func TestPairDistances(t *testing.T) {
	r := fixturePair(t)
	// |Δp| sums per sample: 0.2, 1.0, 0.6, 0.2 → 2.0 over 12 values.
	near(t, "mean |dp|", r.MeanAbsDiff, 2.0/12, 1e-7)
	near(t, "max |dp|", r.MaxAbsDiff, 0.5, 1e-7)
	// Margins A: .5 .7 .1 .5; B: .3 .2 .5 .7.
	near(t, "margin A", r.MeanMarginA, 0.45, 1e-7)
	near(t, "margin B", r.MeanMarginB, 0.425, 1e-7)
	near(t, "margin delta", r.MeanMarginDelta, -0.025, 1e-7)
	near(t, "abs margin delta", r.MeanAbsMarginDelta, 0.325, 1e-7)
	kl := (KL([]float32{0.7, 0.2, 0.1}, []float32{0.6, 0.3, 0.1}) +
		KL([]float32{0.8, 0.1, 0.1}, []float32{0.3, 0.5, 0.2}) +
		KL([]float32{0.5, 0.4, 0.1}, []float32{0.2, 0.7, 0.1}) +
		KL([]float32{0.1, 0.2, 0.7}, []float32{0.1, 0.1, 0.8})) / 4
	near(t, "mean KL", r.MeanKL, kl, 1e-12)
	if r.MeanJS <= 0 || r.MeanJS > r.MeanKL {
		t.Errorf("mean JS %g should be in (0, mean KL %g]", r.MeanJS, r.MeanKL)
	}
}

func TestPairIdenticalModels(t *testing.T) {
	p, _ := NewPair(2)
	for i := range 5 {
		v := []float32{0.3, 0.7}
		if err := p.Add(i%2, v, v); err != nil {
			t.Fatal(err)
		}
	}
	r := p.Result(nil)
	if r.Agreement != 1 || r.McNemarP != 1 || r.MeanKL != 0 || r.MeanJS != 0 || r.MaxAbsDiff != 0 || len(r.ConfusionChanges) != 0 {
		t.Errorf("identical models: %+v", r)
	}
}

func TestPairErrors(t *testing.T) {
	if _, err := NewPair(0); err == nil {
		t.Error("NewPair(0) should fail")
	}
	p, _ := NewPair(2)
	if err := p.Add(0, []float32{1, 0}, []float32{1}); err == nil {
		t.Error("length mismatch should fail")
	}
	if err := p.Add(2, []float32{1, 0}, []float32{1, 0}); err == nil {
		t.Error("label out of range should fail")
	}
}
