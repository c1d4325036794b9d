package quant

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints the calibration table: one row per activation tensor
// with its observed range, chosen range, scale, zero point, the percent of
// calibration values outside the chosen range (clipped by the method's
// choice) and, apart from them, the percent that only round into the end
// level because the nudged integer grid stops short of the chosen range.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "tensor\top\tobserved min\tobserved max\tchosen min\tchosen max\tscale\tzp\tclipped %%\tend level %%\tfrom\t\n")
	for _, t := range r.Tensors {
		fmt.Fprintf(tw, "%s\t%s\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%d\t%.4f\t%.4f\t%s\t\n",
			t.Name, t.Op, t.ObservedMin, t.ObservedMax, t.ChosenMin, t.ChosenMax, t.Scale, t.ZeroPoint,
			100*t.ClippedFraction, 100*t.EndLevelFraction, t.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "clipped %: calibration values outside the chosen range (the integer model clips them).\n"+
		"end level %: values inside the chosen range that round into the top or bottom integer level because\n"+
		"zero-point nudging leaves the grid up to one step short of the range (error at most one step, not clipping).")
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Schema string `json:"schema"`
		*Report
	}{"qbench.calibration/v1", r})
}
