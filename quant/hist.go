package quant

import (
	"math"
)

// DefaultBins is the number of histogram bins on each side of zero.
const DefaultBins = 2048

// Histogram is a streaming histogram of one tensor's float values with bounded
// memory. Its bins cover [-R, R) where R is a power of two that doubles (merging
// neighbouring bins pairwise) whenever a value falls outside. Because R only
// ever takes power-of-two values and merged bins have aligned edges, the final
// histogram does not depend on the order in which values arrive: calibration
// is reproducible whatever the number of worker threads.
type Histogram struct {
	// Bins holds 2·Half counts; bin i covers [-R + i·W, -R + (i+1)·W) with W = R/Half.
	Bins []int64
	Half int
	R    float64
	// Min and Max are the exact extremes seen; Count the number of finite values.
	Min, Max float64
	Count    int64
	// NaNs counts non-finite values, which are left out of the histogram.
	NaNs int64
}

// minRange is the starting half-width: values below it in magnitude only ever
// land in the two central bins, which is harmless for quantization ranges.
const minRange = 1.0 / (1 << 24)

// NewHistogram returns an empty histogram with half bins on each side of zero
// (rounded up to an even number; DefaultBins when half <= 0).
func NewHistogram(half int) *Histogram {
	if half <= 0 {
		half = DefaultBins
	}
	half += half & 1
	return &Histogram{Bins: make([]int64, 2*half), Half: half, R: minRange, Min: math.Inf(1), Max: math.Inf(-1)}
}

// Width is the width of one bin.
func (h *Histogram) Width() float64 { return h.R / float64(h.Half) }

// Center returns the centre of bin i.
func (h *Histogram) Center(i int) float64 { return -h.R + (float64(i)+0.5)*h.Width() }

// Add records values.
func (h *Histogram) Add(v []float32) {
	maxAbs := 0.0
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		if a := math.Abs(f); a > maxAbs {
			maxAbs = a
		}
	}
	for maxAbs >= h.R {
		h.grow()
	}
	inv := 1 / h.Width()
	last := len(h.Bins) - 1
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			h.NaNs++
			continue
		}
		if f < h.Min {
			h.Min = f
		}
		if f > h.Max {
			h.Max = f
		}
		i := int((f + h.R) * inv)
		if i < 0 {
			i = 0
		} else if i > last {
			i = last
		}
		h.Bins[i]++
		h.Count++
	}
}

// grow doubles R: new bin j is the sum of old bins 2j−Half and 2j−Half+1,
// whose edges line up exactly with the new, twice as wide bin.
func (h *Histogram) grow() {
	n := len(h.Bins)
	nb := make([]int64, n)
	for j := range nb {
		a := 2*j - h.Half
		if a >= 0 && a+1 < n {
			nb[j] = h.Bins[a] + h.Bins[a+1]
		}
	}
	h.Bins = nb
	h.R *= 2
}

// Merge adds o's counts into h; both must have the same number of bins.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.Count == 0 && o.NaNs == 0 {
		return
	}
	for h.R < o.R {
		h.grow()
	}
	oc := *o
	oc.Bins = append([]int64(nil), o.Bins...)
	for oc.R < h.R {
		oc.grow()
	}
	for i := range h.Bins {
		h.Bins[i] += oc.Bins[i]
	}
	h.Count += o.Count
	h.NaNs += o.NaNs
	h.Min = math.Min(h.Min, o.Min)
	h.Max = math.Max(h.Max, o.Max)
}

// Percentile returns the value below which p percent of the values lie,
// interpolating linearly inside a bin and clamped to [Min, Max].
func (h *Histogram) Percentile(p float64) float64 {
	if h.Count == 0 {
		return 0
	}
	target := p / 100 * float64(h.Count)
	var cum float64
	w := h.Width()
	v := h.Max
	for i, c := range h.Bins {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= target {
			frac := (target - cum) / float64(c)
			v = -h.R + (float64(i)+frac)*w
			break
		}
		cum += float64(c)
	}
	return math.Min(math.Max(v, h.Min), h.Max)
}

// FractionOutside returns the fraction of recorded values below lo or above
// hi, counting a partially covered bin in proportion to the part outside.
func (h *Histogram) FractionOutside(lo, hi float64) float64 {
	if h.Count == 0 {
		return 0
	}
	w := h.Width()
	var out float64
	for i, c := range h.Bins {
		if c == 0 {
			continue
		}
		a := -h.R + float64(i)*w
		b := a + w
		// Clip the bin's span to the observed extremes so a bin that holds
		// the maximum is not counted as partly above it.
		a = math.Max(a, h.Min)
		b = math.Min(b, h.Max)
		span := b - a
		if span <= 0 {
			// All values of this bin sit at one point (Min == Max, or the
			// extreme itself).
			if a < lo || a > hi {
				out += float64(c)
			}
			continue
		}
		below := math.Max(0, math.Min(lo, b)-a)
		above := math.Max(0, b-math.Max(hi, a))
		out += float64(c) * math.Min(1, (below+above)/span)
	}
	return out / float64(h.Count)
}

// Mean returns the mean of the recorded values computed from bin centres.
func (h *Histogram) Mean() float64 {
	if h.Count == 0 {
		return 0
	}
	var s float64
	for i, c := range h.Bins {
		if c != 0 {
			s += float64(c) * h.Center(i)
		}
	}
	return s / float64(h.Count)
}
