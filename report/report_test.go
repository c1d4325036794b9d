package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qbench/qbench/metrics"
)

type rowsPred []PredictionRow

func (r rowsPred) Each(fn func(PredictionRow) error) error {
	for _, row := range r {
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

// sampleReport builds a small two-model, two-split report from metrics
// accumulators, with one flipped sample whose image exists in dir.
func sampleReport(t *testing.T, dir string) *Report {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 30, 20))
	for y := range 20 {
		for x := range 30 {
			img.Set(x, y, color.RGBA{uint8(8 * x), uint8(12 * y), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "b", "x.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	classes := []string{"speed 30", "speed|50", "<stop>"}
	type s struct {
		path   string
		label  int
		pa, pb []float32
	}
	splits := map[string][]s{
		"full": {
			{"a/1.png", 0, []float32{0.9, 0.05, 0.05}, []float32{0.8, 0.1, 0.1}},
			{"b/x.png", 1, []float32{0.1, 0.8, 0.1}, []float32{0.6, 0.3, 0.1}},
			{"c/2.png", 2, []float32{0, 0, 1}, []float32{0, 0.00390625, 0.99609375}},
		},
		"verification": {
			{"b/x.png", 1, []float32{0.2, 0.7, 0.1}, []float32{0.5, 0.5, 0}},
		},
	}
	seed := int64(7)
	r := &Report{Schema: Schema, Classes: classes, Settings: DefaultSettings([]int{1, 2}), DataRoot: filepath.Join(dir, "data"),
		Generator: "qbench v0.0.0-test", Seed: &seed, Reference: StudyReference(), Created: time.Date(2026, 12, 6, 17, 45, 0, 0, time.UTC)}
	var rows rowsPred
	spec := `{"version":1,"height":80,"width":80,"channels":3,"channel_order":"RGB","resize":"bilinear","crop":"roi","scale":0.007843138,"offset":-1}`
	infos := []ModelInfo{{Name: "float", Path: "f.tflite", SHA256: "0123456789abcdef0123", Size: 3 << 20, InputType: "float32", OutputType: "float32",
		Preprocess: spec, Quantization: "float32 activations, float32 weights (6 ops)"},
		{Name: "int8", Path: "q.tflite", SHA256: "fedcba9876543210fedc", Size: 900 << 10, InputType: "int8", OutputType: "int8",
			Preprocess: "{}", Quantization: "int8 activations, int8 per channel weights (6 ops)"}}
	for _, name := range []string{"full", "verification"} {
		if name == "verification" {
			// The demo evaluates each split with its own models.
			infos[1].Path, infos[1].SHA256 = "q-verification.tflite", "aaaabbbbccccdddd"
		}
		ma, _ := metrics.NewModel(3, []int{1, 2})
		mb, _ := metrics.NewModel(3, []int{1, 2})
		pr, _ := metrics.NewPair(3)
		var flips []Flip
		for i, smp := range splits[name] {
			_ = ma.Add(smp.label, smp.pa)
			_ = mb.Add(smp.label, smp.pb)
			_ = pr.Add(smp.label, smp.pa, smp.pb)
			a, b := metrics.Argmax(smp.pa), metrics.Argmax(smp.pb)
			if (a == smp.label) != (b == smp.label) {
				dir := "correct_to_wrong"
				if b == smp.label {
					dir = "wrong_to_correct"
				}
				flips = append(flips, Flip{Index: i, Path: smp.path, Label: smp.label, PredA: a, PredB: b,
					ProbA: float64(smp.pa[smp.label]), ProbB: float64(smp.pb[smp.label]), Direction: dir})
			}
			rows = append(rows, PredictionRow{smp.path, name, smp.label, "float", a, smp.pa},
				PredictionRow{smp.path, name, smp.label, "int8", b, smp.pb})
		}
		sp := Split{Name: name, N: len(splits[name]),
			Models: []ModelEntry{{ModelInfo: infos[0], ModelResult: ma.Result(classes)}, {ModelInfo: infos[1], ModelResult: mb.Result(classes)}},
			Pairs:  []PairEntry{{A: "float", B: "int8", PairResult: pr.Result(classes), Flips: flips}},
		}
		r.Splits = append(r.Splits, sp)
	}
	r.Models, r.Pairs = r.Splits[0].Models, r.Splits[0].Pairs
	r.Predictions = rows
	return r
}

func TestWriteAllFilesAndSchema(t *testing.T) {
	dir := t.TempDir()
	r := sampleReport(t, dir)
	out := filepath.Join(dir, "out")
	if err := WriteAll(out, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{FileJSON, FileMarkdown, FileHTML, FilePredictions} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	js, _ := os.ReadFile(filepath.Join(out, FileJSON))
	if err := ValidateJSON(js); err != nil {
		t.Fatalf("report.json does not validate: %v", err)
	}
	var doc struct {
		Schema string `json:"schema"`
		Models []struct {
			Name          string    `json:"name"`
			Accuracy      float64   `json:"accuracy"`
			Confusion     [][]int64 `json:"confusion"`
			CertaintyHist []float64 `json:"certainty_hist"`
		} `json:"models"`
		Pairs []struct {
			Agreement float64 `json:"agreement"`
			McNemarP  float64 `json:"mcnemar_p"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != Schema || len(doc.Models) != 2 || doc.Models[1].Name != "int8" || len(doc.Models[0].CertaintyHist) != 10 {
		t.Fatalf("unexpected report.json: %+v", doc)
	}
	// Full split: float gets 3/3, int8 2/3 (sample 2 flips to class 0).
	if doc.Models[0].Accuracy != 1 || doc.Models[1].Accuracy != 2.0/3 || doc.Models[1].Confusion[1][0] != 1 {
		t.Errorf("accuracies %v %v, int8 confusion %v", doc.Models[0].Accuracy, doc.Models[1].Accuracy, doc.Models[1].Confusion)
	}
	if doc.Pairs[0].Agreement != 2.0/3 || doc.Pairs[0].McNemarP != 1 {
		t.Errorf("pair = %+v", doc.Pairs[0])
	}
	// Deterministic bytes.
	js2, err := r.JSON()
	if err != nil || !bytes.Equal(js, js2) {
		t.Error("report.json is not reproducible")
	}
}

func TestValidateJSONRejects(t *testing.T) {
	r := sampleReport(t, t.TempDir())
	js, _ := r.JSON()
	var doc map[string]any
	_ = json.Unmarshal(js, &doc)
	mutate := func(f func(map[string]any)) []byte {
		var d map[string]any
		_ = json.Unmarshal(js, &d)
		f(d)
		b, _ := json.Marshal(d)
		return b
	}
	bad := map[string][]byte{
		"wrong schema":     mutate(func(d map[string]any) { d["schema"] = "qbench.compare/v0" }),
		"missing models":   mutate(func(d map[string]any) { delete(d, "models") }),
		"extra key":        mutate(func(d map[string]any) { d["surprise"] = 1 }),
		"accuracy > 1":     mutate(func(d map[string]any) { d["models"].([]any)[0].(map[string]any)["accuracy"] = 1.5 }),
		"short histogram":  mutate(func(d map[string]any) { d["models"].([]any)[0].(map[string]any)["output_hist"] = []any{0.5, 0.5} }),
		"fractional count": mutate(func(d map[string]any) { d["models"].([]any)[0].(map[string]any)["n"] = 2.5 }),
		"not json":         []byte("{"),
	}
	for name, b := range bad {
		if err := ValidateJSON(b); err == nil {
			t.Errorf("%s: validated", name)
		}
	}
}

// TestSchemaDocumented checks that every key of a real report.json is
// described in docs/report-schema.md and declared in schema.json.
func TestSchemaDocumented(t *testing.T) {
	docPath := filepath.Join("..", "docs", "report-schema.md")
	docBytes, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("read %s: %v", docPath, err)
	}
	docText := string(docBytes)
	r := sampleReport(t, t.TempDir())
	js, _ := r.JSON()
	var doc any
	_ = json.Unmarshal(js, &doc)
	keys := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				keys[k] = true
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	schema := string(schemaJSON)
	for _, k := range names {
		if !strings.Contains(docText, "`"+k+"`") {
			t.Errorf("key %q is not documented in %s", k, docPath)
		}
		if !strings.Contains(schema, `"`+k+`"`) {
			t.Errorf("key %q is not in schema.json", k)
		}
	}
}

func TestMarkdownTables(t *testing.T) {
	r := sampleReport(t, t.TempDir())
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"Model | Accuracy (Full) | Study (Full) | Accuracy (Verification) | Study (Verification) |",
		"float | 100.00% [",
		"] | 99.85% |", // the study's number beside ours
		"Made by qbench v0.0.0-test, seed 7.",
		"- **float** — `f.tflite` (3.0 MiB, sha256 0123456789ab); input float32",
		"- **int8** — one file per split; input int8, output int8; int8 activations",
		"  - full: `q.tflite` (900.0 KiB, sha256 fedcba987654)",
		"  - verification: `q-verification.tflite` (900.0 KiB, sha256 aaaabbbbcccc)", // each split's own model
		"Range | Certainty float | Certainty Quant. | Out float | Out Quant. |",      // float first, as in every table
		"Range | float (full) | int8 (full) |",                                       // the entropy distribution
		"[0.9, 1.0] |",
		"Model | Average normalized entropy (full) | Average normalized entropy (verification) |",
		`speed\|50 | speed 30 | 0 | 1 | +1 |`, // ranked confusion change, pipe escaped
		"true \\ pred | 0 | 1 | 2 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

func TestPredictionsCSV(t *testing.T) {
	r := sampleReport(t, t.TempDir())
	var b bytes.Buffer
	if err := WritePredictionsCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+8 {
		t.Fatalf("%d rows, want 9", len(recs))
	}
	if got := strings.Join(recs[0], ","); got != "path,split,label,label_name,model,pred,pred_name,p_0,p_1,p_2" {
		t.Errorf("header %q", got)
	}
	// float32 values survive exactly: 0.99609375 and 0.00390625 are dyadic.
	if got := strings.Join(recs[6], ","); got != "c/2.png,full,2,<stop>,int8,2,<stop>,0,0.00390625,0.99609375" {
		t.Errorf("row 6 = %q", got)
	}
	r.Predictions = rowsPred{{Path: "x", Probs: []float32{1}}}
	if err := WritePredictionsCSV(&b, r); err == nil {
		t.Error("short probability vector should fail")
	}
}

func TestTerminal(t *testing.T) {
	r := sampleReport(t, t.TempDir())
	var b bytes.Buffer
	if err := WriteTerminal(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"split full: 3 samples, 3 classes", "int8 vs float: agreement 66.67%", "speed|50→speed 30 +1"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n") > 20 {
		t.Errorf("terminal summary is not compact:\n%s", out)
	}
}

func TestHTMLSelfContained(t *testing.T) {
	r := sampleReport(t, t.TempDir())
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	if m := regexp.MustCompile(`(?i)https?:`).FindString(h); m != "" {
		t.Errorf("HTML contains a URL scheme %q", m)
	}
	for _, bad := range []string{"<script", "src=\"/", "src=\"file", "@import", "url("} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	// Class names are escaped, the flipped sample's thumbnail is embedded.
	if !strings.Contains(h, "&lt;stop&gt;") || strings.Contains(h, "<stop>") {
		t.Error("class name not escaped")
	}
	if n := strings.Count(h, "data:image/png;base64,"); n != 2 {
		t.Errorf("%d thumbnails, want 2 (one flip per split)", n)
	}
	if n := strings.Count(h, "<svg"); n < 10 {
		t.Errorf("only %d SVG plots", n)
	}
}

func TestValidateRejectsInconsistent(t *testing.T) {
	r := sampleReport(t, t.TempDir())
	r.Classes = r.Classes[:2]
	if err := WriteAll(t.TempDir(), r); err == nil {
		t.Error("mismatched class count should fail")
	}
	if err := (&Report{}).Validate(); err == nil {
		t.Error("empty report should fail")
	}
	var nilReport *Report
	if err := nilReport.Validate(); err == nil {
		t.Error("nil report should fail")
	}
}

func TestTerminalWarnsOnNonProbabilities(t *testing.T) {
	r := sampleReport(t, t.TempDir())
	r.Splits[0].Models[1].MaxSumDeviation = 3.5
	var b bytes.Buffer
	if err := WriteTerminal(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "warning: int8 outputs are not probabilities") {
		t.Errorf("no warning:\n%s", b.String())
	}
}

func TestThumbnailFormatsAndFailures(t *testing.T) {
	dir := t.TempDir()
	ppm := filepath.Join(dir, "x.ppm")
	if err := os.WriteFile(ppm, append([]byte("P6\n2 1\n255\n"), 255, 0, 0, 0, 0, 255), 0o644); err != nil {
		t.Fatal(err)
	}
	uri, err := thumbnailURI(ppm)
	if err != nil || !strings.HasPrefix(uri, "data:image/png;base64,") {
		t.Fatalf("ppm thumbnail: %v", err)
	}
	// 2x1 scales to 64x32.
	raw, _ := base64Decode(strings.TrimPrefix(uri, "data:image/png;base64,"))
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() != ThumbSize || img.Bounds().Dy() != ThumbSize/2 {
		t.Errorf("thumbnail bounds %v (%v)", img.Bounds(), err)
	}
	bad := filepath.Join(dir, "bad.png")
	_ = os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nnope"), 0o644)
	for _, p := range []string{bad, filepath.Join(dir, "missing.png")} {
		if _, err := thumbnailURI(p); err == nil {
			t.Errorf("%s: no error", p)
		}
	}
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

func TestIsQuantized(t *testing.T) {
	for _, c := range []struct {
		m    ModelInfo
		want bool
	}{
		{ModelInfo{Name: "a", InputType: "float32", OutputType: "float32", Quantized: true}, true}, // from the graph
		{ModelInfo{Name: "a", InputType: "int8", OutputType: "float32"}, true},
		{ModelInfo{Name: "a", InputType: "float32", OutputType: "uint8"}, true},
		{ModelInfo{Name: "Model-INT8", InputType: "float32", OutputType: "float32"}, true},
		{ModelInfo{Name: "b", Path: "/m/seed_quant.tflite", InputType: "float32", OutputType: "float32"}, true},
		{ModelInfo{Name: "float", Path: "/m/seed.tflite", InputType: "float32", OutputType: "float32"}, false},
	} {
		if got := c.m.IsQuantized(); got != c.want {
			t.Errorf("%+v: IsQuantized = %v, want %v", c.m, got, c.want)
		}
	}
}

// TestHistogramColumnOrder checks that the histogram table keeps the
// command-line order of every other table and takes the study's names
// only for one float and one quantized model.
func TestHistogramColumnOrder(t *testing.T) {
	ms := []ModelEntry{{ModelInfo: ModelInfo{Name: "f"}}, {ModelInfo: ModelInfo{Name: "q", Quantized: true}}}
	if order, labels := histColumns(ms); !slices.Equal(order, []int{0, 1}) || !slices.Equal(labels, []string{"float", "Quant."}) {
		t.Errorf("float, quantized: order %v labels %v", order, labels)
	}
	ms[0], ms[1] = ms[1], ms[0]
	if order, labels := histColumns(ms); !slices.Equal(order, []int{0, 1}) || !slices.Equal(labels, []string{"Quant.", "float"}) {
		t.Errorf("quantized, float: order %v labels %v", order, labels)
	}
	ms[0].Quantized = false
	if order, labels := histColumns(ms); !slices.Equal(order, []int{0, 1}) || labels != nil {
		t.Errorf("two float models: order %v labels %v", order, labels)
	}
	three := append(ms, ModelEntry{ModelInfo: ModelInfo{Name: "x", Quantized: true}})
	if order, labels := histColumns(three); !slices.Equal(order, []int{0, 1, 2}) || labels != nil {
		t.Errorf("three models: order %v labels %v", order, labels)
	}
}

func TestNiceStep(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{0.0625, 0.1}, {0.05, 0.05}, {0.04, 0.05}, {0.024, 0.025}, {0.25 / 4, 0.1}, {0.011, 0.02}, {1, 1}, {3, 5}, {0.0009, 0.001},
	} {
		if got := niceStep(c.x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("niceStep(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}
