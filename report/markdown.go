package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/qbench/qbench/metrics"
)

// WriteMarkdown writes report.md with the study's tables: accuracy per
// model and split (`Model | Accuracy (Full) | Accuracy (Verification)`),
// the histogram table (`Range | Certainty … | Out …`), average normalised
// entropy, then calibration, pairwise statistics, confusion changes and
// the confusion matrices.
func WriteMarkdown(w io.Writer, r *Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	ew := &errWriter{w: w}
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	models := r.Splits[0].Models
	p("# qbench comparison report\n\n")
	p("Schema `%s`. %d classes. Splits: ", Schema, len(r.Classes))
	for i, s := range r.Splits {
		if i > 0 {
			p(", ")
		}
		p("%s (%d samples)", md(s.Name), s.N)
	}
	p(".\n\n")
	if c := r.ClassOrder; c != nil {
		p("**Warning:** %s\n\n", md(c.Message))
	}
	for _, s := range r.Splits {
		if s.Skipped > 0 {
			p("Split %s: %d images could not be decoded and are left out of every statistic", md(s.Name), s.Skipped)
			for i, f := range s.SkippedFiles {
				sep := ": "
				if i > 0 {
					sep = "; "
				}
				p("%s`%s` (%s)", sep, md(f.Path), md(f.Reason))
			}
			p(".\n\n")
		}
	}
	if r.Generator != "" || r.Seed != nil {
		p("Made by %s", md(orDash(r.Generator)))
		if r.Seed != nil {
			p(", seed %d", *r.Seed)
		}
		p(". Data: `%s`.\n\n", md(orDash(r.DataRoot)))
	}
	p("Models (the same models on every split unless listed per split):\n\n")
	for i, m := range models {
		files := r.bySplit(i)
		file := modelFileMD(m.ModelInfo)
		if !sameFile(files) {
			file = "one file per split"
		}
		p("- **%s** — %s; input %s, output %s", md(m.Name), file, m.InputType, m.OutputType)
		if m.Quantization != "" {
			p("; %s", md(m.Quantization))
		}
		p("\n")
		if !sameFile(files) {
			for j, f := range files {
				p("  - %s: %s\n", md(f.Split), modelFileMD(r.Splits[j].Models[i].ModelInfo))
			}
		}
	}
	var roles bool
	for _, s := range r.Splits {
		for _, n := range s.Roles {
			if !roles {
				p("\nData roles (from the training record each model stores):\n\n")
				roles = true
			}
			kind := ""
			if n.Warning {
				kind = "**warning:** "
			}
			p("- split %s, %s: %s%s\n", md(s.Name), md(n.Model), kind, md(n.Note))
		}
	}
	p("\nPrediction = class with the highest probability; ties go to the lowest class index. ")
	p("Intervals are Wilson 95%%. Histograms have 10 bins [0,0.1) … [0.9,1.0] (1.0 in the last bin).\n\n")

	refs := r.Reference != nil
	p("## Accuracy\n\nModel |")
	for _, s := range r.Splits {
		p(" Accuracy (%s) |", md(title(s.Name)))
		if refs {
			p(" Study (%s) |", md(title(s.Name)))
		}
	}
	cols := len(r.Splits)
	if refs {
		cols *= 2
	}
	p("\n---|%s\n", strings.Repeat("---|", cols))
	for i, m := range models {
		p("%s |", md(m.Name))
		for _, s := range r.Splits {
			e := s.Models[i]
			p(" %.2f%% [%.2f, %.2f] |", 100*e.Accuracy, 100*e.AccuracyCI.Lo, 100*e.AccuracyCI.Hi)
			if refs {
				if ref, ok := r.referenceFor(s.Name, e.ModelInfo); ok {
					p(" %.2f%% |", 100*ref.Accuracy)
				} else {
					p(" - |")
				}
			}
		}
		p("\n")
	}
	if refs {
		p("\nStudy = %s, beside our numbers on the split of the same name.\n", md(r.Reference[0].Source))
	}
	if len(models) > 0 && len(models[0].TopK) > 1 {
		p("\nModel | Split |")
		for _, t := range models[0].TopK {
			p(" Top-%d |", t.K)
		}
		p(" Macro F1 |\n---|---|%s---|\n", strings.Repeat("---|", len(models[0].TopK)))
		for _, s := range r.Splits {
			for _, m := range s.Models {
				p("%s | %s |", md(m.Name), md(s.Name))
				for _, t := range m.TopK {
					p(" %.2f%% |", 100*t.Accuracy)
				}
				p(" %.4f |\n", m.MacroF1)
			}
		}
	}

	for _, s := range r.Splits {
		p("\n## Output probabilities (%s)\n\n", md(s.Name))
		p("Certainty = probability of the predicted class for correctly classified samples; Out = all output values. Fractions per column.\n\n")
		cols, labels := histColumns(s.Models)
		if labels != nil {
			if labels[0] != s.Models[cols[0]].Name || labels[1] != s.Models[cols[1]].Name {
				p("%s = %s, %s = %s.\n\n", labels[0], md(s.Models[cols[0]].Name), labels[1], md(s.Models[cols[1]].Name))
			}
		} else {
			for _, i := range cols {
				labels = append(labels, s.Models[i].Name)
			}
		}
		p("Range |")
		for _, l := range labels {
			p(" Certainty %s |", md(l))
		}
		for _, l := range labels {
			p(" Out %s |", md(l))
		}
		p("\n---|%s\n", strings.Repeat("---|", 2*len(cols)))
		for b := range metrics.HistBins {
			p("%s |", binLabel(b))
			for _, i := range cols {
				p(" %.4f |", s.Models[i].CertaintyHist[b])
			}
			for _, i := range cols {
				p(" %.6f |", s.Models[i].OutputHist[b])
			}
			p("\n")
		}
	}

	p("\n## Entropy\n\nModel |")
	for _, s := range r.Splits {
		p(" Average normalized entropy (%s) |", md(s.Name))
	}
	p("\n---|%s\n", strings.Repeat("---|", len(r.Splits)))
	for i, m := range models {
		p("%s |", md(m.Name))
		for _, s := range r.Splits {
			p(" %.6f |", s.Models[i].MeanNormalizedEntropy)
		}
		p("\n")
	}
	p("\nThe distribution behind the mean: per-sample normalised entropy H(p)/ln %d, fraction of samples per bin (0 = one-hot, 1 = uniform).\n", len(r.Classes))
	for _, s := range r.Splits {
		p("\nRange |")
		for _, m := range s.Models {
			p(" %s (%s) |", md(m.Name), md(s.Name))
		}
		p("\n---|%s\n", strings.Repeat("---|", len(s.Models)))
		for b := range metrics.HistBins {
			p("%s |", binLabel(b))
			for _, m := range s.Models {
				p(" %.4f |", m.EntropyHist[b])
			}
			p("\n")
		}
	}

	p("\n## Calibration and scores\n\n")
	p("ECE over %d equal confidence bins; NLL clamps p to %g; Brier = Σ(p−onehot)² per sample (range 0–2).\n\n", r.Settings.ECEBins, r.Settings.NLLClamp)
	p("Model | Split | ECE | NLL | Brier | Mean confidence | Mean margin |\n---|---|---|---|---|---|---|\n")
	for _, s := range r.Splits {
		for _, m := range s.Models {
			p("%s | %s | %.4f | %.4f | %.4f | %.4f | %.4f |\n", md(m.Name), md(s.Name), m.ECE, m.NLL, m.Brier, m.MeanConfidence, m.MeanMargin)
		}
	}

	for _, s := range r.Splits {
		for _, pr := range s.Pairs {
			writePairMarkdown(ew, r, s, pr)
		}
	}

	p("\n## Per-class precision, recall, F1\n\nPrecision is 0 for a class never predicted, recall 0 for a class without samples.\n")
	for _, s := range r.Splits {
		for _, m := range s.Models {
			p("\n### %s (%s)\n\nClass | Support | Predicted | Precision | Recall | F1 |\n---|---|---|---|---|---|\n", md(m.Name), md(s.Name))
			for _, c := range m.PerClass {
				p("%s | %d | %d | %.4f | %.4f | %.4f |\n", md(c.Class), c.Support, c.Predicted, c.Precision, c.Recall, c.F1)
			}
		}
	}

	p("\n## Confusion matrices\n\nRows = true class, columns = predicted class.\n")
	for _, s := range r.Splits {
		for _, m := range s.Models {
			p("\n### %s (%s)\n\n", md(m.Name), md(s.Name))
			writeMatrix(ew, r, m.Confusion)
		}
	}
	p("\n## Classes\n\nName | Label Number |\n---|---|\n")
	for i := range r.Classes {
		p("%s | %d |\n", md(r.className(i)), i)
	}
	return ew.err
}

