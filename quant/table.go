package quant

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints the calibration table: one row per activation tensor
// with its observed range, chosen range, scale, zero point and the percent
// of calibration values the range clips.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "tensor\top\tobserved min\tobserved max\tchosen min\tchosen max\tscale\tzp\tclipped %%\tfrom\t\n")
	for _, t := range r.Tensors {
		fmt.Fprintf(tw, "%s\t%s\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%d\t%.4f\t%s\t\n",
			t.Name, t.Op, t.ObservedMin, t.ObservedMax, t.ChosenMin, t.ChosenMax, t.Scale, t.ZeroPoint,
			100*t.ClippedFraction, t.Source)
	}
	return tw.Flush()
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
