package main

import (
	"strings"
	"testing"
)

// Bad flag values are refused at once — exit 2, one line naming the flag —
// before any model or image is read (the paths here do not exist, so a
// check that ran late would fail with exit 1 on the missing file instead).
func TestFlagsValidatedBeforeWork(t *testing.T) {
	q := []string{"quantize", "--model", "missing.tflite", "--calib", "missing-dir", "--out", "o.tflite"}
	tr := []string{"train", "--data", "missing-dir", "--out", "o.tflite"}
	ex := []string{"explain", "--model", "missing.tflite", "--quant", "missing.tflite", "--data", "missing-dir", "--out", "ex"}
	cases := []struct {
		args []string
		want string
	}{
		{append(q, "--mode", "16x8", "--io", "uint8"), "io type uint8"},
		{append(q, "--io", "int16"), "io type int16"},
		{append(q, "--method", "percentile", "--percentile", "150"), "percentile 150"},
		{append(q, "--percentile", "99.9"), "--percentile applies only to --method percentile"},
		{append(q, "--method", "kl", "--percentile", "99.9"), "--percentile applies only"},
		{append(tr, "--lr", "-1"), "--lr must be positive"},
		{append(tr, "--lr", "0"), "--lr must be positive"},
		{append(tr, "--augment", "shift=9"), "shift 9 out of range"},
		{append(tr, "--augment", "rotate=400"), "rotate 400 out of range"},
		{append(tr, "--batch", "0"), "--batch must be positive"},
		{append(tr, "--limit", "-1"), "--limit"},
		{append(q, "--threads", "0"), "--threads must be >= 1"},
		{[]string{"inspect", "missing.tflite", "--threads", "-3"}, "--threads must be >= 1, got -3"},
		{[]string{"run", "missing.tflite", "--input", "a", "--output", "a", "--out", "b"}, "alias"},
		{append(ex, "--layer-samples", "-1"), "--layer-samples"},
		{append(ex, "--calib-samples", "0"), "--calib-samples"},
	}
	for _, c := range cases {
		code, out, errOut := run(t, c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%q)", c.args, code, errOut)
			continue
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, errOut, c.want)
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || out != "" {
			t.Errorf("%v: not one line on stderr / stdout not empty: %q %q", c.args, errOut, out)
		}
	}
}
