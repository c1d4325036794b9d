package metrics

import (
	"fmt"
	"math"
)

// Model accumulates per-model statistics over samples. Create it with
// NewModel, call Add once per sample, then Result. It is not safe for
// concurrent use; feed it from one goroutine (or in sample order, for
// reproducible floating-point sums).
type Model struct {
	k        int
	topK     []int
	n        int
	correct  int
	topHits  []int
	conf     [][]int64
	certHist [HistBins]int64
	outHist  [HistBins]int64
	entHist  [HistBins]int64
	entropy  float64
	nll      float64
	brier    float64
	margin   float64
	confSum  float64
	relCount [ECEBins]int64
	relConf  [ECEBins]float64
	relCorr  [ECEBins]int64
	nonFin   int64
	sumDev   float64
}

// NewModel returns an accumulator for k classes that also reports top-k
// accuracy for each k in topK (values outside 1..k are dropped; duplicates
// are kept once).
func NewModel(k int, topK []int) (*Model, error) {
	if k <= 0 {
		return nil, fmt.Errorf("metrics: need at least one class, got %d", k)
	}
	m := &Model{k: k}
	seen := map[int]bool{}
	for _, t := range topK {
		if t >= 1 && t <= k && !seen[t] {
			seen[t] = true
			m.topK = append(m.topK, t)
		}
	}
	m.topHits = make([]int, len(m.topK))
	m.conf = make([][]int64, k)
	for i := range m.conf {
		m.conf[i] = make([]int64, k)
	}
	return m, nil
}

// Add records one sample: its true label and the model's probability
// vector (len must equal the number of classes).
func (m *Model) Add(label int, p []float32) error {
	if len(p) != m.k {
		return fmt.Errorf("metrics: probability vector has %d entries, want %d classes", len(p), m.k)
	}
	if label < 0 || label >= m.k {
		return fmt.Errorf("metrics: label %d out of range [0,%d)", label, m.k)
	}
	pred := Argmax(p)
	m.n++
	ok := pred == label
	if ok {
		m.correct++
	}
	m.conf[label][pred]++
	r := Rank(p, label)
	for i, t := range m.topK {
		if r < t {
			m.topHits[i]++
		}
	}
	sum := 0.0
	brier := 0.0
	for i, v := range p {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			m.nonFin++
		}
		x := float64(clean(v))
		sum += x
		m.outHist[HistBin(x)]++
		t := 0.0
		if i == label {
			t = 1
		}
		brier += (x - t) * (x - t)
	}
	m.sumDev = math.Max(m.sumDev, math.Abs(sum-1))
	m.brier += brier
	conf := float64(clean(p[pred]))
	if ok {
		m.certHist[HistBin(conf)]++
	}
	h := NormalizedEntropy(p)
	m.entropy += h
	m.entHist[HistBin(h)]++
	m.nll -= math.Log(math.Max(float64(clean(p[label])), NLLClamp))
	a, b := Top2(p)
	m.margin += a - b
	m.confSum += conf
	rb := binOf(conf, ECEBins)
	m.relCount[rb]++
	m.relConf[rb] += conf
	if ok {
		m.relCorr[rb]++
	}
	return nil
}

// N returns the number of samples added so far.
func (m *Model) N() int { return m.n }

// TopKResult is the top-k accuracy for one k.
type TopKResult struct {
	K        int     `json:"k"`
	Accuracy float64 `json:"accuracy"`
}

// ClassStats are one class's one-vs-rest statistics.
type ClassStats struct {
	Class     string  `json:"class"`
	Support   int64   `json:"support"`   // samples whose true label is the class
	Predicted int64   `json:"predicted"` // samples predicted as the class
	Correct   int64   `json:"correct"`   // true positives
	Precision float64 `json:"precision"` // correct/predicted, 0 when predicted = 0
	Recall    float64 `json:"recall"`    // correct/support, 0 when support = 0
	F1        float64 `json:"f1"`        // harmonic mean, 0 when precision+recall = 0
}

// ReliabilityBin is one confidence bin of the reliability diagram.
type ReliabilityBin struct {
	Lo             float64 `json:"lo"`
	Hi             float64 `json:"hi"`
	Count          int64   `json:"count"`
	MeanConfidence float64 `json:"mean_confidence"` // 0 when count = 0
	Accuracy       float64 `json:"accuracy"`        // 0 when count = 0
}

