package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/tflite"
)

func TestGraphStructure(t *testing.T) {
	m, err := New(SeedCNN(30), 1)
	if err != nil {
		t.Fatal(err)
	}
	m.Metadata = map[string][]byte{graph.MetadataPreprocess: []byte(`{"version":1}`)}
	g := m.Graph()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	var kinds []graph.OpKind
	for _, op := range g.Ops {
		kinds = append(kinds, op.Kind)
	}
	want := []graph.OpKind{}
	for range 4 {
		want = append(want, graph.OpConv2D, graph.OpMaxPool2D, graph.OpRelu)
	}
	want = append(want, graph.OpReshape, graph.OpFullyConnected, graph.OpFullyConnected, graph.OpSoftmax)
	if len(kinds) != len(want) {
		t.Fatalf("ops %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("ops %v, want %v", kinds, want)
		}
	}
	in := g.Tensors[g.Inputs[0]]
	if in.Name != "input" || len(in.Shape) != 4 || in.Shape[1] != 80 || in.Shape[3] != 3 || in.DType != graph.Float32 {
		t.Fatalf("input %q %v %s", in.Name, in.Shape, in.DType)
	}
	w0 := g.Tensors[g.Ops[0].Inputs[1]]
	if w0.Shape[0] != 16 || w0.Shape[1] != 3 || w0.Shape[2] != 3 || w0.Shape[3] != 3 {
		t.Fatalf("conv0 weights shape %v, want OHWI [16 3 3 3]", w0.Shape)
	}
	rs := g.Ops[12]
	if shp := g.Tensors[rs.Inputs[1]].Int32s(); shp[0] != 1 || shp[1] != 3200 {
		t.Fatalf("reshape shape %v, want [1 3200]", shp)
	}
	if o := g.Ops[13].Options.(*graph.FullyConnectedOptions); o.Activation != graph.ActRelu {
		t.Fatal("hidden dense layer has no fused RELU")
	}
	if o := g.Ops[14].Options.(*graph.FullyConnectedOptions); o.Activation != graph.ActNone {
		t.Fatal("output dense layer has a fused activation")
	}
	out := g.Tensors[g.Outputs[0]]
	if out.Shape[1] != 30 || string(g.Metadata[graph.MetadataPreprocess]) != `{"version":1}` {
		t.Fatalf("output %v metadata %q", out.Shape, g.Metadata)
	}
	if m.NumParams() != 432+16+4608+32+18432+64+73728+128+3200*256+256+256*30+30 {
		t.Fatalf("seed-cnn has %d parameters", m.NumParams())
	}
}

func TestGraphRoundTripThroughTFLite(t *testing.T) {
	m, err := New(tinyArch.withClasses(5), 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range m.Params {
		m.Params[i] += float32(rng.NormFloat64() * 0.01) // non-zero biases
	}
	m.Metadata = map[string][]byte{"k": []byte("v")}
	path := filepath.Join(t.TempDir(), "m.tflite")
	if err := SaveAtomic(path, m.Graph(), tflite.WriteFile); err != nil {
		t.Fatal(err)
	}
	g, err := tflite.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := LoadFromGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Arch.String() != "loaded 16x16x3 c4-8 d16 k5" {
		t.Fatalf("loaded arch %s", m2.Arch)
	}
	for i := range m.Params {
		if m.Params[i] != m2.Params[i] {
			t.Fatalf("param %d: %v != %v", i, m.Params[i], m2.Params[i])
		}
	}
	if string(m2.Metadata["k"]) != "v" {
		t.Fatalf("metadata lost: %q", m2.Metadata)
	}
	// Fused RELU on the conv and no separate RELU op is the same network.
	g2 := m.Graph()
	var ops []*graph.Op
	for _, op := range g2.Ops {
		if op.Kind == graph.OpRelu {
			prev := ops[len(ops)-1]
			ops[len(ops)-2].Options.(*graph.Conv2DOptions).Activation = graph.ActRelu
			// Rewire the pool to write the RELU's output tensor.
			prev.Outputs = op.Outputs
			continue
		}
		ops = append(ops, op)
	}
	g2.Ops = ops
	if _, err := LoadFromGraph(g2); err != nil {
		t.Fatalf("fused-RELU variant rejected: %v", err)
	}
	// An op outside the chain is named in the error.
	g3 := m.Graph()
	g3.Ops[1].Kind = graph.OpAveragePool2D
	if _, err := LoadFromGraph(g3); !errors.Is(err, ErrUnsupportedGraph) {
		t.Fatalf("average pool accepted or wrong error: %v", err)
	}
}

func (a Arch) withClasses(k int) Arch { a.Classes = k; return a }

// TestGraphMatchesForwardInInterpreter runs the exported graph through
// qbench's interpreter and compares it with the training forward pass.
func TestGraphMatchesForwardInInterpreter(t *testing.T) {
	for _, arch := range []Arch{tinyArch.withClasses(4), SeedCNN(30)} {
		m, err := New(arch, 5)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(6, 6))
		for i := range m.Params {
			m.Params[i] += float32(rng.NormFloat64() * 0.01)
		}
		p, err := interp.Compile(m.Graph(), interp.Options{})
		if err != nil {
			t.Fatalf("%s: %v", arch.Name, err)
		}
		ex := p.NewExecutor()
		for trial := range 3 {
			x := randSlice(rng, m.InputSize(), 1)
			logits, err := m.Logits(x, 1)
			if err != nil {
				t.Fatal(err)
			}
			softmaxRows(logits, 1, arch.Classes)
			if err := ex.SetInputFloat(0, x); err != nil {
				t.Fatal(err)
			}
			if err := ex.Run(); err != nil {
				t.Fatal(err)
			}
			got := ex.OutputFloat(0, nil)
			for i := range logits {
				if d := math.Abs(float64(got[i] - logits[i])); d > 1e-4 {
					t.Fatalf("%s trial %d: prob[%d] interp %g, train %g", arch.Name, trial, i, got[i], logits[i])
				}
			}
		}
	}
}
