package kernels

import (
	"unsafe"
)

// The vector form of DEPTHWISE_CONV_2D: each output row runs through
// assembly loops (depthwise_amd64.s) that keep up to 64 channels'
// accumulators in registers across the taps, reading raw inputs (int8,
// uint8 or float32) with the channels innermost, any window, stride and
// dilation. They read a padded copy of the image whose border holds the
// input zero point (0 for float), so that border pixels need no bounds
// checks: with the accumulators started at −zp_in·Σ_taps w, a padded tap
// adds w·zp_in − w·zp_in = 0, the same int32 sum (wrapping alike) as
// TFLite's loop, which skips it. A depth multiplier M > 1 reads a copy
// with each channel repeated M times, so output channel ic·M+m meets its
// input channel in lane ic·M+m. Integer accumulators then go through the
// row's requantization in one block; float ones get bias and clamp in the
// loop (the values of floatEpilogue; a −0 sum may come out +0 where Go's
// max(−0, 0) gives +0 and VMAXPS keeps −0, or the reverse).
// Float products and sums round as the Go loop's (one rounding each, tap
// order), except that a padded tap adds w·0: a −0 sum becomes +0 and an
// infinite weight makes NaN there, where the plain loop skips the tap
// (XNNPACK's float depthwise also multiplies padding). Layers with
// neither padding nor M > 1 read the input in place.
// TestDepthwiseVecMatchesReference checks all of this against the plain
// loops.

// dwKind is the element type a dwVec reads.
type dwKind int

const (
	dwS8 dwKind = iota
	dwU8
	dwF32
)

// dwBlock is one channel block: n lanes (64, or up to 16 with a mask)
// from channel c0; w, init and ep index its weights ([tap][width]),
// initial accumulators ([width]) and, for float, epilogue (bias [width],
// lo, hi).
type dwBlock struct{ c0, n, w, init, ep int }

// dwVec is the vector plan of one depthwise layer.
type dwVec struct {
	kind dwKind
	c    int   // channels per pixel of the image it reads (outC)
	off  []int // per tap, byte offset of its pixel from the window's first
	// The image it reads: pH×pW pixels, the input at rows [padT, padT+inH)
	// and columns [padL, padL+inW); copy is false when that is the input
	// itself (no padding, no multiplier).
	pH, pW     int
	copy       bool
	blocks     []dwBlock
	wI, initI  []int32
	wF, initF  []float32
	epF        []float32
	mult, inC  int
	padI       byte     // the integer kinds' padding byte (zp_in)
	padded     freeList // *[]byte or *[]float32: one image's padded copy
	paddedSize int
	// packP > 0 (integer kinds, stride-1 columns, C dividing 64, C < 64)
	// runs packP neighbouring pixels as one 64-lane pixel: their windows'
	// values for a tap are packP·C contiguous bytes, so the 64-lane loop
	// with packW and packInit (the weights and start repeated packP times)
	// fills all its lanes where the C-lane blocks would leave most empty
	// (a MobileNet's 8- and 16-channel layers).
	packP           int
	packW, packInit []int32
}

// newDwVec builds the vector plan, or nil when the vector loops cannot
// run (no AVX-512 — for float, neither AVX-512 nor AVX2 —, or -tags
// noasm). w is the filter [tap][outC] (int32 for the integer kinds: the weights less their zero point; float32
// otherwise), init the accumulators' start (−zp_in·Σ_taps w for integers;
// nil for float), pad the padding byte of the integer kinds, and bias (nil
// for none), lo and hi the float epilogue.
func newDwVec(kind dwKind, g *convGeom, mult int, wI, initI []int32, wF []float32, pad byte, bias []float32, lo, hi float32) *dwVec {
	if !dwVecAvailable() && !(kind == dwF32 && dwVecF32Available()) {
		return nil
	}
	v := &dwVec{kind: kind, c: g.outC, mult: mult, inC: g.inC, padI: pad}
	// The padded image reaches the last output's last tap on each axis.
	lastY := (g.outH-1)*g.strideH - g.padT + (g.fH-1)*g.dilH
	lastX := (g.outW-1)*g.strideW - g.padL + (g.fW-1)*g.dilW
	v.pH, v.pW = g.padT+max(g.inH, lastY+1), g.padL+max(g.inW, lastX+1)
	v.copy = mult > 1 || v.pH != g.inH || v.pW != g.inW
	v.paddedSize = v.pH * v.pW * v.c
	elem := 1
	if kind == dwF32 {
		elem = 4
	}
	taps := g.fH * g.fW
	for ky := 0; ky < g.fH; ky++ {
		for kx := 0; kx < g.fW; kx++ {
			v.off = append(v.off, (ky*g.dilH*v.pW+kx*g.dilW)*v.c*elem)
		}
	}
	C := v.c
	for c0 := 0; c0 < C; {
		n := 16
		if C-c0 >= 64 {
			n = 64
		}
		n = min(n, C-c0)
		width := max(n, 16)
		b := dwBlock{c0: c0, n: n}
		if kind == dwF32 {
			b.w, b.init = len(v.wF), len(v.initF)
			for t := 0; t < taps; t++ {
				row := make([]float32, width)
				copy(row, wF[t*C+c0:t*C+c0+n])
				v.wF = append(v.wF, row...)
			}
			v.initF = append(v.initF, make([]float32, width)...)
			b.ep = len(v.epF)
			ep := make([]float32, width+2)
			if bias != nil {
				copy(ep, bias[c0:c0+n])
			}
			ep[width], ep[width+1] = lo, hi
			v.epF = append(v.epF, ep...)
		} else {
			b.w, b.init = len(v.wI), len(v.initI)
			for t := 0; t < taps; t++ {
				row := make([]int32, width)
				copy(row, wI[t*C+c0:t*C+c0+n])
				v.wI = append(v.wI, row...)
			}
			row := make([]int32, width)
			copy(row, initI[c0:c0+n])
			v.initI = append(v.initI, row...)
		}
		v.blocks = append(v.blocks, b)
		c0 += n
	}
	if kind != dwF32 && g.strideW == 1 && C < 64 && 64%C == 0 {
		v.packP = 64 / C
		for t := 0; t < taps; t++ {
			for range v.packP {
				v.packW = append(v.packW, wI[t*C:(t+1)*C]...)
			}
		}
		for range v.packP {
			v.packInit = append(v.packInit, initI[:C]...)
		}
	}
	return v
}

