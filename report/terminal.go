package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTerminal prints a compact summary: per split, one line per model
// (accuracy with its 95% interval, top-k, ECE, NLL, entropy) and one per
// pair (agreement, flips, McNemar p, KL, the largest confusion changes).
func WriteTerminal(w io.Writer, r *Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	ew := &errWriter{w: w}
	for _, s := range r.Splits {
		fmt.Fprintf(ew, "split %s: %d samples, %d classes (argmax ties: %s)\n", s.Name, s.N, len(r.Classes), r.Settings.TieRule)
		if s.Skipped > 0 {
			fmt.Fprintf(ew, "  warning: %d images could not be decoded and are left out", s.Skipped)
			for i, f := range s.SkippedFiles {
				if i == 3 {
					fmt.Fprintf(ew, "; … (all in report.json)")
					break
				}
				sep := ": "
				if i > 0 {
					sep = "; "
				}
				fmt.Fprintf(ew, "%s%s (%s)", sep, f.Path, f.Reason)
			}
			fmt.Fprintln(ew)
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		head := "  model\taccuracy\t95% CI"
		if len(s.Models) > 0 {
			for _, t := range s.Models[0].TopK {
				if t.K > 1 {
					head += fmt.Sprintf("\ttop-%d", t.K)
				}
			}
		}
		fmt.Fprintln(tw, head+"\tmacro-F1\tECE\tNLL\tentropy")
		for _, m := range s.Models {
			line := fmt.Sprintf("  %s\t%s\t[%.2f, %.2f]", m.Name, pct(m.Accuracy), 100*m.AccuracyCI.Lo, 100*m.AccuracyCI.Hi)
			for _, t := range m.TopK {
				if t.K > 1 {
					line += "\t" + pct(t.Accuracy)
				}
			}
			fmt.Fprintf(tw, "%s\t%.3f\t%.4f\t%.4f\t%.4f\n", line, m.MacroF1, m.ECE, m.NLL, m.MeanNormalizedEntropy)
		}
		tw.Flush()
		for _, m := range s.Models {
			// Outputs that do not sum to 1 (logits, a missing softmax) make
			// every probability statistic meaningless; say so loudly.
			// A quantized softmax rounds each of the K probabilities to
			// a step of 1/256 (TFLite's fixed output scale), so its sum
			// may be off by up to K/512 without anything being wrong.
			tol := 0.01
			if m.IsQuantized() {
				tol += float64(len(r.Classes)) / 512
			}
			if m.MaxSumDeviation > tol || m.NonFinite > 0 {
				fmt.Fprintf(ew, "  warning: %s outputs are not probabilities (max |Σp−1| = %.3g, %d non-finite values)\n", m.Name, m.MaxSumDeviation, m.NonFinite)
			}
		}
		for _, p := range s.Pairs {
			fmt.Fprintf(ew, "  %s vs %s: agreement %s, flips %d correct→wrong / %d wrong→correct (McNemar exact p=%.4g), Δacc %+.2f pp, KL %.4g nats, max |Δp| %.3f\n",
				p.B, p.A, pct(p.Agreement), p.CorrectToWrong, p.WrongToCorrect, p.McNemarP, 100*p.AccuracyDelta, p.MeanKL, p.MaxAbsDiff)
			if len(p.ConfusionChanges) > 0 {
				var parts []string
				for i, c := range p.ConfusionChanges {
					if i == 3 {
						break
					}
					parts = append(parts, fmt.Sprintf("%s→%s %+d", c.TrueClass, c.PredClass, c.Delta))
				}
				fmt.Fprintf(ew, "    confusion changes: %s\n", strings.Join(parts, ", "))
			}
		}
	}
	if c := r.ClassOrder; c != nil {
		fmt.Fprintf(ew, "warning: %s\n", c.Message)
	}
	return ew.err
}

func pct(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, nil
}
