package shard

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"unicode/utf8"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/report"
)

// The partial file (extension Ext), version 1, little-endian:
//
//	magic      8 bytes "QBPART\n\x00"
//	version    u32 (1)
//	header     u32 length, then that many bytes of JSON (Header)
//	per split, in the header's order:
//	  count    u32 (= Header.Splits[s].Count)
//	  count records, in increasing sample index:
//	    index  u32  position in the whole split
//	    sample u32 length + JSON of the dataset.Sample (path, label, folder, recording, track, ROI)
//	    skips  u8 count, then per skip: group u8, path and reason (u16 length + bytes each)
//	    outputs  M·K float32, model by model (compare's outputs.bin record)
//	checksum   32 bytes: SHA-256 of every byte before it
//
// The outputs are kept per sample, not as sums: float sums depend on the
// order of addition, and the merge recomputes every statistic in sample
// order over all shards, which a single run does too, so the report
// comes out bit-identical. predictions.csv needs every output vector
// anyway, so this costs no more than the prediction rows themselves.

// Ext is the partial result's file extension.
const Ext = ".qbpart"

// Format names the header's format; bump it on incompatible changes.
const Format = "qbench.partial/v1"

var magic = [8]byte{'Q', 'B', 'P', 'A', 'R', 'T', '\n', 0}

const fileVersion = 1

// Limits a reader enforces before allocating anything a corrupt file
// could make huge.
const (
	maxHeader  = 64 << 20
	maxModels  = 4096
	maxClasses = 1 << 20
	maxRecord  = 256 << 20 // M·K·4 bytes of one sample
	maxSplits  = 4096
	maxText    = math.MaxUint16
	maxSample  = 1 << 20
	maxGroups  = math.MaxUint8
)

// Header identifies the run a partial belongs to and what it holds. Two
// partials merge only when everything but Shard and the splits' Count
// is equal.
type Header struct {
	Format string `json:"format"`
	// QBench is the version of the qbench that wrote it (a VCS revision,
	// or a hash of the executable for builds without one).
	QBench string `json:"qbench"`
	// Kernels is the kernel path that computed the outputs (float
	// outputs differ between the AVX-512, AVX2 and plain-Go paths).
	Kernels string `json:"kernels"`
	Shard   Spec   `json:"shard"`
	Seed    int64  `json:"seed"`
	// Options records the command's settings that shape the result
	// (flags as the command line gave them).
	Options map[string]string `json:"options"`
	// Schema, Classes, DataRoot, TopK, Rounding and Models are the
	// report's fields.
	Schema   string             `json:"schema"`
	Classes  []string           `json:"classes"`
	DataRoot string             `json:"data_root"`
	TopK     []int              `json:"top_k"`
	Rounding string             `json:"rounding"`
	Models   []report.ModelInfo `json:"models"`
	// LabelMap is compare.Config.LabelMap (a file the merge reads again
	// for a class-order diagnosis) and LabelMapSHA256 its contents' hash.
	LabelMap       string `json:"label_map"`
	LabelMapSHA256 string `json:"label_map_sha256"`
	// DataSHA256 hashes every split's name and full sample list (every
	// field of every sample, all shards' samples), not the image files'
	// contents.
	DataSHA256 string        `json:"data_sha256"`
	Splits     []SplitHeader `json:"splits"`
}

// SplitHeader is one split: its whole size and this shard's part.
type SplitHeader struct {
	Name    string `json:"name"`
	Samples int    `json:"samples"`
	Count   int    `json:"count"`
}

// Record is one sample of a partial.
type Record struct {
	// Index is the sample's position in its split.
	Index  int
	Sample dataset.Sample
	Skips  []SkipRecord
	// Outputs is the M·K float32 values, little-endian, as compare's
	// outputs file holds them (only valid during the callback).
	Outputs []byte
}

// SkipRecord is a preprocessing group that could not decode the sample.
type SkipRecord struct {
	Group        int
	Path, Reason string
}

// groups is the number of distinct preprocessing specs among the models
// (compare decodes once per spec).
func (h *Header) groups() int {
	seen := map[string]bool{}
	for _, m := range h.Models {
		seen[m.Preprocess] = true
	}
	return len(seen)
}

func (h *Header) recordSize() int { return len(h.Models) * len(h.Classes) * 4 }

