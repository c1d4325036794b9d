package tflite

import (
	"os"
	"path/filepath"
	"testing"
)

func benchModel(b *testing.B) []byte {
	dir, ok := sharedModelsDir()
	if !ok {
		b.Skip("../shared not found")
	}
	data, err := os.ReadFile(filepath.Join(dir, "seanet", "conv", "conv13.tflite"))
	if err != nil {
		b.Skip("../shared not found: ", err)
	}
	return data
}

func BenchmarkRead(b *testing.B) {
	data := benchModel(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Read(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	g, err := Read(benchModel(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Write(g); err != nil {
			b.Fatal(err)
		}
	}
}
