package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/tflite"
	"github.com/qbench/qbench/train"
)

// writeColourClasses writes a tiny class-folder dataset: class k's images
// are mostly one colour, with a little per-image variation.
func writeColourClasses(t *testing.T, dir string, perClass int) {
	t.Helper()
	cols := []color.RGBA{{200, 30, 30, 255}, {30, 200, 30, 255}, {30, 30, 200, 255}}
	for k, c := range cols {
		d := filepath.Join(dir, []string{"red", "green", "blue"}[k])
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			img := image.NewRGBA(image.Rect(0, 0, 20, 20))
			for y := range 20 {
				for x := range 20 {
					v := uint8((x*7 + y*3 + i*11) % 40)
					img.SetRGBA(x, y, color.RGBA{c.R + v, c.G + v, c.B + v, 255})
				}
			}
			f, err := os.Create(filepath.Join(d, "img"+string(rune('a'+i))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeColourClasses(t, data, 8)
	out := filepath.Join(dir, "m.tflite")
	code, stdout, stderr := run(t, "train", "-q", "--data", data, "--input", "16", "--filters", "4,8", "--dense", "8",
		"--epochs", "3", "--batch", "8", "--lr", "0.01", "--val-fraction", "0.25", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		BestEpoch int      `json:"best_epoch"`
		BestVal   *float64 `json:"best_val_accuracy"`
		Train     int      `json:"train_images"`
		Val       int      `json:"val_images"`
		History   []any    `json:"history"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if len(res.History) != 3 || res.BestVal == nil || res.Train+res.Val != 24 || res.Val == 0 {
		t.Fatalf("result %+v", res)
	}
	g, err := tflite.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	spec, ok, err := dataset.SpecFromGraph(g)
	if err != nil || !ok || spec.Height != 16 || spec.Width != 16 || spec.Offset != -1 {
		t.Fatalf("stored spec %+v ok=%v err=%v", spec, ok, err)
	}
	m, err := train.LoadFromGraph(g)
	if err != nil || m.Arch.Classes != 3 {
		t.Fatalf("written model: %v", err)
	}
	// Resume from the written model for one more epoch, plain-text summary.
	out2 := filepath.Join(dir, "m2.tflite")
	code, stdout, stderr = run(t, "train", "-q", "--data", data, "--resume", out, "--epochs", "1", "--batch", "8",
		"--augment", "none", "--out", out2)
	if code != 0 || !strings.Contains(stdout, "best       epoch 1") || !strings.Contains(stdout, "c4-8 d8 k3") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestTrainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train", "--out", "x.tflite"},
		{"train", "--data", "d"},
		{"train", "--data", "d", "--out", "x", "--epochs", "0"},
		{"train", "--data", "d", "--out", "x", "--val", "v", "--split", "s"},
		{"train", "--data", "d", "--out", "x", "--augment", "zoom=2"},
		{"train", "--data", "d", "--out", "x", "--optimizer", "rmsprop"},
		{"train", "--data", "d", "--out", "x", "--filters", "a,b"},
		{"train", "--data", "d", "--out", "x", "--val-fraction", "1.5"},
	} {
		if code, _, stderr := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
	if code, _, stderr := run(t, "train", "--data", "/nonexistent/qbench", "--out", "x.tflite"); code != 1 || !strings.HasPrefix(stderr, "qbench: train: ") {
		t.Errorf("missing data: exit %d %q", code, stderr)
	}
}

// TestTrainRoles: on a dataset whose label map has train and verification
// splits, train trains and validates inside "train" only and names
// "verification" as the held-out test split; --split verification makes it
// the validation split, so nothing is held out and the output says so.
func TestTrainRoles(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "gen")
	if code, _, stderr := run(t, "gen-data", "-q", "--out", data, "--recordings", "3", "--per-class", "4", "--size", "16"); code != 0 {
		t.Fatalf("gen-data: %s", stderr)
	}
	common := []string{"train", "-q", "--data", data, "--input", "16", "--filters", "4", "--dense", "8", "--epochs", "1",
		"--augment", "none", "--out", filepath.Join(dir, "m.tflite")}
	code, stdout, stderr := run(t, append(common, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Train, Val int
		Held       []string
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	res.Train, res.Val = int(raw["train_images"].(float64)), int(raw["val_images"].(float64))
	for _, h := range raw["held_out_splits"].([]any) {
		res.Held = append(res.Held, h.(string))
	}
	// 2 training recordings × 30 classes × 4 images; rec3 is held out.
	if res.Train+res.Val != 240 || res.Val == 0 || len(res.Held) != 1 || res.Held[0] != "verification" {
		t.Fatalf("roles: %s", stdout)
	}
	// compare, explain and quantize say what each split is to the model.
	model := filepath.Join(dir, "m.tflite")
	code, _, stderr = run(t, "compare", "-q", "--model", model, "--data", data, "--split", "verification", "--split", "train",
		"--out", filepath.Join(dir, "rep"))
	if code != 0 || !strings.Contains(stderr, "note: split verification for m.tflite: test data: none of its 120 images") ||
		!strings.Contains(stderr, "warning: split train for m.tflite: not test data: all 240 images trained or validated the model") {
		t.Errorf("compare roles: exit %d\n%s", code, stderr)
	}
	// report.json and report.md carry the same notes per split.
	var rep struct {
		Splits []struct {
			Name  string `json:"name"`
			Roles []struct {
				Model   string `json:"model"`
				Note    string `json:"note"`
				Warning bool   `json:"warning"`
			} `json:"roles"`
		} `json:"splits"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "rep", "report.json"))
	if err == nil {
		err = json.Unmarshal(b, &rep)
	}
	if err != nil || len(rep.Splits) != 2 || len(rep.Splits[0].Roles) != 1 || len(rep.Splits[1].Roles) != 1 ||
		rep.Splits[0].Roles[0].Model != "m" || rep.Splits[0].Roles[0].Warning || !strings.HasPrefix(rep.Splits[0].Roles[0].Note, "test data: none of its 120 images") ||
		!rep.Splits[1].Roles[0].Warning || !strings.HasPrefix(rep.Splits[1].Roles[0].Note, "not test data: all 240 images") {
		t.Errorf("report.json roles: %v\n%+v", err, rep.Splits)
	}
	md, err := os.ReadFile(filepath.Join(dir, "rep", "report.md"))
	if err != nil || !strings.Contains(string(md), "- split verification, m: test data: none of its 120 images") ||
		!strings.Contains(string(md), "- split train, m: **warning:** not test data: all 240 images") {
		t.Errorf("report.md roles: %v\n%s", err, md)
	}
	// A merge of shards, which reads the roles from the model file, writes the same report.json.
	for _, sh := range []string{"1/2", "2/2"} {
		if code, _, stderr := run(t, "compare", "-q", "--model", model, "--data", data, "--split", "verification", "--split", "train",
			"--shard", sh, "--out", filepath.Join(dir, "parts")); code != 0 {
			t.Fatalf("compare --shard %s: exit %d: %s", sh, code, stderr)
		}
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "parts", "*.qbpart"))
	if code, _, stderr := run(t, append(append([]string{"merge", "-q"}, parts...), "--out", filepath.Join(dir, "merged"))...); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	if mb, err := os.ReadFile(filepath.Join(dir, "merged", "report.json")); err != nil || string(mb) != string(b) {
		t.Errorf("merged report.json differs from the single run's (%v)", err)
	}
	code, _, stderr = run(t, "quantize", "-q", "--model", model, "--calib", data, "--split", "verification", "--out", filepath.Join(dir, "q.tflite"))
	if code != 0 || !strings.Contains(stderr, "warning: calibration data for m.tflite: 120 of the 120 calibration images did not train or validate the model") {
		t.Errorf("quantize roles: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr = run(t, append(common, "--split", "verification")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`train      240 images: split "train"`, `validation 120 images: split "verification"`, "test       none held out"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr = run(t, append(common, "--train-split", "train", "--split", "train")...); code != 2 || !strings.Contains(stderr, "also the training split") {
		t.Errorf("same split for both roles: exit %d, %s", code, stderr)
	}
}
