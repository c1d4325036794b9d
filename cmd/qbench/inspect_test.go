package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/tflite"
)

func TestInspectCommand(t *testing.T) {
	model := filepath.Join("..", "..", "..", "shared", "reference", "tflite-micro", "models", "hello_world", "hello_world_float.tflite")
	if _, err := os.Stat(model); err != nil {
		t.Skip("../shared not found: ", err)
	}
	var out, errb bytes.Buffer
	if code := execute(context.Background(), []string{"inspect", model}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "FULLY_CONNECTED") || !strings.Contains(out.String(), "Totals: 3 ops") {
		t.Errorf("text output:\n%s", out.String())
	}
	out.Reset()
	if code := execute(context.Background(), []string{"inspect", "--json", model}, &out, &errb); code != 0 {
		t.Fatalf("--json exit %d: %s", code, errb.String())
	}
	var s struct {
		Schema string `json:"schema"`
		Totals struct {
			Params int64 `json:"params"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || s.Schema != "qbench.inspect/v1" || s.Totals.Params != 321 {
		t.Errorf("json %+v err %v", s, err)
	}
}

func TestInspectErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if code := execute(context.Background(), []string{"inspect"}, &out, &errb); code != 2 {
		t.Errorf("no args: exit %d, want 2", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.tflite")
	if err := os.WriteFile(bad, []byte("garbage!"), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := execute(context.Background(), []string{"inspect", bad}, &out, &errb); code != 1 {
		t.Errorf("bad file: exit %d, want 1", code)
	}
	if !strings.Contains(errb.String(), "qbench: inspect: "+bad) || !strings.Contains(errb.String(), "wrong file identifier") {
		t.Errorf("stderr %q", errb.String())
	}
}

// inspect never refuses a readable model: every zoo model (third-party
// files, many with ops or dtypes qbench lacks) prints its ops and ends with
// the "runs in qbench:" line, in text and JSON.
func TestInspectZooRunsLine(t *testing.T) {
	zoo := filepath.Join("..", "..", "..", "shared", "models", "zoo")
	files, _ := filepath.Glob(filepath.Join(zoo, "*.tflite"))
	if len(files) == 0 {
		t.Skip("../shared/models/zoo not found (reference material beside the checkout; a plain clone has none)")
	}
	for _, f := range files {
		var out, errb bytes.Buffer
		if code := execute(context.Background(), []string{"inspect", f}, &out, &errb); code != 0 {
			t.Errorf("%s: exit %d: %s", filepath.Base(f), code, errb.String())
			continue
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		last := lines[len(lines)-1]
		if last != "runs in qbench: yes" && !strings.HasPrefix(last, "runs in qbench: no (missing: ") {
			t.Errorf("%s: last line %q", filepath.Base(f), last)
		}
		out.Reset()
		if code := execute(context.Background(), []string{"inspect", "--json", f}, &out, &errb); code != 0 {
			t.Errorf("%s --json: exit %d: %s", filepath.Base(f), code, errb.String())
			continue
		}
		var s struct {
			Runs *struct {
				Yes     bool `json:"yes"`
				Missing []struct {
					Op    string `json:"op"`
					Count int    `json:"count"`
				} `json:"missing"`
			} `json:"runs_in_qbench"`
			Ops []struct {
				Unsupported string `json:"unsupported"`
			} `json:"ops"`
		}
		if err := json.Unmarshal(out.Bytes(), &s); err != nil || s.Runs == nil {
			t.Errorf("%s: json runs_in_qbench missing (%v)", filepath.Base(f), err)
			continue
		}
		marked, counted := 0, 0
		for _, op := range s.Ops {
			if op.Unsupported != "" {
				marked++
			}
		}
		for _, m := range s.Runs.Missing {
			counted += m.Count
		}
		if s.Runs.Yes != (marked == 0) || marked != counted {
			t.Errorf("%s: yes=%v with %d ops marked and %d counted missing", filepath.Base(f), s.Runs.Yes, marked, counted)
		}
		if s.Runs.Yes != (last == "runs in qbench: yes") {
			t.Errorf("%s: text %q disagrees with json yes=%v", filepath.Base(f), last, s.Runs.Yes)
		}
	}
}

// TestInspectModelMetadata is the acceptance check: the Coral
// MobileNet's normalisation and packed ImageNet labels are shown, in text
// and JSON.
func TestInspectModelMetadata(t *testing.T) {
	model := filepath.Join("..", "..", "..", "shared", "models", "zoo", "coral_mnv1_025_128_u8.tflite")
	if _, err := os.Stat(model); err != nil {
		t.Skip("../shared not found: ", err)
	}
	var out, errb bytes.Buffer
	if code := execute(context.Background(), []string{"inspect", model}, &out, &errb); code != 0 {
		t.Skipf("inspect does not take this model yet (exit %d): %s", code, errb.String())
	}
	for _, want := range []string{"Name:        ImageClassifier", "RGB image", "mean 127.5, std 127.5", "values 0..255",
		`imagenet_labels.txt (TENSOR_AXIS_LABELS): 1001 names: "background", "tench, Tinca tinca"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := execute(context.Background(), []string{"inspect", "--json", model}, &out, &errb); code != 0 {
		t.Fatalf("--json exit %d: %s", code, errb.String())
	}
	var s struct {
		Meta struct {
			Inputs []struct {
				Mean, Std []float32
			}
			Outputs []struct {
				LabelFiles []struct {
					Count int
					First []string
				} `json:"label_files"`
			}
		} `json:"model_metadata"`
		Warnings []string
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Meta.Inputs) != 1 || len(s.Meta.Inputs[0].Mean) != 1 || s.Meta.Inputs[0].Mean[0] != 127.5 || s.Meta.Inputs[0].Std[0] != 127.5 {
		t.Errorf("inputs %+v", s.Meta.Inputs)
	}
	if len(s.Meta.Outputs) != 1 || len(s.Meta.Outputs[0].LabelFiles) != 1 || s.Meta.Outputs[0].LabelFiles[0].Count != 1001 ||
		s.Meta.Outputs[0].LabelFiles[0].First[0] != "background" {
		t.Errorf("outputs %+v", s.Meta.Outputs)
	}
	if s.Warnings == nil || len(s.Warnings) != 0 {
		t.Errorf("warnings %v, want an empty list", s.Warnings)
	}
}

// TestInspectCorruptMetadataWarns: a model whose metadata buffer is broken
// still inspects, with a warning that names the buffer.
func TestInspectCorruptMetadataWarns(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.tflite")
	meanModel(t, model)
	g, err := tflite.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	g.Metadata = map[string][]byte{tflite.MetadataKey: []byte("not a metadata flatbuffer")}
	if err := tflite.WriteFile(model, g); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := execute(context.Background(), []string{"inspect", model}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "WARNING: model metadata (TFLITE_METADATA buffer, 25 bytes) ignored") {
		t.Errorf("text:\n%s", out.String())
	}
	out.Reset()
	if code := execute(context.Background(), []string{"inspect", "--json", model}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "qbench: inspect: warning: "+model+": model metadata") || !strings.Contains(out.String(), `"warnings": [`) {
		t.Errorf("--json: stderr %q", errb.String())
	}
}
