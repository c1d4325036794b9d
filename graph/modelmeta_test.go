package graph

import (
	"reflect"
	"testing"
)

func TestModelMetaAccessorsAndClone(t *testing.T) {
	var nilMeta *ModelMeta
	if nilMeta.AxisLabels(0) != nil || nilMeta.Input(0) != nil || nilMeta.Clone() != nil {
		t.Fatal("nil ModelMeta accessors must return nil")
	}
	m := &ModelMeta{
		Name:   "m",
		Inputs: []TensorMeta{{Mean: []float32{127.5}, Std: []float32{127.5}, ValueRange: &[2]int{0, 255}}},
		Outputs: []TensorMeta{{Labels: []LabelFile{
			{FileName: "scores.csv", Type: "TENSOR_AXIS_SCORE_CALIBRATION"},
			{FileName: "labels_de.txt", Type: LabelsAxis, Locale: "de", Names: []string{"Katze", "Hund"}},
			{FileName: "labels_en.txt", Type: LabelsAxis, Locale: "en", Names: []string{"cat", "dog"}},
		}}},
		Files: []AssociatedFile{{Name: "labels_en.txt", Data: []byte("cat\ndog\n")}},
	}
	if got := m.AxisLabels(0); !reflect.DeepEqual(got, []string{"Katze", "Hund"}) {
		t.Errorf("AxisLabels(0) = %v, want the first axis-label file's names", got)
	}
	if m.AxisLabels(1) != nil || m.Output(-1) != nil {
		t.Error("out-of-range output must give nil")
	}
	g := &Graph{Meta: m, Warnings: []string{"w"}}
	c := g.Clone()
	if !reflect.DeepEqual(c.Meta, m) || !reflect.DeepEqual(c.Warnings, g.Warnings) {
		t.Fatalf("clone differs: %+v", c.Meta)
	}
	c.Meta.Inputs[0].Mean[0] = 0
	c.Meta.Inputs[0].ValueRange[1] = 1
	c.Meta.Outputs[0].Labels[1].Names[0] = "x"
	c.Meta.Files[0].Data[0] = 'x'
	if m.Inputs[0].Mean[0] != 127.5 || m.Inputs[0].ValueRange[1] != 255 || m.Outputs[0].Labels[1].Names[0] != "Katze" || m.Files[0].Data[0] != 'c' {
		t.Error("clone shares memory with the original")
	}
}
