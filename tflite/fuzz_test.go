package tflite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/testshared"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic, hang or
// allocate hugely (the allocation budget bounds memory by the input size);
// whenever Read accepts an input, Write must accept the graph and the
// written file must read back and re-write to the same bytes.
//
// Seeds: the hand-built graphs of every op kind, one shared reference model
// per group when ../shared exists, and crashers kept under
// testdata/fuzz/FuzzRead. Run: go test -fuzz=FuzzRead -parallel 1 ./tflite
func FuzzRead(f *testing.F) {
	names := make([]string, 0)
	hand := handGraphs()
	for n := range hand {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := Write(hand[n])
		if err != nil {
			f.Fatal(err)
		}
		addWithMutations(f, data)
	}
	if dir, ok := sharedModelsDir(); ok {
		seen := map[string]bool{}
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || filepath.Ext(p) != ".tflite" || seen[filepath.Dir(p)] {
				return err
			}
			seen[filepath.Dir(p)] = true
			if data, err := os.ReadFile(p); err == nil {
				addWithMutations(f, data)
			}
			return nil
		})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Read(data)
		if err != nil {
			return
		}
		out, err := Write(g)
		if err != nil {
			// Read validated the graph, so Write must accept it, unless it
			// holds an op qbench reads but does not model.
			if unmodelled(g) && errors.Is(err, ErrUnsupported) {
				return
			}
			t.Fatalf("Read accepted the input but Write failed: %v", err)
		}
		g2, err := Read(out)
		if err != nil {
			t.Fatalf("re-reading the written file: %v", err)
		}
		out2, err := Write(g2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("write → read → write is not stable (%d vs %d bytes)", len(out), len(out2))
		}
	})
}

// addWithMutations seeds data and a few deterministic corruptions of it:
// a truncation, and 32-bit words overwritten with extreme values at spread
// positions (offsets, vector lengths and indices all live in such words).
func addWithMutations(f *testing.F, data []byte) {
	f.Add(data)
	f.Add(data[:len(data)/2])
	for k, v := range []uint32{0xffffffff, 0x7fffffff, 0x80000000, 1, 0} {
		pos := (len(data) / 7 * (k + 1)) &^ 3
		if pos+4 <= len(data) {
			m := append([]byte(nil), data...)
			binary.LittleEndian.PutUint32(m[pos:], v)
			f.Add(m)
		}
	}
}

// sharedModelsDir finds ../shared/reference/tflite-micro/models without
// skipping (fuzz seeds are optional).
func sharedModelsDir() (string, bool) {
	p, err := testshared.Find("reference", "tflite-micro", "models")
	return p, err == nil
}

// TestReadEveryWordCorrupted overwrites, one at a time, every aligned
// 32-bit word of every hand-built model (and every byte with 0xff) with
// extreme values. Read must return (never panic), and any accepted result
// must survive the same write → read → write check as FuzzRead. This is an
// exhaustive complement to random fuzzing for single-word corruptions, the
// kind that turns an offset or vector length hostile.
func TestReadEveryWordCorrupted(t *testing.T) {
	hand := handGraphs()
	accepted, total := 0, 0
	check := func(name string, m []byte) {
		total++
		g, err := Read(m)
		if err != nil {
			return
		}
		accepted++
		out, err := Write(g)
		if err != nil {
			if unmodelled(g) && errors.Is(err, ErrUnsupported) {
				return
			}
			t.Fatalf("%s: Read accepted a corrupted file but Write failed: %v", name, err)
		}
		g2, err := Read(out)
		if err != nil {
			t.Fatalf("%s: re-read: %v", name, err)
		}
		if out2, err := Write(g2); err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("%s: unstable round trip (%v)", name, err)
		}
	}
	models := map[string][]byte{}
	for name, g := range hand {
		data, err := Write(g)
		if err != nil {
			t.Fatal(err)
		}
		models[name] = data
	}
	if dir, ok := sharedModelsDir(); ok {
		// A real converter output: signature defs, metadata, min/max.
		if data, err := os.ReadFile(filepath.Join(dir, "hello_world", "hello_world_int8.tflite")); err == nil {
			models["hello_world_int8"] = data
		}
	}
	for name, data := range models {
		for pos := 0; pos+4 <= len(data); pos += 4 {
			for _, v := range []uint32{0xffffffff, 0x7fffffff, 0x80000000, 0x00010000, 1, 0} {
				m := append([]byte(nil), data...)
				binary.LittleEndian.PutUint32(m[pos:], v)
				check(name, m)
			}
		}
		for pos := range data {
			m := append([]byte(nil), data...)
			m[pos] ^= 0xff
			check(name, m)
		}
	}
	t.Logf("%d corrupted files, %d still read as valid models", total, accepted)
}

// unmodelled reports whether g holds an op qbench reads but cannot write.
func unmodelled(g *graph.Graph) bool {
	for _, op := range g.Ops {
		if op.Kind == graph.OpUnknown {
			return true
		}
	}
	return false
}
