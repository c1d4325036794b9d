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
	"strings"

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
.tw{overflow-x:auto}.bad{color:#b52a1c}.good{color:#00796b}nav a{margin-right:12px}
svg .cnt{font-size:9px;fill:#333}svg .cnt.in{fill:#fff;text-anchor:end}svg .cls{fill:#333}svg .cn{font-size:8px;text-anchor:middle}svg .ax-t{font-style:italic;fill:#666}
table.meta th{text-align:left;background:none;border:none;padding:1px 12px 1px 0;color:#555;font-weight:600}table.meta td{text-align:left;border:none;padding:1px 0;white-space:normal}
td.wrap{white-space:normal;text-align:left;max-width:330px}td.path{white-space:normal;text-align:left;overflow-wrap:anywhere;min-width:170px;max-width:330px}code{font-size:12px}td.ref{color:#666;font-style:italic}`

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
	p("<h1>qbench comparison report</h1>\n")
	writeHeaderHTML(ew, r)
	writeHeadlineHTML(ew, r)
	if len(r.Splits) > 1 {
		p("<nav>Splits: ")
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

// writeHeaderHTML says what made the report: the qbench build, the date,
// the seed, the data, the integer arithmetic, and every model file with
// its size, hash, quantization and preprocessing (per split when the
// splits used different files).
func writeHeaderHTML(ew *errWriter, r *Report) {
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	p("<table class=\"meta\">")
	row := func(k, v string) { p("<tr><th>%s</th><td>%s</td></tr>", k, v) }
	row("qbench", esc(orDash(r.Generator)))
	if !r.Created.IsZero() {
		row("written", esc(r.Created.UTC().Format("2006-01-02 15:04 MST")))
	}
	if r.Seed != nil {
		row("seed", fmt.Sprint(*r.Seed))
	}
	var sizes []string
	total := 0
	for _, s := range r.Splits {
		total += s.N + s.Skipped
		sz := fmt.Sprintf("%s: %d images", esc(s.Name), s.N)
		if s.Skipped > 0 {
			sz += fmt.Sprintf(" (+%d undecodable, left out)", s.Skipped)
		}
		sizes = append(sizes, sz)
	}
	row("data", fmt.Sprintf("<code>%s</code> · %d classes · %s", esc(orDash(r.DataRoot)), len(r.Classes), strings.Join(sizes, " · ")))
	if ir := r.Settings.IntegerRounding; ir != "" {
		row("integer arithmetic", esc(ir)+esc(roundingNote(ir)))
	}
	row("conventions", fmt.Sprintf("prediction = highest probability, ties → lowest class index · Wilson 95%% intervals · ECE over %d bins · histograms in %d bins · schema %s",
		r.Settings.ECEBins, r.Settings.HistBins, esc(Schema)))
	p("</table>\n")
	perSplit := false
	for i := range r.Splits[0].Models {
		perSplit = perSplit || !sameFile(r.bySplit(i))
	}
	p("<div class=\"tw\"><table><tr>")
	if perSplit {
		p("<th class=\"l\">split</th>")
	}
	p("<th class=\"l\">model</th><th class=\"l\">file</th><th>size</th><th class=\"l\">sha256</th><th>input → output</th><th class=\"l\">quantization</th><th class=\"l\">preprocessing</th></tr>")
	for si, s := range r.Splits {
		if si > 0 && !perSplit {
			break
		}
		for i, m := range s.Models {
			p("<tr>")
			if perSplit {
				p("<td class=\"l\">%s</td>", esc(s.Name))
			}
			size := "-"
			if m.Size > 0 {
				size = byteSize(m.Size)
			}
			p("<td class=\"l\"><b style=\"color:%s\">%s</b></td><td class=\"path\"><code>%s</code></td><td>%s</td><td class=\"l\" title=\"%s\"><code>%s</code></td><td>%s → %s</td><td class=\"wrap\">%s</td><td class=\"wrap\">%s</td></tr>",
				modelColor(i), esc(m.Name), esc(orDash(m.Path)), size, esc(m.SHA256), esc(orDash(shortHash(m.SHA256))),
				esc(m.InputType), esc(m.OutputType), esc(orDash(m.Quantization)), esc(describeSpec(m.Preprocess)))
		}
	}
	p("</table></div>\n")
	if r.ClassOrder != nil {
		p("<p class=\"bad\"><b>Warning:</b> %s</p>\n", esc(r.ClassOrder.Message))
	}
}

// writeHeadlineHTML is the accuracy table across splits that the terminal
// and report.md print, with a published reference beside ours where the
// report has one (the study's numbers in the demo).
func writeHeadlineHTML(ew *errWriter, r *Report) {
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	refs := r.Reference != nil
	p("<h2>Accuracy across splits</h2><div class=\"tw\"><table><tr><th class=\"l\">model</th>")
	for _, s := range r.Splits {
		p("<th>%s</th><th>95%% CI</th>", esc(title(s.Name)))
		if refs {
			p("<th>study (%s)</th>", esc(s.Name))
		}
	}
	p("</tr>")
	for i, m := range r.Splits[0].Models {
		p("<tr><td class=\"l\"><b style=\"color:%s\">%s</b></td>", modelColor(i), esc(m.Name))
		for _, s := range r.Splits {
			e := s.Models[i]
			p("<td>%.2f%%</td><td>[%.2f, %.2f]</td>", 100*e.Accuracy, 100*e.AccuracyCI.Lo, 100*e.AccuracyCI.Hi)
			if refs {
				if ref, ok := r.referenceFor(s.Name, e.ModelInfo); ok {
					p("<td class=\"ref\">%.2f%%</td>", 100*ref.Accuracy)
				} else {
					p("<td class=\"ref\">-</td>")
				}
			}
		}
		p("</tr>")
	}
	p("</table></div>")
	if refs {
		p("<p class=\"note\">study = %s, on its own data; ours are measured on this report's data.</p>", esc(r.Reference[0].Source))
	}
	p("\n")
}

// roundingNote says which TFLite a --rounding mode is bit-exact with.
func roundingNote(mode string) string {
	switch mode {
	case "runtime":
		return " — the TFLite runtime on CPU with its XNNPACK delegate"
	case "single":
		return " — TFLite's builtin kernels (single rounding)"
	case "double":
		return " — TFLite's reference kernels and TFLite Micro"
	}
	return ""
}

// describeSpec renders a stored preprocessing spec (compact JSON) for a
// reader: size, channels, resize, crop and the value mapping; anything it
// cannot parse is shown as given.
func describeSpec(js string) string {
	sp, err := dataset.ParseSpec([]byte(js))
	if err != nil {
		return js
	}
	order := sp.ChannelOrder
	if sp.Channels == 1 {
		order = "grey"
	}
	out := fmt.Sprintf("%d×%d %s, %s resize, crop %s", sp.Width, sp.Height, order, sp.Resize, sp.Crop)
	if sp.Layout != "" && sp.Layout != dataset.LayoutNHWC {
		out += ", " + sp.Layout
	}
	if len(sp.Mean) > 0 {
		return out + fmt.Sprintf(", (v − mean)/std with mean %v, std %v", sp.Mean, sp.Std)
	}
	lo, hi := sp.Offset, 255*sp.Scale+sp.Offset
	out += fmt.Sprintf(", pixel v → v·%.6g", sp.Scale)
	switch {
	case sp.Offset > 0:
		out += fmt.Sprintf(" + %.6g", sp.Offset)
	case sp.Offset < 0:
		out += fmt.Sprintf(" − %.6g", -sp.Offset)
	}
	return out + fmt.Sprintf(" (0..255 → %.4g..%.4g)", lo, hi)
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
	var cert, out, ent []series
	for _, m := range s.Models {
		cert = append(cert, series{m.Name, m.CertaintyHist, counts(m.CertaintyHist, m.CertaintyCount)})
		out = append(out, series{m.Name, m.OutputHist, counts(m.OutputHist, int64(m.N)*int64(k))})
		ent = append(ent, series{m.Name, m.EntropyHist, counts(m.EntropyHist, int64(m.N))})
	}
	p("<h3>Output probabilities</h3><p class=\"note\">Log scale, so the small bins show beside the one that holds nearly everything; each bar is labelled with its count. ")
	p("Left: certainty — the probability of the predicted class over correctly classified samples (the study's definition). Middle: all output values. ")
	p("Right: each sample's normalised entropy H(p)/ln %d (0 = one-hot, 1 = uniform), whose mean the table gives. Same bins for every model.</p>", k)
	p("<div class=\"row\">%s%s%s</div>\n",
		groupedBars("Certainty (correct samples)", "samples", labels, cert, true),
		groupedBars("All output values", "values", labels, out, true),
		groupedBars("Normalised entropy per sample", "samples", labels, ent, true))

	p("<h3>Reliability diagrams</h3><p class=\"note\">Bars: accuracy per confidence bin; dots at the bin's mean confidence; dashed: perfect calibration; n: samples per bin.</p><div class=\"row\">")
	for i, m := range s.Models {
		p("%s", reliabilityPlot(fmt.Sprintf("%s — ECE %.4f", m.Name, m.ECE), m.Reliability, i))
	}
	idx, partial := shownClasses(s, k)
	p("</div>\n<h3>Confusion matrices</h3><p class=\"note\">Rows: true class; columns: predicted class; colour: share of the row. ")
	p("Difference (second model minus the reference): teal where the second model does better — more samples on the diagonal, fewer off it — and red where it does worse; each changed cell shows how many samples moved. Hover a cell for counts and class names.")
	if partial {
		p(" <b>%d of %d classes shown</b>: those with the most confused or changed samples over all models of this split; report.json holds the full matrices.", len(idx), k)
	}
	p("</p><div class=\"row\">")
	for _, m := range s.Models {
		conf, norm := m.Confusion, m.ConfusionNormalized
		p("%s", heatmap(matrix{title: m.Name, idx: idx, names: r.className,
			value: func(i, j int) float64 { return norm[i][j] },
			tip: func(i, j int) string {
				return fmt.Sprintf("%s → %s: %d (%.1f%% of row)", r.className(i), r.className(j), conf[i][j], 100*norm[i][j])
			}}))
	}
	for _, pr := range s.Pairs {
		d := pr.ConfusionDelta
		p("%s", heatmap(matrix{title: fmt.Sprintf("%s − %s", pr.B, pr.A), idx: idx, names: r.className, delta: true, a: pr.A, b: pr.B,
			value: func(i, j int) float64 { return float64(d[i][j]) },
			tip: func(i, j int) string {
				verdict := "worse"
				if (d[i][j] > 0) == (i == j) {
					verdict = "better"
				}
				return fmt.Sprintf("%s → %s: %+d under %s (%s)", r.className(i), r.className(j), d[i][j], pr.B, verdict)
			}}))
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