// histColumns orders the histogram table's models: command-line order,
// as in every other table (the reference, usually float, first). With
// exactly one float and one quantized model (ModelInfo.IsQuantized) the
// columns carry the study's names, "float" and "Quant."; otherwise the
// models' own names (labels nil).
func histColumns(models []ModelEntry) (order []int, labels []string) {
	for i := range models {
		order = append(order, i)
	}
	if len(models) == 2 && models[0].IsQuantized() != models[1].IsQuantized() {
		for _, m := range models {
			if m.IsQuantized() {
				labels = append(labels, "Quant.")
			} else {
				labels = append(labels, "float")
			}
		}
	}
	return order, labels
}

func writePairMarkdown(ew *errWriter, r *Report, s Split, pr PairEntry) {
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	p("\n## %s vs %s (%s)\n\n", md(pr.B), md(pr.A), md(s.Name))
	p("Statistic | Value |\n---|---|\n")
	p("Top-1 agreement | %.2f%% |\n", 100*pr.Agreement)
	p("Both correct / both wrong | %d / %d |\n", pr.BothCorrect, pr.BothWrong)
	p("Flips correct→wrong / wrong→correct | %d / %d |\n", pr.CorrectToWrong, pr.WrongToCorrect)
	p("McNemar exact p (two-sided) | %.4g |\n", pr.McNemarP)
	p("Accuracy change | %+.2f pp |\n", 100*pr.AccuracyDelta)
	p("Mean KL(%s ‖ %s) | %.6f nats |\n", md(pr.A), md(pr.B), pr.MeanKL)
	p("Mean Jensen–Shannon | %.6f nats |\n", pr.MeanJS)
	p("Mean / max abs(Δp) | %.6f / %.6f |\n", pr.MeanAbsDiff, pr.MaxAbsDiff)
	p("Mean top-1 margin %s → %s | %.4f → %.4f (mean change %+.4f) |\n", md(pr.A), md(pr.B), pr.MeanMarginA, pr.MeanMarginB, pr.MeanMarginDelta)
	if len(pr.ConfusionChanges) > 0 {
		p("\nConfusions that changed (count under %s − count under %s), largest first:\n\n", md(pr.B), md(pr.A))
		p("True class | Predicted as | %s | %s | Δ |\n---|---|---|---|---|\n", md(pr.A), md(pr.B))
		for i, c := range pr.ConfusionChanges {
			if i == 30 {
				p("… | %d more | | | |\n", len(pr.ConfusionChanges)-30)
				break
			}
			p("%s | %s | %d | %d | %+d |\n", md(c.TrueClass), md(c.PredClass), c.CountA, c.CountB, c.Delta)
		}
	}
	p("\nPer-class accuracy (recall), classes that changed:\n\nClass | Support | %s | %s | Δ |\n---|---|---|---|---|\n", md(pr.A), md(pr.B))
	for _, c := range pr.PerClass {
		if c.Delta != 0 {
			p("%s | %d | %.2f%% | %.2f%% | %+.2f pp |\n", md(c.Class), c.Support, 100*c.AccuracyA, 100*c.AccuracyB, 100*c.Delta)
		}
	}
}

