package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
)

// reportAccuracy reads model m's accuracy on the first split of a
// compare report.
func reportAccuracy(t *testing.T, dir string, m int) (acc float64, n int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Models []struct {
			Accuracy float64 `json:"accuracy"`
			N        int     `json:"n"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Models[m].Accuracy, r.Models[m].N
}

// copyTree copies the class folders of src into dst, renaming folders as
// rename says ("" drops the folder).
func copyTree(t *testing.T, src, dst string, rename map[string]string) {
	t.Helper()
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		if r, ok := rename[name]; ok {
			name = r
		}
		if name == "" {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(src, e.Name()))
		if err := os.MkdirAll(filepath.Join(dst, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(src, e.Name(), f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, name, f.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A model qbench trained with a label map whose class order is not the
// folders' sorted order scores the same on plain class folders named by
// class (no label map) as with the map; a folder naming no class and a
// missing class are named in warnings, and a folder sorting first shifts
// nothing.
func TestCompareMatchesClassesByName(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeColourClasses(t, data, 8)
	// Output order red, green, blue; sorted folder order is blue, green, red.
	if err := os.WriteFile(filepath.Join(data, "labels.yaml"), []byte("classes: [red, green, blue]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.tflite")
	if code, _, stderr := run(t, "train", "-q", "--data", data, "--input", "16", "--filters", "4,8", "--dense", "8",
		"--epochs", "4", "--batch", "8", "--lr", "0.01", "--val-fraction", "0.25", "--augment", "none", "--out", model); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	compareAcc := func(data string) (float64, int, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "r")
		code, _, stderr := run(t, "compare", "-q", "--model", model, "--data", data, "--out", out, "--top-k", "1")
		if code != 0 {
			t.Fatalf("compare %s: exit %d: %s", data, code, stderr)
		}
		acc, n := reportAccuracy(t, out, 0)
		return acc, n, stderr
	}
	withMap, n, _ := compareAcc(data)
	if withMap < 0.6 || n != 24 {
		t.Fatalf("with the label map: accuracy %.3f on %d images; the trained model should tell colours apart", withMap, n)
	}
	plain := filepath.Join(dir, "plain")
	copyTree(t, data, plain, nil)
	if acc, n, stderr := compareAcc(plain); acc != withMap || n != 24 || strings.Contains(stderr, "warning") {
		t.Fatalf("plain folders: accuracy %.3f on %d images, want %.3f on 24; stderr:\n%s", acc, n, withMap, stderr)
	}
	// The same images listed in a CSV manifest, labels by name.
	var csv strings.Builder
	csv.WriteString("path,label\n")
	for _, c := range []string{"red", "green", "blue"} {
		files, _ := os.ReadDir(filepath.Join(plain, c))
		for _, f := range files {
			csv.WriteString(c + "/" + f.Name() + "," + c + "\n")
		}
	}
	manifest := filepath.Join(plain, "images.csv")
	if err := os.WriteFile(manifest, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if acc, n, stderr := compareAcc(manifest); acc != withMap || n != 24 {
		t.Fatalf("manifest: accuracy %.3f on %d images, want %.3f on 24; stderr:\n%s", acc, n, withMap, stderr)
	}
	// A folder that sorts first and names no class, and a missing class.
	odd := filepath.Join(dir, "odd")
	copyTree(t, data, odd, map[string]string{"blue": "", "red": "red"})
	copyTree(t, filepath.Join(data), filepath.Join(odd, "tmp"), nil)
	if err := os.Rename(filepath.Join(odd, "tmp", "blue"), filepath.Join(odd, "aaa_unlabelled")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(odd, "tmp")); err != nil {
		t.Fatal(err)
	}
	_, n, stderr := compareAcc(odd)
	if n != 16 {
		t.Fatalf("odd folders: %d images compared, want 16 (red and green)", n)
	}
	if !strings.Contains(stderr, "aaa_unlabelled (8 images)") || !strings.Contains(stderr, "have no images: blue") {
		t.Fatalf("warnings should name the unmatched folder and the missing class:\n%s", stderr)
	}
}

// MLPerf Tiny's int8 ResNet-8 gets raw pixels by default (its input
// quantization holds 0..255), and 0..1 values forced with --range are
// named in a warning with both ranges.
func TestCompareResNet8InputRange(t *testing.T) {
	model := filepath.Join(testshared.Dir(t, "models", "zoo"), "mlt_resnet8_i8.tflite")
	data := filepath.Join(t.TempDir(), "data")
	writeHueClasses(t, data, 10, 2)
	out := filepath.Join(t.TempDir(), "r")
	code, _, stderr := run(t, "compare", "-q", "--model", model, "--data", data, "--out", out)
	if code != 0 || !strings.Contains(stderr, "raw pixels") || strings.Contains(stderr, "receives values") {
		t.Fatalf("default: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "compare", "-q", "--model", model, "--data", data, "--out", out, "--range", "0..1")
	if code != 0 || !strings.Contains(stderr, "receives values in [0, 0.") || !strings.Contains(stderr, "but expects [0, 255]") {
		t.Fatalf("--range 0..1: exit %d, stderr:\n%s", code, stderr)
	}
}
