//go:build unix

package fileio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mkfifo makes a named pipe at p, skipping where the system has none.
func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// within fails the test when f does not return within a few seconds
// (a FIFO opened for reading blocks until a writer appears).
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("hung (blocked on a special file?)")
	}
}

func TestReadFileRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.png")
	mkfifo(t, p)
	var err error
	within(t, func() { _, err = ReadFile(p, 1<<20) })
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("err = %v, want ErrNotRegular naming a named pipe", err)
	}
	if n := strings.Count(err.Error(), p); n != 1 {
		t.Errorf("error names the path %d times: %v", n, err)
	}
}

func TestReadFileRefusesDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	var err error
	within(t, func() { _, err = ReadFile("/dev/zero", 1<<20) })
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "device") {
		t.Fatalf("err = %v, want ErrNotRegular naming a device", err)
	}
}

// A sparse file of 1 TiB is refused from its size: reading it would take
// minutes and, whole, more memory than the machine has.
func TestReadFileRefusesHugeWithoutReading(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil {
		f.Close()
		t.Skipf("sparse file: %v", err)
	}
	f.Close()
	start := time.Now()
	_, err = ReadFile(p, 512<<20)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing took %v: the file was read", d)
	}
	if n := strings.Count(err.Error(), p); n != 1 {
		t.Errorf("error names the path %d times: %v", n, err)
	}
	if !strings.Contains(err.Error(), "1099511627776 bytes") {
		t.Errorf("error does not give the size: %v", err)
	}
}

func TestReadFileRegularAndSymlink(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.bin")
	want := []byte("hello, world")
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.bin")
	if err := os.Symlink(p, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	for _, q := range []string{p, link} {
		got, err := ReadFile(q, int64(len(want)))
		if err != nil || string(got) != string(want) {
			t.Fatalf("ReadFile(%s) = %q, %v", q, got, err)
		}
	}
	if _, err := ReadFile(p, int64(len(want))-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte over the limit: err = %v", err)
	}
	_, err := ReadFile(filepath.Join(dir, "missing"), 0)
	if !errors.Is(err, os.ErrNotExist) || strings.Count(err.Error(), "missing") != 1 {
		t.Fatalf("missing file: err = %v", err)
	}
	if _, err := ReadFile(dir, 0); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("directory: err = %v", err)
	}
}
