package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// twoInTwoOut writes a model with inputs x, y [2] and outputs
// sum = x + y and pos = relu(x).
func twoInTwoOut(t *testing.T, dir string) string {
	t.Helper()
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 2}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 2}})
	s := g.AddTensor(&graph.Tensor{Name: "sum", DType: graph.Float32, Shape: []int{1, 2}})
	r := g.AddTensor(&graph.Tensor{Name: "pos", DType: graph.Float32, Shape: []int{1, 2}})
	g.Inputs, g.Outputs = []int{x, y}, []int{s, r}
	g.AddOp(graph.OpAdd, []int{x, y}, []int{s}, &graph.AddOptions{})
	g.AddOp(graph.OpRelu, []int{x}, []int{r}, nil)
	path := filepath.Join(dir, "m.tflite")
	if err := tflite.WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
	return path
}

func f32s(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func TestRunManyInputsAndOutputs(t *testing.T) {
	dir := t.TempDir()
	m := twoInTwoOut(t, dir)
	xf, yf := filepath.Join(dir, "x.bin"), filepath.Join(dir, "y.bin")
	os.WriteFile(xf, f32s(1, -2, 3, -4), 0o644) // two samples
	os.WriteFile(yf, f32s(10, 20, 30, 40), 0o644)
	want := map[string][]byte{"0": f32s(11, 18, 33, 36), "1": f32s(1, 0, 3, 0)}

	// By name, in any order, with an output prefix.
	prefix := filepath.Join(dir, "out")
	if code, _, stderr := run(t, "run", m, "--input", "y="+yf, "--input", "x="+xf, "--output-prefix", prefix); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for i, w := range want {
		got, err := os.ReadFile(prefix + "." + i + ".bin")
		if err != nil || string(got) != string(w) {
			t.Errorf("output %s: %v %v, want %v", i, got, err, w)
		}
	}
	// Positional inputs, one --output per output.
	o0, o1 := filepath.Join(dir, "a.bin"), filepath.Join(dir, "b.bin")
	if code, _, stderr := run(t, "run", m, "--input", xf, "--input", yf, "--output", o0, "--output", o1); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(o1); string(got) != string(want["1"]) {
		t.Errorf("second output %v", got)
	}
	// Errors: a missing input, an unknown name, unequal sample counts.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--input", xf, "--output", o0}, `no --input for input 1 "y"`},
		{[]string{"--input", "z=" + xf, "--input", yf, "--output", o0}, `no input named "z"`},
		{[]string{"--input", xf, "--input", filepath.Join(dir, "short.bin"), "--output", o0}, "no such file"},
		{[]string{"--input", xf, "--input", yf, "--output", o0, "--out", o1}, "alias"},
	} {
		code, _, stderr := run(t, append([]string{"run", m}, c.args...)...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
	os.WriteFile(yf, f32s(10, 20), 0o644) // one sample for y, two for x
	if code, _, stderr := run(t, "run", m, "--input", xf, "--input", yf, "--output", o0); code == 0 || !strings.Contains(stderr, "holds 1 samples, input 0 holds 2") {
		t.Errorf("unequal samples: exit %d %q", code, stderr)
	}
}
