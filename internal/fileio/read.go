// Package fileio reads input files without trusting their type or size, and
// writes output files and folders so that an interrupted run never leaves a
// half-written one behind.
//
// Readers stat a path before opening it: a named pipe, device or socket is
// refused without being opened (opening a FIFO blocks until a writer
// appears), and a file above the caller's size limit is refused before any
// byte is read. Errors name the path once.
package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by errors for paths that are not regular files
// (named pipes, devices, sockets, directories).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by errors for files above the caller's size limit.
var ErrTooLarge = errors.New("file too large")

// Kind names a file mode's type for messages: "named pipe", "socket",
// "character device", "device", "directory", "symbolic link", "irregular
// file", or "regular file".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "irregular file"
}

// Check stats path (following symbolic links) and returns its size. It
// fails, without opening the file, when path is not a regular file or is
// larger than limit bytes (limit <= 0: no limit).
func Check(path string, limit int64) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, pathErr(path, err)
	}
	return st.Size(), checkInfo(path, st, limit)
}

func checkInfo(path string, st fs.FileInfo, limit int64) error {
	if !st.Mode().IsRegular() {
		return &Error{path, fmt.Errorf("%w (%s)", ErrNotRegular, Kind(st.Mode()))}
	}
	if limit > 0 && st.Size() > limit {
		return &Error{path, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, st.Size(), limit)}
	}
	return nil
}

// Open opens a regular file of at most limit bytes for reading (see Check).
// The open itself does not block even if the path was swapped for a named
// pipe after the check, and the opened file is checked again.
func Open(path string, limit int64) (*os.File, error) {
	if _, err := Check(path, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, pathErr(path, err)
	}
	st, err := f.Stat()
	if err == nil {
		err = checkInfo(path, st, limit)
	} else {
		err = pathErr(path, err)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads a whole regular file of at most limit bytes (see Check).
// A file that grows past limit while being read is refused too.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, pathErr(path, err)
	}
	r := io.Reader(f)
	if limit > 0 {
		r = io.LimitReader(f, limit+1)
	}
	b := make([]byte, 0, st.Size()+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, pathErr(path, err)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	if limit > 0 && int64(len(b)) > limit {
		return nil, &Error{path, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)}
	}
	return b, nil
}

// Error is the error of every reader here: "<path>: <reason>", the path
// named once. A caller that names the path itself reports Err alone.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the reason, so errors.Is sees ErrNotRegular, ErrTooLarge
// or fs.ErrNotExist.
func (e *Error) Unwrap() error { return e.Err }

// pathErr names path once: an *fs.PathError already carries it (with the
// operation, e.g. "open x: permission denied"), which becomes "x: permission
// denied".
func pathErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &Error{path, pe.Err}
	}
	return &Error{path, err}
}