// ModelResult holds every per-model statistic over the samples added.
type ModelResult struct {
	N          int          `json:"n"`
	Correct    int          `json:"correct"`
	Accuracy   float64      `json:"accuracy"`
	AccuracyCI Interval     `json:"accuracy_ci95"`
	TopK       []TopKResult `json:"top_k"`
	// Confusion[t][p] counts samples of true class t predicted as p.
	Confusion [][]int64 `json:"confusion"`
	// ConfusionNormalized divides each row by its sum (rows with no
	// samples stay 0).
	ConfusionNormalized [][]float64  `json:"confusion_normalized"`
	PerClass            []ClassStats `json:"per_class"`
	// MacroF1 averages F1 over classes with support > 0.
	MacroF1 float64 `json:"macro_f1"`
	// CertaintyHist is the study's certainty histogram: the predicted
	// (= true) class probability of correctly classified samples, as
	// fractions of those samples in 10 bins; CertaintyCount is their number.
	CertaintyHist  []float64 `json:"certainty_hist"`
	CertaintyCount int64     `json:"certainty_count"`
	// OutputHist is the histogram of all N·K output values, as fractions.
	OutputHist []float64 `json:"output_hist"`
	// EntropyHist is the distribution behind MeanNormalizedEntropy: the
	// per-sample normalised entropy H(p)/ln K in the same 10 bins, as
	// fractions of the N samples (a mean alone hides whether a few
	// samples became very uncertain or all a little).
	EntropyHist []float64 `json:"entropy_hist"`
	// MeanNormalizedEntropy averages H(p)/ln K over samples.
	MeanNormalizedEntropy float64 `json:"mean_normalized_entropy"`
	// MeanConfidence averages the predicted-class probability.
	MeanConfidence float64 `json:"mean_confidence"`
	// MeanMargin averages p(top-1) − p(top-2).
	MeanMargin float64 `json:"mean_margin"`
	// ECE is the expected calibration error over ECEBins equal-width
	// confidence bins: Σ_b (n_b/N)·|accuracy_b − confidence_b|.
	ECE         float64          `json:"ece"`
	Reliability []ReliabilityBin `json:"reliability"`
	// NLL is the mean −ln max(p[true], NLLClamp).
	NLL float64 `json:"nll"`
	// Brier is the mean over samples of Σ_k (p_k − onehot_k)², in [0,2].
	Brier float64 `json:"brier"`
	// NonFinite counts NaN/±Inf output values (treated as 0, +Inf as 1).
	NonFinite int64 `json:"non_finite"`
	// MaxSumDeviation is the largest |Σp − 1| seen; large values mean the
	// outputs are not probabilities (e.g. logits without softmax).
	MaxSumDeviation float64 `json:"max_sum_deviation"`
}

// Result returns the statistics so far. classes names the classes for
// PerClass (missing names become the class index).
func (m *Model) Result(classes []string) ModelResult {
	r := ModelResult{N: m.n, Correct: m.correct, NonFinite: m.nonFin, MaxSumDeviation: m.sumDev}
	r.Accuracy = ratio(int64(m.correct), int64(m.n))
	r.AccuracyCI = Wilson(m.correct, m.n, WilsonZ)
	r.TopK = make([]TopKResult, len(m.topK))
	for i, t := range m.topK {
		r.TopK[i] = TopKResult{K: t, Accuracy: ratio(int64(m.topHits[i]), int64(m.n))}
	}
	r.Confusion = make([][]int64, m.k)
	r.ConfusionNormalized = make([][]float64, m.k)
	predicted := make([]int64, m.k)
	for t := range m.k {
		r.Confusion[t] = append([]int64(nil), m.conf[t]...)
		for p, c := range m.conf[t] {
			predicted[p] += c
		}
	}
	f1Sum, f1N := 0.0, 0
	r.PerClass = make([]ClassStats, m.k)
	for t := range m.k {
		var sup int64
		for _, c := range m.conf[t] {
			sup += c
		}
		row := make([]float64, m.k)
		for p, c := range m.conf[t] {
			row[p] = ratio(c, sup)
		}
		r.ConfusionNormalized[t] = row
		cs := ClassStats{Class: className(classes, t), Support: sup, Predicted: predicted[t], Correct: m.conf[t][t]}
		cs.Precision = ratio(cs.Correct, cs.Predicted)
		cs.Recall = ratio(cs.Correct, sup)
		if cs.Precision+cs.Recall > 0 {
			cs.F1 = 2 * cs.Precision * cs.Recall / (cs.Precision + cs.Recall)
		}
		if sup > 0 {
			f1Sum += cs.F1
			f1N++
		}
		r.PerClass[t] = cs
	}
	if f1N > 0 {
		r.MacroF1 = f1Sum / float64(f1N)
	}
	var certN int64
	for _, c := range m.certHist {
		certN += c
	}
	r.CertaintyCount = certN
	r.CertaintyHist = make([]float64, HistBins)
	r.OutputHist = make([]float64, HistBins)
	r.EntropyHist = make([]float64, HistBins)
	outN := int64(m.n) * int64(m.k)
	for i := range HistBins {
		r.CertaintyHist[i] = ratio(m.certHist[i], certN)
		r.OutputHist[i] = ratio(m.outHist[i], outN)
		r.EntropyHist[i] = ratio(m.entHist[i], int64(m.n))
	}
	n := float64(m.n)
	if m.n > 0 {
		r.MeanNormalizedEntropy = m.entropy / n
		r.MeanConfidence = m.confSum / n
		r.MeanMargin = m.margin / n
		r.NLL = m.nll / n
		r.Brier = m.brier / n
	}
	r.Reliability = make([]ReliabilityBin, ECEBins)
	for b := range ECEBins {
		rb := ReliabilityBin{Lo: float64(b) / ECEBins, Hi: float64(b+1) / ECEBins, Count: m.relCount[b]}
		if rb.Count > 0 {
			rb.MeanConfidence = m.relConf[b] / float64(rb.Count)
			rb.Accuracy = float64(m.relCorr[b]) / float64(rb.Count)
			r.ECE += float64(rb.Count) / n * math.Abs(rb.Accuracy-rb.MeanConfidence)
		}
		r.Reliability[b] = rb
	}
	return r
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func className(classes []string, i int) string {
	if i >= 0 && i < len(classes) && classes[i] != "" {
		return classes[i]
	}
	return fmt.Sprint(i)
}
