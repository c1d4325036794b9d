// Package metrics computes the statistics qbench reports when it compares
// classifiers: per-model accuracy (with a Wilson interval), top-k accuracy,
// confusion matrices, per-class precision/recall/F1, the study's certainty
// and output-value histograms, normalised entropy, calibration (ECE and a
// reliability diagram), negative log-likelihood and Brier score; and, per
// pair of models, agreement, flips with McNemar's exact test, per-class
// accuracy deltas, ranked confusion changes, KL and Jensen–Shannon
// divergences, |Δp| and the change of the top-1 margin.
//
// Everything is a streaming accumulator over (true label, probability
// vector) per sample, so memory is O(K²) in the number of classes and
// independent of the number of samples. The package renders nothing.
//
// Conventions, stated once and used everywhere:
//   - Argmax tie rule: the lowest index among equal maxima wins. NaN
//     entries are never chosen (they are treated as −∞ for the argmax and
//     as 0 everywhere else, and counted in NonFinite).
//   - Histograms have 10 bins [0,0.1), [0.1,0.2) … [0.9,1.0]; 1.0 goes in
//     the last bin; values below 0 go in the first and above 1 in the last.
//     The bin of a float32 value is decided on its exact value, so
//     float32(0.7) = 0.69999999 lands in [0.6,0.7).
//   - 0/0 is reported as 0 (precision of a class never predicted, recall of
//     a class with no samples, a histogram with nothing in it); support
//     and counts let a reader tell these cases apart.
package metrics

import (
	"math"
)

// Constants that define the metrics; they are echoed into reports so a
// reader knows exactly what was computed.
const (
	// HistBins is the number of equal-width bins of the certainty and
	// output histograms over [0,1].
	HistBins = 10
	// ECEBins is the number of equal-width confidence bins of the expected
	// calibration error and reliability diagram.
	ECEBins = 15
	// NLLClamp is the lower clamp on the true-class probability before
	// taking −ln, so a confident wrong answer costs at most −ln(1e-12) ≈ 27.6.
	NLLClamp = 1e-12
	// KLEpsilon is added to both distributions' entries in KL and
	// Jensen–Shannon divergences (then each is renormalised), so a quantized
	// output of exactly 0 where the float model put mass stays finite.
	KLEpsilon = 1e-7
	// WilsonZ is the normal quantile of a two-sided 95% interval.
	WilsonZ = 1.959963984540054
	// TieRule describes how Argmax breaks ties.
	TieRule = "lowest index wins"
)

// Argmax returns the index of the largest entry of p; among equal maxima
// the lowest index wins, and NaN entries are never chosen. It returns 0
// for an empty or all-NaN vector.
func Argmax(p []float32) int {
	best := -1
	var bv float32
	for i, v := range p {
		if v != v { // NaN
			continue
		}
		if best < 0 || v > bv {
			best, bv = i, v
		}
	}
	if best < 0 {
		return 0
	}
	return best
}

// Rank returns the 0-based position of class c when p is sorted in
// descending order with the Argmax tie rule (equal values: lower index
// first). The true class is in the top k exactly when Rank < k.
func Rank(p []float32, c int) int {
	if c < 0 || c >= len(p) {
		return len(p)
	}
	v := clean(p[c])
	r := 0
	for i, w := range p {
		w = clean(w)
		if w > v || (w == v && i < c) {
			r++
		}
	}
	return r
}

// Top2 returns the largest and second largest entries of p (NaN as 0);
// for a single-entry vector the second is 0.
func Top2(p []float32) (first, second float64) {
	first, second = math.Inf(-1), math.Inf(-1)
	for _, v := range p {
		x := float64(clean(v))
		if x > first {
			first, second = x, first
		} else if x > second {
			second = x
		}
	}
	if math.IsInf(first, -1) {
		first = 0
	}
	if math.IsInf(second, -1) {
		second = 0
	}
	return first, second
}

// Interval is a closed confidence interval.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Wilson returns the Wilson score interval for k successes in n trials at
// normal quantile z (use WilsonZ for 95%). It stays inside [0,1] and is
// meaningful at k = 0 and k = n, unlike the normal approximation. With
// n = 0 it returns [0,1]: nothing is known.
func Wilson(k, n int, z float64) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	if k < 0 {
		k = 0
	}
	if k > n {
		k = n
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi := center-half, center+half
	// Exact endpoints at the boundaries (rounding would leave 1e-17).
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return Interval{math.Max(0, lo), math.Min(1, hi)}
}

