package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDir finds ../shared beside the module root, or skips the test.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("../shared not found: no go.mod above the test directory")
		}
		dir = parent
	}
	s := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(s); err != nil {
		t.Skip("../shared not found: ", err)
	}
	return s
}

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
