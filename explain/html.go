package explain

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/qbench/qbench/report"
)

// WriteHTML writes explain.html: one self-contained page (inline CSS and
// SVG, no script, no external URL) in the style of compare's report.html —
// the layer table, per-layer SQNR bars (isolated vs accumulated), each
// activation's observed range against its calibrated range, the data-shift
// table and bars, the class attribution and the fix trade-off.
func (r *Result) WriteHTML(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
	p("<link rel=\"icon\" href=\"data:,\"><title>qbench explain report</title><style>%s</style></head><body>\n", report.Stylesheet())
	p("<h1>qbench explain report</h1><p class=\"note\">Schema %s · %d samples%s · per-layer statistics over %d · tensors matched by %s</p>\n",
		esc(Schema), r.Samples, esc(splitSuffix(r.Split)), r.LayerSamples, esc(r.Matching))
	if r.ClassOrder != nil {
		p("<p class=\"bad\"><b>Warning:</b> %s</p>\n", esc(r.ClassOrder.Message))
	}
	if len(r.Unmatched) > 0 {
		p("<p class=\"note\">Unmatched tensors: %s</p>\n", esc(strings.Join(r.Unmatched, ", ")))
	}
	p("<table><tr><th class=\"l\">model</th><th>accuracy</th></tr><tr><td class=\"l\">float</td><td>%.2f%%</td></tr>", r.FloatAccuracy)
	pv := r.QuantVsFloat
	p("<tr><td class=\"l\">quantized</td><td>%.2f%%</td></tr><tr><td class=\"l\">drop</td><td class=\"%s\">%.2f points (%d lost, %d gained, McNemar p = %.3g%s)</td></tr></table>\n",
		r.QuantAccuracy, goodBad(r.Drop <= 0), r.Drop, pv.Lost, pv.Gained, pv.McNemarP, esc(significance(&pv)))
	var head strings.Builder
	r.writeFixHeadline(&head)
	if head.Len() > 0 {
		p("<pre class=\"note\">%s</pre>\n", esc(strings.TrimRight(head.String(), "\n")))
	}
	for _, n := range r.Notes {
		p("<p class=\"note\">Note: %s</p>\n", esc(n))
	}
	r.writeLayersHTML(&b)
	r.writeShiftHTML(&b)
	r.writeClassesHTML(&b)
	r.writeFixHTML(&b)
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) writeLayersHTML(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	ls := rankedCopy(r.Layers)
	p("<h2>Layers</h2><p class=\"note\">Ranked by isolated error (only that layer quantized, its inputs float: where error is born); accumulated error is the real quantized model against the float one (where error arrives). RMSE/scale ≈ 0.29 is pure rounding noise.</p>\n")
	p("<div class=\"tw\"><table><tr><th>rank</th><th class=\"l\">layer</th><th class=\"l\">op</th><th>isolated SQNR dB</th><th>SQNR dB</th><th>cosine</th><th>max |err|</th><th>RMSE/scale</th><th>clipped %%</th><th>range used %%</th><th>outside range %%</th></tr>")
	for _, l := range ls {
		rank, iso := "–", "–"
		if l.Rank > 0 {
			rank, iso = fmt.Sprint(l.Rank), fmt.Sprintf("%.1f", l.IsoSQNR)
		}
		p("<tr><td>%s</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%s</td><td>%.1f</td><td>%.4f</td><td>%.4g</td><td>%.2f</td><td>%.3f</td><td>%.1f</td><td>%.3f</td></tr>",
			rank, esc(l.Name), esc(l.Op), iso, l.SQNR, l.Cosine, l.MaxAbs, l.RMSEOverScale, 100*l.ClippedFraction, 100*l.RangeUsed, 100*l.OutsideRange)
	}
	p("</table></div>\n")
	if len(ls) == 0 {
		return
	}
	names := make([]string, len(ls))
	iso := make([]float64, len(ls))
	acc := make([]float64, len(ls))
	for i, l := range ls {
		names[i] = l.Name
		iso[i], acc[i] = l.IsoSQNR, l.SQNR
		if l.Rank == 0 {
			iso[i] = math.NaN()
		}
	}
	p("<div class=\"row\">%s%s</div>\n",
		hbars("SQNR per layer (dB, longer is better)", names, []hseries{{"isolated", iso}, {"accumulated", acc}}, "%.1f dB", 1),
		rangePlot(ls))
}

func (r *Result) writeShiftHTML(b *strings.Builder) {
	ds := r.DataShift
	if ds == nil || len(ds.Tensors) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("<h2>Data shift</h2><p class=\"note\">Per split: the percentage of each activation's float values outside the range calibrated for it (values there are clipped by the integer model), the mean value, and the peak as a percentage of the calibrated limit on its side (above 100%% is beyond the range). A split far above the others was not represented by the calibration data; different means with no clipping show a shift the ranges absorb.</p>\n")
	p("<div class=\"tw\"><table><tr><th class=\"l\" rowspan=\"2\">tensor</th><th colspan=\"%d\">outside %%</th><th colspan=\"%d\">mean</th><th colspan=\"%d\">peak %%</th></tr><tr>",
		len(ds.Splits), len(ds.Splits), len(ds.Splits))
	for range 3 {
		for i, s := range ds.Splits {
			p("<th>%s (%d)</th>", esc(s), ds.Samples[i])
		}
	}
	p("</tr>")
	names := make([]string, len(ds.Tensors))
	out := make([]hseries, len(ds.Splits))
	peak := make([]hseries, len(ds.Splits))
	for j, s := range ds.Splits {
		out[j] = hseries{name: s, values: make([]float64, len(ds.Tensors))}
		peak[j] = hseries{name: s, values: make([]float64, len(ds.Tensors))}
	}
	for i, row := range ds.Tensors {
		names[i] = row.Name
		p("<tr><td class=\"l\">%s</td>", esc(row.Name))
		for j, v := range row.Outside {
			p("<td>%.3f</td>", 100*v)
			if j < len(out) {
				out[j].values[i] = 100 * v
			}
		}
		for _, v := range row.Mean {
			p("<td>%.4g</td>", v)
		}
		for j, v := range row.Peak {
			p("<td>%.1f</td>", 100*v)
			if j < len(peak) {
				peak[j].values[i] = 100 * v
			}
		}
		p("</tr>")
	}
	p("</table></div>\n")
	p("<div class=\"row\">%s%s</div>\n", hbars("Values outside the calibrated range (%)", names, out, "%.3f%%", 0.001),
		hbars("Peak value, % of the calibrated limit", names, peak, "%.1f%%", 100))
}