// HistBin returns the bin of v among HistBins equal bins over [0,1]:
// [0,0.1) → 0 … [0.9,1.0] → 9. Out-of-range values are clamped.
func HistBin(v float64) int {
	return binOf(v, HistBins)
}

func binOf(v float64, n int) int {
	if !(v > 0) { // also NaN
		return 0
	}
	b := int(math.Floor(v * float64(n)))
	// Floating-point products can land one bin off at the exact
	// boundaries (e.g. 0.3*10 = 3.0000000000000004 is fine, but some
	// i/n*n round down); correct against the exact boundary.
	if b > 0 && v < float64(b)/float64(n) {
		b--
	} else if b+1 < n && v >= float64(b+1)/float64(n) {
		b++
	}
	if b >= n {
		b = n - 1
	}
	return b
}

// NormalizedEntropy returns H(p)/ln(K) for a probability vector of K
// entries, with 0·ln 0 = 0 and negative or NaN entries treated as 0. The
// vector is used as given (not renormalised). For K ≤ 1 it returns 0.
func NormalizedEntropy(p []float32) float64 {
	if len(p) <= 1 {
		return 0
	}
	h := 0.0
	for _, v := range p {
		x := float64(clean(v))
		if x > 0 {
			h -= x * math.Log(x)
		}
	}
	return h / math.Log(float64(len(p)))
}

// KL returns KL(p‖q) in nats after adding KLEpsilon to every entry of both
// vectors and renormalising each to sum 1 (negative and NaN entries count
// as 0). Vectors of different length return NaN.
func KL(p, q []float32) float64 {
	if len(p) != len(q) {
		return math.NaN()
	}
	sp, sq := smoothedSum(p), smoothedSum(q)
	d := 0.0
	for i := range p {
		a := (float64(clean(p[i])) + KLEpsilon) / sp
		b := (float64(clean(q[i])) + KLEpsilon) / sq
		d += a * math.Log(a/b)
	}
	return math.Max(d, 0)
}

// JS returns the Jensen–Shannon divergence of p and q in nats (bounded by
// ln 2), with the same smoothing as KL.
func JS(p, q []float32) float64 {
	if len(p) != len(q) {
		return math.NaN()
	}
	sp, sq := smoothedSum(p), smoothedSum(q)
	d := 0.0
	for i := range p {
		a := (float64(clean(p[i])) + KLEpsilon) / sp
		b := (float64(clean(q[i])) + KLEpsilon) / sq
		m := (a + b) / 2
		d += 0.5*a*math.Log(a/m) + 0.5*b*math.Log(b/m)
	}
	// Rounding may stray a few ulps outside the mathematical [0, ln 2].
	return math.Min(math.Max(d, 0), math.Ln2)
}

func smoothedSum(p []float32) float64 {
	s := 0.0
	for _, v := range p {
		s += float64(clean(v)) + KLEpsilon
	}
	return s
}

// clean maps NaN and negative values to 0 and +Inf to 1, so a broken
// output vector degrades the statistics instead of poisoning every sum.
func clean(v float32) float32 {
	if !(v > 0) {
		return 0
	}
	if math.IsInf(float64(v), 1) {
		return 1
	}
	return v
}

// McNemarExact returns the two-sided exact McNemar p-value for b and c
// discordant pairs: under H0 each discordant pair goes either way with
// probability ½, so p = min(1, 2·P[X ≤ min(b,c)]) for X ~ Binomial(b+c, ½).
// With no discordant pairs it returns 1.
func McNemarExact(b, c int) float64 {
	n := b + c
	if n <= 0 || b < 0 || c < 0 {
		return 1
	}
	k := min(b, c)
	// Sum binomial probabilities in log space so n of 10^5 neither
	// overflows nor underflows before the sum.
	lnHalfN := float64(n) * math.Log(0.5)
	lgN, _ := math.Lgamma(float64(n) + 1)
	sum := 0.0
	for i := 0; i <= k; i++ {
		lgI, _ := math.Lgamma(float64(i) + 1)
		lgR, _ := math.Lgamma(float64(n-i) + 1)
		sum += math.Exp(lgN - lgI - lgR + lnHalfN)
	}
	return math.Min(1, 2*sum)
}
