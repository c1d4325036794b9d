package quant

import (
	"fmt"
	"math"
	"strings"
)

// Method is a calibration method: how a tensor's quantization range is chosen
// from the values observed on calibration data.
type Method int

// Calibration methods.
const (
	// MinMax uses the observed minimum and maximum (TFLite converter default).
	MinMax Method = iota
	// Percentile clips to the p-th and (100−p)-th percentiles.
	Percentile
	// MSE picks the range minimising the expected squared error: rounding
	// noise of the values inside plus clipping error of those outside.
	MSE
	// KL picks the clipping threshold whose quantized distribution is closest
	// in KL divergence to the observed one (TensorRT's entropy calibration).
	KL
)

var methodNames = [...]string{"minmax", "percentile", "mse", "kl"}

// String returns the flag spelling, e.g. "minmax".
func (m Method) String() string {
	if m < 0 || int(m) >= len(methodNames) {
		return fmt.Sprintf("method(%d)", int(m))
	}
	return methodNames[m]
}

// ParseMethod maps "minmax", "percentile", "mse" or "kl" to a Method.
func ParseMethod(s string) (Method, error) {
	for i, n := range methodNames {
		if strings.EqualFold(n, s) {
			return Method(i), nil
		}
	}
	return MinMax, fmt.Errorf("unknown calibration method %q (want minmax, percentile, mse or kl)", s)
}

// DefaultPercentile is the percentile used when Options.Percentile is 0.
const DefaultPercentile = 99.99

// Range is a closed interval of real values.
type Range struct{ Min, Max float64 }

// ChooseRange returns the range a method picks for the values in h. qmin and
// qmax are the integer limits of the target type; symmetric selects
// zero-point-0 quantization (16-bit activations), where only the largest
// magnitude matters. The result always contains 0 and lies inside the
// observed [Min, Max] widened to 0.
func ChooseRange(h *Histogram, m Method, percentile float64, qmin, qmax int, symmetric bool) Range {
	if h == nil || h.Count == 0 {
		return Range{}
	}
	obs := Range{math.Min(h.Min, 0), math.Max(h.Max, 0)}
	var r Range
	switch m {
	case Percentile:
		if percentile <= 0 || percentile > 100 {
			percentile = DefaultPercentile
		}
		r = Range{math.Min(0, h.Percentile(100-percentile)), math.Max(0, h.Percentile(percentile))}
		if symmetric {
			t := math.Max(-r.Min, r.Max)
			r = Range{-t, t}
		}
	case MSE:
		r = mseRange(h, obs, qmin, qmax, symmetric)
	case KL:
		r = klRange(h, obs, qmin, qmax, symmetric)
	default:
		r = obs
	}
	if symmetric {
		t := math.Max(-r.Min, r.Max)
		r = Range{math.Max(-t, obs.Min), math.Min(t, obs.Max)}
	}
	r.Min = math.Max(math.Min(r.Min, 0), obs.Min)
	r.Max = math.Min(math.Max(r.Max, 0), obs.Max)
	return r
}

// quantError is the expected squared error per value of quantizing h's
// values with the grid that r maps to: Δ²/12 rounding noise inside the
// representable interval, squared distance to its edge outside.
func quantError(h *Histogram, r Range, qmin, qmax int, symmetric bool) float64 {
	var scale float64
	var zp int64
	if symmetric {
		scale, zp = SymmetricParams(math.Max(-r.Min, r.Max), qmax), 0
	} else {
		scale, zp = AsymmetricParams(r.Min, r.Max, qmin, qmax)
	}
	lo := scale * float64(int64(qmin)-zp)
	hi := scale * float64(int64(qmax)-zp)
	noise := scale * scale / 12
	var e float64
	for i, c := range h.Bins {
		if c == 0 {
			continue
		}
		x := h.Center(i)
		switch {
		case x < lo:
			e += float64(c) * ((lo-x)*(lo-x) + noise)
		case x > hi:
			e += float64(c) * ((x-hi)*(x-hi) + noise)
		default:
			e += float64(c) * noise
		}
	}
	return e / float64(h.Count)
}

// mseSteps is the grid resolution of the MSE search on each side.
const mseSteps = 128