// check validates a header on its own (the reader's first defence).
func (h *Header) check() error {
	if h.Format != Format {
		return fmt.Errorf("format %q, want %q", h.Format, Format)
	}
	if err := h.Shard.Validate(); err != nil {
		return err
	}
	switch {
	case len(h.Models) == 0 || len(h.Models) > maxModels:
		return fmt.Errorf("%d models (want 1..%d)", len(h.Models), maxModels)
	case len(h.Classes) == 0 || len(h.Classes) > maxClasses:
		return fmt.Errorf("%d classes (want 1..%d)", len(h.Classes), maxClasses)
	case len(h.Splits) == 0 || len(h.Splits) > maxSplits:
		return fmt.Errorf("%d splits (want 1..%d)", len(h.Splits), maxSplits)
	case len(h.Models)*len(h.Classes) > maxRecord/4:
		return fmt.Errorf("%d models × %d classes: records too large", len(h.Models), len(h.Classes))
	case h.groups() > maxGroups:
		return fmt.Errorf("%d preprocessing specs (at most %d)", h.groups(), maxGroups)
	}
	for _, s := range h.Splits {
		if s.Samples < 0 || s.Count < 0 || s.Count > s.Samples || s.Samples > math.MaxUint32 {
			return fmt.Errorf("split %q: %d of %d samples", s.Name, s.Count, s.Samples)
		}
	}
	return nil
}

// writer writes a partial, hashing as it goes.
type writer struct {
	w   *bufio.Writer // hashes what it flushes
	dst io.Writer
	sum hash.Hash
	buf []byte
}

func newWriter(w io.Writer, h *Header) (*writer, error) {
	if err := h.check(); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if len(js) > maxHeader {
		return nil, fmt.Errorf("header of %d bytes exceeds %d", len(js), maxHeader)
	}
	pw := &writer{sum: sha256.New(), dst: w}
	pw.w = bufio.NewWriterSize(io.MultiWriter(w, pw.sum), 1<<16)
	b := append([]byte(nil), magic[:]...)
	b = binary.LittleEndian.AppendUint32(b, fileVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(js)))
	b = append(b, js...)
	_, err = pw.w.Write(b)
	return pw, err
}

func (pw *writer) count(n int) error {
	_, err := pw.w.Write(binary.LittleEndian.AppendUint32(pw.buf[:0], uint32(n)))
	return err
}

func appendText(b []byte, s string) ([]byte, error) {
	if len(s) > maxText {
		return b, fmt.Errorf("text of %d bytes exceeds %d: %.40q…", len(s), maxText, s)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...), nil
}

func (pw *writer) record(r Record) error {
	js, err := json.Marshal(r.Sample)
	if err != nil {
		return err
	}
	if len(js) > maxSample {
		return fmt.Errorf("sample %.40q…: %d bytes of JSON exceed %d", r.Sample.Path, len(js), maxSample)
	}
	b := pw.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Index))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(js)))
	b = append(b, js...)
	if len(r.Skips) > maxGroups {
		return fmt.Errorf("sample %s: %d skips", r.Sample.Path, len(r.Skips))
	}
	b = append(b, uint8(len(r.Skips)))
	for _, s := range r.Skips {
		b = append(b, uint8(s.Group))
		if b, err = appendText(b, s.Path); err != nil {
			return err
		}
		if b, err = appendText(b, s.Reason); err != nil {
			return err
		}
	}
	b = append(b, r.Outputs...)
	pw.buf = b
	_, err = pw.w.Write(b)
	return err
}

func (pw *writer) finish() error {
	if err := pw.w.Flush(); err != nil {
		return err
	}
	// The checksum itself is not hashed: write it past the hashing writer.
	_, err := pw.dst.Write(pw.sum.Sum(nil))
	return err
}

// ErrCorrupt is wrapped by every error about a malformed partial.
var ErrCorrupt = errors.New("corrupt partial")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// reader reads a partial, hashing what it consumes.
type reader struct {
	r   *bufio.Reader
	sum hash.Hash
	buf []byte
	// left is how many bytes the file has after what was read (size
	// known) so counts can be checked before allocating.
	left int64
}

