package kernels

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestSplitBlocksMatchMap: SPLIT and SPLIT_V with constant parameters copy
// blocks (splitKernel) and give the bytes of the reference index map on
// random shapes (rank 1 to 4, odd sizes), axes (negative ones too), equal
// and uneven parts (empty parts and a -1 size included) and every element
// width; outputs are pre-filled so a missed element shows.
func TestSplitBlocksMatchMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	dtypes := []graph.DType{graph.UInt8, graph.Int8, graph.Int16, graph.Float32, graph.Int32, graph.Int64}
	blocks := 0
	for range 500 {
		rank := 1 + rng.IntN(4)
		shape := make([]int, rank)
		for d := range shape {
			shape[d] = 1 + rng.IntN(7)
		}
		axis := rng.IntN(rank)
		dt := dtypes[rng.IntN(len(dtypes))]
		splitV := rng.IntN(2) == 0
		var parts []int
		if splitV {
			n := 1 + rng.IntN(4)
			shape[axis] = 0
			for range n {
				v := rng.IntN(4)
				parts = append(parts, v)
				shape[axis] += v
			}
			if shape[axis] == 0 {
				parts[0], shape[axis] = 1, shape[axis]+1
			}
		} else {
			n := 1 + rng.IntN(4)
			shape[axis] = n * (1 + rng.IntN(3))
			for range n {
				parts = append(parts, shape[axis]/n)
			}
		}
		a := axis
		if rng.IntN(3) == 0 {
			a -= rank
		}
		axisT := &graph.Tensor{Name: "axis", DType: graph.Int32, Shape: []int{}, Data: graph.EncodeInt32s([]int32{int32(a)})}
		x := &graph.Tensor{Name: "x", DType: dt, Shape: shape}
		var outs []*graph.Tensor
		for o, n := range parts {
			s := append([]int(nil), shape...)
			s[axis] = n
			outs = append(outs, &graph.Tensor{Name: fmt.Sprint("y", o), DType: dt, Shape: s})
		}
		op := &graph.Op{Kind: graph.OpSplit, Options: &graph.SplitOptions{NumSplits: len(parts)}}
		ins := []*graph.Tensor{axisT, x}
		if splitV {
			sizes := make([]int32, len(parts))
			for i, v := range parts {
				sizes[i] = int32(v)
			}
			if rng.IntN(3) == 0 {
				sizes[rng.IntN(len(sizes))] = -1
			}
			op.Kind = graph.OpSplitV
			ins = []*graph.Tensor{x, {Name: "sizes", DType: graph.Int32, Shape: []int{len(sizes)}, Data: graph.EncodeInt32s(sizes)}, axisT}
		}
		what := fmt.Sprintf("%s %s %v axis %d parts %v", op.Kind, dt, shape, a, parts)
		fast, err := PrepareWith(op, ins, outs, Options{})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if _, ok := fast.(*splitKernel); ok {
			blocks++
		} else {
			t.Fatalf("%s: fast kernel is %T", what, fast)
		}
		ref, err := PrepareWith(op, ins, outs, Options{reference: true})
		if err != nil {
			t.Fatalf("%s: reference: %v", what, err)
		}
		bins := make([]*Buffer, len(ins))
		for i, in := range ins {
			bins[i] = tensorBuf(in)
		}
		xb := bins[1]
		if splitV {
			xb = bins[0]
		}
		bs := rawBytes(xb)
		for i := range bs {
			bs[i] = byte(rng.IntN(256))
		}
		got, want := make([]*Buffer, len(outs)), make([]*Buffer, len(outs))
		for o, t := range outs {
			got[o], want[o] = tensorBuf(t), tensorBuf(t)
			gb := rawBytes(got[o])
			for i := range gb {
				gb[i] = 0xA5
			}
		}
		if err := fast.Run(bins, got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := ref.Run(bins, want); err != nil {
			t.Fatalf("%s: reference: %v", what, err)
		}
		for o := range outs {
			if !bytes.Equal(rawBytes(got[o]), rawBytes(want[o])) {
				t.Fatalf("%s: output %d: blocks %v, map %v", what, o, rawBytes(got[o]), rawBytes(want[o]))
			}
		}
	}
	if blocks == 0 {
		t.Error("no case took the block path")
	}
}

// BenchmarkCoralSplitConcat runs coral_split_concat's three layout ops at
// batch 64 (uint8): CONCATENATION of 3, 1 and 2 channels, SPLIT into six
// one-channel slices, CONCATENATION of 1 and 1 (thread CPU time per run).
func BenchmarkCoralSplitConcat(b *testing.B) {
	u8 := func(name string, c int) *graph.Tensor {
		return &graph.Tensor{Name: name, DType: graph.UInt8, Shape: []int{64, 8, 8, c}}
	}
	axis := &graph.Tensor{Name: "axis", DType: graph.Int32, Shape: []int{}, Data: graph.EncodeInt32s([]int32{3})}
	cat := &graph.Op{Kind: graph.OpConcatenation, Options: &graph.ConcatenationOptions{Axis: 3}}
	split := &graph.Op{Kind: graph.OpSplit, Options: &graph.SplitOptions{NumSplits: 6}}
	cases := []struct {
		name string
		op   *graph.Op
		ins  []*graph.Tensor
		outs []*graph.Tensor
	}{
		{"concat3-1-2", cat, []*graph.Tensor{u8("a", 3), u8("b", 1), u8("c", 2)}, []*graph.Tensor{u8("y", 6)}},
		{"split6", split, []*graph.Tensor{axis, u8("x", 6)}, []*graph.Tensor{u8("y0", 1), u8("y1", 1), u8("y2", 1), u8("y3", 1), u8("y4", 1), u8("y5", 1)}},
		{"concat1-1", cat, []*graph.Tensor{u8("a", 1), u8("b", 1)}, []*graph.Tensor{u8("y", 2)}},
	}
	// split6-map is the index map SPLIT ran before splitKernel (its
	// reference form).
	cases = append(cases, cases[1])
	cases[3].name = "split6-map"
	for i, c := range cases {
		k, err := PrepareWith(c.op, c.ins, c.outs, Options{reference: i == 3})
		if err != nil {
			b.Fatal(err)
		}
		bins, bouts := make([]*Buffer, len(c.ins)), make([]*Buffer, len(c.outs))
		for i, t := range c.ins {
			bins[i] = tensorBuf(t)
		}
		for i, t := range c.outs {
			bouts[i] = tensorBuf(t)
		}
		b.Run(c.name, func(b *testing.B) {
			runCPU(b, func() {
				if err := k.Run(bins, bouts); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
