package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the result as indented JSON (schema qbench.explain/v1).
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable prints the summary, the layers ranked by isolated error, the
// data-shift table, the class attribution and the fix.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%d samples%s: float %.2f%%, quantized %.2f%% (drop %.2f points)\n",
		r.Samples, splitSuffix(r.Split), r.FloatAccuracy, r.QuantAccuracy, r.Drop)
	if r.LayerSamples != r.Samples {
		fmt.Fprintf(w, "per-layer statistics over %d of them\n", r.LayerSamples)
	}
	fmt.Fprintf(w, "tensors matched by %s", r.Matching)
	if len(r.Unmatched) > 0 {
		fmt.Fprintf(w, "; unmatched: %s", strings.Join(r.Unmatched, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\nlayers ranked by isolated error (where error is born; accumulated = where it arrives):")
	ls := rankedCopy(r.Layers)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\tlayer\top\tisolated SQNR dB\tSQNR dB\tcosine\tmax |err|\tRMSE/scale\tclipped %\trange used %\toutside range %\t")
	for _, l := range ls {
		rank := "-"
		iso := "-"
		if l.Rank > 0 {
			rank = fmt.Sprint(l.Rank)
			iso = fmt.Sprintf("%.1f", l.IsoSQNR)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%.4f\t%.4g\t%.2f\t%.3f\t%.1f\t%.3f\t\n", rank, l.Name, l.Op, iso, l.SQNR,
			l.Cosine, l.MaxAbs, l.RMSEOverScale, 100*l.ClippedFraction, 100*l.RangeUsed, 100*l.OutsideRange)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ds := r.DataShift; ds != nil && len(ds.Splits) > 1 {
		fmt.Fprintln(w, "\ndata shift per split (samples): % of values outside the calibrated range, mean value, peak as % of the calibrated limit")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "tensor\t")
		for _, col := range []string{"outside %", "mean", "peak %"} {
			for i, s := range ds.Splits {
				fmt.Fprintf(tw, "%s %s (%d)\t", col, s, ds.Samples[i])
			}
		}
		fmt.Fprintln(tw)
		for _, row := range ds.Tensors {
			fmt.Fprintf(tw, "%s\t", row.Name)
			for _, v := range row.Outside {
				fmt.Fprintf(tw, "%.3f\t", 100*v)
			}
			for _, v := range row.Mean {
				fmt.Fprintf(tw, "%.4g\t", v)
			}
			for _, v := range row.Peak {
				fmt.Fprintf(tw, "%.1f\t", 100*v)
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Classes) > 0 {
		fmt.Fprintln(w, "\nclasses that lost most accuracy, and the layers whose isolated quantization costs them most:")
		for _, c := range r.Classes {
			name := fmt.Sprintf("class %d", c.Class)
			if c.ClassName != "" {
				name = fmt.Sprintf("%s (%d)", c.ClassName, c.Class)
			}
			fmt.Fprintf(w, "  %s, %d samples: float %.1f%%, quantized %.1f%%", name, c.Samples, c.FloatAccuracy, c.QuantAccuracy)
			for i, l := range c.Layers {
				if i == 3 {
					break
				}
				sep := ","
				if i == 0 {
					sep = ";"
				}
				fmt.Fprintf(w, "%s %s %s", sep, l.Name, signed1(-l.Cost))
			}
			fmt.Fprintln(w)
		}
	}
	if f := r.Fix; f != nil {
		fmt.Fprintf(w, "\nfix (target drop %.2f points): ", f.TargetDrop)
		switch {
		case len(f.FloatLayers) == 0 && f.Met:
			fmt.Fprintf(w, "none needed, the quantized model is within the target\n")
		case f.Met:
			fmt.Fprintf(w, "keep %s in float → %.2f%% (drop %.2f)\n", strings.Join(f.FloatLayers, ", "), f.Accuracy, f.Drop)
		default:
			fmt.Fprintf(w, "no set of up to %d layers met the target\n", f.MaxLayers)
		}
		for _, a := range f.Alternatives {
			fmt.Fprintf(w, "  alternative %s: %.2f%% (drop %.2f, %s)\n", a.Variant, a.Accuracy, a.Drop, metWord(a.Met))
		}
		if len(f.Tradeoff) > 0 {
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "model\taccuracy %\tbytes\tlatency ms\t")
			for _, v := range f.Tradeoff {
				fmt.Fprintf(tw, "%s\t%.2f\t%d\t%.3f\t\n", v.Name, v.Accuracy, v.Bytes, v.LatencyMS)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		switch {
		case f.Model != "":
			fmt.Fprintf(w, "mixed model: %s\n", f.Model)
		case f.Met && len(f.FloatLayers) == 0:
			fmt.Fprintln(w, "mixed model: none written, no layer needs to stay in float")
		case !f.Met:
			fmt.Fprintln(w, "mixed model: none written, no float-island set met the target")
		}
	}
	if r.Fix == nil {
		fmt.Fprintln(w, "\nmixed model: none written, the fix search did not run (negative target drop)")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// signed1 formats v with a sign and one decimal, never as "-0.0": a cost
// that rounds to zero reads "+0.0" whichever side of zero it fell on.
func signed1(v float64) string {
	r := math.Round(v*10) / 10
	if r == 0 {
		r = 0 // turns -0 into +0
	}
	return fmt.Sprintf("%+.1f", r)
}

func splitSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " of " + s
}

func metWord(b bool) string {
	if b {
		return "meets the target"
	}
	return "misses the target"
}
