package kernels

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/opcases"
)

// tensorBuf decodes a constant or allocates a zeroed activation buffer.
func tensorBuf(t *graph.Tensor) *Buffer {
	n := t.NumElements()
	b := &Buffer{DType: t.DType, Shape: t.Shape}
	switch t.DType {
	case graph.Float32:
		b.F32 = make([]float32, n)
	case graph.Int8:
		b.I8 = make([]int8, n)
	case graph.UInt8:
		b.U8 = make([]uint8, n)
	case graph.Int16:
		b.I16 = make([]int16, n)
	case graph.Int32:
		b.I32 = make([]int32, n)
	case graph.Int64:
		b.I64 = make([]int64, n)
	case graph.Bool:
		b.Bool = make([]bool, n)
	}
	if t.IsConst() {
		if t.DType == graph.Bool {
			for i, v := range t.Data {
				b.Bool[i] = v != 0
			}
		} else {
			copy(rawBytes(b), t.Data)
		}
	}
	return b
}

// pattern is the value element i of a data input holds: small enough for
// every dtype, distinct enough to show misplaced elements.
func pattern(i int) int { return (i*37 + 11) % 97 }

func setPattern(b *Buffer) {
	n := len(rawBytes(b)) / max(1, b.DType.Size())
	for i := range n {
		v := pattern(i)
		switch b.DType {
		case graph.Float32:
			b.F32[i] = float32(v)
		case graph.Bool:
			b.Bool[i] = v%2 == 1
		default:
			setInt(b, i, int32(v))
		}
	}
}

// elemAt reads element i as an int (floats are whole numbers here; bools
// compare as 0/1 against the parity of the float run's value).
func elemAt(b *Buffer, i int) int {
	switch b.DType {
	case graph.Float32:
		return int(b.F32[i])
	case graph.Bool:
		if b.Bool[i] {
			return 1
		}
		return 0
	}
	return int(getInt(b, i))
}

// runLayout prepares the one-op graph's op and runs it on the pattern.
func runLayout(g *graph.Graph, ref bool) ([]*Buffer, error) {
	op := g.Ops[0]
	ins := make([]*graph.Tensor, len(op.Inputs))
	bins := make([]*Buffer, len(op.Inputs))
	for j, t := range op.Inputs {
		ins[j] = g.Tensors[t]
		bins[j] = tensorBuf(ins[j])
		if !ins[j].IsConst() {
			setPattern(bins[j])
		}
	}
	outs := make([]*graph.Tensor, len(op.Outputs))
	bouts := make([]*Buffer, len(op.Outputs))
	for j, t := range op.Outputs {
		outs[j] = g.Tensors[t]
		bouts[j] = tensorBuf(outs[j])
	}
	k, err := PrepareWith(op, ins, outs, Options{reference: ref})
	if err != nil {
		return nil, err
	}
	if err := k.Run(bins, bouts); err != nil {
		return nil, err
	}
	return bouts, nil
}

// retype returns a copy of g with every tensor of dtype from (and no
// quantization) switched to dtype to, constants converted value by value.
func retype(g *graph.Graph, from, to graph.DType) *graph.Graph {
	c := g.Clone()
	for _, t := range c.Tensors {
		if t.DType != from || !isData(t) {
			continue
		}
		if t.IsConst() {
			src := tensorBuf(t)
			n := t.NumElements()
			t.DType = to
			dst := tensorBuf(&graph.Tensor{DType: to, Shape: t.Shape})
			for i := range n {
				v := elemAt(src, i)
				switch to {
				case graph.Float32:
					dst.F32[i] = float32(v)
				case graph.Bool:
					dst.Bool[i] = v%2 == 1
				default:
					setInt(dst, i, int32(v))
				}
			}
			t.Data = encodeBuf(dst)
		}
		t.DType = to
		t.Quant = nil
	}
	return c
}

// isData tells opcases' data tensors from parameters by name.
func isData(t *graph.Tensor) bool {
	return t.Name == "x" || (len(t.Name) > 1 && (t.Name[0] == 'y' || t.Name[0] == 'c') && t.Name[1] >= '0' && t.Name[1] <= '9')
}

func encodeBuf(b *Buffer) []byte {
	if b.DType == graph.Bool {
		d := make([]byte, len(b.Bool))
		for i, v := range b.Bool {
			if v {
				d[i] = 1
			}
		}
		return d
	}
	return append([]byte{}, rawBytes(b)...)
}

