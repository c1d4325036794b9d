package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/interp"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"512MB", 512e6}, {"2GiB", 2 << 30}, {"2gib", 2 << 30}, {"1048576", 1 << 20}, {"1.5 GiB", 3 << 29},
		{"64k", 64 << 10}, {"3M", 3 << 20}, {"10kb", 10e3}, {" 7B ", 7}, {"1e3", 1000},
	} {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "MB", "-1GB", "0", "0.5B", "12XB", "inf", "NaN", "0x10", "1_000", "1e30GiB", "2 GiB GiB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		} else if !strings.Contains(err.Error(), "size") {
			t.Errorf("parseSize(%q): error %q does not say what it wanted", in, err)
		}
	}
	if s := (&arenaFlag{}).String(); s != formatSize(interp.DefaultMaxArenaBytes) || s != "2GiB" {
		t.Errorf("default shown as %q", s)
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512MB", "2GiB", "1.5 g", "1e3kb", "-0", "9e18", "1_0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err == nil && n < 1 {
			t.Fatalf("parseSize(%q) = %d without an error", s, n)
		}
		if err == nil {
			// What formatSize writes reads back as the same size.
			if m, err := parseSize(formatSize(n)); err != nil || m != n {
				t.Fatalf("formatSize(%d) = %q reads back as %d, %v", n, formatSize(n), m, err)
			}
		}
	})
}

// --max-arena reaches the compiler of every command that runs models: a
// budget below the tiny model's activations refuses it naming the budget,
// a large one runs it, and a malformed size is a usage error.
func TestMaxArenaFlag(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	tinyDataset(t, data)
	model := filepath.Join(dir, "float.tflite")
	tinyModel(t, model)
	imgs, _ := filepath.Glob(filepath.Join(data, "a", "*"))
	if len(imgs) == 0 {
		t.Fatal("tinyDataset wrote no images")
	}
	q := filepath.Join(dir, "int8.tflite")
	if code, _, errOut := run(t, "quantize", "-q", "--model", model, "--calib", data, "--out", q, "--calib-samples", "8"); code != 0 {
		t.Fatalf("quantize exit %d: %s", code, errOut)
	}
	cmds := map[string][]string{
		"run":     {"run", "-q", model, "--image", imgs[0]},
		"compare": {"compare", "-q", "--model", model, "--model", q, "--data", data, "--out", filepath.Join(dir, "r"), "--top-k", "1"},
		"explain": {"explain", "-q", "--model", model, "--quant", q, "--data", data, "--out", filepath.Join(dir, "ex"), "--samples", "8", "--target-drop", "-1"},
		"bench":   {"bench", "-q", model, "--seconds", "0.02", "--threads", "1"},
	}
	for name, args := range cmds {
		code, _, errOut := run(t, append(args, "--max-arena", "1KiB")...)
		if code == 0 || !strings.Contains(errOut, "arena budget of 1024 bytes") {
			t.Errorf("%s --max-arena 1KiB: exit %d, stderr:\n%s", name, code, errOut)
		}
		if code, _, errOut := run(t, append(args, "--max-arena", "1MiB")...); code != 0 {
			t.Errorf("%s --max-arena 1MiB: exit %d, stderr:\n%s", name, code, errOut)
		}
	}
	code, _, errOut := run(t, append(cmds["run"], "--max-arena", "12XB")...)
	if code == 0 || !strings.Contains(errOut, `"12XB"`) || !strings.Contains(errOut, "such as 512MB") {
		t.Errorf("--max-arena 12XB: exit %d, stderr:\n%s", code, errOut)
	}
}
