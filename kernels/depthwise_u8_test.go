package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestDepthwiseVecPackedMatchesReference runs wide stride-1 integer
// layers whose channel count divides 64 (the pixel-packed 64-lane loop,
// dwVec.packP, plus its leftover pixels) against the plain loops, int8
// and uint8, every rounding.
func TestDepthwiseVecPackedMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	packed := 0
	for iter := 0; packed < 120 && iter < 5000; iter++ {
		dt := []graph.DType{graph.Int8, graph.UInt8}[iter%2]
		tc := newDwVecCaseWide(rng, dt, 90)
		if tc.op.Options.(*graph.DepthwiseConv2DOptions).StrideW != 1 || tc.outC >= 64 || 64%tc.outC != 0 || tc.outW < 64/tc.outC {
			continue
		}
		packed++
		rnd := []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding}[rng.IntN(3)]
		fast, err := prepareDepthwiseConv2DWith(tc.op, tc.ins, []*graph.Tensor{tc.out}, rnd, false)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		ref, err := prepareDepthwiseConv2DWith(tc.op, tc.ins, []*graph.Tensor{tc.out}, rnd, true)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		shape := []int{tc.batch, tc.outH, tc.outW, tc.outC}
		got, want := refBuffer(dt, shape, nil), refBuffer(dt, shape, nil)
		if err := fast.Run([]*Buffer{tc.x}, []*Buffer{got}); err != nil {
			t.Fatal(err)
		}
		if err := ref.Run([]*Buffer{tc.x}, []*Buffer{want}); err != nil {
			t.Fatal(err)
		}
		for i := range got.I8 {
			if got.I8[i] != want.I8[i] {
				t.Fatalf("%s %v: out[%d] = %d, want %d", tc.desc, rnd, i, got.I8[i], want.I8[i])
			}
		}
		for i := range got.U8 {
			if got.U8[i] != want.U8[i] {
				t.Fatalf("%s %v: out[%d] = %d, want %d", tc.desc, rnd, i, got.U8[i], want.U8[i])
			}
		}
	}
	if packed < 120 {
		t.Fatalf("only %d packed layers drawn", packed)
	}
}
