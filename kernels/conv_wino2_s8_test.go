package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/gemm"
)

// TestConv2DWinograd2DInt8 checks the integer 2-D Winograd conv bit for
// bit against the im2col path and TFLite's reference loop (checkPath) on
// random 3×3 stride-1 layers: outputs 1..13 high and wide (partial tiles
// both ways), channel counts not multiples of 16, SAME and VALID, batches
// 1 and 3, every rounding, edge zero points, per-tensor and per-channel
// scales, fused RELU and RELU6; every seventh case is one of seed-cnn's
// layers, whose images span several blocks of tile rows.
func TestConv2DWinograd2DInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(181, 182))
	seed := []convCase{
		{inH: 40, inW: 40, inC: 16, outC: 32},
		{inH: 20, inW: 20, inC: 32, outC: 64},
		{inH: 10, inW: 10, inC: 64, outC: 128},
	}
	for iter := range 90 {
		c := convCase{batch: []int{1, 3}[iter%2], inH: 1 + r.IntN(13), inW: 1 + r.IntN(13), inC: 1 + r.IntN(40), outC: 1 + r.IntN(40),
			fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		if iter%7 == 0 {
			s := seed[(iter/7)%len(seed)]
			c.inH, c.inW, c.inC, c.outC, c.pad = s.inH, s.inW, s.inC, s.outC, graph.PaddingSame
		}
		if c.pad == graph.PaddingValid {
			c.inH += 2
			c.inW += 2
		}
		q := winoS8Trial(r, c, iter)
		if iter%7 == 0 {
			// Trained weights are far from uniform: seed-cnn's largest
			// Σ|w| is 21580 (10×10×64→128), where uniform ones over
			// −127..127 would exceed the 2-D bound of 29127.
			q.ws = randI8(r, len(q.ws), 101)
		}
		if q.checkPath(t, pathWinograd2D).wino2 == nil {
			t.Fatalf("%+v: 2-D Winograd not used", c)
		}
	}
}

// TestConv2DWinograd2DInt8Extremes drives the sums to the int32 bound the
// 2-D plan admits: inputs all −128 or all 127 against weights of one sign
// (or alternating) with Σ|w| exactly winoS8MaxAbsSum2D, where 576·Σ x·w
// lies just inside int32 and the products wrap on the way; Σ|w| one more
// must leave the 2-D plan for the 1-D one, exact as well.
func TestConv2DWinograd2DInt8Extremes(t *testing.T) {
	r := rand.New(rand.NewPCG(183, 184))
	for iter := range 12 {
		for _, over := range []bool{false, true} {
			inC := (winoS8MaxAbsSum2D + 9*127 - 1) / (9 * 127)
			c := convCase{batch: 1, inH: 5 + iter%3, inW: 6 + iter%4, inC: inC, outC: 3, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(iter % 2)}
			q := winoS8Trial(r, c, iter)
			xv := []int8{-128, 127}[iter%2]
			for i := range q.xs {
				q.xs[i] = xv
			}
			mag := 127
			if (iter/2)%3 == 2 {
				mag = 128 // all −128
			}
			k := 9 * inC
			for o := range c.outC {
				// Σ|w| of channel o: the bound (or one more) for channel
				// 0, somewhat less for the others.
				target := winoS8MaxAbsSum2D - 50*o
				if over && o == 0 {
					target++
				}
				w := q.ws[o*k : (o+1)*k]
				for i := range w {
					a := min(mag, target)
					target -= a
					v := int8(a)
					if mag == 128 {
						v = int8(-a)
					}
					switch (iter / 2) % 3 {
					case 1:
						v = -v
					case 0:
						if i%2 == 1 {
							v = -v
						}
					}
					w[i] = v
				}
			}
			q.zpIn = []int32{-128, 127, 0}[iter%3]
			q.bias = make([]int32, c.outC)
			q.sOut = extremeScale(q)
			got := q.checkPath(t, pathWinograd2D)
			if !over && got.wino2 == nil {
				t.Fatalf("%+v iter %d: 2-D Winograd not used at Σ|w| = %d", c, iter, winoS8MaxAbsSum2D)
			}
			if over && (got.wino2 != nil || got.wino == nil) {
				t.Fatalf("%+v iter %d: Σ|w| = %d: 2-D plan %v, 1-D plan %v; want only 1-D", c, iter, winoS8MaxAbsSum2D+1, got.wino2 != nil, got.wino != nil)
			}
		}
	}
}

// TestConv2DWinograd2DInt8Auto checks pathAuto's choice on seed-cnn's
// 3×3 layers: on the int16-pair families all three (40×40, 20×20 and
// the 10×10 one's 9 tiles at batch 1) take the 2-D form, on the fused
// int16 family (AVX-VNNI without AVX-512) the two with 32 or more input
// channels; elsewhere neither. The 1-D form only on the int16-pair
// families. Results stay bit-identical either way.
func TestConv2DWinograd2DInt8Auto(t *testing.T) {
	r := rand.New(rand.NewPCG(185, 186))
	for iter, c := range []convCase{
		{batch: 1, inH: 40, inW: 40, inC: 16, outC: 32, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame},
		{batch: 2, inH: 20, inW: 20, inC: 32, outC: 64, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame},
		{batch: 1, inH: 10, inW: 10, inC: 64, outC: 128, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame},
	} {
		q := winoS8Trial(r, c, iter+2)
		q.ws = randI8(r, len(q.ws), 101)
		k := q.checkPath(t, pathAuto)
		fam := winoS8Family()
		two := fam || gemm.I16Fused() && c.inC >= 32
		if (k.wino2 != nil) != two {
			t.Errorf("%+v: 2-D Winograd used %v, want %v (int16-pair family %v)", c, k.wino2 != nil, two, fam)
		}
		if want := fam && !two; (k.wino != nil) != want {
			t.Errorf("%+v: 1-D Winograd used %v, want %v (int16-pair family %v)", c, k.wino != nil, want, fam)
		}
	}
}
