package kernels

import "encoding/binary"

// First layers (an RGB image, a 3×3 window, usually stride 2) have im2col
// rows of only 27 bytes, so the generic im2col's per-row work (window
// bounds, slicing, a copy per window row) costs more than the GEMM
// behind it: for the uint8 MobileNet it was 45% of the layer. narrowRun
// is the window-row length the words path below takes: two overlapping
// 8-byte moves cover any run of 8 to 16 bytes.
const narrowRunMin, narrowRunMax = 8, 16

// narrowIm2col reports whether im2colNarrow applies to g: int8 windows
// whose rows are 8 to 16 contiguous bytes (undilated columns).
func narrowIm2col(g *convGeom) bool {
	run := g.fW * g.inC
	return g.dilW == 1 && run >= narrowRunMin && run <= narrowRunMax
}

// im2colNarrow is im2col for narrowIm2col geometries. Pixels whose
// window lies inside the image horizontally run in stretches along an
// output row, window row by window row, two word moves per window row
// (rows above or below the image are filled with pad); the few pixels at
// the left and right edges take the generic path one at a time.
func im2colNarrow(dst, src []int8, g *convGeom, r0, rows int, pad int8) {
	k := g.k()
	run := g.fW * g.inC
	perImage := g.outH * g.outW
	inRow := g.inW * g.inC
	step := g.strideW * g.inC
	d := int8Bytes(dst[:rows*k])
	s := int8Bytes(src)
	padWord := uint64(uint8(pad)) * 0x0101010101010101
	// Output columns [oxLo, oxHi) have ix0 >= 0 and ix0+fW <= inW.
	oxLo := (g.padL + g.strideW - 1) / g.strideW
	oxHi := oxLo
	if lim := g.inW - g.fW + g.padL; lim >= 0 {
		oxHi = max(oxLo, min(g.outW, lim/g.strideW+1))
	}
	b := r0 / perImage
	oy := (r0 % perImage) / g.outW
	ox := r0 % g.outW
	for r := 0; r < rows; {
		end := min(g.outW, ox+rows-r)
		for ox < end {
			if ox < oxLo || ox >= oxHi {
				im2colGeneric(dst[r*k:(r+1)*k], src, g, b*perImage+oy*g.outW+ox, 1, pad)
				r++
				ox++
				continue
			}
			stop := min(end, oxHi)
			img := b * g.inH * inRow
			for ky := 0; ky < g.fH; ky++ {
				iy := oy*g.strideH - g.padT + ky*g.dilH
				o := r*k + ky*run
				if iy < 0 || iy >= g.inH {
					for p := ox; p < stop; p, o = p+1, o+k {
						binary.LittleEndian.PutUint64(d[o:o+8], padWord)
						binary.LittleEndian.PutUint64(d[o+run-8:o+run], padWord)
					}
					continue
				}
				i := img + iy*inRow + (ox*g.strideW-g.padL)*g.inC
				for p := ox; p < stop; p, o, i = p+1, o+k, i+step {
					binary.LittleEndian.PutUint64(d[o:o+8], binary.LittleEndian.Uint64(s[i:i+8]))
					binary.LittleEndian.PutUint64(d[o+run-8:o+run], binary.LittleEndian.Uint64(s[i+run-8:i+run]))
				}
			}
			r += stop - ox
			ox = stop
		}
		if ox == g.outW {
			ox = 0
			if oy++; oy == g.outH {
				oy = 0
				b++
			}
		}
	}
}