// TestLayoutTableCoversDTypes walks opTable's layout kinds: every kind needs
// a case generator and must run every dtype it is listed for, moving the
// same elements as its float32 run (so every element width is checked
// against one layout), in the plain and the default path; unlisted dtypes
// must be refused with ErrUnsupported. The TFLite oracle checks the float
// layouts themselves (interp's TestLayoutOpsMatchTFLite).
func TestLayoutTableCoversDTypes(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	for _, kind := range opcases.LayoutKinds {
		if opTable[kind] == nil {
			t.Errorf("%s: no entry in opTable", kind)
			continue
		}
		listed := opcases.LayoutDTypes(kind)
		for _, dt := range opcases.DataTypes {
			for trial := range 12 {
				name := fmt.Sprintf("%s/%s/%d", kind, dt, trial)
				seed := rng.Uint64()
				g, err := opcases.Layout(kind, dt, rand.New(rand.NewPCG(seed, 1)))
				if err != nil {
					if !slices.Contains(listed, dt) && errors.Is(err, graph.ErrShape) {
						break // the shape rule already refuses the dtype
					}
					t.Errorf("%s: case: %v", name, err)
					break
				}
				for _, ct := range g.Tensors {
					if kind == graph.OpSpaceToBatchND && ct.Quant != nil {
						ct.Quant.ZeroPoint[0] = 0 // pads are the zero point; the twin pads 0
					}
					if ct.IsConst() && isData(ct) { // values a float32 twin holds exactly
						b := tensorBuf(ct)
						setPattern(b)
						ct.Data = encodeBuf(b)
					}
				}
				got, err := runLayout(g, trial%2 == 1)
				if !slices.Contains(listed, dt) {
					if !errors.Is(err, ErrUnsupported) {
						t.Errorf("%s: unlisted dtype: err = %v, want ErrUnsupported", name, err)
					}
					break
				}
				if err != nil {
					t.Errorf("%s: %v", name, err)
					break
				}
				if dt == graph.Float32 || kind == graph.OpRange || kind == graph.OpShape || kind == graph.OpRank {
					continue
				}
				want, err := runLayout(retype(g, dt, graph.Float32), false)
				if err != nil {
					t.Errorf("%s: float32 twin: %v", name, err)
					break
				}
				for o := range got {
					n := len(rawBytes(got[o])) / got[o].DType.Size()
					for i := range n {
						w := elemAt(want[o], i)
						if dt == graph.Bool {
							w %= 2
						}
						if elemAt(got[o], i) != w {
							t.Errorf("%s: output %d element %d = %d, float32 run gives %d", name, o, i, elemAt(got[o], i), w)
							break
						}
					}
				}
			}
		}
	}
}

// TestLayoutFamilyHasCases walks opTable: every op whose prepare function
// lives in the layout family files must have a case generator (and so be
// run by TestLayoutTableCoversDTypes and the oracle test).
func TestLayoutFamilyHasCases(t *testing.T) {
	n := 0
	for kind, f := range opTable {
		if f == nil {
			continue
		}
		file, _ := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).FileLine(reflect.ValueOf(f).Pointer())
		if base := filepath.Base(file); base != "layout.go" && base != "layout_index.go" {
			continue
		}
		n++
		if !slices.Contains(opcases.LayoutKinds, graph.OpKind(kind)) {
			t.Errorf("%s: prepared in %s but has no case generator in opcases.LayoutKinds", graph.OpKind(kind), filepath.Base(file))
		}
	}
	if n != len(opcases.LayoutKinds) {
		t.Errorf("%d layout-family ops in opTable, %d case generators", n, len(opcases.LayoutKinds))
	}
}

