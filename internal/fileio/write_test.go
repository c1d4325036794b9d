//go:build unix

package fileio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// withUmask runs the test body under umask m (process-wide, so these tests
// do not run in parallel).
func withUmask(t *testing.T, m int) {
	old := syscall.Umask(m)
	t.Cleanup(func() { syscall.Umask(old) })
}

func names(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestWriteFileModeAndAtomicity(t *testing.T) {
	withUmask(t, 0o022)
	dir := t.TempDir()
	p := filepath.Join(dir, "m.tflite")
	if err := WriteBytes(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, p); m != 0o644 {
		t.Errorf("mode %v under umask 022, want 0644", m)
	}
	f, err := CreateTemp(dir, "x.tmp")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if m := mode(t, f.Name()); m != 0o644 {
		t.Errorf("CreateTemp mode %v, want 0644", m)
	}
	os.Remove(f.Name())
	// A failing fill leaves the old file and no temporary behind.
	boom := errors.New("boom")
	err = WriteFile(p, func(w io.Writer) error { w.Write([]byte("tw")); return boom })
	if !errors.Is(err, boom) || strings.Count(err.Error(), p) != 1 {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("old content replaced by %q", b)
	}
	if got := names(t, dir); got != "m.tflite" {
		t.Errorf("folder holds %s", got)
	}
	withUmask(t, 0o077)
	if err := WriteBytes(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, p); m != 0o600 {
		t.Errorf("mode %v under umask 077, want 0600", m)
	}
}

func TestStageReplacesFolder(t *testing.T) {
	withUmask(t, 0o022)
	root := t.TempDir()
	target := filepath.Join(root, "rep")
	owned := func(n string) bool { return n == "a" || n == "b" || n == "sub" }
	write := func(st *Stage, files ...string) {
		for _, f := range files {
			if err := WriteBytes(filepath.Join(st.Dir(), f), []byte(f+"-"+filepath.Base(st.Dir()))); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := NewStage(target, owned)
	if err != nil {
		t.Fatal(err)
	}
	write(st, "a", "b")
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("target exists before Commit: %v", err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, target); got != "a,b" {
		t.Fatalf("target holds %s", got)
	}
	if m := mode(t, target); m != 0o755 {
		t.Errorf("folder mode %v under umask 022, want 0755", m)
	}
	if got := names(t, root); got != "rep" {
		t.Errorf("parent holds %s: staging folders left behind", got)
	}
	// A second run writing only a: b of the first run must be gone.
	st, err = NewStage(target, owned)
	if err != nil {
		t.Fatal(err)
	}
	write(st, "a")
	if got := names(t, target); got != "a,b" {
		t.Fatalf("target changed before Commit: %s", got)
	}
	if st.Final(filepath.Join(st.Dir(), "a")) != filepath.Join(target, "a") {
		t.Errorf("Final = %s", st.Final(filepath.Join(st.Dir(), "a")))
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, target); got != "a" {
		t.Fatalf("after the second run the target holds %s, want a", got)
	}
	// Abort keeps the old folder as it was.
	st, err = NewStage(target, owned)
	if err != nil {
		t.Fatal(err)
	}
	write(st, "b")
	st.Abort()
	st.Abort()
	if got := names(t, target); got != "a" {
		t.Fatalf("after Abort the target holds %s", got)
	}
	if got := names(t, root); got != "rep" {
		t.Errorf("parent holds %s after Abort", got)
	}
}

func TestStageRefusesForeignFolders(t *testing.T) {
	root := t.TempDir()
	owned := func(n string) bool { return n == "report.json" }
	user := filepath.Join(root, "mine")
	if err := os.MkdirAll(user, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(user, "report.json"), nil, 0o644)
	os.WriteFile(filepath.Join(user, "thesis.tex"), nil, 0o644)
	if _, err := NewStage(user, owned); err == nil || !strings.Contains(err.Error(), "thesis.tex") {
		t.Errorf("folder with a foreign file: err = %v", err)
	}
	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewStage(file, owned); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("file target: err = %v", err)
	}
	wd, _ := os.Getwd()
	if _, err := NewStage(wd, func(string) bool { return true }); err == nil || !strings.Contains(err.Error(), "current folder") {
		t.Errorf("current folder: err = %v", err)
	}
	if _, err := NewStage(filepath.Dir(wd), func(string) bool { return true }); err == nil {
		t.Errorf("a parent of the current folder was accepted")
	}
	if got := names(t, root); got != "file,mine" {
		t.Errorf("refusals left %s", got)
	}
}
