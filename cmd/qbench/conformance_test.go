package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const passingCase = `{"format": "tflm-ref-case/v1", "kind": "kernel", "name": "add/Pass", "op": "ADD",
 "options": {"fused_activation_function": "NONE"},
 "inputs": [{"name": "input1", "dtype": "float32", "shape": [2], "quantization": null, "data": [1, 2.5]},
            {"name": "input2", "dtype": "float32", "shape": [2], "quantization": null, "data": [0.5, "nan"]}],
 "outputs": [{"name": "output", "dtype": "float32", "shape": [2], "quantization": null,
              "compare": "raw", "expected": [1.5, "nan"], "tolerance": 1e-05, "reference": [1.5, "nan"]}]}`

// The reference disagrees with what TFLite's ADD computes: not bit-exact.
const wrongCase = `{"format": "tflm-ref-case/v1", "kind": "kernel", "name": "add/Wrong", "op": "ADD",
 "options": {},
 "inputs": [{"name": "input1", "dtype": "int8", "shape": [1], "quantization": {"scale": [0.5], "zero_point": [0], "quantized_dimension": 0}, "data": [2]},
            {"name": "input2", "dtype": "int8", "shape": [1], "quantization": {"scale": [0.5], "zero_point": [0], "quantized_dimension": 0}, "data": [4]}],
 "outputs": [{"name": "output", "dtype": "int8", "shape": [1], "quantization": {"scale": [0.5], "zero_point": [0], "quantized_dimension": 0},
              "compare": "raw", "expected": [7], "tolerance": 1, "reference": [7]}]}`

const unsupportedCase = `{"format": "tflm-ref-case/v1", "kind": "kernel", "name": "transpose_conv/T", "op": "TRANSPOSE_CONV",
 "options": {}, "inputs": [{"name": "input", "dtype": "float32", "shape": [1], "quantization": null, "data": [1]}],
 "outputs": [{"name": "output", "dtype": "float32", "shape": [1], "quantization": null, "compare": "raw", "expected": [1], "tolerance": 0}]}`

func TestConformanceCommand(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"a.json": passingCase, "b.json": wrongCase, "c.json": unsupportedCase, "index.json": `{"cases": []}`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runQ(t, "conformance", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || lines[2] != "1 passed, 2 failed" {
		t.Fatalf("stdout:\n%s", stdout)
	}
	if !strings.Contains(lines[0], "add/Wrong") || !strings.Contains(lines[0], "not bit-exact") {
		t.Errorf("wrong case line %q", lines[0])
	}
	if !strings.Contains(lines[1], "TRANSPOSE_CONV") {
		t.Errorf("unsupported op line %q does not name the op", lines[1])
	}
	os.Remove(filepath.Join(dir, "b.json"))
	os.Remove(filepath.Join(dir, "c.json"))
	if code, stdout, _ = runQ(t, "conformance", dir); code != 0 || stdout != "1 passed, 0 failed\n" {
		t.Errorf("all passing: exit %d, %q", code, stdout)
	}
	if code, _, _ = runQ(t, "conformance", t.TempDir()); code != 1 {
		t.Errorf("empty directory: exit %d, want 1", code)
	}
	if code, _, _ = runQ(t, "conformance"); code != 2 {
		t.Errorf("no DIR: exit %d, want 2", code)
	}
}

func TestConformanceSharedReference(t *testing.T) {
	ref := sharedRef(t)
	code, stdout, stderr := runQ(t, "conformance", ref)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	if stdout != "228 passed, 0 failed\n" {
		t.Errorf("stdout %q", stdout)
	}
}
