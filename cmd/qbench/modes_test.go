//go:build unix

package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Every file and folder a command writes is world-readable under umask 022
// (0644 and 0755): quantize, explain and demo wrote models with mode 0600
// (temporary file + rename), train and export 0644.
func TestWrittenFilesFollowUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	tinyDataset(t, data)
	model := filepath.Join(dir, "float.tflite")
	tinyModel(t, model)
	cdata, a, b := writeCompareFixture(t)
	colours := filepath.Join(dir, "colours")
	writeColourClasses(t, colours, 4)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "in.bin")
	if err := os.WriteFile(raw, make([]byte, 8*8*3*4), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"quantize", "--model", model, "--calib", data, "--out", filepath.Join(out, "int8.tflite"), "--report", filepath.Join(out, "calib.json")},
		{"explain", "--model", model, "--quant", filepath.Join(out, "int8.tflite"), "--data", data, "--out", filepath.Join(out, "explain"), "--target-drop", "0"},
		{"compare", "--model", a, "--model", b, "--data", cdata, "--out", filepath.Join(out, "report")},
		{"train", "--data", colours, "--input", "16", "--filters", "4", "--dense", "4", "--epochs", "1", "--batch", "8", "--out", filepath.Join(out, "trained.tflite")},
		{"export", model, "--out", filepath.Join(out, "m.onnx")},
		{"run", model, "--input", raw, "--output", filepath.Join(out, "out.bin")},
		{"gen-data", "--out", filepath.Join(out, "gen"), "--recordings", "2", "--per-class", "1", "--size", "16", "--preview"},
	} {
		if code, _, stderr := run(t, append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("%s: exit %d: %s", args[0], code, stderr)
		}
	}
	n := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o644)
		if d.IsDir() {
			want = 0o755
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v under umask 022", strings.TrimPrefix(p, out), st.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"int8.tflite", "calib.json", "explain/explain.json", "report/report.html", "trained.tflite", "m.onnx", "out.bin", "gen/labels.yaml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("not written: %v", err)
		}
	}
	t.Logf("%d files and folders checked", n)
}
