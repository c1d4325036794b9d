package compare

import (
	"fmt"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/metrics"
	"github.com/qbench/qbench/report"
)

// diagnoseClassOrder looks, model by model and split by split, for a
// confusion matrix that is a permutation of the classes rather than
// errors (metrics.DiagnoseClassOrder); the first found becomes the
// report's class-order warning, with the label map that fixes it.
func diagnoseClassOrder(cfg Config, r *report.Report) error {
	for _, s := range r.Splits {
		for _, m := range s.Models {
			d := metrics.DiagnoseClassOrder(m.Confusion, r.Classes)
			if d == nil {
				continue
			}
			mapping := d.Mapping
			if d.Full != nil {
				mapping = d.Full
			}
			var base *dataset.LabelMap
			if cfg.LabelMap != "" {
				var err error
				if base, err = dataset.ReadLabelMap(cfg.LabelMap); err != nil {
					return err
				}
			}
			lm, err := dataset.SuggestLabelMap(r.Classes, mapping, base)
			if err != nil {
				return fmt.Errorf("suggested label map: %w", err)
			}
			y, err := lm.Marshal()
			if err != nil {
				return err
			}
			r.ClassOrder = report.NewClassOrderNote(m.Name, s.Name, d, r.Classes)
			r.SuggestedLabels = append([]byte("# Written by qbench compare: the class order its diagnosis suggests.\n"), y...)
			return nil
		}
	}
	return nil
}
