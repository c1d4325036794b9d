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

// series is one model's values in a grouped bar chart.
type series struct {
	name   string
	values []float64
}

// groupedBars draws one group of bars per label, one bar per series, with
// values as fractions (shown as percent). With logScale the y axis is
// log10 from 1e-5 to 1, so the output histogram's tiny bins stay visible.
func groupedBars(title string, labels []string, ss []series, logScale bool) string {
	// top leaves a row under the title for the legend, so it never
	// covers a bar.
	const w, h, left, right, top, bottom = 460.0, 270.0, 48.0, 10.0, 40.0, 44.0
	pw, ph := w-left-right, h-top-bottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="16" class="t">%s</text>`, w/2, esc(title))
	maxV := 0.0
	for _, s := range ss {
		for _, v := range s.values {
			maxV = math.Max(maxV, v)
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
	const logMin = -5.0
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
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="g"/><text x="%.0f" y="%.1f" class="yl">1e%d</text>`, left, w-right, yy, yy, left-4, yy+3, e)
		}
	} else {
		for i := 0; i <= ticks; i++ {
			v := step * float64(i)
			yy := y(v)
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="g"/><text x="%.0f" y="%.1f" class="yl">%s%%</text>`, left, w-right, yy, yy, left-4, yy+3, strconv.FormatFloat(math.Round(100*v*1e6)/1e6, 'f', -1, 64))
		}
	}
	gw := pw / float64(len(labels))
	bw := gw * 0.8 / float64(max(len(ss), 1))
	for gi, lab := range labels {
		x0 := left + float64(gi)*gw + gw*0.1
		for si, s := range ss {
			if gi >= len(s.values) {
				continue
			}
			v := s.values[gi]
			yy := y(v)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.4f%%</title></rect>`,
				x0+float64(si)*bw, yy, bw, top+ph-yy, modelColor(si), esc(s.name), esc(lab), 100*v)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="xl" transform="rotate(-35 %.1f %.0f)">%s</text>`, x0+gw*0.4, top+ph+14, x0+gw*0.4, top+ph+14, esc(lab))
	}
	fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" class="ax"/>`, left, w-right, top+ph, top+ph)
	b.WriteString(legend(ss, left, 24))
	b.WriteString(`</svg>`)
	return b.String()
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

// heatmap draws a K×K matrix. Sequential maps fractions 0..1 from white
// to dark blue; diverging maps counts −max..max from blue through white
// to red (red = more under the second model). tip gives each cell's tooltip.
func heatmap(title string, k int, value func(i, j int) float64, diverging bool, tip func(i, j int) string, classes func(int) string) string {
	cell := math.Max(5, math.Min(18, 380/float64(max(k, 1))))
	// The column numbers sit just above the matrix (baseline top-3, 10px
	// font); "predicted →" gets its own line above them so the two never
	// overlap.
	left, top := 34.0, 50.0
	side := cell * float64(k)
	w, h := left+side+10, top+side+10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="t">%s</text>`, w/2, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="30" class="xl">predicted →</text>`, left+side/2)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.1f" height="%.1f" fill="#fff" stroke="#bbb"/>`, left, top, side, side)
	scale := 0.0
	if diverging {
		for i := range k {
			for j := range k {
				scale = math.Max(scale, math.Abs(value(i, j)))
			}
		}
	}
	step := 1
	if k > 20 {
		step = 5
	}
	for i := range k {
		if i%step == 0 {
			fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="yl"><title>%s</title>%d</text>`, left-3, top+cell*(float64(i)+0.5)+3, esc(classes(i)), i)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="xl"><title>%s</title>%d</text>`, left+cell*(float64(i)+0.5), top-3, esc(classes(i)), i)
		}
		for j := range k {
			v := value(i, j)
			if v == 0 {
				continue
			}
			var fill string
			if diverging {
				fill = divergingColor(v / scale)
			} else {
				fill = seqColor(v)
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
				left+cell*float64(j), top+cell*float64(i), cell, cell, fill, esc(tip(i, j)))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func seqColor(t float64) string {
	t = math.Max(0, math.Min(1, t))
	// Lift small non-zero values so a single confusion is visible.
	t = 0.12 + 0.88*math.Sqrt(t)
	r := 255 + t*(8-255)
	g := 255 + t*(48-255)
	bl := 255 + t*(107-255)
	return fmt.Sprintf("rgb(%.0f,%.0f,%.0f)", r, g, bl)
}

func divergingColor(t float64) string {
	t = math.Max(-1, math.Min(1, t))
	a := 0.2 + 0.8*math.Abs(t)
	if t > 0 {
		return fmt.Sprintf("rgb(%.0f,%.0f,%.0f)", 255+a*(178-255), 255+a*(24-255), 255+a*(43-255))
	}
	return fmt.Sprintf("rgb(%.0f,%.0f,%.0f)", 255+a*(33-255), 255+a*(102-255), 255+a*(172-255))
}

// reliabilityPlot draws accuracy against mean confidence per bin, with
// the diagonal of perfect calibration and bin counts in tooltips.
func reliabilityPlot(title string, bins []metrics.ReliabilityBin, ci int) string {
	const w, h, left, top, size = 250.0, 250.0, 40.0, 26.0, 190.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="t">%s</text>`, w/2, esc(title))
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		yy := top + size*(1-v)
		xx := left + size*v
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="g"/><text x="%.0f" y="%.1f" class="yl">%.2f</text>`, left, left+size, yy, yy, left-3, yy+3, v)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="xl">%.2f</text>`, xx, top+size+13, v)
	}
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="diag"/>`, left, top+size, left+size, top)
	for _, bin := range bins {
		if bin.Count == 0 {
			continue
		}
		x := left + size*bin.Lo
		bw := size * (bin.Hi - bin.Lo)
		yy := top + size*(1-bin.Accuracy)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.75" stroke="#fff"><title>confidence [%.3f, %.3f): %d samples, accuracy %.3f, mean confidence %.3f</title></rect>`,
			x, yy, bw, top+size-yy, modelColor(ci), bin.Lo, bin.Hi, bin.Count, bin.Accuracy, bin.MeanConfidence)
		cx := left + size*bin.MeanConfidence
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="#222"/>`, cx, yy)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="xl">confidence</text>`, left+size/2, top+size+26)
	fmt.Fprintf(&b, `<text x="12" y="%.0f" class="xl" transform="rotate(-90 12 %.0f)">accuracy</text>`, top+size/2, top+size/2)
	b.WriteString(`</svg>`)
	return b.String()
}

// deltaBars draws one horizontal bar per class with a non-zero accuracy
// change (B − A, percentage points); red left = worse, green right = better.
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
		fill := "#3a9a5b"
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
