//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/tflite"
	"github.com/qbench/qbench/train"
)

func oneLine(t *testing.T, what, errOut string) {
	t.Helper()
	if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("%s: error is not one line: %q", what, errOut)
	}
}

// Both labels.yaml and labels.json in a dataset: an error naming both (the
// JSON was ignored without a word).
func TestTwoLabelMapsNamed(t *testing.T) {
	data := t.TempDir()
	writeColourClasses(t, data, 2)
	os.WriteFile(filepath.Join(data, "labels.yaml"), []byte("classes: [red, green, blue]\n"), 0o644)
	os.WriteFile(filepath.Join(data, "labels.json"), []byte(`{"classes": ["blue", "green", "red"]}`), 0o644)
	code, _, errOut := run(t, "data", "inspect", data)
	if code == 0 || !strings.Contains(errOut, "labels.yaml and labels.json") {
		t.Fatalf("exit %d: %q, want an error naming both label maps", code, errOut)
	}
	oneLine(t, "two label maps", errOut)
	// --labels chooses.
	if code, _, errOut := run(t, "data", "inspect", data, "--labels", filepath.Join(data, "labels.json")); code != 0 {
		t.Fatalf("--labels labels.json: exit %d: %s", code, errOut)
	}
}

// A label map whose classes match no folder says which folders and classes
// do not match (it said "no images" beside a folder full of images).
func TestLabelMapMatchingNoFolder(t *testing.T) {
	data := t.TempDir()
	writeColourClasses(t, data, 2)
	os.WriteFile(filepath.Join(data, "labels.yaml"), []byte("classes: [ROT, GRUEN, BLAU]\n"), 0o644)
	code, _, errOut := run(t, "data", "inspect", data)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`"blue" (2 images)`, `"red" (2 images)`, "ROT, GRUEN, BLAU"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("message lacks %q: %s", want, errOut)
		}
	}
	oneLine(t, "no matching folder", errOut)
}

// Errors say the command once: train's own "train: " prefix and explain's
// were repeated after "qbench: train: ".
func TestErrorsNameCommandOnce(t *testing.T) {
	data := t.TempDir()
	writeColourClasses(t, data, 2)
	out := filepath.Join(t.TempDir(), "m.tflite")
	// A checkpoint folder that does not exist fails when the first epoch
	// is saved.
	bad := filepath.Join(t.TempDir(), "missing", "m.tflite")
	for _, args := range [][]string{
		{"train", "-q", "--data", data, "--input", "16", "--filters", "4", "--dense", "4", "--epochs", "1", "--batch", "4", "--out", bad},
		{"train", "-q", "--data", data, "--input", "16", "--filters", "4", "--dense", "4", "--epochs", "1", "--batch", "4", "--out", out, "--val", filepath.Join(data, "red")},
	} {
		code, _, errOut := run(t, args...)
		if code == 0 {
			if args[len(args)-1] == bad {
				t.Fatalf("training into a missing folder succeeded")
			}
			continue
		}
		t.Logf("%s", errOut)
		if strings.Contains(errOut, "train: train:") || strings.Count(errOut, "qbench:") != 1 {
			t.Errorf("%v: %q", args[len(args)-1], errOut)
		}
		if strings.Contains(errOut, ".tmp") {
			t.Errorf("error names a temporary file: %q", errOut)
		}
		if args[len(args)-1] == bad && strings.Count(errOut, bad) != 1 {
			t.Errorf("error names the model %d times: %q", strings.Count(errOut, bad), errOut)
		}
	}
}

// A checkpoint that cannot be written names the model once, never its
// temporary file (".t.tflite.tmp2543239829.tmp1101497301").
func TestSaveAtomicErrorNamesModelOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.tflite")
	bad := &graph.Graph{Tensors: []*graph.Tensor{{Name: "x", Shape: []int{-1}, DType: graph.Float32}}}
	err := train.SaveAtomic(p, bad, tflite.WriteFile)
	if err == nil || strings.Contains(err.Error(), ".tmp") || strings.Count(err.Error(), p) != 1 {
		t.Fatalf("err = %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// A sample file name that is not UTF-8 is escaped in predictions.csv and
// every report file stays valid UTF-8.
func TestNonUTF8FileNames(t *testing.T) {
	data, a, b := writeCompareFixture(t)
	src := filepath.Join(data, "0dark", "a.png")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	name := "caf\xe9-\xff.png" // Latin-1 é and a lone 0xff
	if err := os.WriteFile(filepath.Join(data, "0dark", name), raw, 0o644); err != nil {
		t.Skipf("file system refuses non-UTF-8 names: %v", err)
	}
	out := filepath.Join(t.TempDir(), "rep")
	if code, _, errOut := run(t, "compare", "-q", "--model", a, "--model", b, "--data", data, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, f := range []string{report.FilePredictions, report.FileJSON, report.FileMarkdown, report.FileHTML} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(b) {
			t.Errorf("%s is not valid UTF-8", f)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(out, report.FilePredictions))
	if !strings.Contains(string(csv), `0dark/caf\xe9-\xff.png`) {
		t.Errorf("predictions.csv does not name the file escaped:\n%s", csv)
	}
}
