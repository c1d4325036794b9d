package tflite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/testshared"
)

// coralSeed returns the Coral model's bytes when ../shared exists.
func coralSeed() ([]byte, bool) {
	dir, err := testshared.Find("models", "zoo")
	if err != nil {
		return nil, false
	}
	b, err := os.ReadFile(filepath.Join(dir, "coral_mnv1_025_128_u8.tflite"))
	return b, err == nil
}

// metaSeeds are metadata buffers: encoded variants of sampleMeta and, when
// ../shared exists, the Coral model's own.
func metaSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	variants := []*graph.ModelMeta{sampleMeta(), {}, {Name: "only a name"}}
	gray := sampleMeta()
	gray.Inputs[0].ColorSpace = "GRAYSCALE"
	gray.Inputs[0].Min, gray.Inputs[0].Max = nil, nil
	gray.Outputs[0].Labels[0].Type = graph.LabelsValue
	variants = append(variants, gray)
	for _, m := range variants {
		b, err := EncodeMetadata(m)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	if file, ok := coralSeed(); ok {
		if g, err := Read(file); err == nil {
			seeds = append(seeds, g.Metadata[MetadataKey])
		}
	}
	return seeds
}

// FuzzParseMetadata feeds arbitrary bytes to ParseMetadata. It must never
// panic, hang or allocate hugely; whatever it accepts must encode, and the
// encoding must parse back to something that encodes to the same bytes.
// Run: go test -fuzz=FuzzParseMetadata -parallel 1 ./tflite
func FuzzParseMetadata(f *testing.F) {
	for _, s := range metaSeeds(f) {
		f.Add(s)
		if len(s) > 16 {
			f.Add(s[:len(s)/2])
		}
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		m, err := ParseMetadata(buf)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		enc, err := EncodeMetadata(m)
		if err != nil {
			t.Fatalf("parsed metadata does not encode: %v\n%+v", err, m)
		}
		m2, err := ParseMetadata(enc)
		if err != nil {
			t.Fatalf("encoded metadata does not parse: %v", err)
		}
		enc2, err := EncodeMetadata(m2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encoding differs (err %v)", err)
		}
	})
}

// FuzzReadAssociatedFiles feeds arbitrary bytes to the archive reader. It
// must never panic or exceed its bounds; what it accepts must pack and read
// back to the same files.
// Run: go test -fuzz=FuzzReadAssociatedFiles -parallel 1 ./tflite
func FuzzReadAssociatedFiles(f *testing.F) {
	files := []graph.AssociatedFile{{Name: "labels.txt", Data: []byte("a\nb\n")}, {Name: "empty", Data: nil}}
	for _, prefix := range [][]byte{nil, []byte("TFL3-like prefix of a model")} {
		z, err := packAssociatedFiles(files, len(prefix))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append(append([]byte(nil), prefix...), z...))
	}
	if file, ok := coralSeed(); ok {
		// The archive alone (offsets count from the model's start) and
		// with a short stand-in for the model before it.
		at := bytes.Index(file, []byte("PK\x03\x04"))
		if at > 0 {
			f.Add(file[at:])
			f.Add(append([]byte("x"), file[at:]...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ReadAssociatedFiles(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNoArchive) {
				t.Fatalf("error wraps neither ErrCorrupt nor ErrNoArchive: %v", err)
			}
			return
		}
		z, err := packAssociatedFiles(got, 0)
		if err != nil {
			t.Fatalf("read files do not pack: %v", err)
		}
		back, err := ReadAssociatedFiles(z)
		if err != nil {
			t.Fatalf("packed files do not read: %v", err)
		}
		for i := range got {
			if len(got[i].Data) == 0 {
				got[i].Data = nil
			}
		}
		for i := range back {
			if len(back[i].Data) == 0 {
				back[i].Data = nil
			}
		}
		if !reflect.DeepEqual(got, back) {
			t.Fatalf("files changed in a pack/read round trip")
		}
	})
}
