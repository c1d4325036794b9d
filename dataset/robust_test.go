package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes fn allocates on the heap.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A PNG header claiming 60000x60000 (10.8 GB of RGB) must be refused from
// the header alone, before any pixel memory is allocated.
func TestDecodeImageRefusesHugeHeaderBeforeAllocating(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"png 60000x60000", pngHeader(60000, 60000)},
		{"png 1x2^30", pngHeader(1, 1<<30)},
		{"png 2^31-1 square", pngHeader(1<<31-1, 1<<31-1)},
		{"ppm 16777216x16777216", []byte("P6 16777216 16777216 255\n")},
	} {
		var err error
		n := allocated(func() { _, _, err = DecodeImage(tc.data, 0) })
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", tc.name, err)
		}
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", tc.name, n)
		}
	}
}

// Regression (found by reading for FuzzParseAnnotationCSV): a CSV ClassId
// of 2000000000 in a flat annotated folder made Open allocate one class
// name per id up to it — 32 GB — before reporting anything.
func TestHugeClassIDRefused(t *testing.T) {
	ann := annotations{exact: map[string]annotation{}, weak: map[string]*annotation{}}
	err := parseAnnotationCSV([]byte("file,ClassId\na.png,2000000000\n"), "", "", ann)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "2000000000") {
		t.Fatalf("err = %v, want a line-2 error naming the id", err)
	}
	if err := parseAnnotationCSV([]byte("file,ClassId\na.png,65535\n"), "", "", ann); err != nil {
		t.Fatalf("largest allowed id refused: %v", err)
	}

	root := t.TempDir()
	writePNG(t, filepath.Join(root, "a.png"), 2, 2, 1)
	writeFile(t, filepath.Join(root, "gt.csv"), "Filename;ClassId\na.png;2000000000\n")
	var d *Dataset
	n := allocated(func() { d, err = Open(root, OpenOptions{}) })
	if !errors.Is(err, ErrNoImages) {
		t.Fatalf("Open: %v, want ErrNoImages (the only image has a bad annotation)", err)
	}
	if n > 64<<20 {
		t.Fatalf("Open allocated %d bytes", n)
	}
	_ = d
}

// Open must take folder and file names with spaces, unicode, shell and CSV
// metacharacters, leading dashes, numbers with leading zeros and very long
// names as they are, skip hidden entries, and never panic.
func TestOpenWeirdNames(t *testing.T) {
	root := t.TempDir()
	folders := []string{
		"stop sign", "ünïcødé 标志", "-rf", "a;b,c", "with\nnewline", "'quoted\"", "00", "0",
		strings.Repeat("x", 200), "%s%d", "..dots",
	}
	for i, f := range folders {
		writePNG(t, filepath.Join(root, f, "img 1.PNG"), 2, 2, uint8(i))
		writePNG(t, filepath.Join(root, f, strings.Repeat("y", 200)+".png"), 2, 2, uint8(i+100))
	}
	writePNG(t, filepath.Join(root, ".hidden", "h.png"), 2, 2, 7)
	writePNG(t, filepath.Join(root, "stop sign", ".h.png"), 2, 2, 8)
	if err := os.Mkdir(filepath.Join(root, "empty.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A dangling symlink is a problem found while scanning, not a sample.
	if err := os.Symlink(filepath.Join(root, "nowhere.png"), filepath.Join(root, "0", "dangling.png")); err != nil {
		t.Fatal(err)
	}
	d, err := Open(root, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// "..dots" is hidden (leading dot) and empty.png holds no image.
	if got, want := len(d.Classes), len(folders)-1; got != want {
		t.Fatalf("%d classes %q, want %d", got, d.Classes, want)
	}
	if got, want := d.Len(), 2*(len(folders)-1); got != want {
		t.Fatalf("%d samples, want %d", got, want)
	}
	if !hasProblem(d, "unreadable", "broken symbolic link") {
		t.Errorf("dangling link not listed: %v", d.Problems)
	}
	for _, s := range d.Samples {
		if strings.Contains(s.Path, ".h") && strings.HasSuffix(s.Path, ".png") && strings.Contains(filepath.Base(s.Path), ".h.png") {
			t.Fatalf("hidden file %s used", s.Path)
		}
		if strings.Contains(s.Path, ".hidden") {
			t.Fatalf("hidden folder %s used", s.Path)
		}
		if d.Classes[s.Label] != s.Folder {
			t.Fatalf("%s: label %d (%q), folder %q", s.Path, s.Label, d.Classes[s.Label], s.Folder)
		}
	}
	// "0" and "00" are distinct classes, each keeping its own images.
	counts := d.ClassCounts()
	for c, name := range d.Classes {
		if counts[c] != 2 {
			t.Errorf("class %q has %d images", name, counts[c])
		}
	}
	// A label map that is a directory fails with its path, not a panic.
	if err := os.Mkdir(filepath.Join(root, "labels.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root, OpenOptions{}); err == nil || !strings.Contains(err.Error(), "labels.yaml") {
		t.Fatalf("directory label map: %v", err)
	}
}

// Errors from a labels.txt name the file (a duplicate class came back
// without it), and the line of an empty name.
func TestLabelsTxtErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]string{
		"stop\nyield\nstop\n":      `labels.txt: invalid label map: class "stop" listed twice (ids 0 and 2)`,
		"stop\n\nyield\n":          `labels.txt:2: invalid label map: empty class name`,
		"\n\n":                     `labels.txt: invalid label map: no classes`,
		strings.Repeat("x", 70000): `labels.txt: bufio.Scanner: token too long`,
	} {
		p := filepath.Join(dir, "labels.txt")
		writeFile(t, p, text)
		_, err := ReadLabelMap(p)
		if err == nil || !strings.HasSuffix(err.Error(), want) || !strings.HasPrefix(err.Error(), dir) {
			t.Errorf("%.20q: err = %v, want %s", text, err, want)
		}
	}
}
