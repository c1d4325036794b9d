package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
