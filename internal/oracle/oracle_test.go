package oracle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
)

func TestFindMissingDirSaysHowToInstall(t *testing.T) {
	t.Setenv(EnvDir, filepath.Join(t.TempDir(), "nowhere"))
	_, err := Find()
	if err == nil || !strings.Contains(err.Error(), "install-oracle.sh") {
		t.Fatalf("err = %v, want a hint naming install-oracle.sh", err)
	}
}

func TestRunHelloWorld(t *testing.T) {
	r, err := Find()
	if err != nil {
		t.Skip(err)
	}
	model := filepath.Join(sharedDir(t), "reference", "tflite-micro", "models", "hello_world", "hello_world_int8.tflite")
	// Two int8 samples → two int8 outputs.
	out, err := r.Run(model, []byte{0, 0x80})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("%d output bytes, want 2", len(out))
	}
	// Zero input (the default) equals sample 0 of the explicit run.
	zero, err := r.Run(model, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(zero) != 1 || zero[0] != out[0] {
		t.Fatalf("zero-input output %v, want [%d]", zero, out[0])
	}
}

func TestRunRejectsGarbage(t *testing.T) {
	r, err := Find()
	if err != nil {
		t.Skip(err)
	}
	p := filepath.Join(t.TempDir(), "bad.tflite")
	if err := os.WriteFile(p, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(p, nil); err == nil || !strings.Contains(err.Error(), "bad.tflite") {
		t.Fatalf("err = %v, want an error naming the model", err)
	}
}

// sharedDir finds ../shared (see package testshared) or skips the test.
func sharedDir(t *testing.T) string { return testshared.Dir(t) }
