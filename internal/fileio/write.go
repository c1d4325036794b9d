package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// Files and folders are created with modes 0666 and 0777 and the process's
// umask applied by the kernel, as every other tool creates them (0644 and
// 0755 under the usual umask 022). os.CreateTemp and os.MkdirTemp use 0600
// and 0700 instead, which left models written through a temporary file
// unreadable to anyone else; CreateTemp and MkdirTemp here do not.
const (
	fileMode = 0o666
	dirMode  = 0o777
)

// tempSeq makes temporary names unique within the process; the time and pid
// make them unique across processes (O_EXCL/Mkdir catch the rest).
var tempSeq atomic.Uint64

func tempName(dir, prefix string) string {
	n := tempSeq.Add(1)
	suffix := strconv.FormatUint(uint64(time.Now().UnixNano())^uint64(os.Getpid())<<32+n, 36)
	return filepath.Join(dir, prefix+suffix)
}

// CreateTemp creates a new file named prefix plus a unique suffix in dir,
// with mode 0666 minus the umask (unlike os.CreateTemp's 0600).
func CreateTemp(dir, prefix string) (*os.File, error) {
	for range 1000 {
		f, err := os.OpenFile(tempName(dir, prefix), os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("%s: no unused temporary name for %s*", dir, prefix)
}

// MkdirTemp creates a new folder named prefix plus a unique suffix in dir,
// with mode 0777 minus the umask (unlike os.MkdirTemp's 0700).
func MkdirTemp(dir, prefix string) (string, error) {
	for range 1000 {
		p := tempName(dir, prefix)
		err := os.Mkdir(p, dirMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return p, err
	}
	return "", fmt.Errorf("%s: no unused temporary name for %s*", dir, prefix)
}

// WriteFile writes path atomically: fill writes a temporary file beside it,
// which is synced and renamed over path only when fill and the close
// succeed, so a failed or interrupted write never leaves a truncated file
// under the final name. The file gets mode 0666 minus the umask (an
// existing file's mode is not kept). Errors name path once.
func WriteFile(path string, fill func(w io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := CreateTemp(dir, "."+base+".tmp")
	if err != nil {
		return pathErr(path, err)
	}
	tmp := f.Name()
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return pathErr(path, err)
	}
	return nil
}

// WriteBytes writes data to path atomically (see WriteFile).
func WriteBytes(path string, data []byte) error {
	return WriteFile(path, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// Stage is an output folder being built beside its final place: a run
// writes everything into Dir, and Commit swaps the finished folder in, so an
// interrupted run (error, SIGINT, SIGKILL, power loss before the rename)
// leaves the previous complete folder, or none, never a mix of two runs.
type Stage struct {
	target string
	dir    string
	done   bool
}

// NewStage prepares to replace the folder target. A hidden sibling
// ".<name>.tmp<suffix>" receives the new contents. An existing target must
// be a folder whose entries are all ones owned(name) recognises as written
// by an earlier run (an empty folder is fine): NewStage refuses to replace a
// folder holding anything else, such as the user's own files or a folder
// given by mistake.
func NewStage(target string, owned func(name string) bool) (*Stage, error) {
	if target == "" {
		return nil, errors.New("no output folder given")
	}
	clean := filepath.Clean(target)
	if err := CheckReplaceable(clean, owned); err != nil {
		return nil, err
	}
	parent, base := filepath.Split(clean)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, dirMode); err != nil {
		return nil, pathErr(parent, unwrapPath(err))
	}
	dir, err := MkdirTemp(parent, "."+base+".tmp")
	if err != nil {
		return nil, pathErr(clean, unwrapPath(err))
	}
	return &Stage{target: clean, dir: dir}, nil
}

// CheckReplaceable reports whether NewStage would accept target (a missing
// target is fine). It refuses a file, a folder with entries owned does not
// recognise, and the current folder or a file-system root (which cannot be
// renamed). Commands call it before long work, so a wrong --out fails at
// once.
func CheckReplaceable(target string, owned func(string) bool) error {
	st, err := os.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return pathErr(target, unwrapPath(err))
	}
	if !st.IsDir() {
		return &Error{target, fmt.Errorf("exists and is a %s, not a folder", Kind(st.Mode()))}
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return pathErr(target, err)
	}
	if wd, err := os.Getwd(); err == nil && (abs == wd || isAncestor(abs, wd)) {
		return &Error{target, errors.New("is the current folder or holds it; give a folder of its own")}
	}
	if filepath.Dir(abs) == abs {
		return &Error{target, errors.New("is a file-system root; give a folder of its own")}
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return pathErr(target, unwrapPath(err))
	}
	for _, e := range entries {
		if owned == nil || !owned(e.Name()) {
			return &Error{target, fmt.Errorf("holds %q, which qbench did not write there; refusing to replace the folder (give a new or empty one)", e.Name())}
		}
	}
	return nil
}

func isAncestor(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !filepath.IsAbs(rel) && !startsWithDotDot(rel)
}

func startsWithDotDot(rel string) bool {
	return len(rel) >= 3 && rel[:2] == ".." && os.IsPathSeparator(rel[2])
}

// Dir is the folder to write into; its files reach Target at Commit.
func (s *Stage) Dir() string { return s.dir }

// Target is the final folder.
func (s *Stage) Target() string { return s.target }

// Final maps a path inside Dir to where it will be after Commit, for
// records (reports, logs) that name files by their final path.
func (s *Stage) Final(p string) string {
	rel, err := filepath.Rel(s.dir, p)
	if err != nil || rel == ".." || startsWithDotDot(rel) {
		return p
	}
	return filepath.Join(s.target, rel)
}

// Commit puts the staged folder in place of the target: the old folder is
// renamed aside, the new one renamed in, and the old one removed. Each step
// is one rename, so at every instant the target is the old complete folder,
// the new complete folder, or (between the two renames) absent. If the
// second rename fails the old folder is put back.
func (s *Stage) Commit() error {
	if s.done {
		return errors.New("stage already committed or aborted")
	}
	s.done = true
	// The old folder may have changed since NewStage (another run).
	if err := CheckReplaceable(s.target, func(string) bool { return true }); err != nil {
		os.RemoveAll(s.dir)
		return err
	}
	old := s.dir + ".old"
	hadOld := true
	if err := os.Rename(s.target, old); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(s.dir)
			return pathErr(s.target, unwrapPath(err))
		}
		hadOld = false
	}
	if err := os.Rename(s.dir, s.target); err != nil {
		if hadOld {
			_ = os.Rename(old, s.target)
		}
		os.RemoveAll(s.dir)
		return pathErr(s.target, unwrapPath(err))
	}
	if hadOld {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("%s is in place; removing the previous folder (now %s): %w", s.target, old, unwrapPath(err))
		}
	}
	return nil
}

// Abort removes the staged folder; the target is untouched. It does nothing
// after Commit, so `defer s.Abort()` is safe.
func (s *Stage) Abort() {
	if s.done {
		return
	}
	s.done = true
	os.RemoveAll(s.dir)
}

// unwrapPath drops the operation and path of *fs.PathError and
// *os.LinkError, leaving the system's reason.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
