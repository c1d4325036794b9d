package tflite

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/qbench/qbench/graph"
)

// TFLite packs a model's associated files (label lists, vocabularies) as a
// zip archive appended after the FlatBuffer; the FlatBuffer never points at
// it, and the archive's own offsets count from the start of the file (the
// metadata populator appends to the model file), which archive/zip accepts
// as a zip with a prefix.

// Bounds on what an archive may make the reader decode. The label file of a
// 1001-class ImageNet model is 21 KB and a BERT vocabulary under 1 MB; the
// limits leave room for that many times over while keeping a small hostile
// file (a deflate bomb, a directory of millions of entries) from costing
// more than a bounded amount of memory.
const (
	maxAssocFiles     = 1024
	maxAssocFileBytes = 64 << 20
	maxAssocTotal     = 256 << 20
)

// ErrNoArchive reports that a file has no associated-files zip appended.
var ErrNoArchive = errors.New("no associated-files archive")

// ReadAssociatedFiles returns the files of the zip archive appended to a
// model file, in archive order. It returns an error wrapping ErrNoArchive
// when there is none and ErrCorrupt when the archive is damaged (bad
// directory, checksum, sizes) or exceeds the reader's bounds.
func ReadAssociatedFiles(file []byte) ([]graph.AssociatedFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if errors.Is(err, zip.ErrInsecurePath) {
		// Names such as "../x" are only ever matched against the metadata,
		// never used as paths, so they are harmless here.
		err = nil
	}
	if err != nil {
		if errors.Is(err, zip.ErrFormat) && !bytes.Contains(tail(file, 1<<16+22), []byte("PK\x05\x06")) {
			return nil, ErrNoArchive
		}
		return nil, fmt.Errorf("%w: associated-files zip: %w", ErrCorrupt, err)
	}
	if len(zr.File) > maxAssocFiles {
		return nil, fmt.Errorf("%w: associated-files zip has %d entries (at most %d)", ErrCorrupt, len(zr.File), maxAssocFiles)
	}
	budget := int64(16*len(file) + 1<<20)
	if budget > maxAssocTotal {
		budget = maxAssocTotal
	}
	var out []graph.AssociatedFile
	seen := map[string]bool{}
	for _, zf := range zr.File {
		if zf.Mode().IsDir() {
			continue
		}
		if seen[zf.Name] {
			// Metadata refers to files by name: two entries of one name
			// make the reference ambiguous.
			return nil, fmt.Errorf("%w: associated-files zip holds %q twice", ErrCorrupt, zf.Name)
		}
		seen[zf.Name] = true
		limit := min(budget, maxAssocFileBytes)
		if zf.UncompressedSize64 > uint64(limit) {
			return nil, fmt.Errorf("%w: associated file %q: %d bytes exceed the %d allowed", ErrCorrupt, zf.Name, zf.UncompressedSize64, limit)
		}
		data, err := readEntry(zf, limit)
		if err != nil {
			return nil, fmt.Errorf("%w: associated file %q: %w", ErrCorrupt, zf.Name, err)
		}
		budget -= int64(len(data))
		out = append(out, graph.AssociatedFile{Name: zf.Name, Data: data})
	}
	return out, nil
}

// readEntry reads one entry, failing once it yields more than limit bytes
// whatever its header claims.
func readEntry(zf *zip.File, limit int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(min(int64(zf.UncompressedSize64), limit)))
	n, err := io.Copy(&buf, io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("decompresses to more than %d bytes", limit)
	}
	return buf.Bytes(), nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// packAssociatedFiles returns files as a zip archive to append to a model of
// modelLen bytes, offsets counted from the start of the model as TFLite's
// metadata populator writes them. Entries are stored uncompressed (as the
// populator does, so readers can map them in place) with a fixed time, so
// equal inputs give equal bytes.
func packAssociatedFiles(files []graph.AssociatedFile, modelLen int) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.SetOffset(int64(modelLen))
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.Name] {
			return nil, fmt.Errorf("associated file %q appears twice", f.Name)
		}
		seen[f.Name] = true
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			return nil, fmt.Errorf("associated file %q: %w", f.Name, err)
		}
		if _, err := w.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
