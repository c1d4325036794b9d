package kernels

import (
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BenchmarkDepthwiseGrpPhases times the phases of the tap-grouped int8
// depthwise on one image of the zoo's KWS and VWW layers (SAME, 3×3), in
// thread CPU time: the channel-repeated padded copy (pad: what a depth
// multiplier > 1 still costs; multiplier 1 reads the input in place),
// the interleaving into X (build), the tap loops (taps) and the separate
// requantization pass (requant).
func BenchmarkDepthwiseGrpPhases(b *testing.B) {
	layers := []struct {
		name               string
		h, w, c, fH, fW, s int
	}{
		{"kws-25x5x64", 25, 5, 64, 3, 3, 1},
		{"vww-48x48x8", 48, 48, 8, 3, 3, 1},
		{"vww-48x48x16-s2", 48, 48, 16, 3, 3, 2},
		{"vww-24x24x32", 24, 24, 32, 3, 3, 1},
		{"vww-12x12x64-s2", 12, 12, 64, 3, 3, 2},
		{"vww-6x6x128", 6, 6, 128, 3, 3, 1},
	}
	for _, l := range layers {
		pad := graph.PaddingSame
		oh, ow := graph.ConvOutputSize(pad, l.h, l.fH, l.s, 1), graph.ConvOutputSize(pad, l.w, l.fW, l.s, 1)
		in := qt("in", graph.Int8, []int{1, l.h, l.w, l.c}, []float32{0.05}, []int64{-3})
		out := qt("out", graph.Int8, []int{1, oh, ow, l.c}, []float32{0.1}, []int64{5})
		ws := make([]int8, l.fH*l.fW*l.c)
		for i := range ws {
			ws[i] = int8(i*7 - 50)
		}
		sc, bs := make([]float32, l.c), make([]int32, l.c)
		for i := range sc {
			sc[i], bs[i] = 0.005+0.0001*float32(i), int32(i*37-500)
		}
		wt := constI8("w", graph.Int8, []int{1, l.fH, l.fW, l.c}, ws, sc)
		bias := constI32("b", bs, []float32{1})
		op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: pad, StrideH: l.s, StrideW: l.s, DepthMultiplier: 1, Activation: graph.ActRelu}}
		x, y := refBuffer(graph.Int8, in.Shape, nil), refBuffer(graph.Int8, out.Shape, nil)
		for _, form := range []string{"vnni", "avx2"} {
			k, err := prepareDepthwiseConv2DWith(op, []*graph.Tensor{in, wt, bias}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, false)
			if err != nil {
				b.Fatal(err)
			}
			d := k.(*depthwiseInt8).depthwise
			vnni, pairs := dwGrpRunnable()
			p := newDwGrpForms(dwS8, d.g, d.mult, d.w32, d.zpTerm, byte(-d.inOff), form == "vnni" && vnni, form == "avx2" && pairs, 0)
			if p == nil {
				continue
			}
			g, v := d.g, p.v
			xb := *p.newX()
			acc := make([]int32, oh*ow*p.cp+p.wide)
			var img []int8
			b.Run(l.name+"/"+form+"/pad", func(b *testing.B) {
				runCPU(b, func() {
					var put *[]int8
					img, put = image(v, g, x.I8, int8(v.padI))
					_ = img
					if put != nil {
						v.padded.Put(put)
					}
				})
			})
			b.Run(l.name+"/"+form+"/build", func(b *testing.B) {
				runCPU(b, func() {
					p.build(xb, bytesOf(x.I8), g.inH, g.inW*g.inC, g.padT, g.padL*g.inC)
				})
			})
			b.Run(l.name+"/"+form+"/taps", func(b *testing.B) {
				runCPU(b, func() {
					for r := 0; r < oh; r++ {
						p.row(acc[r*ow*p.cp:], xb, r, g)
					}
				})
			})
			b.Run(l.name+"/"+form+"/requant", func(b *testing.B) {
				runCPU(b, func() {
					d.rq.rowsStride(y.I8, acc, oh*ow, p.cp)
				})
			})
		}
	}
}
