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
	pv := r.QuantVsFloat
	fmt.Fprintf(w, "%d samples%s: float %.2f%%, quantized %.2f%% (drop %.2f points: %d images lost, %d gained, McNemar p = %.3g%s)\n",
		r.Samples, splitSuffix(r.Split), r.FloatAccuracy, r.QuantAccuracy, r.Drop, pv.Lost, pv.Gained, pv.McNemarP, significance(&pv))
	if r.ClassOrder != nil {
		fmt.Fprintf(w, "warning: %s\n", r.ClassOrder.Message)
	}
	r.writeFixHeadline(w)
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
	if err := r.writeFixTable(w); err != nil {
		return err
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

// significance is ", not significant" when a paired difference is not.
func significance(c *Confirmation) string {
	if c.Lost == c.Gained || c.Significant() {
		return ""
	}
	return ", not significant"
}

// confirmLine describes a result on the confirm part.
func confirmLine(c *Confirmation) string {
	return fmt.Sprintf("%.2f%% vs float %.2f%% (drop %.2f: %d lost, %d gained, McNemar p = %.3g%s), %s",
		c.Accuracy, c.FloatAccuracy, c.Drop, c.Lost, c.Gained, c.McNemarP, significance(c), metWord(c.Met))
}

// writeFixHeadline leads the output with the outcome of the fix search:
// the best fix of any kind, chosen on one part of the images and confirmed
// on the other, and the model written.
func (r *Result) writeFixHeadline(w io.Writer) {
	f := r.Fix
	if f == nil {
		return
	}
	p := f.Parts
	switch {
	case f.Best != nil:
		b := f.Best
		fmt.Fprintf(w, "best fix (%s): %s\n", b.Kind, b.Variant)
		fmt.Fprintf(w, "  chosen on %d images: %.2f%% vs float %.2f%% (drop %.2f), %s (target %.2f)\n",
			p.Choose, b.Accuracy, f.ChooseFloatAccuracy, b.Drop, metWord(b.Met), f.TargetDrop)
		if b.Confirm != nil {
			fmt.Fprintf(w, "  confirmed on %d other images: %s\n", p.Confirm, confirmLine(b.Confirm))
		}
		if f.Model != "" {
			fmt.Fprintf(w, "  model written: %s\n", f.Model)
		}
	case f.Met:
		fmt.Fprintf(w, "fix: none needed, the quantized model is within the target drop %.2f on the %d images of the choose part (drop %.2f)\n",
			f.TargetDrop, p.Choose, f.Drop)
		if q := f.Quantized; q != nil {
			fmt.Fprintf(w, "  confirmed on %d other images: %s\n", p.Confirm, confirmLine(q))
		}
		fmt.Fprintln(w, "  no model written")
	default:
		fmt.Fprintf(w, "fix: none found for target drop %.2f: no candidate improved on the quantized model; no model written\n", f.TargetDrop)
	}
}

// writeFixTable lists every candidate of the fix search with its result
// on the choose part and, for the finalists, on the confirm part.
func (r *Result) writeFixTable(w io.Writer) error {
	f := r.Fix
	if f == nil {
		fmt.Fprintln(w, "\nno model written: the fix search did not run (negative target drop)")
		return nil
	}
	p := f.Parts
	fmt.Fprintf(w, "\nfix search (target drop %.2f points): candidates chosen on %d images, finalists confirmed on %d others (stratified, seed %d)\n",
		f.TargetDrop, p.Choose, p.Confirm, p.Seed)
	switch {
	case f.Met && f.Best == nil:
		fmt.Fprintln(w, "  none needed: the quantized model is within the target on the choose part")
	case len(f.FloatLayers) > 0:
		fmt.Fprintf(w, "  float layers: keeping %s in float meets the target on the choose part\n", strings.Join(f.FloatLayers, ", "))
	case f.MaxLayers > 0:
		fmt.Fprintf(w, "  float layers: no set of up to %d layers met the target on the choose part\n", f.MaxLayers)
	}
	rows := append(append([]Trial(nil), f.Tried...), f.Alternatives...)
	if len(rows) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "kind\tcandidate\tchoose %\tdrop\tconfirm %\tdrop\tMcNemar p\ttarget\t")
		for _, t := range rows {
			cacc, cdrop, cp, met := "-", "-", "-", metWord(t.Met)+" (choose)"
			if c := t.Confirm; c != nil {
				cacc, cdrop, cp = fmt.Sprintf("%.2f", c.Accuracy), fmt.Sprintf("%.2f", c.Drop), fmt.Sprintf("%.3g", c.McNemarP)
				met = metWord(c.Met) + " (confirm)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t\n", t.Kind, t.Variant, t.Accuracy, t.Drop, cacc, cdrop, cp, met)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(f.Tradeoff) > 0 {
		where := "confirm part"
		if f.Quantized == nil {
			where = "all images"
		}
		fmt.Fprintf(w, "trade-off (accuracy on the %s):\n", where)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
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
		fmt.Fprintf(w, "model written: %s (%s)\n", f.Model, f.Best.Kind)
	case f.Best == nil && f.Met:
		fmt.Fprintln(w, "no model written: no fix is needed")
	case f.Best == nil:
		fmt.Fprintln(w, "no model written: no candidate improved on the quantized model")
	}
	return nil
}