func writeMatrix(ew *errWriter, r *Report, m [][]int64) {
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	p("true \\ pred |")
	for j := range m {
		p(" %d |", j)
	}
	p("\n---|%s\n", strings.Repeat("---:|", len(m)))
	for i, row := range m {
		p("%d |", i)
		for _, c := range row {
			p(" %d |", c)
		}
		p("\n")
	}
}

func binLabel(b int) string {
	hi := ")"
	if b == metrics.HistBins-1 {
		hi = "]"
	}
	return fmt.Sprintf("[%.1f, %.1f%s", float64(b)/metrics.HistBins, float64(b+1)/metrics.HistBins, hi)
}

// md escapes text for a Markdown table cell.
func md(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// modelFileMD describes a model's file: path, size and SHA-256 prefix.
func modelFileMD(m ModelInfo) string {
	if m.Path == "" {
		return "built in code"
	}
	out := "`" + md(m.Path) + "`"
	if m.Size > 0 {
		out += " (" + byteSize(m.Size)
		if m.SHA256 != "" {
			out += ", sha256 " + shortHash(m.SHA256)
		}
		out += ")"
	} else if m.SHA256 != "" {
		out += " (sha256 " + shortHash(m.SHA256) + ")"
	}
	return out
}

// sameFile reports whether every split used the same file.
func sameFile(fs []SplitModel) bool {
	for _, f := range fs {
		if f.Path != fs[0].Path || f.SHA256 != fs[0].SHA256 {
			return false
		}
	}
	return true
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// byteSize prints a size in bytes, KiB or MiB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// title capitalises the first letter, so split "full" reads "Full" as in
// the study's header.
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
