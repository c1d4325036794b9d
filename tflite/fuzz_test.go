package tflite

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"testing"
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
			// Read validated the graph, so Write must accept it.
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
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
		dir = filepath.Dir(dir)
	}
	m := filepath.Join(dir, "..", "shared", "reference", "tflite-micro", "models")
	_, err = os.Stat(m)
	return m, err == nil
}
