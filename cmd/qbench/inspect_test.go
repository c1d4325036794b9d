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
