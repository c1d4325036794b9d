package tflite

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestSummarizeHelloWorld checks counts by hand: three FULLY_CONNECTED ops
// with weights 16x1, 16x16, 1x16 and biases 16, 16, 1 → params 32+272+17 =
// 321; MACs 16+256+16 = 288.
func TestSummarizeHelloWorld(t *testing.T) {
	g, err := ReadFile(filepath.Join(sharedDir(t), "reference", "tflite-micro", "models", "hello_world", "hello_world_int8.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(g)
	if s.Totals.Params != 321 || s.Totals.MACs != 288 || s.Totals.Ops != 3 || s.Totals.Tensors != 10 {
		t.Errorf("totals %+v", s.Totals)
	}
	if s.Ops[1].Params != 272 || s.Ops[1].MACs != 256 || s.Ops[1].Options["fused_activation_function"] != "RELU" {
		t.Errorf("op 1 %+v", s.Ops[1])
	}
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back["schema"] != InspectSchema {
		t.Errorf("schema %v", back["schema"])
	}
	in := back["tensors"].([]any)[0].(map[string]any)
	q := in["quantization"].(map[string]any)
	if in["dtype"] != "int8" || q["zero_point_min"].(float64) != -128 || q["per_channel"] != false {
		t.Errorf("tensor 0 JSON %v", in)
	}
	buf.Reset()
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FULLY_CONNECTED", "321 parameters", "288 MACs", "scale=0.0244801 zp=-128", "min_runtime_version"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestSummarizePerChannel(t *testing.T) {
	g := handGraphs()["conv_int8"]
	s := Summarize(g)
	q := s.Tensors[1].Quant
	if q == nil || !q.PerChannel || q.Channels != 2 || q.ScaleMin != 0.25 || q.ScaleMax != 0.5 || q.Axis != 0 {
		t.Fatalf("filter quant %+v", q)
	}
	// conv: output 1x5x3x2 = 30 elements × 3·3·1 = 270 MACs; 18 weights + 2 bias.
	if s.Ops[0].MACs != 270 || s.Ops[0].Params != 20 {
		t.Errorf("conv op %+v", s.Ops[0])
	}
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "per-channel axis=0 x2 scale=[0.25, 0.5] zp=0") {
		t.Errorf("text:\n%s", buf.String())
	}
}

func TestShorten(t *testing.T) {
	if got := shorten("abcdefghij", 5); got != "ab…ij" {
		t.Errorf("shorten = %q", got)
	}
	if got := shorten("abc", 5); got != "abc" {
		t.Errorf("shorten = %q", got)
	}
}
