//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// addSpecialFiles puts a named pipe called x.png and a sparse 1 TiB
// huge.png into folder class of the dataset at data.
func addSpecialFiles(t *testing.T, data, class string) {
	t.Helper()
	if err := syscall.Mkfifo(filepath.Join(data, class, "x.png"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	f, err := os.Create(filepath.Join(data, class, "huge.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 40); err != nil {
		t.Skipf("sparse file: %v", err)
	}
}

// runNoHang runs the command line and fails the test if it has not
// finished within a minute (a pipe opened for reading waits for a writer
// forever).
func runNoHang(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, stdout, stderr = run(t, args...)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%v hung on a named pipe in the dataset", args)
	}
	return code, stdout, stderr
}

// A named pipe called x.png and a 1 TiB sparse .png in a dataset are
// skipped and listed by data inspect, compare and quantize --calib; none of
// them blocks on the pipe or reads the huge file.
func TestSpecialFilesInDataset(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	tinyDataset(t, data)
	addSpecialFiles(t, data, "a")
	model := filepath.Join(dir, "float.tflite")
	tinyModel(t, model)

	code, out, errOut := runNoHang(t, "data", "inspect", data)
	if code != 0 {
		t.Fatalf("data inspect exit %d: %s", code, errOut)
	}
	for _, want := range []string{"not-regular: " + filepath.Join(data, "a", "x.png") + ": named pipe", "too-large: " + filepath.Join(data, "a", "huge.png"), "16 images"} {
		if !strings.Contains(out, want) {
			t.Errorf("data inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runNoHang(t, "quantize", "-q", "--model", model, "--calib", data, "--out", filepath.Join(dir, "int8.tflite"))
	if code != 0 || !strings.Contains(out, "calibrated on 16 images") {
		t.Fatalf("quantize exit %d: %s\n%s", code, errOut, out)
	}
	cdata, a, b := writeCompareFixture(t)
	addSpecialFiles(t, cdata, "0dark")
	code, out, errOut = runNoHang(t, "compare", "-q", "--model", a, "--model", b, "--data", cdata, "--out", filepath.Join(dir, "rep"))
	if code != 0 || !strings.Contains(out, "12 samples") {
		t.Fatalf("compare exit %d: %s\n%s", code, errOut, out)
	}
}
