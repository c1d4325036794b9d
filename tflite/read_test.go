package tflite

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"

	"github.com/qbench/qbench/graph"
)

// sharedDir finds ../shared (see package testshared) or skips the test.
func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// referenceModels lists every .tflite under ../shared/reference/tflite-micro/models.
func referenceModels(t testing.TB) []string {
	t.Helper()
	root := filepath.Join(sharedDir(t), "reference", "tflite-micro", "models")
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tflite") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("../shared has no reference models")
	}
	return files
}

type refTensor struct {
	Index        int    `json:"index"`
	DType        string `json:"dtype"`
	Shape        []int  `json:"shape"`
	Quantization *struct {
		Scale     []float32 `json:"scale"`
		ZeroPoint []int64   `json:"zero_point"`
		Axis      int       `json:"quantized_dimension"`
	} `json:"quantization"`
}

type refModel struct {
	Ops          [][]string  `json:"ops"`
	ModelInputs  []refTensor `json:"model_inputs"`
	ModelOutputs []refTensor `json:"model_outputs"`
}

// TestReadReferenceModels checks every shared model against the metadata
// its JSON case records: op names, input/output dtype, shape, quantization.
func TestReadReferenceModels(t *testing.T) {
	for _, path := range referenceModels(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".tflite")
		t.Run(name, func(t *testing.T) {
			g, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(strings.TrimSuffix(path, ".tflite") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var ref refModel
			if err := json.Unmarshal(raw, &ref); err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, op := range g.Ops {
				ops = append(ops, op.Kind.String())
			}
			if !reflect.DeepEqual(ops, ref.Ops[0]) {
				t.Errorf("ops %v, want %v", ops, ref.Ops[0])
			}
			check := func(kind string, idx []int, want []refTensor) {
				if len(idx) != len(want) {
					t.Fatalf("%d %ss, want %d", len(idx), kind, len(want))
				}
				for i, w := range want {
					tt := g.Tensors[idx[w.Index]]
					if tt.DType.String() != w.DType || !reflect.DeepEqual(tt.Shape, w.Shape) {
						t.Errorf("%s %d: %s %v, want %s %v", kind, i, tt.DType, tt.Shape, w.DType, w.Shape)
					}
					if w.Quantization == nil {
						if tt.Quant != nil {
							t.Errorf("%s %d: quantized, want float", kind, i)
						}
						continue
					}
					if tt.Quant == nil || !reflect.DeepEqual(tt.Quant.Scale, w.Quantization.Scale) ||
						!reflect.DeepEqual(tt.Quant.ZeroPoint, w.Quantization.ZeroPoint) || tt.Quant.Axis != w.Quantization.Axis {
						t.Errorf("%s %d: quantization %+v, want %+v", kind, i, tt.Quant, *w.Quantization)
					}
				}
			}
			check("input", g.Inputs, ref.ModelInputs)
			check("output", g.Outputs, ref.ModelOutputs)
		})
	}
}

// TestReadHelloWorldDetails pins hand-checked facts of hello_world_int8:
// three FULLY_CONNECTED ops (version 4), per-tensor int8 weights of 16x1,
// int32 bias, metadata entries and the converter's description.
func TestReadHelloWorldDetails(t *testing.T) {
	path := filepath.Join(sharedDir(t), "reference", "tflite-micro", "models", "hello_world", "hello_world_int8.tflite")
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Description != "MLIR Converted." {
		t.Errorf("description %q", g.Description)
	}
	if _, ok := g.Metadata["min_runtime_version"]; !ok {
		t.Errorf("metadata keys %v lack min_runtime_version", keys(g.Metadata))
	}
	if len(g.Ops) != 3 {
		t.Fatalf("%d ops", len(g.Ops))
	}
	op := g.Ops[0]
	if op.Kind != graph.OpFullyConnected || op.Version != 4 || len(op.Inputs) != 3 {
		t.Fatalf("op 0 = %+v", op)
	}
	opts := op.Options.(*graph.FullyConnectedOptions)
	if opts.Activation != graph.ActRelu {
		t.Errorf("op 0 activation %s, want RELU", opts.Activation)
	}
	w := g.Tensors[op.Inputs[1]]
	if w.DType != graph.Int8 || !reflect.DeepEqual(w.Shape, []int{16, 1}) || len(w.Data) != 16 || w.Quant == nil {
		t.Errorf("weights %s %v %d bytes quant %v", w.DType, w.Shape, len(w.Data), w.Quant)
	}
	b := g.Tensors[op.Inputs[2]]
	if b.DType != graph.Int32 || len(b.Data) != 64 {
		t.Errorf("bias %s %d bytes", b.DType, len(b.Data))
	}
}

func keys(m map[string][]byte) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}

func TestReadTruncated(t *testing.T) {
	data := mustReadRef(t, "hello_world/hello_world_int8.tflite")
	for _, n := range []int{0, 3, 7, 8, 12, 64, len(data) / 2, len(data) - 1} {
		_, err := Read(data[:n])
		if err == nil {
			t.Errorf("%d of %d bytes: no error", n, len(data))
			continue
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%d bytes: error %v does not wrap ErrCorrupt", n, err)
		}
	}
	_, err := Read(data[:5])
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("5 bytes: %v, want a 'truncated' error", err)
	}
}

func TestReadWrongIdentifier(t *testing.T) {
	data := append([]byte(nil), mustReadRef(t, "hello_world/hello_world_int8.tflite")...)
	copy(data[4:8], "ONNX")
	_, err := Read(data)
	if err == nil || !strings.Contains(err.Error(), `wrong file identifier "ONNX"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestReadFileErrorNamesPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.tflite")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+": ") {
		t.Fatalf("err = %v, want prefix %q", err, p)
	}
}

func mustReadRef(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedDir(t), "reference", "tflite-micro", "models", rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestInt4PackRoundTrip(t *testing.T) {
	vals := []int8{-8, 7, 0, -1, 3, -5, 1}
	packed := packInt4(graph.EncodeInt8s(vals))
	// Low nibble first: -8 = 0x8, 7 = 0x7 → 0x78; 0, -1 → 0xF0; 3, -5 (0xB) → 0xB3; 1 → 0x01.
	if want := []byte{0x78, 0xF0, 0xB3, 0x01}; !reflect.DeepEqual(packed, want) {
		t.Fatalf("packed % x, want % x", packed, want)
	}
	if got := unpackInt4(packed, len(vals)); !reflect.DeepEqual(got, graph.EncodeInt8s(vals)) {
		t.Fatalf("unpacked %v, want %v", got, vals)
	}
}

// TestReadFileSharesFileBytes checks that ReadFile's constants, which
// point into the file's bytes instead of being copied, hold what Read's
// copies hold, and that appending to one never writes into the next.
func TestReadFileSharesFileBytes(t *testing.T) {
	for _, p := range referenceModels(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Read(data)
		if err != nil {
			continue // a case of the corrupt-file tests
		}
		got, err := ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for i, tt := range got.Tensors {
			if !reflect.DeepEqual(tt.Data, want.Tensors[i].Data) {
				t.Fatalf("%s: tensor %d %q differs between ReadFile and Read", p, i, tt.Name)
			}
			if len(tt.Data) > 0 && cap(tt.Data) != len(tt.Data) {
				t.Fatalf("%s: tensor %d %q has capacity %d beyond its %d bytes", p, i, tt.Name, cap(tt.Data), len(tt.Data))
			}
		}
	}
}
