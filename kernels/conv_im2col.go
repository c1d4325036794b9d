package kernels

import (
	"encoding/binary"
	"unsafe"
)

// im2col writes rows [r0, r0+rows) of the im2col matrix (row r is output
// pixel r of the batch-major pixel sequence) into dst, with padding
// positions set to pad (0 for float, the input zero point for integers, so
// that padded taps contribute nothing, like TFLite skipping them).
func im2col[T float32 | int8](dst, src []T, g *convGeom, r0, rows int, pad T) {
	if d, ok := any(dst).([]int8); ok && narrowIm2col(g) {
		im2colNarrow(d, any(src).([]int8), g, r0, rows, any(pad).(int8))
		return
	}
	im2colGeneric(dst, src, g, r0, rows, pad)
}

// im2colGeneric is im2col for any geometry.
func im2colGeneric[T float32 | int8](dst, src []T, g *convGeom, r0, rows int, pad T) {
	k := g.k()
	perImage := g.outH * g.outW
	inRow := g.inW * g.inC
	_, words := any(dst).([]int8)
	// The pixel's (b, oy, ox) advance incrementally: three divisions per
	// row cost as much as copying a first layer's 27 values.
	b := r0 / perImage
	oy := (r0 % perImage) / g.outW
	ox := r0 % g.outW
	for r := 0; r < rows; r, ox = r+1, ox+1 {
		if ox == g.outW {
			ox = 0
			if oy++; oy == g.outH {
				oy = 0
				b++
			}
		}
		row := dst[r*k : (r+1)*k]
		img := src[b*g.inH*inRow : (b+1)*g.inH*inRow]
		iy0 := oy*g.strideH - g.padT
		ix0 := ox*g.strideW - g.padL
		// Undilated taps: the taps kx0..kx1−1 inside the image are one
		// contiguous run of input values, the others padding.
		run := g.fW * g.inC
		kx0, kx1 := 0, g.fW
		if g.dilW == 1 {
			kx0, kx1 = min(max(-ix0, 0), g.fW), max(min(g.inW-ix0, g.fW), 0)
			kx1 = max(kx1, kx0)
		}
		o := 0
		for ky := 0; ky < g.fH; ky++ {
			iy := iy0 + ky*g.dilH
			if iy < 0 || iy >= g.inH {
				fillPad(row[o:o+run], pad)
				o += run
				continue
			}
			if g.dilW == 1 {
				a, e := kx0*g.inC, kx1*g.inC
				fillPad(row[o:o+a], pad)
				if e > a {
					copySmall(row[o+a:o+e], img[iy*inRow+(ix0+kx0)*g.inC:][:e-a], words)
				}
				fillPad(row[o+e:o+run], pad)
				o += run
				continue
			}
			for kx := 0; kx < g.fW; kx++ {
				ix := ix0 + kx*g.dilW
				seg := row[o : o+g.inC]
				o += g.inC
				if ix < 0 || ix >= g.inW {
					fillPad(seg, pad)
					continue
				}
				copySmall(seg, img[iy*inRow+ix*g.inC:][:g.inC], words)
			}
		}
	}
}

// fillPad sets every element of seg to pad.
func fillPad[T float32 | int8](seg []T, pad T) {
	for i := range seg {
		seg[i] = pad
	}
}

// copySmall is copy(d, s) for len(d) == len(s) that avoids a memmove
// call on the short runs of few-channel layers (a 1-channel first layer's
// 4 taps, a 3-channel one's 9 bytes): a loop below 8 values, two
// overlapping 8-byte moves for 8..16 bytes (words: T is int8).
func copySmall[T float32 | int8](d, s []T, words bool) {
	n := len(d)
	switch {
	case n < 8:
		for i := range d {
			d[i] = s[i]
		}
	case words && n <= 16:
		db, sb := int8Bytes(any(d).([]int8)), int8Bytes(any(s).([]int8))
		binary.LittleEndian.PutUint64(db, binary.LittleEndian.Uint64(sb))
		binary.LittleEndian.PutUint64(db[n-8:], binary.LittleEndian.Uint64(sb[n-8:]))
	default:
		copy(d, s)
	}
}

// int8Bytes views int8 values as bytes (same size and layout).
func int8Bytes(v []int8) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v))
}

// chunkRows is how many output pixels one GEMM call covers: both the
// im2col block (rows·k) and the accumulator block (rows·n) stay within
// im2colBudget unless a single row exceeds it, so scratch memory is bounded
// by the weights' own size whatever the shapes claim.
func chunkRows(total, k, n int) int {
	rows := min(im2colBudget/max(k, 1), im2colBudget/max(n, 1))
	return max(1, min(rows, total))
}