// mseRange searches clipping thresholds by coordinate descent: for each side
// in turn it tries mseSteps fractions of the observed extreme, keeping the
// other side fixed, until neither side moves.
func mseRange(h *Histogram, obs Range, qmin, qmax int, symmetric bool) Range {
	if symmetric {
		t := math.Max(-obs.Min, obs.Max)
		best, bestErr := t, math.Inf(1)
		for k := 1; k <= mseSteps; k++ {
			c := t * float64(k) / mseSteps
			if e := quantError(h, Range{-c, c}, qmin, qmax, true); e < bestErr {
				best, bestErr = c, e
			}
		}
		return Range{-best, best}
	}
	r := obs
	bestErr := quantError(h, r, qmin, qmax, false)
	for round := 0; round < 4; round++ {
		moved := false
		if obs.Max > 0 {
			for k := 1; k <= mseSteps; k++ {
				c := Range{r.Min, obs.Max * float64(k) / mseSteps}
				if e := quantError(h, c, qmin, qmax, false); e < bestErr {
					r, bestErr, moved = c, e, true
				}
			}
		}
		if obs.Min < 0 {
			for k := 1; k <= mseSteps; k++ {
				c := Range{obs.Min * float64(k) / mseSteps, r.Max}
				if e := quantError(h, c, qmin, qmax, false); e < bestErr {
					r, bestErr, moved = c, e, true
				}
			}
		}
		if !moved {
			break
		}
	}
	return r
}

// klRange implements entropy calibration. Values are folded to magnitudes
// (or taken as they are when the tensor is non-negative, e.g. after ReLU, in
// which case all qmax−qmin+1 levels serve one side). For every candidate
// threshold the reference distribution P is the histogram up to it with the
// clipped mass added to the last bin; Q merges those bins into the available
// number of levels and spreads each level's mass evenly over the bins that
// were non-empty. The threshold with the smallest KL(P‖Q) wins.
func klRange(h *Histogram, obs Range, qmin, qmax int, symmetric bool) Range {
	oneSided := obs.Min >= 0 && !symmetric
	levels := (qmax - qmin + 1) / 2
	if oneSided {
		levels = qmax - qmin + 1
	}
	// Magnitude histogram over [0, R): bin k holds values with |x| in [kW, (k+1)W).
	half := h.Half
	mag := make([]float64, half)
	for i, c := range h.Bins {
		if c == 0 {
			continue
		}
		if i >= half {
			mag[i-half] += float64(c)
		} else {
			mag[half-1-i] += float64(c)
		}
	}
	w := h.Width()
	maxAbs := math.Max(-obs.Min, obs.Max)
	nb := int(math.Ceil(maxAbs / w))
	if nb > half {
		nb = half
	}
	if nb <= levels {
		return obs // already finer than the histogram can resolve
	}
	mag = mag[:nb]
	total := 0.0
	for _, c := range mag {
		total += c
	}
	// Candidate thresholds; a stride keeps the cost bounded for fine histograms.
	step := (nb - levels) / 512
	if step < 1 {
		step = 1
	}
	bestI, bestKL := nb, math.Inf(1)
	p := make([]float64, nb)
	q := make([]float64, nb)
	for i := levels; i <= nb; i += step {
		klv := klAt(mag, i, levels, total, p[:i], q[:i])
		if klv < bestKL {
			bestKL, bestI = klv, i
		}
	}
	t := float64(bestI) * w
	if oneSided {
		return Range{0, math.Min(t, obs.Max)}
	}
	return Range{math.Max(-t, obs.Min), math.Min(t, obs.Max)}
}

// klAt returns KL(P‖Q) for the threshold at bin i (see klRange).
func klAt(mag []float64, i, levels int, total float64, p, q []float64) float64 {
	copy(p, mag[:i])
	outliers := total
	for _, c := range mag[:i] {
		outliers -= c
	}
	p[i-1] += outliers
	for j := 0; j < levels; j++ {
		a := j * i / levels
		b := (j + 1) * i / levels
		var mass float64
		nonzero := 0
		for k := a; k < b; k++ {
			mass += mag[k]
			if p[k] != 0 {
				nonzero++
			}
		}
		for k := a; k < b; k++ {
			if p[k] != 0 {
				q[k] = mass / float64(nonzero)
			} else {
				q[k] = 0
			}
		}
	}
	var ps, qs float64
	for k := range p {
		ps += p[k]
		qs += q[k]
	}
	if ps == 0 || qs == 0 {
		return math.Inf(1)
	}
	var kl float64
	for k := range p {
		if p[k] == 0 {
			continue
		}
		pk := p[k] / ps
		qk := q[k] / qs
		if qk == 0 {
			// The clipped mass landed in a bin Q left empty; penalise
			// heavily instead of returning +Inf so some threshold still wins.
			qk = 1e-12
		}
		kl += pk * math.Log(pk/qk)
	}
	return kl
}
