package compare

import (
	"fmt"
	"strings"

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
			r.ClassOrder = &report.ClassOrderNote{Model: m.Name, Split: s.Name, ClassOrder: *d,
				Message: classOrderMessage(m.Name, s.Name, d, r.Classes)}
			r.SuggestedLabels = append([]byte("# Written by qbench compare: the class order its diagnosis suggests.\n"), y...)
			return nil
		}
	}
	return nil
}

func classOrderMessage(model, split string, d *metrics.ClassOrder, classes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "class order: model %s scores %.1f%% on split %s, but %.1f%% of the images land on one distinct output per class, so its outputs are most likely the right classes in another order",
		model, 100*d.Diagonal, split, 100*d.Mapped)
	switch d.Convention {
	case metrics.OrderLexicographic:
		b.WriteString("; the mapping is the lexicographic order of the folder names ('0', '1', '10', '11', …, '2'), as Keras and torchvision's ImageFolder number classes")
	case "":
		b.WriteString("; the mapping follows no known convention")
	default:
		fmt.Fprintf(&b, "; the mapping is an %s", d.Convention)
	}
	var ex []string
	for t, p := range d.Mapping {
		if p >= 0 && p != t {
			ex = append(ex, fmt.Sprintf("%s→output %d", classes[t], p))
			if len(ex) == 4 {
				break
			}
		}
	}
	fmt.Fprintf(&b, " (%s …); %s in the report folder applies it", strings.Join(ex, ", "), report.FileSuggestedLabels)
	return b.String()
}
