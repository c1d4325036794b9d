package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
)

// sharedDir finds ../shared (see package testshared) or skips the test.
func sharedDir(t *testing.T) string { return testshared.Dir(t) }

func TestReferenceCases(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "reference", "tflite-micro")
	rs, err := RunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.Cases {
		if !r.Pass {
			t.Errorf("%s [%s]: %s", r.Name, r.Op, r.Reason)
		}
	}
	t.Logf("%d passed, %d failed", rs.Passed, rs.Failed)
	if rs.Passed+rs.Failed != 228 {
		t.Errorf("ran %d cases, the reference has 228", rs.Passed+rs.Failed)
	}
}

func TestBadCasesFailWithReasons(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"garbage.json": `{"format": "tflm-ref-case/v1", "kind": "kernel", "inputs": [`,
		"count.json":   `{"format": "tflm-ref-case/v1", "kind": "kernel", "name": "count", "op": "RELU", "options": {}, "inputs": [{"name": "input", "dtype": "float32", "shape": [3], "quantization": null, "data": [1, 2]}], "outputs": [{"name": "output", "dtype": "float32", "shape": [3], "compare": "raw", "expected": [1, 2, 3], "tolerance": 0}]}`,
		"dtype.json":   `{"format": "tflm-ref-case/v1", "kind": "kernel", "name": "dtype", "op": "RELU", "options": {}, "inputs": [{"name": "input", "dtype": "float128", "shape": [1], "data": [1]}], "outputs": [{"name": "output", "dtype": "float32", "shape": [1], "compare": "raw", "expected": [1], "tolerance": 0}]}`,
		"range.json":   `{"format": "tflm-ref-case/v1", "kind": "kernel", "name": "range", "op": "RELU", "options": {}, "inputs": [{"name": "input", "dtype": "int8", "shape": [1], "quantization": {"scale": [1], "zero_point": [0]}, "data": [300]}], "outputs": [{"name": "output", "dtype": "int8", "shape": [1], "quantization": {"scale": [1], "zero_point": [0]}, "compare": "raw", "expected": [1], "tolerance": 0}]}`,
		"shape.json":   `{"format": "tflm-ref-case/v1", "kind": "kernel", "name": "shape", "op": "ADD", "options": {}, "inputs": [{"name": "input1", "dtype": "float32", "shape": [2], "data": [1, 2]}, {"name": "input2", "dtype": "float32", "shape": [3], "data": [1, 2, 3]}], "outputs": [{"name": "output", "dtype": "float32", "shape": [3], "compare": "raw", "expected": [1, 2, 3], "tolerance": 0}]}`,
		"model.json":   `{"format": "tflm-ref-case/v1", "kind": "model", "name": "model", "model": "missing.tflite", "invocations": []}`,
		"argmax.json":  `{"format": "tflm-ref-case/v1", "kind": "kernel", "name": "argmax", "op": "RELU", "options": {}, "inputs": [{"name": "input", "dtype": "float32", "shape": [3], "data": [1, 5, 2]}], "outputs": [{"name": "output", "dtype": "float32", "shape": [3], "compare": "argmax", "expected_argmax": 1}]}`,
		"other.json":   `{"format": "something-else"}`,
	}
	for name, body := range cases {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := RunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"garbage": "unexpected end", "count": "2 values for shape [3]", "dtype": `unknown dtype "float128"`,
		"range": "300 out of range for int8", "shape": "do not broadcast", "model": "missing.tflite",
	}
	if rs.Passed != 1 || rs.Failed != len(want) {
		t.Errorf("%d passed, %d failed; want 1 (argmax) and %d", rs.Passed, rs.Failed, len(want))
	}
	for _, r := range rs.Cases {
		key := filepath.Base(r.Path)
		key = key[:len(key)-len(".json")]
		if w, ok := want[key]; ok && (r.Pass || !strings.Contains(r.Reason, w)) {
			t.Errorf("%s: pass=%v reason %q, want it to mention %q", key, r.Pass, r.Reason, w)
		}
	}
}
