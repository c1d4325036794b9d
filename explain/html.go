package explain

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// WriteHTML writes a self-contained HTML section (inline SVG, no scripts):
// per-layer bars of isolated and accumulated SQNR, and each activation's
// float range against its calibrated range.
func (r *Result) WriteHTML(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>qbench explain</title>
<style>body{font:14px sans-serif;margin:2em;max-width:960px}table{border-collapse:collapse}
td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}td:first-child,th:first-child{text-align:left}
.iso{fill:#d95f02}.acc{fill:#7570b3}.cal{fill:#ccc}.obs{fill:none;stroke:#1b9e77;stroke-width:3}</style></head><body>
<h2>Where quantization error comes from</h2>`)
	fmt.Fprintf(&b, "<p>%d samples%s: float %.2f%%, quantized %.2f%% (drop %.2f points). Tensors matched by %s.</p>\n",
		r.Samples, html.EscapeString(splitSuffix(r.Split)), r.FloatAccuracy, r.QuantAccuracy, r.Drop, html.EscapeString(r.Matching))

	// SQNR bars: isolated (where error is born) and accumulated (where it arrives).
	const rowH, labelW, plotW = 22, 160, 560
	maxDB := 1.0
	for _, l := range r.Layers {
		maxDB = math.Max(maxDB, math.Max(l.SQNR, l.IsoSQNR))
	}
	h := rowH*len(r.Layers) + 30
	fmt.Fprintf(&b, `<h3>SQNR per layer (dB; longer is better)</h3><svg width="%d" height="%d" role="img" aria-label="SQNR per layer">`, labelW+plotW+60, h)
	for i, l := range r.Layers {
		y := 20 + i*rowH
		fmt.Fprintf(&b, `<text x="0" y="%d">%s</text>`, y+12, html.EscapeString(l.Name))
		for j, v := range []float64{l.IsoSQNR, l.SQNR} {
			cls := []string{"iso", "acc"}[j]
			wv := math.Max(0, v) / maxDB * plotW
			fmt.Fprintf(&b, `<rect class="%s" x="%d" y="%d" width="%.1f" height="8"><title>%s %s %.1f dB</title></rect>`,
				cls, labelW, y+j*9, wv, html.EscapeString(l.Name), []string{"isolated", "accumulated"}[j], v)
		}
	}
	fmt.Fprintf(&b, `<text x="%d" y="12"><tspan class="iso">■</tspan> isolated <tspan class="acc">■</tspan> accumulated</text></svg>`, labelW)

	// Ranges: grey = calibrated, green outline = observed float range.
	fmt.Fprintf(&b, `<h3>Activation range vs calibrated range</h3><svg width="%d" height="%d" role="img" aria-label="ranges">`, labelW+plotW+60, h)
	for i, l := range r.Layers {
		y := 20 + i*rowH
		lo := math.Min(l.RangeMin, l.FloatMin)
		hi := math.Max(l.RangeMax, l.FloatMax)
		if !(hi > lo) {
			continue
		}
		x := func(v float64) float64 { return labelW + (v-lo)/(hi-lo)*plotW }
		fmt.Fprintf(&b, `<text x="0" y="%d">%s</text>`, y+12, html.EscapeString(l.Name))
		fmt.Fprintf(&b, `<rect class="cal" x="%.1f" y="%d" width="%.1f" height="14"><title>calibrated [%.4g, %.4g]</title></rect>`,
			x(l.RangeMin), y, x(l.RangeMax)-x(l.RangeMin), l.RangeMin, l.RangeMax)
		fmt.Fprintf(&b, `<rect class="obs" x="%.1f" y="%d" width="%.1f" height="14"><title>observed [%.4g, %.4g], %.3f%% outside</title></rect>`,
			x(l.FloatMin), y, math.Max(1, x(l.FloatMax)-x(l.FloatMin)), l.FloatMin, l.FloatMax, 100*l.OutsideRange)
	}
	b.WriteString(`</svg>`)

	if r.Fix != nil && len(r.Fix.Tradeoff) > 0 {
		fmt.Fprintf(&b, "<h3>Fix (target drop %.2f points)</h3><p>Float layers: %s</p>", r.Fix.TargetDrop, html.EscapeString(strings.Join(r.Fix.FloatLayers, ", ")))
		b.WriteString("<table><tr><th>model</th><th>accuracy %</th><th>bytes</th><th>latency ms</th></tr>")
		for _, v := range r.Fix.Tradeoff {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%.2f</td><td>%d</td><td>%.3f</td></tr>", html.EscapeString(v.Name), v.Accuracy, v.Bytes, v.LatencyMS)
		}
		b.WriteString("</table>")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
