package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/qbench/qbench/dataset"
	"golang.org/x/image/draw"
)

// ThumbSize is the longest side, in pixels, of the flipped-sample
// thumbnails embedded in report.html.
const ThumbSize = 64

// maxThumbSource and maxThumbPixels bound the image read for one
// thumbnail, so a huge or hostile file cannot blow up report generation.
const (
	maxThumbSource = 16 << 20
	maxThumbPixels = 16 << 20
)

const css = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:0 18px 40px;color:#222;background:#fff}
h1{font-size:24px;margin:18px 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #e3e3e3;padding-bottom:3px}h3{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}th{background:#f4f6f8}td.l,th.l{text-align:left}
.row{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}.note{color:#666;font-size:12.5px}
svg.plot{background:#fff;border:1px solid #eee}svg .t{font-size:13px;font-weight:600;text-anchor:middle}svg .xl{font-size:10px;text-anchor:middle;fill:#444}
svg .yl{font-size:10px;text-anchor:end;fill:#444}svg .lg{font-size:11px}svg .v{font-size:10px;fill:#333}svg .g{stroke:#eee}svg .ax{stroke:#888}svg .diag{stroke:#999;stroke-dasharray:4 3}
.flips{display:flex;flex-wrap:wrap;gap:8px}.flip{width:150px;font-size:11px;text-align:center;border:1px solid #eee;padding:4px}.flip img{image-rendering:pixelated;width:64px;height:64px;object-fit:contain;background:#f4f4f4}
.tw{overflow-x:auto}.bad{color:#b52a1c}.good{color:#26803f}nav a{margin-right:12px}`

// WriteHTML writes report.html: one self-contained page (inline CSS, inline
// SVG, thumbnails as data-URI PNGs; no script and no external URL).
func WriteHTML(w io.Writer, r *Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	ew := &errWriter{w: w}
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	p("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
	// An empty data-URI icon stops browsers from requesting /favicon.ico.
	p("<link rel=\"icon\" href=\"data:,\"><title>qbench comparison report</title><style>%s</style></head><body>\n", css)
	models := r.Splits[0].Models
	p("<h1>qbench comparison report</h1><p class=\"note\">Schema %s · %d classes · models: ", esc(Schema), len(r.Classes))
	for i, m := range models {
		if i > 0 {
			p(", ")
		}
		p("<b style=\"color:%s\">%s</b>", modelColor(i), esc(m.Name))
	}
	p(" · prediction = highest probability, ties → lowest class index · Wilson 95%% intervals · ECE over %d bins</p>\n", r.Settings.ECEBins)
	if len(r.Splits) > 1 {
		p("<nav>")
		for si, s := range r.Splits {
			p("<a href=\"#split%d\">%s</a>", si, esc(s.Name))
		}
		p("</nav>")
	}
	for si, s := range r.Splits {
		writeSplitHTML(ew, r, si, s)
	}
	p("<h2>Classes</h2><table><tr><th>#</th><th class=\"l\">name</th></tr>")
	for i := range r.Classes {
		p("<tr><td>%d</td><td class=\"l\">%s</td></tr>", i, esc(r.className(i)))
	}
	p("</table></body></html>\n")
	return ew.err
}

func writeSplitHTML(ew *errWriter, r *Report, si int, s Split) {
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	k := len(r.Classes)
	p("<h2 id=\"split%d\">Split %s — %d samples</h2>\n", si, esc(s.Name), s.N)
	p("<div class=\"tw\"><table><tr><th class=\"l\">model</th><th>accuracy</th><th>95%% CI</th>")
	if len(s.Models) > 0 {
		for _, t := range s.Models[0].TopK {
			if t.K > 1 {
				p("<th>top-%d</th>", t.K)
			}
		}
	}
	p("<th>macro F1</th><th>ECE</th><th>NLL</th><th>Brier</th><th>mean norm. entropy</th><th>mean confidence</th><th>input → output</th></tr>")
	for i, m := range s.Models {
		p("<tr><td class=\"l\"><b style=\"color:%s\">%s</b></td><td>%.2f%%</td><td>[%.2f, %.2f]</td>", modelColor(i), esc(m.Name), 100*m.Accuracy, 100*m.AccuracyCI.Lo, 100*m.AccuracyCI.Hi)
		for _, t := range m.TopK {
			if t.K > 1 {
				p("<td>%.2f%%</td>", 100*t.Accuracy)
			}
		}
		p("<td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.5f</td><td>%.4f</td><td>%s → %s</td></tr>",
			m.MacroF1, m.ECE, m.NLL, m.Brier, m.MeanNormalizedEntropy, m.MeanConfidence, esc(m.InputType), esc(m.OutputType))
	}
	p("</table></div>\n")

	labels := make([]string, len(s.Models[0].CertaintyHist))
	for b := range labels {
		labels[b] = binLabel(b)
	}
	var cert, out []series
	for _, m := range s.Models {
		cert = append(cert, series{m.Name, m.CertaintyHist})
		out = append(out, series{m.Name, m.OutputHist})
	}
	p("<h3>Output probabilities</h3><p class=\"note\">Left: certainty — the probability of the predicted class over correctly classified samples (the study's definition). Right: all output values, log scale. Bars are fractions of each model's values.</p>")
	p("<div class=\"row\">%s%s</div>\n", groupedBars("Certainty histogram", labels, cert, false), groupedBars("All output values (log scale)", labels, out, true))

	p("<h3>Reliability diagrams</h3><p class=\"note\">Bars: accuracy per confidence bin; dots at the bin's mean confidence; dashed: perfect calibration.</p><div class=\"row\">")
	for i, m := range s.Models {
		p("%s", reliabilityPlot(fmt.Sprintf("%s — ECE %.4f", m.Name, m.ECE), m.Reliability, i))
	}
	p("</div>\n<h3>Confusion matrices</h3><p class=\"note\">Rows: true class; columns: predicted class; colour: row-normalised fraction. Difference: red = more samples in that cell under the second model, blue = fewer. Hover a cell for counts and class names.</p><div class=\"row\">")
	for _, m := range s.Models {
		conf, norm := m.Confusion, m.ConfusionNormalized
		p("%s", heatmap(m.Name, k, func(i, j int) float64 { return norm[i][j] }, false,
			func(i, j int) string {
				return fmt.Sprintf("%s → %s: %d (%.1f%% of row)", r.className(i), r.className(j), conf[i][j], 100*norm[i][j])
			}, r.className))
	}
	for _, pr := range s.Pairs {
		d := pr.ConfusionDelta
		p("%s", heatmap(fmt.Sprintf("%s − %s", pr.B, pr.A), k, func(i, j int) float64 { return float64(d[i][j]) }, true,
			func(i, j int) string { return fmt.Sprintf("%s → %s: %+d", r.className(i), r.className(j), d[i][j]) }, r.className))
	}
	p("</div>\n")
	for _, pr := range s.Pairs {
		writePairHTML(ew, r, s, pr)
	}
	p("<details><summary>Per-class precision, recall and F1</summary><table><tr><th class=\"l\">class</th><th>support</th>")
	for _, m := range s.Models {
		p("<th>%s P</th><th>%s R</th><th>%s F1</th>", esc(m.Name), esc(m.Name), esc(m.Name))
	}
	p("</tr>")
	for c := range k {
		p("<tr><td class=\"l\">%s</td><td>%d</td>", esc(r.className(c)), s.Models[0].PerClass[c].Support)
		for _, m := range s.Models {
			pc := m.PerClass[c]
			p("<td>%.3f</td><td>%.3f</td><td>%.3f</td>", pc.Precision, pc.Recall, pc.F1)
		}
		p("</tr>")
	}
	p("</table></details>\n")
}

func writePairHTML(ew *errWriter, r *Report, s Split, pr PairEntry) {
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	p("<h3>%s vs %s</h3><table>", esc(pr.B), esc(pr.A))
	row := func(name, val string) { p("<tr><td class=\"l\">%s</td><td>%s</td></tr>", name, val) }
	row("top-1 agreement", fmt.Sprintf("%.2f%%", 100*pr.Agreement))
	row("accuracy change", fmt.Sprintf("%+.2f pp", 100*pr.AccuracyDelta))
	row("flips correct → wrong", fmt.Sprintf("<span class=\"bad\">%d</span>", pr.CorrectToWrong))
	row("flips wrong → correct", fmt.Sprintf("<span class=\"good\">%d</span>", pr.WrongToCorrect))
	row("McNemar exact p (two-sided)", fmt.Sprintf("%.4g", pr.McNemarP))
	row("mean KL("+esc(pr.A)+" ‖ "+esc(pr.B)+")", fmt.Sprintf("%.6f nats", pr.MeanKL))
	row("mean Jensen–Shannon", fmt.Sprintf("%.6f nats", pr.MeanJS))
	row("mean / max |Δp|", fmt.Sprintf("%.6f / %.6f", pr.MeanAbsDiff, pr.MaxAbsDiff))
	row("mean top-1 margin", fmt.Sprintf("%.4f → %.4f (%+.4f)", pr.MeanMarginA, pr.MeanMarginB, pr.MeanMarginDelta))
	p("</table><div class=\"row\">%s<div>", deltaBars("Per-class accuracy change ("+pr.B+" − "+pr.A+")", pr.PerClass))
	p("<table><tr><th class=\"l\">true class</th><th class=\"l\">predicted as</th><th>%s</th><th>%s</th><th>Δ</th></tr>", esc(pr.A), esc(pr.B))
	for i, c := range pr.ConfusionChanges {
		if i == 25 {
			p("<tr><td class=\"l\" colspan=\"5\">… %d more in report.json</td></tr>", len(pr.ConfusionChanges)-25)
			break
		}
		cls := "good"
		if c.Delta > 0 {
			cls = "bad"
		}
		p("<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%d</td><td>%d</td><td class=\"%s\">%+d</td></tr>", esc(c.TrueClass), esc(c.PredClass), c.CountA, c.CountB, cls, c.Delta)
	}
	if len(pr.ConfusionChanges) == 0 {
		p("<tr><td class=\"l\" colspan=\"5\">no confusion changed</td></tr>")
	}
	p("</table></div></div>\n")
	if len(pr.Flips) == 0 {
		return
	}
	p("<p class=\"note\">Flipped samples (first %d in sample order): true class, prediction under %s → under %s, true-class probability.</p><div class=\"flips\">", len(pr.Flips), esc(pr.A), esc(pr.B))
	for _, f := range pr.Flips {
		cls := "bad"
		if f.Direction == "wrong_to_correct" {
			cls = "good"
		}
		img := "<div style=\"height:64px\">no image</div>"
		if uri, err := thumbnailURI(resolve(r.DataRoot, f.Path)); err == nil {
			img = "<img alt=\"\" src=\"" + uri + "\">"
		}
		p("<div class=\"flip\" title=\"%s\">%s<div>%s</div><div class=\"%s\">%s → %s</div><div>%.2f → %.2f</div></div>",
			esc(f.Path), img, esc(trunc(r.className(f.Label), 60)), cls, esc(trunc(r.className(f.PredA), 60)), esc(trunc(r.className(f.PredB), 60)), f.ProbA, f.ProbB)
	}
	p("</div>\n")
}

func resolve(root, path string) string {
	if filepath.IsAbs(path) || root == "" {
		return path
	}
	return filepath.Join(root, path)
}

// thumbnailURI decodes an image file (any format package dataset reads:
// png, jpeg, ppm/pgm, bmp, webp), shrinks it to fit ThumbSize and returns
// it as a data-URI PNG.
func thumbnailURI(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Size() > maxThumbSource {
		return "", fmt.Errorf("image %s: %d bytes is too large for a thumbnail", path, st.Size())
	}
	src, _, err := dataset.ReadImageFile(path, maxThumbPixels)
	if err != nil {
		return "", err
	}
	b := src.Bounds()
	tw, th := ThumbSize, ThumbSize
	if b.Dx() >= b.Dy() {
		th = max(1, b.Dy()*ThumbSize/b.Dx())
	} else {
		tw = max(1, b.Dx()*ThumbSize/b.Dy())
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
