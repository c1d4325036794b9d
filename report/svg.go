package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/qbench/qbench/metrics"
)

// The plots are hand-written SVG so report.html stays one offline file
// with no script and no third-party code. Inline <svg> in HTML5 needs no
// xmlns attribute, which keeps every http URL out of the page.

var palette = []string{"#3b6fb6", "#e07b39", "#3a9a5b", "#c0392b", "#7d5ba6", "#8c6d31", "#d35fb7", "#555555"}

func modelColor(i int) string { return palette[i%len(palette)] }

// series is one model's histogram in a grouped bar chart.
type series struct {
	name   string
	values []float64 // fractions
	// counts are the numbers behind values, printed on the bars (nil:
	// none printed).
	counts []int64
}

// groupedBars draws one group of bars per label, one bar per series, with
// values as fractions (shown as percent) and each bar's count printed on
// it (unit names what is counted, for the tooltips). With logScale the y
// axis is logarithmic, from a decade below the smallest non-zero value to
// 100%, so small bins stay visible beside one that holds nearly everything.
func groupedBars(title, unit string, labels []string, ss []series, logScale bool) string {
	// top leaves a row under the title for the legend, so it never
	// covers a bar.
	const w, h, left, right, top, bottom = 380.0, 280.0, 46.0, 8.0, 40.0, 44.0
	pw, ph := w-left-right, h-top-bottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot hist" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="16" class="t">%s</text>`, w/2, esc(title))
	maxV, minNZ := 0.0, 1.0
	for _, s := range ss {
		for _, v := range s.values {
			maxV = math.Max(maxV, v)
			if v > 0 {
				minNZ = math.Min(minNZ, v)
			}
		}
	}
	if maxV <= 0 {
		maxV = 1
	}
	// Round the axis up to whole ticks of a 1-2-2.5-5 step, so the labels
	// read 0%, 5%, 10% … rather than fractions of the data's maximum.
	step := niceStep(maxV / 4)
	ticks := int(math.Ceil(maxV/step - 1e-9))
	maxV = float64(ticks) * step
	// The log axis starts at least a quarter decade below the smallest
	// bar, so that bar keeps a visible height.
	logMin := math.Max(-7, math.Min(-1, math.Floor(math.Log10(minNZ)-0.25)))
	y := func(v float64) float64 {
		if logScale {
			if v <= 0 {
				return top + ph
			}
			l := math.Max(math.Log10(v), logMin)
			return top + ph*(l/logMin)
		}
		return top + ph*(1-v/maxV)
	}
	// Grid and y labels.
	if logScale {
		for e := 0; e >= int(logMin); e-- {
			yy := y(math.Pow(10, float64(e)))
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="g"/><text x="%.0f" y="%.1f" class="yl">%s%%</text>`,
				left, w-right, yy, yy, left-4, yy+3, strconv.FormatFloat(100*math.Pow(10, float64(e)), 'f', -1, 64))
		}
	} else {
		for i := 0; i <= ticks; i++ {
			v := step * float64(i)
			yy := y(v)
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="g"/><text x="%.0f" y="%.1f" class="yl">%s%%</text>`, left, w-right, yy, yy, left-4, yy+3, strconv.FormatFloat(math.Round(100*v*1e6)/1e6, 'f', -1, 64))
		}
	}
	gw := pw / float64(len(labels))
	bw := gw * 0.84 / float64(max(len(ss), 1))
	for gi, lab := range labels {
		x0 := left + float64(gi)*gw + gw*0.08
		for si, s := range ss {
			if gi >= len(s.values) {
				continue
			}
			v := s.values[gi]
			yy := y(v)
			cnt := ""
			if gi < len(s.counts) {
				cnt = fmt.Sprintf("%d %s, ", s.counts[gi], unit)
			}
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s%.4g%%</title></rect>`,
				x0+float64(si)*bw, yy, bw, top+ph-yy, modelColor(si), esc(s.name), esc(lab), cnt, 100*v)
			if gi < len(s.counts) {
				b.WriteString(countLabel(s.counts[gi], x0+float64(si)*bw+bw/2, yy, top+ph))
			}
		}
		// Rotated labels end under their group, so none reaches up
		// into the plot.
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="xl" style="text-anchor:end" transform="rotate(-35 %.1f %.0f)">%s</text>`, x0+gw*0.5, top+ph+11, x0+gw*0.5, top+ph+11, esc(lab))
	}
	fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" class="ax"/>`, left, w-right, top+ph, top+ph)
	b.WriteString(legend(ss, left, 24))
	b.WriteString(`</svg>`)
	return b.String()
}

// countLabel prints a bar's count vertically, centred at x: inside the
// bar (white) when the bar is tall enough for it, else just above its top
// yTop (the bar ends at base).
func countLabel(n int64, x, yTop, base float64) string {
	s := strconv.FormatInt(n, 10)
	need := 5.6*float64(len(s)) + 6
	if base-yTop >= need {
		return fmt.Sprintf(`<text class="cnt in" x="%.1f" y="%.1f" transform="rotate(-90 %.1f %.1f)">%s</text>`, x+3, yTop+3, x+3, yTop+3, s)
	}
	return fmt.Sprintf(`<text class="cnt" x="%.1f" y="%.1f" transform="rotate(-90 %.1f %.1f)">%s</text>`, x+3, yTop-3, x+3, yTop-3, s)
}

