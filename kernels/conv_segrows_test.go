package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestConv2DFloatSegRowsMatchesDense checks the fused float path (the
// product stores bias + activation results straight into the output
// through a row map) on random odd shapes with random real data: bit for
// bit against the same packed weights run the old way (MulSegmented into
// the wide block, then the copy-out), and against a float64 loop within
// float32 rounding.
func TestConv2DFloatSegRowsMatchesDense(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	fused := 0
	const iters = 150
	for iter := 0; iter < iters; iter++ {
		f := []int{1, 3, 5}[r.IntN(3)]
		c := convCase{batch: 1 + r.IntN(3), inH: 1 + r.IntN(12), inW: 1 + r.IntN(23), inC: 1 + r.IntN(19), outC: 1 + r.IntN(70),
			fH: f, fW: f, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		if c.pad == graph.PaddingValid {
			c.inH += f - 1
			c.inW += f - 1
		}
		outH, outW := c.outSize()
		xs := make([]float32, c.batch*c.inH*c.inW*c.inC)
		for i := range xs {
			xs[i] = float32(r.NormFloat64())
		}
		ws := make([]float32, c.outC*f*f*c.inC)
		for i := range ws {
			ws[i] = float32(r.NormFloat64())
		}
		var bias []float32
		ins := []*graph.Tensor{{Name: "in", DType: graph.Float32, Shape: []int{c.batch, c.inH, c.inW, c.inC}}, constF32("w", []int{c.outC, f, f, c.inC}, ws)}
		if r.IntN(3) > 0 {
			bias = make([]float32, c.outC)
			for i := range bias {
				bias[i] = float32(r.NormFloat64())
			}
			ins = append(ins, constF32("b", []int{c.outC}, bias))
		}
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.IntN(3)]
		lo, hi, _ := ActivationRangeFloat(act)
		out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{c.batch, outH, outW, c.outC}}
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: 1, StrideW: 1, Activation: act}}
		kern, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, fixedpoint.DoubleRounding, pathSegmented)
		if err != nil {
			t.Fatal(err)
		}
		cf := kern.(*convFloat)
		if cf.rows == nil {
			if cf.seg != nil || !cf.g.pointwise() {
				t.Fatalf("%+v: stride-1 conv did not take the row-mapped path", c)
			}
			continue // 1×1 unpadded: the input is the im2col matrix
		}
		fused++
		x := []*Buffer{{DType: graph.Float32, F32: xs}}
		got := &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*outH*outW*c.outC)}
		for i := range got.F32 {
			got.F32[i] = float32(math.NaN()) // every output must be written
		}
		if err := kern.Run(x, []*Buffer{got}); err != nil {
			t.Fatal(err)
		}
		// The same kernel the old way: dense wide block and copy-out.
		old := *cf
		old.rows = nil
		old.segPool = &freeList{New: func() any { return newSegScratch[float32](old.seg, old.g, 0) }}
		want := &Buffer{DType: graph.Float32, F32: make([]float32, len(got.F32))}
		if err := old.Run(x, []*Buffer{want}); err != nil {
			t.Fatal(err)
		}
		for i := range got.F32 {
			if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
				t.Fatalf("%+v act %s: output %d = %v, MulSegmented path %v", c, act, i, got.F32[i], want.F32[i])
			}
		}
		padT := graph.ConvPadding(c.pad, c.inH, f, 1, 1, outH)
		padL := graph.ConvPadding(c.pad, c.inW, f, 1, 1, outW)
		i := 0
		for b := 0; b < c.batch; b++ {
			for oy := 0; oy < outH; oy++ {
				for ox := 0; ox < outW; ox++ {
					for oc := 0; oc < c.outC; oc++ {
						s, mag := 0.0, 0.0
						if bias != nil {
							s = float64(bias[oc])
						}
						for ky := 0; ky < f; ky++ {
							for kx := 0; kx < f; kx++ {
								iy, ix := oy-padT+ky, ox-padL+kx
								if iy < 0 || iy >= c.inH || ix < 0 || ix >= c.inW {
									continue
								}
								for ic := 0; ic < c.inC; ic++ {
									p := float64(xs[((b*c.inH+iy)*c.inW+ix)*c.inC+ic]) * float64(ws[((oc*f+ky)*f+kx)*c.inC+ic])
									s += p
									mag += math.Abs(p)
								}
							}
						}
						ref := min(max(s, float64(lo)), float64(hi))
						if d := math.Abs(float64(got.F32[i]) - ref); !(d <= 1e-6*float64(f*f*c.inC)*(mag+1)) {
							t.Fatalf("%+v act %s: output (%d,%d,%d,%d) = %v, reference %v", c, act, b, oy, ox, oc, got.F32[i], ref)
						}
						i++
					}
				}
			}
		}
	}
	if fused < iters/2 {
		t.Errorf("only %d of %d cases took the row-mapped path", fused, iters)
	}
}

// TestPositiveZeros: −0 biases become +0 (in a copy), others stay.
func TestPositiveZeros(t *testing.T) {
	neg := float32(math.Copysign(0, -1))
	in := []float32{1, neg, -2, 0, neg}
	got := positiveZeros(in)
	for i, v := range got {
		if math.Signbit(float64(v)) != (in[i] < 0) || v != in[i] {
			t.Errorf("positiveZeros(%v)[%d] = %v", in, i, v)
		}
	}
	if !math.Signbit(float64(in[1])) {
		t.Error("positiveZeros changed its argument")
	}
	plain := []float32{1, 0}
	if &positiveZeros(plain)[0] != &plain[0] {
		t.Error("positiveZeros copied a bias without −0")
	}
}
