package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportONNX(t *testing.T) {
	path := writeReluModel(t)
	out := filepath.Join(t.TempDir(), "m.onnx")
	code, stdout, errOut := run(t, "export", "--format", "onnx", path, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Fatalf("stdout %q", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil || len(b) == 0 || !strings.Contains(string(b), "Relu") {
		t.Fatalf("output file: %v, %d bytes", err, len(b))
	}
	// Default output path: beside the model.
	if code, _, errOut := run(t, "export", path); code != 0 {
		t.Fatalf("default --out: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(strings.TrimSuffix(path, ".tflite") + ".onnx"); err != nil {
		t.Fatal(err)
	}
}

func TestExportUsage(t *testing.T) {
	path := writeReluModel(t)
	if code, _, _ := run(t, "export", "--format", "tflite", path); code != 2 {
		t.Errorf("bad format: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "export"); code != 2 {
		t.Errorf("no model: exit %d, want 2", code)
	}
	if code, _, errOut := run(t, "export", filepath.Join(t.TempDir(), "missing.tflite")); code != 1 || !strings.HasPrefix(errOut, "qbench: export: read ") {
		t.Errorf("missing model: exit %d, %q", code, errOut)
	}
}
