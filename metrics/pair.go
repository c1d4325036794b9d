package metrics

import (
	"fmt"
	"math"
	"sort"
)

// Pair accumulates statistics comparing model A (the reference, e.g. the
// float model) with model B (e.g. its quantized version) on the same
// samples. Not safe for concurrent use.
type Pair struct {
	k                     int
	n                     int
	agree                 int
	bothOK, bothWrong     int
	okToWrong, wrongToOK  int
	confA, confB          [][]int64
	kl, js, absSum        float64
	absMax                float64
	marginA, marginB      float64
	marginDelta, absDelta float64
}

// NewPair returns a pair accumulator for k classes.
func NewPair(k int) (*Pair, error) {
	if k <= 0 {
		return nil, fmt.Errorf("metrics: need at least one class, got %d", k)
	}
	p := &Pair{k: k, confA: make([][]int64, k), confB: make([][]int64, k)}
	for i := range k {
		p.confA[i] = make([]int64, k)
		p.confB[i] = make([]int64, k)
	}
	return p, nil
}

// Add records one sample seen by both models.
func (p *Pair) Add(label int, pa, pb []float32) error {
	if len(pa) != p.k || len(pb) != p.k {
		return fmt.Errorf("metrics: probability vectors have %d and %d entries, want %d classes", len(pa), len(pb), p.k)
	}
	if label < 0 || label >= p.k {
		return fmt.Errorf("metrics: label %d out of range [0,%d)", label, p.k)
	}
	a, b := Argmax(pa), Argmax(pb)
	p.n++
	if a == b {
		p.agree++
	}
	okA, okB := a == label, b == label
	switch {
	case okA && okB:
		p.bothOK++
	case okA:
		p.okToWrong++
	case okB:
		p.wrongToOK++
	default:
		p.bothWrong++
	}
	p.confA[label][a]++
	p.confB[label][b]++
	p.kl += KL(pa, pb)
	p.js += JS(pa, pb)
	for i := range pa {
		d := math.Abs(float64(clean(pa[i])) - float64(clean(pb[i])))
		p.absSum += d
		p.absMax = math.Max(p.absMax, d)
	}
	a1, a2 := Top2(pa)
	b1, b2 := Top2(pb)
	p.marginA += a1 - a2
	p.marginB += b1 - b2
	p.marginDelta += (b1 - b2) - (a1 - a2)
	p.absDelta += math.Abs((b1 - b2) - (a1 - a2))
	return nil
}

// ClassDelta is one class's accuracy (recall) under both models.
type ClassDelta struct {
	Class     string  `json:"class"`
	Support   int64   `json:"support"`
	AccuracyA float64 `json:"accuracy_a"` // 0 when support = 0
	AccuracyB float64 `json:"accuracy_b"`
	Delta     float64 `json:"delta"` // B − A
}

// ConfusionChange is an off-diagonal confusion cell whose count differs
// between the two models.
type ConfusionChange struct {
	True      int    `json:"true"`
	Pred      int    `json:"pred"`
	TrueClass string `json:"true_class"`
	PredClass string `json:"pred_class"`
	CountA    int64  `json:"count_a"`
	CountB    int64  `json:"count_b"`
	Delta     int64  `json:"delta"` // B − A: > 0 a confusion B added
}

