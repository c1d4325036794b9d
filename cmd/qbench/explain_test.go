package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainShiftSplits: with --split verification, the other split of
// the label map feeds the data-shift table with only --layer-samples
// images (not --samples: reading more would be wasted), and the result
// carries the data-shift note and HTML section.
func TestExplainShiftSplits(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for _, rec := range []string{"rec1", "rec2", "rec3"} {
		tinyDataset(t, filepath.Join(data, rec))
	}
	labels := "classes:\n  - a\n  - b\nsplits:\n  train:\n    - rec1\n    - rec2\n  verification:\n    - rec3\n"
	if err := os.WriteFile(filepath.Join(data, "labels.yaml"), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "float.tflite")
	tinyModel(t, model)
	q := filepath.Join(dir, "int8.tflite")
	if code, _, errOut := run(t, "quantize", "-q", "--model", model, "--calib", data, "--out", q, "--calib-samples", "8"); code != 0 {
		t.Fatalf("quantize exit %d: %s", code, errOut)
	}
	ex := filepath.Join(dir, "explain")
	code, out, errOut := run(t, "explain", "-q", "--model", model, "--quant", q, "--data", data, "--split", "verification",
		"--samples", "16", "--layer-samples", "4", "--target-drop", "-1", "--out", ex)
	if code != 0 {
		t.Fatalf("explain exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "note: data shift:") {
		t.Errorf("no data-shift note:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(ex, "explain.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Samples   int `json:"samples"`
		DataShift struct {
			Splits  []string `json:"splits"`
			Samples []int    `json:"samples"`
		} `json:"data_shift"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	ds := res.DataShift
	if res.Samples != 16 || len(ds.Splits) != 2 || ds.Splits[0] != "verification" || ds.Splits[1] != "train" {
		t.Fatalf("samples %d, data-shift splits %v", res.Samples, ds.Splits)
	}
	if ds.Samples[0] != 4 || ds.Samples[1] != 4 {
		t.Errorf("data-shift samples %v, want 4 per split", ds.Samples)
	}
	h, err := os.ReadFile(filepath.Join(ex, "explain.html"))
	if err != nil || !strings.Contains(string(h), "<h2>Data shift</h2>") {
		t.Errorf("explain.html lacks the data-shift section (%v)", err)
	}
}
