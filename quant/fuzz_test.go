package quant

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/internal/testshared"

	"github.com/qbench/qbench/tflite"
)

// quant has no file parser of its own (options arrive as flags, parsed by
// ParseMethod/ParseMode/ParseIO). What it does read is a user's quantized
// model: explain infers the options a model was made with (OptionsOf,
// ParamsOf) from whatever graph tflite.Read returns. FuzzOptionsOf checks
// that no graph read from a mutated .tflite file makes them panic, and
// that the string parsers refuse what they do not know.
func FuzzOptionsOf(f *testing.F) {
	for _, name := range []string{"hello_world/hello_world_int8.tflite", "network_tester/network_model.tflite", "hello_world/hello_world_float.tflite"} {
		if b, err := os.ReadFile(filepath.Join(referenceModels(), filepath.FromSlash(name))); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("TFL3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data[:min(len(data), 16)])
		if m, err := ParseMethod(s); err == nil && m.String() == "" {
			t.Fatalf("ParseMethod(%q) accepted a nameless method", s)
		}
		_, _ = ParseMode(s)
		_, _ = ParseIO(s)
		g, err := tflite.Read(data)
		if err != nil {
			return
		}
		o := OptionsOf(g)
		for name, q := range o.Fixed {
			if q == nil || len(q.Scale) != 1 {
				t.Fatalf("Fixed[%q] = %+v, want one scale", name, q)
			}
		}
	})
}

// referenceModels is ../shared/reference/tflite-micro/models beside the
// module root ("" when absent: the fuzz target keeps its other seeds).
func referenceModels() string {
	p, err := testshared.Find("reference", "tflite-micro", "models")
	if err != nil {
		return ""
	}
	return p
}
