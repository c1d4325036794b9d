package graph

import (
	"strings"
	"testing"
)

// Every kind has a distinct name that parses back to it, so tables indexed
// by kind and the names in error messages stay in step with the const list.
func TestOpKindNames(t *testing.T) {
	if len(opNames) != int(NumOpKinds) {
		t.Fatalf("%d op names for %d kinds", len(opNames), NumOpKinds)
	}
	seen := map[string]OpKind{}
	for k := OpKind(1); k < NumOpKinds; k++ {
		n := k.String()
		if prev, dup := seen[n]; dup {
			t.Errorf("kinds %d and %d share the name %q", prev, k, n)
		}
		seen[n] = k
		back, err := ParseOpKind(n)
		if err != nil || back != k {
			t.Errorf("ParseOpKind(%q) = %v, %v; want %v", n, back, err, k)
		}
	}
}

func TestCloneOptionsIsDeep(t *testing.T) {
	g := &Graph{}
	sq := &SqueezeOptions{Dims: []int{1, 2}}
	ss := &StridedSliceOptions{BeginMask: 3}
	g.AddOp(OpSqueeze, nil, nil, sq)
	g.AddOp(OpStridedSlice, nil, nil, ss)
	u := g.AddOp(OpUnknown, nil, nil, nil)
	u.Code, u.CustomOptions = "MyOp", []byte{1, 2}
	c := g.Clone()
	sq.Dims[0] = 9
	ss.BeginMask = 0
	u.CustomOptions[0] = 7
	if got := c.Ops[0].Options.(*SqueezeOptions).Dims[0]; got != 1 {
		t.Errorf("squeeze dims shared with the clone: %d", got)
	}
	if got := c.Ops[1].Options.(*StridedSliceOptions).BeginMask; got != 3 {
		t.Errorf("strided slice options shared with the clone: %d", got)
	}
	if c.Ops[2].CustomOptions[0] != 1 || c.Ops[2].Name() != "MyOp" {
		t.Errorf("custom op not cloned: %v %q", c.Ops[2].CustomOptions, c.Ops[2].Name())
	}
}

// TestValidateScratchOfUnknownOp: an op qbench cannot run may read an arena
// tensor nothing writes (Vela's ethos-u op takes scratch buffers so), and
// the graph still validates so inspect can list it; a known op reading an
// unwritten tensor is an error naming the op and the tensor.
func TestValidateScratchOfUnknownOp(t *testing.T) {
	build := func(kind OpKind) *Graph {
		g := &Graph{}
		x := g.AddTensor(&Tensor{Name: "x", Shape: []int{1, 4}, DType: Float32})
		s := g.AddTensor(&Tensor{Name: "scratch", Shape: []int{16}, DType: UInt8})
		y := g.AddTensor(&Tensor{Name: "y", Shape: []int{1, 4}, DType: Float32})
		op := g.AddOp(kind, []int{x, s}, []int{y}, nil)
		op.Code = "ethos-u"
		g.Inputs, g.Outputs = []int{x}, []int{y}
		return g
	}
	if err := build(OpUnknown).Validate(); err != nil {
		t.Errorf("unknown op with a scratch input: %v", err)
	}
	err := build(OpAdd).Validate()
	if err == nil || !strings.Contains(err.Error(), `op 0 (ADD): input tensor 1 "scratch" is read before any op writes it`) {
		t.Errorf("ADD reading an unwritten tensor: %v", err)
	}
}