// image returns the image the loops read for one input image src (inH·inW
// pixels of inC channels): src itself, or the padded (and, for M > 1,
// channel-repeated) copy, whose pool entry the caller returns with put.
func image[T int8 | uint8 | float32](v *dwVec, g *convGeom, src []T, pad T) ([]T, *[]T) {
	if !v.copy {
		return src, nil
	}
	p, _ := v.padded.Get().(*[]T)
	if p == nil {
		s := make([]T, v.paddedSize)
		for i := range s {
			s[i] = pad // the border keeps it: Run writes only the inside
		}
		p = &s
	}
	dst, C, M := *p, g.inC, v.mult
	for y := 0; y < g.inH; y++ {
		row := dst[((g.padT+y)*v.pW+g.padL)*v.c:]
		in := src[y*g.inW*C : (y+1)*g.inW*C]
		if M == 1 {
			copy(row, in)
			continue
		}
		for px := 0; px < g.inW; px++ {
			o, x := row[px*C*M:(px+1)*C*M], in[px*C:(px+1)*C]
			for ic, xv := range x {
				for m := range M {
					o[ic*M+m] = xv
				}
			}
		}
	}
	return dst, p
}

// rowI32 fills acc[ox·C …] (C = outC) with the accumulators of output
// row oy, img being the image image returned, as bytes.
func (v *dwVec) rowI32(acc []int32, img []byte, g *convGeom, oy int) {
	base, step, npix := v.rowStart(g, oy), g.strideW*v.c, g.outW
	// Every read and write lies inside img and acc: the last pixel's last
	// tap ends at base + (npix−1)·step + off[last] + C.
	_, _ = img[base+(npix-1)*step+v.off[len(v.off)-1]+v.c-1], acc[npix*v.c-1]
	if P := v.packP; P > 0 && npix >= P {
		// Whole groups of P pixels (their last pixel's reads are inside
		// the bound above); the rest through the channel blocks.
		full := npix / P * P
		v.accPacked(acc, img, base, full/P)
		acc, base, npix = acc[full*v.c:], base+full*step, npix-full
		if npix == 0 {
			return
		}
	}
	v.accI32(acc, img, base, step, npix)
}

// rowF32 is rowI32 for float32.
func (v *dwVec) rowF32(acc []float32, img []float32, g *convGeom, oy int) {
	base, step, npix := v.rowStart(g, oy), g.strideW*v.c, g.outW
	_, _ = img[base+(npix-1)*step+v.off[len(v.off)-1]/4+v.c-1], acc[npix*v.c-1]
	v.accF32(acc, img, base, step, npix)
}

// rowStart is the element offset of output row oy's first window in the
// image the loops read.
func (v *dwVec) rowStart(g *convGeom, oy int) int {
	iy0, ix0 := oy*g.strideH-g.padT, -g.padL
	if v.copy {
		iy0, ix0 = iy0+g.padT, ix0+g.padL
	}
	return (iy0*v.pW + ix0) * v.c
}

// bytesOf views int8 or uint8 values as bytes (same size and layout).
func bytesOf[T int8 | uint8](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v))
}

// runDwVecInt drives an integer depthwise layer (int8, or uint8 through
// its shifted int8 epilogue and after) with the vector plan: per output
// row, the accumulators, then the row's requantization in one block.
func runDwVecInt[X int8 | uint8](d *depthwise, v *dwVec, src []X, dst []int8, batch int, rq *requant, after func([]int8)) {
	g := d.g
	n := g.outW * g.outC
	ap := d.rowAcc.Get().(*[]int32)
	defer d.rowAcc.Put(ap)
	acc := (*ap)[:n]
	per := g.inH * g.inW * g.inC
	for b := 0; b < batch; b++ {
		img, put := image(v, g, src[b*per:(b+1)*per], X(v.padI))
		imgB := bytesOf(img)
		for oy := 0; oy < g.outH; oy++ {
			v.rowI32(acc, imgB, g, oy)
			o := (b*g.outH + oy) * n
			row := dst[o : o+n]
			rq.rowsInt8(row, acc, g.outW)
			if after != nil {
				after(row)
			}
		}
		if put != nil {
			v.padded.Put(put)
		}
	}
}

// runDwVecFloat is runDwVecInt for float32: the loops write the output
// row, bias and clamp included.
func runDwVecFloat(d *depthwise, v *dwVec, src, dst []float32, batch int) {
	g := d.g
	n := g.outW * g.outC
	per := g.inH * g.inW * g.inC
	for b := 0; b < batch; b++ {
		img, put := image(v, g, src[b*per:(b+1)*per], 0)
		for oy := 0; oy < g.outH; oy++ {
			o := (b*g.outH + oy) * n
			row := dst[o : o+n]
			v.rowF32(row, img, g, oy)
		}
		if put != nil {
			v.padded.Put(put)
		}
	}
}
