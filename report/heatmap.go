package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// maxMatrixClasses is the most classes a confusion matrix shows in full;
// beyond it (ImageNet's 1001) the plots show the maxMatrixClasses classes
// with the most confusions, with names, instead of an unreadable block.
const maxMatrixClasses = 60

// matrixLabelRunes bounds a class name on the matrix axes; the tooltip
// and the Classes table give the full name.
const matrixLabelRunes = 22

// matrix describes one confusion heatmap.
type matrix struct {
	title string
	// idx lists the classes shown, in order (all of them, or the most
	// confused ones); value, tip and names take class indices.
	idx   []int
	names func(int) string
	value func(i, j int) float64
	tip   func(i, j int) string
	// delta draws a difference (B − A) in colours that say better or
	// worse for B: more on the diagonal and less off it are better. a and
	// b name the two models for the legend.
	delta bool
	a, b  string
}

// matrixCell returns the side of one cell for n classes: large enough
// for a 9 px label beside each row and column.
func matrixCell(n int) float64 {
	return math.Max(11, math.Min(18, math.Floor(400/float64(max(n, 1)))))
}

// heatmap draws m as an SVG: class names (truncated, with their index)
// beside the rows and above the columns, row-normalised fractions from
// white to dark blue, or for a difference matrix red (worse) and teal
// (better) with the count printed in each changed cell and a legend.
func heatmap(m matrix) string {
	n := len(m.idx)
	cell := matrixCell(n)
	font := math.Min(10, cell-2)
	labels := make([]string, n)
	longest := 0
	for k, c := range m.idx {
		labels[k] = trunc(m.names(c), matrixLabelRunes)
		longest = max(longest, len([]rune(labels[k]))+1+len(strconv.Itoa(c)))
	}
	// Glyphs of the 9-10 px sans font average about 0.6 em; the margin
	// holds the longest label.
	labW := math.Ceil(0.62*font*float64(longest)) + 8
	left := math.Max(labW, 96) + 4
	top := 24 + math.Max(labW, 40)
	side := cell * float64(n)
	w := left + side + 12
	h := top + side + 12
	if m.delta {
		h += 56
	} else {
		h += 24
	}
	// The legend starts at the left edge and must fit too (11 px text,
	// about 6.4 px a character at most).
	better := fmt.Sprintf("better for %s: more on the diagonal, fewer off it", trunc(m.b, 20))
	worse := fmt.Sprintf("worse for %s: fewer on the diagonal, more off it", trunc(m.b, 20))
	legendText := "share of the true class's samples: light = few, dark = all"
	if m.delta {
		legendText = better
		if len([]rune(worse)) > len([]rune(better)) {
			legendText = worse
		}
	}
	w = math.Max(w, 8+52+6.4*float64(len([]rune(legendText)))+8)
	var b strings.Builder
	kind := "conf"
	if m.delta {
		kind = "conf delta"
	}
	fmt.Fprintf(&b, `<svg class="plot %s" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, kind, w, h, w, h, esc(m.title))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="t">%s</text>`, w/2, esc(m.title))
	// The corner above the row names says which axis is which.
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="yl ax-t">predicted →</text>`, left-6, top-8)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="yl ax-t">true ↓</text>`, left-6, top-22)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.1f" height="%.1f" fill="#fff" stroke="#bbb"/>`, left, top, side, side)
	style := fmt.Sprintf(` style="font-size:%.1fpx"`, font)
	for k, c := range m.idx {
		name := esc(m.names(c))
		yy := top + cell*(float64(k)+0.5) + font*0.35
		fmt.Fprintf(&b, `<text class="yl cls row" x="%.0f" y="%.1f"%s><title>%s</title>%s %d</text>`, left-4, yy, style, name, esc(labels[k]), c)
		xx := left + cell*(float64(k)+0.5) + font*0.35
		fmt.Fprintf(&b, `<text class="cls col" x="%.1f" y="%.0f" transform="rotate(-90 %.1f %.0f)"%s><title>%s</title>%d %s</text>`, xx, top-4, xx, top-4, style, name, c, esc(labels[k]))
	}
	scale := 0.0
	if m.delta {
		for _, i := range m.idx {
			for _, j := range m.idx {
				scale = math.Max(scale, math.Abs(m.value(i, j)))
			}
		}
	}
	for r, i := range m.idx {
		for c, j := range m.idx {
			v := m.value(i, j)
			x, y := left+cell*float64(c), top+cell*float64(r)
			if m.delta && i == j {
				// The diagonal is outlined so 'more here is better' has
				// a place to look at even where nothing changed.
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#ccc"/>`, x, y, cell, cell)
			}
			if v == 0 {
				continue
			}
			fill := seqColor(v)
			if m.delta {
				good := (v > 0) == (i == j)
				fill = deltaColor(math.Abs(v)/scale, good)
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`, x, y, cell, cell, fill, esc(m.tip(i, j)))
			if m.delta && cell >= 13 && math.Abs(v) < 1000 {
				ink := "#222"
				if math.Abs(v)/scale > 0.45 {
					ink = "#fff"
				}
				fmt.Fprintf(&b, `<text class="cn" x="%.1f" y="%.1f" fill="%s">%s</text>`, x+cell/2, y+cell/2+3, ink, strconv.FormatFloat(math.Abs(v), 'f', -1, 64))
			}
		}
	}
	ly := top + side + 16
	const lx = 8.0
	if m.delta {
		fmt.Fprintf(&b, `%s<text x="%.0f" y="%.0f" class="lg">%s</text>`, ramp(lx, ly, true), lx+52, ly+9, esc(better))
		fmt.Fprintf(&b, `%s<text x="%.0f" y="%.0f" class="lg">%s</text>`, ramp(lx, ly+17, false), lx+52, ly+26, esc(worse))
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="lg note">cells: samples changed against %s (darkest: %s)</text>`,
			lx, ly+42, esc(trunc(m.a, 20)), strconv.FormatFloat(scale, 'f', -1, 64))
	} else {
		for k, t := range []float64{0.01, 0.25, 1} {
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="14" height="10" fill="%s" stroke="#ddd"/>`, lx+14*float64(k), ly, seqColor(t))
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="lg">%s</text>`, lx+50, ly+9, esc(legendText))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// ramp draws three swatches of the better (good) or worse colour.
func ramp(x, y float64, good bool) string {
	var b strings.Builder
	for k, t := range []float64{0.1, 0.45, 1} {
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="14" height="10" fill="%s"/>`, x+14*float64(k), y, deltaColor(t, good))
	}
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

// deltaColor maps a change of relative size t (0..1) to teal when it is
// good for the second model and red when bad; teal and red stay apart
// for the common colour-vision deficiencies, and the cells carry their
// numbers too.
func deltaColor(t float64, good bool) string {
	t = math.Max(0, math.Min(1, t))
	a := 0.25 + 0.75*math.Sqrt(t)
	if good {
		return fmt.Sprintf("rgb(%.0f,%.0f,%.0f)", 255+a*(1-255), 255+a*(110-255), 255+a*(100-255))
	}
	return fmt.Sprintf("rgb(%.0f,%.0f,%.0f)", 255+a*(190-255), 255+a*(30-255), 255+a*(40-255))
}

// shownClasses picks the classes a split's matrices show: all of them up
// to maxMatrixClasses, else the maxMatrixClasses with the most confused
// samples (off-diagonal counts in their row and column, summed over the
// models) plus the most changed cells of every pair, in class order. The
// second result says whether classes were left out.
func shownClasses(s Split, k int) ([]int, bool) {
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	if k <= maxMatrixClasses {
		return idx, false
	}
	score := make([]float64, k)
	for _, m := range s.Models {
		for i, row := range m.Confusion {
			for j, c := range row {
				if i != j {
					score[i] += float64(c)
					score[j] += float64(c)
				}
			}
		}
	}
	for _, p := range s.Pairs {
		for i, row := range p.ConfusionDelta {
			for j, d := range row {
				score[i] += math.Abs(float64(d))
				score[j] += math.Abs(float64(d))
			}
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] > score[idx[b]] })
	idx = idx[:maxMatrixClasses]
	sort.Ints(idx)
	return idx, true
}
