package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/internal/testshared"

	"github.com/qbench/qbench/tflite"
)

// FuzzExport reads mutated .tflite files and exports every graph that
// reads fine, in both activation forms: each must give a well-formed
// protobuf or an error, never a panic or a hang. Seeds are the test CNNs
// (float and int8) written by tflite.Write and, when ../shared is present,
// the reference models of TFLite Micro; crashers are kept in
// testdata/fuzz/FuzzExport.
func FuzzExport(f *testing.F) {
	for _, int8Model := range []bool{false, true} {
		b, err := tflite.Write(cnn(int8Model))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	addReferenceModels(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := tflite.Read(data)
		if err != nil {
			return
		}
		for _, opts := range []Options{{}, {UInt8Activations: true}} {
			b, err := ExportWith(g, opts)
			if err != nil {
				continue
			}
			// A model must at least be a protobuf with a graph (field 7).
			if len(fields(t, b, 7)) != 1 {
				t.Fatalf("export %+v: model without exactly one graph", opts)
			}
		}
	})
}

// addReferenceModels adds the reference .tflite files under 8 KB (a
// dozen: hello_world, network_tester and the seanet op models).
func addReferenceModels(f *testing.F) {
	shared, err := testshared.Find()
	if err != nil {
		return
	}
	models := filepath.Join(shared, "reference", "tflite-micro", "models")
	seen := map[string]bool{}
	_ = filepath.WalkDir(models, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || filepath.Ext(p) != ".tflite" || seen[filepath.Dir(p)] {
			return nil
		}
		if st, err := e.Info(); err == nil && st.Size() < 8<<10 {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
				seen[filepath.Dir(p)] = true // one model per folder
			}
		}
		return nil
	})
}