// PairResult holds the statistics of one pair of models.
type PairResult struct {
	N int `json:"n"`
	// Agreement is the fraction of samples with the same top-1 prediction.
	Agreement float64 `json:"agreement"`
	// BothCorrect … WrongToCorrect split the samples by correctness of A
	// then B; CorrectToWrong and WrongToCorrect are McNemar's discordant
	// pairs.
	BothCorrect    int `json:"both_correct"`
	BothWrong      int `json:"both_wrong"`
	CorrectToWrong int `json:"correct_to_wrong"`
	WrongToCorrect int `json:"wrong_to_correct"`
	// McNemarP is the two-sided exact McNemar p-value (binomial test on the
	// discordant pairs); 1 when there are none.
	McNemarP float64 `json:"mcnemar_p"`
	// AccuracyDelta is accuracy(B) − accuracy(A).
	AccuracyDelta float64      `json:"accuracy_delta"`
	PerClass      []ClassDelta `json:"per_class_delta"`
	// ConfusionChanges lists every off-diagonal cell whose count changed,
	// by |Delta| descending, then true class, then predicted class.
	ConfusionChanges []ConfusionChange `json:"confusion_changes"`
	// ConfusionDelta is confusion(B) − confusion(A), K×K.
	ConfusionDelta [][]int64 `json:"confusion_delta"`
	// MeanKL is the mean KL(p_A‖p_B) in nats (KLEpsilon smoothing);
	// MeanJS the mean Jensen–Shannon divergence in nats (≤ ln 2).
	MeanKL float64 `json:"mean_kl"`
	MeanJS float64 `json:"mean_js"`
	// MeanAbsDiff is the mean |p_A − p_B| over all N·K values; MaxAbsDiff
	// the largest.
	MeanAbsDiff float64 `json:"mean_abs_diff"`
	MaxAbsDiff  float64 `json:"max_abs_diff"`
	// MeanMarginA/B average the top-1 margin p(1st) − p(2nd);
	// MeanMarginDelta averages margin(B) − margin(A) per sample and
	// MeanAbsMarginDelta its absolute value.
	MeanMarginA        float64 `json:"mean_margin_a"`
	MeanMarginB        float64 `json:"mean_margin_b"`
	MeanMarginDelta    float64 `json:"mean_margin_delta"`
	MeanAbsMarginDelta float64 `json:"mean_abs_margin_delta"`
}

// Result returns the pair statistics; classes names the classes.
func (p *Pair) Result(classes []string) PairResult {
	r := PairResult{
		N: p.n, BothCorrect: p.bothOK, BothWrong: p.bothWrong,
		CorrectToWrong: p.okToWrong, WrongToCorrect: p.wrongToOK,
	}
	r.Agreement = ratio(int64(p.agree), int64(p.n))
	r.McNemarP = McNemarExact(p.okToWrong, p.wrongToOK)
	r.AccuracyDelta = ratio(int64(p.wrongToOK-p.okToWrong), int64(p.n))
	r.ConfusionDelta = make([][]int64, p.k)
	r.PerClass = make([]ClassDelta, p.k)
	r.ConfusionChanges = []ConfusionChange{}
	for t := range p.k {
		var sup int64
		row := make([]int64, p.k)
		for q := range p.k {
			sup += p.confA[t][q]
			row[q] = p.confB[t][q] - p.confA[t][q]
			if q != t && row[q] != 0 {
				r.ConfusionChanges = append(r.ConfusionChanges, ConfusionChange{
					True: t, Pred: q, TrueClass: className(classes, t), PredClass: className(classes, q),
					CountA: p.confA[t][q], CountB: p.confB[t][q], Delta: row[q],
				})
			}
		}
		r.ConfusionDelta[t] = row
		cd := ClassDelta{Class: className(classes, t), Support: sup,
			AccuracyA: ratio(p.confA[t][t], sup), AccuracyB: ratio(p.confB[t][t], sup)}
		cd.Delta = cd.AccuracyB - cd.AccuracyA
		r.PerClass[t] = cd
	}
	sort.SliceStable(r.ConfusionChanges, func(i, j int) bool {
		a, b := r.ConfusionChanges[i], r.ConfusionChanges[j]
		if abs64(a.Delta) != abs64(b.Delta) {
			return abs64(a.Delta) > abs64(b.Delta)
		}
		if a.True != b.True {
			return a.True < b.True
		}
		return a.Pred < b.Pred
	})
	if p.n > 0 {
		n := float64(p.n)
		r.MeanKL = p.kl / n
		r.MeanJS = p.js / n
		r.MeanAbsDiff = p.absSum / (n * float64(p.k))
		r.MaxAbsDiff = p.absMax
		r.MeanMarginA = p.marginA / n
		r.MeanMarginB = p.marginB / n
		r.MeanMarginDelta = p.marginDelta / n
		r.MeanAbsMarginDelta = p.absDelta / n
	}
	return r
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
