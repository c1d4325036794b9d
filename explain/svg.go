package explain

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/qbench/qbench/report"
)

// The plots follow report.html's conventions (svg.plot frame, .t title,
// .xl/.yl axis labels, .g grid, .ax axis, .lg legend, its palette) but are
// horizontal: one row per layer, since layer names are long and many.

// hseries is one set of bars, one value per row (NaN: no bar).
type hseries struct {
	name   string
	values []float64
}

// plotRows bounds the rows drawn, so a huge model still gives a readable
// page of bounded size (the table above lists every layer).
const plotRows = 60

// hbars draws one group of horizontal bars per row label, one bar per
// series, on a shared linear axis from min(0, smallest) to the largest
// value. format prints a value in the tooltip; minMax is the smallest
// axis maximum (so all-zero data still has an axis).
func hbars(title string, labels []string, ss []hseries, format string, minMax float64) string {
	if len(labels) > plotRows {
		labels = labels[:plotRows]
		title += fmt.Sprintf(" — first %d rows", plotRows)
	}
	const w, left, right, top, bottom = 560.0, 150.0, 16.0, 40.0, 24.0
	rowH := 6.0 + 7*float64(len(ss))
	h := top + bottom + rowH*float64(len(labels))
	pw := w - left - right
	lo, hi := 0.0, minMax
	for _, s := range ss {
		for i, v := range s.values {
			if i < len(labels) && !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	step := report.NiceStep((hi - lo) / 4)
	lo = math.Floor(lo/step) * step
	hi = math.Ceil(hi/step-1e-9) * step
	x := func(v float64) float64 { return left + pw*(v-lo)/(hi-lo) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="16" class="t">%s</text>`, w/2, esc(title))
	for v := lo; v <= hi+step/2; v += step {
		xx := x(v)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" class="g"/><text x="%.1f" y="%.0f" class="xl">%s</text>`,
			xx, xx, top, h-bottom, xx, h-bottom+12, strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64))
	}
	for i, lab := range labels {
		y0 := top + float64(i)*rowH
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="yl">%s</text>`, left-4, y0+rowH/2+3, esc(trunc(lab, 24)))
		for si, s := range ss {
			if i >= len(s.values) || math.IsNaN(s.values[i]) {
				continue
			}
			v := s.values[i]
			x0, x1 := x(math.Min(0, v)), x(math.Max(0, v))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="6" fill="%s"><title>%s %s: `+format+`</title></rect>`,
				x0, y0+3+7*float64(si), math.Max(x1-x0, 0.5), report.SeriesColor(si), esc(lab), esc(s.name), v)
		}
	}
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" class="ax"/>`, x(0), x(0), top, h-bottom)
	lx := left
	for si, s := range ss {
		fmt.Fprintf(&b, `<rect x="%.0f" y="24" width="10" height="10" fill="%s"/><text x="%.0f" y="33" class="lg">%s</text>`,
			lx, report.SeriesColor(si), lx+14, esc(trunc(s.name, 16)))
		lx += 14 + 7*float64(len([]rune(trunc(s.name, 16)))) + 14
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// rangePlot draws, per layer, the calibrated (representable) interval as a
// grey bar and the observed float range as an outlined box, each row on
// its own scale (ranges differ by orders of magnitude between layers);
// the tooltip gives the numbers and the fraction outside.
func rangePlot(ls []Layer) string {
	title := "Observed range vs calibrated range"
	if len(ls) > plotRows {
		ls = ls[:plotRows]
		title += fmt.Sprintf(" — first %d rows", plotRows)
	}
	const w, left, right, top, bottom, rowH = 560.0, 150.0, 16.0, 40.0, 10.0, 20.0
	h := top + bottom + rowH*float64(len(ls))
	pw := w - left - right
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="16" class="t">%s</text>`, w/2, esc(title))
	fmt.Fprintf(&b, `<rect x="%.0f" y="24" width="10" height="10" fill="#d6d6d6"/><text x="%.0f" y="33" class="lg">calibrated</text>`, left, left+14)
	fmt.Fprintf(&b, `<rect x="%.0f" y="24" width="10" height="10" fill="none" stroke="%s" stroke-width="2"/><text x="%.0f" y="33" class="lg">observed (float)</text>`,
		left+100, report.SeriesColor(0), left+114)
	for i, l := range ls {
		y0 := top + float64(i)*rowH
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="yl">%s</text>`, left-4, y0+rowH/2+3, esc(trunc(l.Name, 24)))
		lo := math.Min(l.RangeMin, l.FloatMin)
		hi := math.Max(l.RangeMax, l.FloatMax)
		if !(hi > lo) || math.IsInf(hi-lo, 0) {
			continue
		}
		x := func(v float64) float64 { return left + pw*(v-lo)/(hi-lo) }
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="#d6d6d6"><title>%s calibrated [%.4g, %.4g]</title></rect>`,
			x(l.RangeMin), y0+3, x(l.RangeMax)-x(l.RangeMin), rowH-6, esc(l.Name), l.RangeMin, l.RangeMax)
		cls := report.SeriesColor(0)
		if l.OutsideRange > 0 {
			cls = report.SeriesColor(3)
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="none" stroke="%s" stroke-width="2"><title>%s observed [%.4g, %.4g], %.3f%% outside</title></rect>`,
			x(l.FloatMin), y0+5, math.Max(1, x(l.FloatMax)-x(l.FloatMin)), rowH-10, cls, esc(l.Name), l.FloatMin, l.FloatMax, 100*l.OutsideRange)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// trunc shortens s to n runes with an ellipsis.
func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
