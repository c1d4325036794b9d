package train

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
)

// LabelFile is the name of the label file ModelMeta packs into a model.
const LabelFile = "labels.txt"

// ModelMeta returns the standard model metadata of a classifier trained
// with spec on classes, for Config.Meta: the input's normalisation in the
// form TFLite tools expect — (pixel − mean) / std on 0..255 pixels, so
// qbench's x·scale + offset becomes mean −offset/scale, std 1/scale —
// its colour space, the pixel range 0..255, and the class names as a
// TENSOR_AXIS_LABELS file on the output. With it the TFLite Task Library
// and Android Studio can feed the model and name its predictions without
// qbench. TFLite metadata has no BGR colour space, so a BGR spec gets
// none (and says so in the input's description).
func ModelMeta(spec dataset.Spec, classes []string) (*graph.ModelMeta, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	in := graph.TensorMeta{
		Name: "image",
		Min:  []float32{0}, Max: []float32{255}, ValueRange: &[2]int{0, 255},
	}
	if len(spec.Mean) > 0 {
		in.Mean = append([]float32(nil), spec.Mean...)
		in.Std = append([]float32(nil), spec.Std...)
	} else {
		in.Mean = []float32{tidy(-float64(spec.Offset) / float64(spec.Scale))}
		in.Std = []float32{tidy(1 / float64(spec.Scale))}
	}
	switch {
	case spec.Channels == 1:
		in.ColorSpace = "GRAYSCALE"
		in.Description = fmt.Sprintf("%dx%d grey image", spec.Width, spec.Height)
	case spec.ChannelOrder == dataset.OrderBGR:
		in.Description = fmt.Sprintf("%dx%d colour image, channels in BGR order", spec.Width, spec.Height)
	default:
		in.ColorSpace = "RGB"
		in.Description = fmt.Sprintf("%dx%d RGB image", spec.Width, spec.Height)
	}
	for i, c := range classes {
		if strings.ContainsAny(c, "\r\n") {
			return nil, fmt.Errorf("class %d name %q contains a line break, which a label file cannot hold", i, c)
		}
	}
	out := graph.TensorMeta{
		Name:        "probabilities",
		Description: fmt.Sprintf("probability of each of the %d classes", len(classes)),
		Min:         []float32{0}, Max: []float32{1}, ValueRange: &[2]int{0, 1},
	}
	if len(classes) > 0 {
		out.Labels = []graph.LabelFile{{FileName: LabelFile, Description: "class names, line i names output i",
			Type: graph.LabelsAxis, Names: append([]string(nil), classes...)}}
	}
	return &graph.ModelMeta{
		Author:  "qbench",
		Inputs:  []graph.TensorMeta{in},
		Outputs: []graph.TensorMeta{out},
	}, nil
}

// tidy rounds v to 6 significant digits: a scale stored as float32 2/255
// inverts to 127.49999, which readers of the metadata should see as the
// 127.5 it stands for (the difference is below float32 input precision).
// Negative zero becomes zero.
func tidy(v float64) float32 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 32)
	if err != nil {
		return float32(v)
	}
	return float32(r) + 0
}