func (r *Result) writeClassesHTML(b *strings.Builder) {
	if len(r.Classes) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("<h2>Classes that lost most accuracy</h2><p class=\"note\">Accuracy of each class with only one layer quantized (the rest float); cost = float accuracy minus that, in points.</p>\n")
	p("<div class=\"tw\"><table><tr><th>class</th><th>samples</th><th>float</th><th>quantized</th><th class=\"l\">layers by cost (points)</th></tr>")
	for _, c := range r.Classes {
		var parts []string
		for _, l := range c.Layers {
			parts = append(parts, fmt.Sprintf("%s %s", esc(l.Name), signed1(-l.Cost)))
		}
		name := fmt.Sprint(c.Class)
		if c.ClassName != "" {
			name = fmt.Sprintf("%s (%d)", esc(c.ClassName), c.Class)
		}
		p("<tr><td>%s</td><td>%d</td><td>%.1f%%</td><td class=\"bad\">%.1f%%</td><td class=\"l\">%s</td></tr>",
			name, c.Samples, c.FloatAccuracy, c.QuantAccuracy, strings.Join(parts, " · "))
	}
	p("</table></div>\n")
}

func (r *Result) writeFixHTML(b *strings.Builder) {
	f := r.Fix
	if f == nil {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	pt := f.Parts
	p("<h2>Fix (target drop %.2f points)</h2>", f.TargetDrop)
	p("<p class=\"note\">Candidates are chosen on %d images and the finalists confirmed on %d others (stratified by class, seed %d): the confirm numbers were not used for any choice.</p>",
		pt.Choose, pt.Confirm, pt.Seed)
	switch {
	case f.Best != nil:
		p("<p class=\"%s\">Best fix (%s): <b>%s</b>.", goodBad(f.Best.Confirm == nil || f.Best.Confirm.Met), esc(f.Best.Kind), esc(f.Best.Variant))
		if c := f.Best.Confirm; c != nil {
			p(" Confirm part: %s.", esc(confirmLine(c)))
		}
		p("</p>")
	case f.Met:
		p("<p class=\"good\">None needed: the quantized model is within the target on the choose part.</p>")
	default:
		p("<p class=\"bad\">No candidate improved on the quantized model.</p>")
	}
	if f.Model != "" {
		p("<p class=\"note\">Model written: %s</p>", esc(f.Model))
	}
	if len(f.Tradeoff) > 0 {
		p("<table><tr><th class=\"l\">model</th><th>accuracy</th><th>bytes</th><th>latency ms</th></tr>")
		for _, v := range f.Tradeoff {
			p("<tr><td class=\"l\">%s</td><td>%.2f%%</td><td>%d</td><td>%.3f</td></tr>", esc(v.Name), v.Accuracy, v.Bytes, v.LatencyMS)
		}
		p("</table>")
	}
	if len(f.Tried)+len(f.Alternatives) > 0 {
		p("<h3>Candidates verified</h3><table><tr><th class=\"l\">kind</th><th class=\"l\">candidate</th><th>choose</th><th>drop</th><th>confirm</th><th>drop</th><th>McNemar p</th><th class=\"l\">target</th></tr>")
		for _, t := range append(append([]Trial(nil), f.Tried...), f.Alternatives...) {
			cacc, cdrop, cp, met := "–", "–", "–", t.Met
			if c := t.Confirm; c != nil {
				cacc, cdrop, cp, met = fmt.Sprintf("%.2f%%", c.Accuracy), fmt.Sprintf("%.2f", c.Drop), fmt.Sprintf("%.3g", c.McNemarP), c.Met
			}
			p("<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%.2f%%</td><td>%.2f</td><td>%s</td><td>%s</td><td>%s</td><td class=\"l %s\">%s</td></tr>",
				esc(t.Kind), esc(t.Variant), t.Accuracy, t.Drop, cacc, cdrop, cp, goodBad(met), metWord(met))
		}
		p("</table>")
	}
	p("\n")
}

// rankedCopy returns the layers ordered by rank (unranked last).
func rankedCopy(layers []Layer) []Layer {
	ls := append([]Layer(nil), layers...)
	sort.SliceStable(ls, func(a, b int) bool {
		ra, rb := ls[a].Rank, ls[b].Rank
		if ra == 0 || rb == 0 {
			return ra != 0 && rb == 0
		}
		return ra < rb
	})
	return ls
}

func esc(s string) string { return html.EscapeString(s) }

func goodBad(ok bool) string {
	if ok {
		return "good"
	}
	return "bad"
}
