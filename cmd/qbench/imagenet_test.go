package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/tflite"
)

// An ImageNet-style validation folder on the Coral MobileNet (1001
// outputs, background first, labels and normalisation in its TFLite
// metadata). The ground truth is the model's own top-1 on 12 GTSRB
// photographs, written as 0-based ImageNet ids: with a synset list the
// classes match the metadata labels by name (100%); with bare ids and no
// names they land one output off, and the class-order warning names the
// background offset and its fix gives 100% again.
func TestImageNetLayoutCoralMobileNet(t *testing.T) {
	model := filepath.Join(testshared.Dir(t, "models", "zoo"), "coral_mnv1_025_128_u8.tflite")
	val := filepath.Join(testshared.Dir(t, "data", "gtsrb-mini"), "val")
	g, err := tflite.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	labels := g.Meta.AxisLabels(0)
	if len(labels) != 1001 {
		t.Fatalf("%d labels in the metadata, want 1001", len(labels))
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "val")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	var images []string
	for c := range 12 {
		files, _ := filepath.Glob(filepath.Join(val, fmt.Sprintf("%02d", 3*c), "*.png"))
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, fmt.Sprintf("ILSVRC2012_val_%08d.png", c+1))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		images = append(images, p)
	}
	args := []string{"run", model, "--json", "--top", "1"}
	for _, p := range images {
		args = append(args, "--image", p)
	}
	code, stdout, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	var res []imageResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res) != 12 {
		t.Fatalf("run --json: %v\n%s", err, stdout)
	}
	var gt, syn strings.Builder
	for _, r := range res {
		if r.Classes[0].Index == 0 {
			t.Skip("an image is classified as background; cannot be written as an ImageNet id")
		}
		fmt.Fprintf(&gt, "%d\n", r.Classes[0].Index-1)
	}
	for i, l := range labels[1:] {
		fmt.Fprintf(&syn, "n%08d %s\n", i, l)
	}
	writeText := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeText(filepath.Join(dir, "val.txt"), gt.String())
	writeText(filepath.Join(dir, "synset_words.txt"), syn.String())
	compare := func(extra ...string) (float64, string, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "r")
		code, stdout, stderr := run(t, append([]string{"compare", "-q", "--model", model, "--data", root, "--out", out, "--top-k", "1"}, extra...)...)
		if code != 0 {
			t.Fatalf("compare %v: exit %d: %s", extra, code, stderr)
		}
		acc, _ := reportAccuracy(t, out, 0)
		return acc, stdout, out
	}
	if acc, stdout, _ := compare(); acc != 1 {
		t.Fatalf("synset names matched to the metadata labels: accuracy %.3f, want 1\n%s", acc, stdout)
	}
	// Bare ids, no names anywhere: output i is taken as class i.
	if err := os.Remove(filepath.Join(dir, "synset_words.txt")); err != nil {
		t.Fatal(err)
	}
	g.Meta = nil
	bare := filepath.Join(dir, "no-metadata.tflite")
	if err := tflite.WriteFile(bare, g); err != nil {
		t.Fatal(err)
	}
	model = bare
	acc, stdout, out := compare("--mean", "127.5", "--std", "127.5")
	if acc != 0 || !strings.Contains(stdout, "class order") || !strings.Contains(stdout, "background class first") {
		t.Fatalf("ids without names: accuracy %.3f\n%s", acc, stdout)
	}
	if acc, stdout, _ := compare("--mean", "127.5", "--std", "127.5", "--labels", filepath.Join(out, "suggested-labels.yaml")); acc != 1 {
		t.Fatalf("with suggested-labels.yaml: accuracy %.3f\n%s", acc, stdout)
	}
}