// readHeader reads and checks the magic, version and header of a partial
// of size bytes.
func readHeader(r io.Reader, size int64) (*Header, *reader, error) {
	rd := &reader{sum: sha256.New(), left: size}
	rd.r = bufio.NewReaderSize(r, 1<<16)
	b, err := rd.bytes(16)
	if err != nil {
		return nil, nil, corrupt("not a qbench partial (file too short)")
	}
	if !bytes.Equal(b[:8], magic[:]) {
		return nil, nil, corrupt("not a qbench partial (no %q signature)", "QBPART")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != fileVersion {
		return nil, nil, corrupt("file version %d, this qbench reads %d", v, fileVersion)
	}
	n := int64(binary.LittleEndian.Uint32(b[12:]))
	if n > maxHeader || n > rd.left {
		return nil, nil, corrupt("header length %d larger than the file", n)
	}
	js, err := rd.bytes(int(n))
	if err != nil {
		return nil, nil, err
	}
	var h Header
	if err := strictJSON(js, &h); err != nil {
		return nil, nil, corrupt("header: %v", err)
	}
	if err := h.check(); err != nil {
		return nil, nil, corrupt("header: %v", err)
	}
	// Every record takes at least its fixed part: a count the file is
	// too short to hold is corruption, found before any allocation.
	minRec := int64(4 + 4 + 1 + h.recordSize())
	var need int64 = sha256.Size
	for _, s := range h.Splits {
		need += 4 + int64(s.Count)*minRec
	}
	if need > rd.left {
		return nil, nil, corrupt("header promises %d bytes of records, the file has %d left", need, rd.left)
	}
	return &h, rd, nil
}

// strictJSON decodes one JSON value with no unknown fields and nothing
// after it.
func strictJSON(js []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// bytes reads n bytes into a reused buffer.
func (rd *reader) bytes(n int) ([]byte, error) {
	if int64(n) > rd.left {
		return nil, corrupt("truncated: %d bytes wanted, %d left", n, rd.left)
	}
	if cap(rd.buf) < n {
		rd.buf = make([]byte, n)
	}
	b := rd.buf[:n]
	if _, err := io.ReadFull(rd.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, corrupt("truncated")
		}
		return nil, err
	}
	rd.left -= int64(n)
	rd.sum.Write(b)
	return b, nil
}

func (rd *reader) u32() (uint32, error) {
	b, err := rd.bytes(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (rd *reader) u8() (uint8, error) {
	b, err := rd.bytes(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (rd *reader) text(what string) (string, error) {
	b, err := rd.bytes(2)
	if err != nil {
		return "", err
	}
	n := int(binary.LittleEndian.Uint16(b))
	if b, err = rd.bytes(n); err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", corrupt("%s is not UTF-8", what)
	}
	return string(b), nil
}

// records reads every record, checking indices, labels and sizes against
// h, then the checksum and the end of the file; fn sees them in file
// order (split by split, increasing index).
func (rd *reader) records(h *Header, fn func(split int, r Record) error) error {
	groups := h.groups()
	recSize := h.recordSize()
	var r Record
	for si, sp := range h.Splits {
		n, err := rd.u32()
		if err != nil {
			return err
		}
		if int(n) != sp.Count {
			return corrupt("split %q: %d records, header says %d", sp.Name, n, sp.Count)
		}
		prev := -1
		for range sp.Count {
			idx, err := rd.u32()
			if err != nil {
				return err
			}
			if int64(idx) >= int64(sp.Samples) || int(idx) <= prev {
				return corrupt("split %q: sample index %d out of order or outside its %d samples", sp.Name, idx, sp.Samples)
			}
			prev = int(idx)
			r.Index = int(idx)
			n, err := rd.u32()
			if err != nil {
				return err
			}
			if n > maxSample {
				return corrupt("split %q sample %d: %d bytes of sample description", sp.Name, idx, n)
			}
			js, err := rd.bytes(int(n))
			if err != nil {
				return err
			}
			r.Sample = dataset.Sample{}
			if err := strictJSON(js, &r.Sample); err != nil {
				return corrupt("split %q sample %d: %v", sp.Name, idx, err)
			}
			if r.Sample.Path == "" {
				return corrupt("split %q sample %d: empty path", sp.Name, idx)
			}
			if r.Sample.Label < 0 || r.Sample.Label >= len(h.Classes) {
				return corrupt("split %q sample %d: label %d outside the %d classes", sp.Name, idx, r.Sample.Label, len(h.Classes))
			}
			ns, err := rd.u8()
			if err != nil {
				return err
			}
			if int(ns) > groups {
				return corrupt("split %q sample %d: %d skips for %d preprocessing groups", sp.Name, idx, ns, groups)
			}
			r.Skips = r.Skips[:0]
			for range int(ns) {
				g, err := rd.u8()
				if err != nil {
					return err
				}
				if int(g) >= groups || (len(r.Skips) > 0 && int(g) <= r.Skips[len(r.Skips)-1].Group) {
					return corrupt("split %q sample %d: skip of group %d (of %d) repeated or out of order", sp.Name, idx, g, groups)
				}
				s := SkipRecord{Group: int(g)}
				if s.Path, err = rd.text("skip path"); err != nil {
					return err
				}
				if s.Reason, err = rd.text("skip reason"); err != nil {
					return err
				}
				r.Skips = append(r.Skips, s)
			}
			if r.Outputs, err = rd.bytes(recSize); err != nil {
				return err
			}
			if err := fn(si, r); err != nil {
				return err
			}
		}
	}
	want := rd.sum.Sum(nil)
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(rd.r, got); err != nil {
		return corrupt("truncated (no checksum)")
	}
	if !bytes.Equal(got, want) {
		return corrupt("checksum mismatch: the file was changed or damaged after it was written")
	}
	if _, err := rd.r.ReadByte(); err != io.EOF {
		return corrupt("data after the checksum")
	}
	return nil
}
