//go:build unix

package dataset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qbench/qbench/internal/fileio"
)

// noHang fails the test when f does not return within a few seconds:
// opening a named pipe for reading blocks until a writer appears.
func noHang(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s hung on a special file", what)
	}
}

// specialDataset writes two classes of real images plus, in class a, a
// named pipe called x.png and a link to it, and in class b a sparse 1 TiB
// file called huge.png. It returns the root and the pipe's path.
func specialDataset(t *testing.T) (root, fifo, huge string) {
	t.Helper()
	root = t.TempDir()
	for i, c := range []string{"a", "b"} {
		for k := range 3 {
			writePNG(t, filepath.Join(root, c, string(rune('0'+k))+".png"), 4, 4, uint8(60+100*i))
		}
	}
	fifo = filepath.Join(root, "a", "x.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink("x.png", filepath.Join(root, "a", "link.png")); err != nil {
		t.Fatal(err)
	}
	huge = filepath.Join(root, "b", "huge.png")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 40); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	return root, fifo, huge
}

func TestOpenSkipsSpecialAndHugeFiles(t *testing.T) {
	root, fifo, huge := specialDataset(t)
	var (
		d   *Dataset
		err error
	)
	noHang(t, "Open", func() { d, err = Open(root, OpenOptions{CheckDuplicates: true}) })
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 6 {
		t.Errorf("%d samples, want the 6 real images", len(d.Samples))
	}
	if !hasProblem(d, "not-regular", "named pipe") {
		t.Errorf("the pipe is not listed as a not-regular problem: %v", d.Problems)
	}
	n := 0
	for _, p := range d.Problems {
		if p.Kind == "not-regular" {
			n++
		}
		if p.Kind == "too-large" && p.Path == huge && !strings.Contains(p.Msg, "1099511627776 bytes") {
			t.Errorf("too-large problem does not give the size: %v", p)
		}
		if strings.Contains(p.Msg, p.Path) {
			t.Errorf("problem repeats its path: %v", p)
		}
	}
	if n != 2 {
		t.Errorf("%d not-regular problems, want 2 (the pipe and the link to it): %v", n, d.Problems)
	}
	if !hasProblem(d, "too-large", "limit") {
		t.Errorf("the 1 TiB file is not listed as too large: %v", d.Problems)
	}
	var rep *InspectReport
	noHang(t, "Inspect", func() { rep, err = Inspect(context.Background(), d, StreamOptions{}) })
	if err != nil || rep.Images != 6 {
		t.Fatalf("Inspect: %v images, err %v", rep, err)
	}
	// Strict opening names the special file instead of hanging.
	noHang(t, "Open strict", func() { _, err = Open(root, OpenOptions{Strict: true}) })
	if err == nil || !strings.Contains(err.Error(), fifo) {
		t.Errorf("strict Open: err = %v, want the pipe named", err)
	}
}

// A sample list that names a pipe or a huge file (say it was swapped in
// after Open) streams the other samples and counts those as skipped.
func TestStreamRefusesSpecialAndHugeFiles(t *testing.T) {
	root, fifo, huge := specialDataset(t)
	samples := []Sample{{Path: filepath.Join(root, "a", "0.png")}, {Path: fifo}, {Path: huge}, {Path: filepath.Join(root, "b", "0.png")}}
	var (
		sum Summary
		err error
	)
	noHang(t, "Stream", func() {
		sum, err = Stream(context.Background(), samples, DefaultSpec(4, 4), StreamOptions{}, func(Item) error { return nil })
	})
	if err != nil || sum.Read != 2 || sum.Skipped != 2 {
		t.Fatalf("Stream: %+v, %v; want 2 read and 2 skipped", sum, err)
	}
	noHang(t, "Stream strict", func() {
		_, err = Stream(context.Background(), samples[1:2], DefaultSpec(4, 4), StreamOptions{Strict: true}, func(Item) error { return nil })
	})
	if !errors.Is(err, fileio.ErrNotRegular) {
		t.Fatalf("strict Stream over the pipe: %v", err)
	}
	_, _, err = ReadImageFile(huge, 0)
	if !errors.Is(err, fileio.ErrTooLarge) || strings.Count(err.Error(), huge) != 1 {
		t.Fatalf("ReadImageFile(huge) = %v, want ErrTooLarge naming the path once", err)
	}
}

// A labels.yaml that is a named pipe is an error naming it, not a hang.
func TestLabelMapPipeRefused(t *testing.T) {
	root, _, _ := specialDataset(t)
	lm := filepath.Join(root, "labels.yaml")
	if err := syscall.Mkfifo(lm, 0o644); err != nil {
		t.Skip(err)
	}
	var err error
	noHang(t, "Open", func() { _, err = Open(root, OpenOptions{}) })
	if !errors.Is(err, fileio.ErrNotRegular) || strings.Count(err.Error(), lm) != 1 {
		t.Fatalf("err = %v, want ErrNotRegular naming %s once", err, lm)
	}
}
