package report

import (
	"fmt"
	"strings"

	"github.com/qbench/qbench/metrics"
)

// NewClassOrderNote returns the class-order warning for diagnosis d of
// model on split: how far its accuracy is from the mapped one, the known
// convention the mapping follows, a few moved classes, and that
// suggested-labels.yaml in the output folder applies the fix. classes
// name the classes in label order. compare and explain print the same
// warning.
func NewClassOrderNote(model, split string, d *metrics.ClassOrder, classes []string) *ClassOrderNote {
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
			name := fmt.Sprint(t)
			if t < len(classes) {
				name = classes[t]
			}
			ex = append(ex, fmt.Sprintf("%s→output %d", name, p))
			if len(ex) == 4 {
				break
			}
		}
	}
	fmt.Fprintf(&b, " (%s …); %s in the report folder applies it", strings.Join(ex, ", "), FileSuggestedLabels)
	return &ClassOrderNote{Model: model, Split: split, ClassOrder: *d, Message: b.String()}
}