// TestLayoutRefusals: what TFLite refuses at prepare, qbench refuses with
// an error naming the op; quantization that a copy cannot keep is refused.
func TestLayoutRefusals(t *testing.T) {
	q := func(s float32, zp int64) *graph.Quantization {
		return &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{zp}}
	}
	x := &graph.Tensor{Name: "x", DType: graph.Int8, Shape: []int{2, 3}, Quant: q(0.5, 1)}
	cases := []struct {
		name string
		op   *graph.Op
		ins  []*graph.Tensor
		out  *graph.Tensor
	}{
		{"transpose-requant", &graph.Op{Kind: graph.OpTranspose}, []*graph.Tensor{x, opcases.Ints("perm", nil, 1, 0)},
			&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{3, 2}, Quant: q(0.25, 1)}},
		{"transpose-bad-perm", &graph.Op{Kind: graph.OpTranspose}, []*graph.Tensor{x, opcases.Ints("perm", nil, 1, 1)},
			&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{3, 3}, Quant: q(0.5, 1)}},
		{"slice-out-of-range", &graph.Op{Kind: graph.OpSlice}, []*graph.Tensor{x, opcases.Ints("b", nil, 1, 0), opcases.Ints("s", nil, 2, 1)},
			&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{2, 1}, Quant: q(0.5, 1)}},
		{"tile-wrong-shape", &graph.Op{Kind: graph.OpTile}, []*graph.Tensor{x, opcases.Ints("m", nil, 2, 1)},
			&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{2, 3}, Quant: q(0.5, 1)}},
		{"gather-dtype", &graph.Op{Kind: graph.OpGather, Options: &graph.GatherOptions{}}, []*graph.Tensor{x, {Name: "i", DType: graph.Float32, Shape: []int{1}, Data: make([]byte, 4)}},
			&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{1, 3}, Quant: q(0.5, 1)}},
		{"split-uneven", &graph.Op{Kind: graph.OpSplit, Options: &graph.SplitOptions{NumSplits: 2}}, []*graph.Tensor{opcases.Ints("a", []int{}, 1), x},
			&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{2, 1}, Quant: q(0.5, 1)}},
		{"depth-to-space-rank", &graph.Op{Kind: graph.OpDepthToSpace, Options: &graph.BlockOptions{BlockSize: 2}}, []*graph.Tensor{x},
			&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{2, 3}, Quant: q(0.5, 1)}},
		{"range-int8", &graph.Op{Kind: graph.OpRange}, []*graph.Tensor{{Name: "s", DType: graph.Int8, Shape: []int{}}, {Name: "l", DType: graph.Int8, Shape: []int{}}, {Name: "d", DType: graph.Int8, Shape: []int{}}},
			&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{3}}},
	}
	for _, c := range cases {
		_, err := PrepareWith(c.op, c.ins, []*graph.Tensor{c.out}, Options{})
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if want := c.op.Kind.String(); !containsStr(err.Error(), want) {
			t.Errorf("%s: error %q does not name %s", c.name, err, want)
		}
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestLayoutDynamicParams runs the parameterised ops with their parameters
// as activations (the maps are built per Run) and checks them against the
// constant-parameter kernel; a parameter that changes the planned shape is
// a run-time error, not a wrong write.
func TestLayoutDynamicParams(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, kind := range opcases.LayoutKinds {
		if kind == graph.OpRange {
			continue // its parameters are scalars of the output dtype, covered by the oracle test
		}
		for trial := range 6 {
			g, err := opcases.Layout(kind, graph.Float32, rng)
			if err != nil {
				t.Fatal(err)
			}
			want, err := runLayout(g, false)
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			op := g.Ops[0]
			ins := make([]*graph.Tensor, len(op.Inputs))
			bins := make([]*Buffer, len(op.Inputs))
			dyn := false
			for j, ti := range op.Inputs {
				tt := *g.Tensors[ti]
				bins[j] = tensorBuf(&tt)
				if !tt.IsConst() {
					setPattern(bins[j])
				} else if tt.DType == graph.Int32 && kind != graph.OpGather && kind != graph.OpGatherND {
					tt.Data = nil // the kernel must read it at run time
					dyn = true
				}
				ins[j] = &tt
			}
			if !dyn {
				continue
			}
			outs := make([]*graph.Tensor, len(op.Outputs))
			bouts := make([]*Buffer, len(op.Outputs))
			for j, ti := range op.Outputs {
				outs[j] = g.Tensors[ti]
				bouts[j] = tensorBuf(outs[j])
			}
			k, err := PrepareWith(op, ins, outs, Options{})
			if err != nil {
				t.Errorf("%s/%d: dynamic prepare: %v", kind, trial, err)
				continue
			}
			if err := k.Run(bins, bouts); err != nil {
				t.Errorf("%s/%d: dynamic run: %v", kind, trial, err)
				continue
			}
			for o := range want {
				if !slices.Equal(rawBytes(want[o]), rawBytes(bouts[o])) {
					t.Errorf("%s/%d: output %d differs with dynamic parameters", kind, trial, o)
				}
			}
			// A parameter value giving another shape must fail the run.
			for j := range bins {
				if ins[j].IsConst() || bins[j].DType != graph.Int32 || len(bins[j].I32) == 0 || kind == graph.OpReverseV2 {
					continue
				}
				if kind == graph.OpExpandDims || kind == graph.OpRange || kind == graph.OpSqueeze {
					continue
				}
				old := bins[j].I32[0]
				bins[j].I32[0] = old + 1
				if err := k.Run(bins, bouts); err == nil && !sameShapeAfter(kind, g, j, bins) {
					t.Errorf("%s/%d: parameter %d changed to %d: no error", kind, trial, j, old+1)
				}
				bins[j].I32[0] = old
			}
		}
	}
}

// sameShapeAfter reports whether the changed parameter still gives the
// planned output shapes (then the run may legitimately succeed).
func sameShapeAfter(kind graph.OpKind, g *graph.Graph, j int, bins []*Buffer) bool {
	c := g.Clone()
	op := c.Ops[0]
	t := c.Tensors[op.Inputs[j]]
	t.Data = graph.EncodeInt32s(bins[j].I32)
	var before [][]int
	for _, o := range op.Outputs {
		before = append(before, slices.Clone(c.Tensors[o].Shape))
	}
	shapes, err := graph.InferOpShapes(c, op)
	if err != nil {
		return false
	}
	for i, s := range shapes {
		if !slices.Equal(s, before[i]) {
			return false
		}
	}
	return true
}
