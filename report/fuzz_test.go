package report

import (
	"testing"

	"github.com/qbench/qbench/metrics"
)

// FuzzValidateJSON checks that arbitrary bytes never panic or hang the
// validator. Its seeds include a real report.json (two classes, one split,
// a float and an int8 model) so mutations reach the schema's deep parts.
func FuzzValidateJSON(f *testing.F) {
	f.Add([]byte(`{"schema":"qbench.compare/v1"}`))
	f.Add([]byte(`{"models":[{"n":1e999}],"splits":[[]]}`))
	f.Add([]byte(`[1,2,{"a":null}]`))
	if js, err := smallReportJSON(); err == nil {
		if err := ValidateJSON(js); err != nil {
			f.Fatalf("seed report does not validate: %v", err)
		}
		f.Add(js)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ValidateJSON(b)
	})
}

// smallReportJSON builds the report.json of two samples, two classes and
// a float/int8 pair in which the second sample flips.
func smallReportJSON() ([]byte, error) {
	classes := []string{"stop", "yield"}
	ma, err := metrics.NewModel(2, []int{1})
	if err != nil {
		return nil, err
	}
	mb, _ := metrics.NewModel(2, []int{1})
	pr, _ := metrics.NewPair(2)
	pa := [][]float32{{0.9, 0.1}, {0.3, 0.7}}
	pb := [][]float32{{0.8, 0.2}, {0.6, 0.4}}
	for i, label := range []int{0, 1} {
		_ = ma.Add(label, pa[i])
		_ = mb.Add(label, pb[i])
		_ = pr.Add(label, pa[i], pb[i])
	}
	infos := []ModelInfo{{Name: "float", Path: "f.tflite", InputType: "float32", OutputType: "float32", Preprocess: "{}"},
		{Name: "int8", Path: "q.tflite", InputType: "int8", OutputType: "int8", Preprocess: "{}"}}
	sp := Split{Name: "full", N: 2,
		Models: []ModelEntry{{ModelInfo: infos[0], ModelResult: ma.Result(classes)}, {ModelInfo: infos[1], ModelResult: mb.Result(classes)}},
		Pairs: []PairEntry{{A: "float", B: "int8", PairResult: pr.Result(classes), Flips: []Flip{{Index: 1, Path: "yield/1.png",
			Label: 1, PredA: 1, PredB: 0, ProbA: 0.7, ProbB: 0.4, Direction: "correct_to_wrong"}}}},
	}
	r := &Report{Schema: Schema, Classes: classes, Settings: DefaultSettings([]int{1}), Splits: []Split{sp},
		Models: sp.Models, Pairs: sp.Pairs}
	return r.JSON()
}