// legend draws the series' swatches in one row starting at (x, y).
func legend(ss []series, x, y float64) string {
	var b strings.Builder
	for i, s := range ss {
		name := trunc(s.name, 16)
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="10" height="10" fill="%s"/><text x="%.0f" y="%.0f" class="lg">%s</text>`,
			x, y, modelColor(i), x+14, y+9, esc(name))
		x += 14 + 7*float64(len([]rune(name))) + 14
	}
	return b.String()
}

// counts turns a histogram of fractions of n back into its counts (exact:
// each fraction is c/n in float64, and n < 2^53).
func counts(fracs []float64, n int64) []int64 {
	out := make([]int64, len(fracs))
	for i, f := range fracs {
		out[i] = int64(math.Round(f * float64(n)))
	}
	return out
}

// niceStep returns the smallest of 1, 2, 2.5 and 5 times a power of ten
// that is ≥ x (x > 0).
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// reliabilityPlot draws accuracy against mean confidence per bin, with
// the diagonal of perfect calibration and, in a band under the axis, the
// number of samples in each bin (a bar of 3 samples says little).
func reliabilityPlot(title string, bins []metrics.ReliabilityBin, ci int) string {
	const w, h, left, top, size = 250.0, 292.0, 40.0, 26.0, 190.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot rel" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="t">%s</text>`, w/2, esc(title))
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		yy := top + size*(1-v)
		xx := left + size*v
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="g"/><text x="%.0f" y="%.1f" class="yl">%.2f</text>`, left, left+size, yy, yy, left-3, yy+3, v)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="xl">%.2f</text>`, xx, top+size+13, v)
	}
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="diag"/>`, left, top+size, left+size, top)
	// The count band: one vertical number per bin, bottom-aligned.
	band := top + size + 66
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="yl">n</text>`, left-3, band-2)
	for _, bin := range bins {
		x := left + size*bin.Lo
		bw := size * (bin.Hi - bin.Lo)
		cx := x + bw/2 + 3
		fmt.Fprintf(&b, `<text class="cnt" x="%.1f" y="%.0f" transform="rotate(-90 %.1f %.0f)">%d</text>`, cx, band, cx, band, bin.Count)
		if bin.Count == 0 {
			continue
		}
		yy := top + size*(1-bin.Accuracy)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.75" stroke="#fff"><title>confidence [%.3f, %.3f): %d samples, accuracy %.3f, mean confidence %.3f</title></rect>`,
			x, yy, bw, top+size-yy, modelColor(ci), bin.Lo, bin.Hi, bin.Count, bin.Accuracy, bin.MeanConfidence)
		cx = left + size*bin.MeanConfidence
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="#222"/>`, cx, yy)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="xl">confidence</text>`, left+size/2, top+size+26)
	fmt.Fprintf(&b, `<text x="12" y="%.0f" class="xl" transform="rotate(-90 12 %.0f)">accuracy</text>`, top+size/2, top+size/2)
	b.WriteString(`</svg>`)
	return b.String()
}

// deltaBars draws one horizontal bar per class with a non-zero accuracy
// change (B − A, percentage points); red left = worse, teal right = better.
func deltaBars(title string, deltas []metrics.ClassDelta) string {
	var rows []metrics.ClassDelta
	for _, d := range deltas {
		if d.Delta != 0 {
			rows = append(rows, d)
		}
	}
	const w, left, right, rowH, top = 520.0, 190.0, 50.0, 14.0, 26.0
	h := top + rowH*float64(max(len(rows), 1)) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="t">%s</text>`, w/2, esc(title))
	if len(rows) == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="xl">no class changed</text></svg>`, w/2, top+12)
		return b.String()
	}
	scale := 0.0
	for _, d := range rows {
		scale = math.Max(scale, math.Abs(d.Delta))
	}
	mid := left + (w-left-right)/2
	half := (w - left - right) / 2
	for i, d := range rows {
		y := top + rowH*float64(i)
		l := half * d.Delta / scale
		x := mid
		fill := "#00897b"
		if l < 0 {
			x, l, fill = mid+l, -l, "#c0392b"
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="yl">%s</text>`, left-4, y+10, esc(trunc(d.Class, 30)))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s (support %d): %.1f%% → %.1f%% (%+.1f pp)</title></rect>`,
			x, y+2, math.Max(l, 1), rowH-4, fill, esc(d.Class), d.Support, 100*d.AccuracyA, 100*d.AccuracyB, 100*d.Delta)
		// Values sit in their own column at the right so they never
		// collide with a full-length negative bar or the class names.
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="v">%+.1f</text>`, w-right+6, y+10, 100*d.Delta)
	}
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.1f" class="ax"/>`, mid, mid, top, h-18)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="xl">accuracy change, percentage points</text>`, mid, h-4)
	b.WriteString(`</svg>`)
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
