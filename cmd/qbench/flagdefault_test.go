package main

import (
	"strings"
	"testing"
)

// Help states each default once, in words where the value depends on the
// machine or the optimizer.
func TestHelpDefaultsOnce(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"train", "--help"}} {
		_, out, _ := run(t, args...)
		for _, line := range strings.Split(out, "\n") {
			if strings.Count(line, "(default") > 1 || strings.Contains(line, "(default -1)") {
				t.Errorf("qbench %s: %q", strings.Join(args, " "), line)
			}
		}
		if args[0] == "--help" && !strings.Contains(out, "worker threads (default all cores)") {
			t.Errorf("--threads help:\n%s", out)
		}
	}
	code, _, errOut := run(t, "inspect", "missing.tflite", "--threads", "two")
	if code == 0 || !strings.Contains(errOut, `invalid argument "two" for "--threads"`) {
		t.Errorf("--threads two: exit %d, %q", code, errOut)
	}
}
