package kernels

import (
	"bytes"
	"sync"
	"unsafe"
)

// The tap-grouped form of the integer DEPTHWISE_CONV_2D: the taps of a
// window column are taken P at a time (P = 4 with AVX-512 VNNI's
// VPDPBUSD, P = 2 with AVX2's VPMADDWD), so one instruction does P taps
// of 16 (or 8) channels where dwVec's VPMULLD loop does one. For that each
// image is first rewritten into X, once per image byte: the padded
// image's rows, split by dilation into chains (rows ρ, ρ+dilH, …), are
// taken P at a time, and block m of chain ρ holds, for every byte i of a
// row (pixel i/C, channel i%C), the P rows' bytes (or int16 words) at i
// side by side in one 4-byte lane. A window whose first row is row q of
// its chain, q = P·m + s, then reads blocks m, m+1, … with the weights of
// phase s: lane k of group j is tap P·j + k − s (weight 0 outside the
// window), ⌈(fH+s)/P⌉ groups. Windows of any height and width, strides,
// dilations, padding (X's padding rows and columns hold zp_in; the image
// is read in place) and depth multipliers (through dwVec's
// channel-repeated copy) reduce to per-phase weights and a list of
// (group, column) offsets into X, as dwVec's taps do into the image.
// The products and sums are exact int32 arithmetic, which wraps alike in
// any order, so the accumulators equal the plain loop's bit for bit and
// go through the same requantization. VNNI multiplies unsigned bytes, so
// int8 inputs are shifted by +128 (x XOR 0x80) and the start value takes
// 128·Σw off again. The tall 1-D windows of audio models (10×1 on a
// one-pixel-wide image) gain most; there the rows of an image that share
// a phase are the pixels of one loop call.

// grpBlock is one channel block: n lanes from channel c0, its weights per
// phase (indices into dwGrp.w of [groups·fW][n] lanes) and start values.
type grpBlock struct {
	c0, n int
	w     [4]int
	init  int
}

// dwGrp is the tap-grouped plan of one integer depthwise layer.
type dwGrp struct {
	v      *dwVec // geometry and padded copy (its loops' fields unused)
	P      int    // taps per group: 4 bytes (VNNI) or 2 int16 words (AVX2)
	vnni   bool
	u8     bool // uint8 input (VNNI: no shift; AVX2: zero extension)
	dilH   int
	fW     int
	nb     int // X blocks per chain
	rowLen int // bytes of a padded image row: pW·C
	// xStride is the bytes of an X block: 4 per image row byte, plus
	// slack for the loops' whole registers past a row's last channel.
	xStride int
	// nl is the number of layouts (interleavings of each chain, offset
	// by ph = P/nl rows), see layout.
	nl, ph  int
	need    []bool // per X block (layout ℓ, chain ρ, block m at (ℓ·dilH+ρ)·nb+m): read by some window
	gs      [4]int // groups phase s reads
	off     []int  // per (group j, column kx) in that order, the byte offset from a window's first lane
	blocks  []grpBlock
	w, init []int32
	// cp is the accumulators' per-pixel stride: outC rounded up to the
	// loops' lane quantum (or outC itself when pixels are packed), so the
	// loops store whole registers; requantization skips the extra lanes.
	cp   int
	wide int // lanes of the wide loop: 64 (VNNI) or 32 (AVX2)
	// packP > 0 (stride-1 columns, C dividing wide, C < wide) runs packP
	// neighbouring pixels as one wide pixel, their lanes being contiguous
	// in X, with packW (per phase) and packInit the weights and start
	// repeated packP times.
	packP     int
	packW     [4]int
	packInit  int
	chunkRows int    // output rows per accumulator chunk
	padRow    []byte // rowLen padding bytes (zp_in)
	x, acc    freeList
	// q is the fused-requantization form (depthwise_grpq.go), made on
	// first use; noFuse keeps the two-pass form (tests, benchmarks).
	qOnce  sync.Once
	q      *dwGrpQ
	noFuse bool
}

// newDwGrp builds the tap-grouped plan for an integer layer (kind dwS8 or
// dwU8; w the weights [tap][outC] less their zero point, zpTerm the
// accumulators' start −zp_in·Σ_taps w, pad the padding byte zp_in), or
// nil when no tap-grouped loop runs on this CPU or build, or the weights
// do not fit the loop's multiplier (VNNI's signed bytes).
func newDwGrp(kind dwKind, g *convGeom, mult int, w, zpTerm []int32, pad byte) *dwGrp {
	vnni, pairs := dwGrpAvailable()
	return newDwGrpForms(kind, g, mult, w, zpTerm, pad, vnni, pairs, 0)
}

// newDwGrpForms is newDwGrp choosing among the loops allowed and with nl
// layouts (0: the cheapest by cost), so that tests can check each form
// and layout on a CPU that has them all.
func newDwGrpForms(kind dwKind, g *convGeom, mult int, w, zpTerm []int32, pad byte, vnni, pairs bool, nl int) *dwGrp {
	if kind == dwF32 || (!vnni && !pairs) {
		return nil
	}
	if vnni && kind == dwU8 {
		for _, x := range w {
			if x < -128 || x > 127 {
				vnni = false // uint8 weights far from their zero point
				break
			}
		}
		if !vnni && !pairs {
			return nil
		}
	}
	v := &dwVec{kind: kind, c: g.outC, mult: mult, inC: g.inC, padI: pad}
	lastY := (g.outH-1)*g.strideH - g.padT + (g.fH-1)*g.dilH
	lastX := (g.outW-1)*g.strideW - g.padL + (g.fW-1)*g.dilW
	v.pH, v.pW = g.padT+max(g.inH, lastY+1), g.padL+max(g.inW, lastX+1)
	v.copy = mult > 1 || v.pH != g.inH || v.pW != g.inW
	v.paddedSize = v.pH * v.pW * v.c
	p := &dwGrp{v: v, vnni: vnni, u8: kind == dwU8, P: 2, wide: 32, dilH: g.dilH, fW: g.fW}
	q := 8 // lane quantum: a ymm of int32
	if vnni {
		p.P, p.wide, q = 4, 64, 16
	}
	C, P := g.outC, p.P
	p.rowLen = v.pW * C
	p.padRow = bytes.Repeat([]byte{pad}, p.rowLen)
	p.xStride = (4*(p.rowLen+64) + 63) &^ 63
	p.nb = ((v.pH+g.dilH-1)/g.dilH + P - 1) / P
	// The packing and channel blocks decide the lanes per pixel, which
	// the layout's cost estimate needs.
	packs := g.strideW == 1 && C < p.wide && p.wide%C == 0 && g.outW >= p.wide/C
	if packs {
		p.packP, p.cp = p.wide/C, C
	} else {
		p.cp = (C + q - 1) / q * q
		if r := C % p.wide; r > p.wide/2 {
			// One wide block's pass beats three or four narrow ones
			// (40 channels: 64 lanes rather than 3×16).
			p.cp = (C + p.wide - 1) / p.wide * p.wide
		}
	}
	if nl == 0 {
		best := -1
		for n := 1; n <= P; n *= 2 {
			if c := p.layout(g, n); best < 0 || c < best {
				best, nl = c, n
			}
		}
	}
	p.layout(g, min(nl, P))
	for j := 0; j < p.gs[p.ph-1]; j++ {
		for kx := 0; kx < g.fW; kx++ {
			p.off = append(p.off, j*p.xStride+kx*g.dilW*C*4)
		}
	}
	// lane packs the weights of phase s, group j, column kx for channel
	// c: taps P·j+k−s, 0 outside the window.
	lane := func(s, j, kx, c int) int32 {
		var r uint32
		for k := 0; k < P; k++ {
			ky := j*P + k - s
			if ky < 0 || ky >= g.fH {
				continue
			}
			x := w[(ky*g.fW+kx)*C+c]
			if vnni {
				r |= uint32(uint8(int8(x))) << (8 * k)
			} else {
				r |= uint32(uint16(int16(x))) << (16 * k)
			}
		}
		return int32(r)
	}
	start := func(c int) int32 {
		s := zpTerm[c]
		if vnni && kind == dwS8 {
			// The loop reads x+128: take 128·Σw off the start.
			for t := 0; t < g.fH*g.fW; t++ {
				s -= 128 * w[t*C+c]
			}
		}
		return s
	}
	// weights appends phase s's weights for n lanes, lane l being channel
	// ch(l) (or padding when ch returns −1), and returns where they start.
	weights := func(s, n int, ch func(l int) int) int {
		at := len(p.w)
		for j := 0; j < p.gs[s]; j++ {
			for kx := 0; kx < g.fW; kx++ {
				for l := 0; l < n; l++ {
					var x int32
					if c := ch(l); c >= 0 {
						x = lane(s, j, kx, c)
					}
					p.w = append(p.w, x)
				}
			}
		}
		return at
	}
	if packs {
		for s := 0; s < p.ph; s++ {
			p.packW[s] = weights(s, p.wide, func(l int) int { return l % C })
		}
		p.packInit = len(p.init)
		for l := 0; l < p.wide; l++ {
			p.init = append(p.init, start(l%C))
		}
	}
	for c0 := 0; c0 < C; {
		n := q
		if p.cp-c0 >= p.wide {
			n = p.wide
		}
		b := grpBlock{c0: c0, n: n, init: len(p.init)}
		ch := func(l int) int {
			if c0+l < C {
				return c0 + l
			}
			return -1
		}
		for s := 0; s < p.ph; s++ {
			b.w[s] = weights(s, n, ch)
		}
		for l := 0; l < n; l++ {
			var x int32
			if c := ch(l); c >= 0 {
				x = start(c)
			}
			p.init = append(p.init, x)
		}
		p.blocks = append(p.blocks, b)
		c0 += n
	}
	// About 32 KiB of accumulators per chunk (the slack covers the
	// stores of the last pixels' whole registers).
	p.chunkRows = max(1, min(g.outH, (32<<10)/(4*g.outW*p.cp)))
	return p
}

// layout sets the plan's X layout to nl interleavings of each chain,
// offset by P/nl rows from each other (so windows start at phases below
// P/nl and read fewer groups: a 3-row window at phase 0 or 1 reads one
// group of 4, at phase 2 or 3 two), and returns its cost estimate.
func (p *dwGrp) layout(g *convGeom, nl int) int {
	P := p.P
	p.nl, p.ph = nl, P/nl
	p.need = make([]bool, nl*g.dilH*p.nb)
	for s := 0; s < p.ph; s++ {
		p.gs[s] = (g.fH + s + P - 1) / P
	}
	for oy := 0; oy < g.outH; oy++ {
		blk, s := p.phase(oy * g.strideH)
		for j := 0; j < p.gs[s]; j++ {
			p.need[blk+j] = true
		}
	}
	return p.cost(g)
}

// cost estimates the plan's vector instructions per image: a load and a
// multiply-add per group, column and register of lanes, and the
// interleaving of the X blocks it builds (a 32-byte chunk of four rows
// takes 24 instructions, a 16-byte one of two rows 8).
func (p *dwGrp) cost(g *convGeom) int {
	pix := g.outW * (p.cp + 15) / 16
	if p.packP > 0 {
		pix = g.outW * g.outC * 4 / 64
	}
	if !p.vnni {
		pix *= 2 // ymm: half the lanes
	}
	groups := 0
	for oy := 0; oy < g.outH; oy++ {
		_, s := p.phase(oy * g.strideH)
		groups += p.gs[s]
	}
	built := 0
	for _, need := range p.need {
		if need {
			built++
		}
	}
	build := built * p.rowLen * 3 / 4
	if p.P == 2 {
		build = built * p.rowLen / 2
	}
	return groups*g.fW*pix*2 + build
}

// pays reports whether the plan beats dwVec's one-tap loops (when those
// run at all): the interleaving costs about a vector instruction per
// byte of each X block built, which a layer with few output rows per
// image (a 15×1 window over 15 rows) does not win back. dwVec's estimate
// is a load, a multiply and an add per tap and 16 lanes.
func (p *dwGrp) pays(g *convGeom) bool {
	if !dwVecAvailable() {
		return true
	}
	if !p.vnni {
		// AVX-512 without VNNI (the estimate below is VNNI's): dwVec's
		// one-tap zmm loops beat the 2-tap ymm loop on windows wider than
		// one column (mlt_kws_dscnn_i8's, mlt_vww96_i8's and coral's 3×3
		// layers at batch 64 by 10–50%) and on a window covering the whole
		// image (mlt_strww's 15×1 over 15 rows, 0.005 against 0.016 ms),
		// not on mlt_strww's other one-column layers (3×1 over 40
		// channels 0.062 → 0.032 ms, 5×1 0.070 → 0.055, 10×1 0.056 →
		// 0.051; Skylake-SP GODEBUG, batch 64).
		return g.fW == 1 && g.outH > 1
	}
	vecPix := g.outW * ((g.outC + 15) / 16)
	if g.strideW == 1 && g.outC < 64 && 64%g.outC == 0 && g.outW >= 64/g.outC {
		vecPix = g.outW * g.outC / 64 * 4 // dwVec packs pixels too
	}
	return p.cost(g) < g.outH*vecPix*g.fH*g.fW*3
}

// phase returns, for a window whose first row is padded row iy, the X
// block holding it and the phase: with q = iy div dilH the row's place in
// its chain ρ = iy mod dilH, q = P·m + ℓ·(P/nl) + s, s < P/nl, it is block
// m of layout ℓ of chain ρ.
func (p *dwGrp) phase(iy int) (blk, s int) {
	q, rho := iy/p.dilH, iy%p.dilH
	r := q % p.P
	l, s := r/p.ph, r%p.ph
	return (l*p.dilH+rho)*p.nb + (q-l*p.ph)/p.P, s
}

// build rewrites an image into x: the blocks some window reads. src holds
// rows image rows of n bytes each, padded row top being its row 0, and
// lands at byte col of each X row (times 4); rows outside it are the
// padding byte's row (or, past the padded image, any row: weight 0).
// With a depth multiplier of 1 src is the input itself (top = padT,
// col = padL·C), so SAME padding costs no copy: the padding columns of
// X never change and were written when the buffer was made (newX).
func (p *dwGrp) build(x, src []byte, rows, n, top, col int) {
	for bi, need := range p.need {
		if !need {
			continue
		}
		l, rho, m := bi/(p.dilH*p.nb), bi/p.nb%p.dilH, bi%p.nb
		dst := x[bi*p.xStride+4*col : bi*p.xStride+4*(col+n)]
		var s [4][]byte
		for k := 0; k < p.P; k++ {
			r := rho + p.dilH*(p.P*m+l*p.ph+k) - top
			if r >= 0 && r < rows {
				s[k] = src[r*n : (r+1)*n]
			} else {
				s[k] = p.padRow[:n]
			}
		}
		if done := p.interleave(dst, s[:p.P]); done < n {
			p.interleaveGo(dst, s[:p.P], done)
		}
	}
}

// newX returns an X buffer whose every block holds the padding row's
// interleaving, so that build need write only the image's columns.
func (p *dwGrp) newX() *[]byte {
	x := make([]byte, len(p.need)*p.xStride)
	var s [4][]byte
	for k := range s {
		s[k] = p.padRow
	}
	for bi := range p.need {
		p.interleaveGo(x[bi*p.xStride:bi*p.xStride+4*p.rowLen], s[:p.P], 0)
	}
	return &x
}

// interleaveGo is interleave's plain form from byte i0 on (rows shorter
// than the vector loop's chunk).
func (p *dwGrp) interleaveGo(dst []byte, s [][]byte, i0 int) {
	for i := i0; i < len(s[0]); i++ {
		o := dst[4*i : 4*i+4]
		switch {
		case p.vnni && p.u8:
			o[0], o[1], o[2], o[3] = s[0][i], s[1][i], s[2][i], s[3][i]
		case p.vnni:
			o[0], o[1], o[2], o[3] = s[0][i]^0x80, s[1][i]^0x80, s[2][i]^0x80, s[3][i]^0x80
		case p.u8:
			*(*[2]int16)(unsafe.Pointer(&o[0])) = [2]int16{int16(s[0][i]), int16(s[1][i])}
		default:
			*(*[2]int16)(unsafe.Pointer(&o[0])) = [2]int16{int16(int8(s[0][i])), int16(int8(s[1][i]))}
		}
	}
}

// runDwGrp drives an integer depthwise layer (int8, or uint8 through its
// shifted int8 epilogue and after) with the tap-grouped plan: per image
// X (straight from the input when the depth multiplier is 1), then the
// output rows through the fused loops (depthwise_grpq.go) when rq allows,
// else per chunk of output rows the accumulators and their
// requantization in one block.
func runDwGrp[X int8 | uint8](d *depthwise, p *dwGrp, src []X, dst []int8, batch int, rq *requant, after func([]int8)) {
	g, v := d.g, p.v
	xp, _ := p.x.Get().(*[]byte)
	if xp == nil {
		xp = p.newX()
	}
	defer p.x.Put(xp)
	q := p.fused(rq, g.outC)
	var acc []int32
	if q == nil {
		ap, _ := p.acc.Get().(*[]int32)
		if ap == nil {
			s := make([]int32, p.chunkRows*g.outW*p.cp+p.wide)
			ap = &s
		}
		defer p.acc.Put(ap)
		acc = *ap
	}
	x := *xp
	per, C := g.inH*g.inW*g.inC, g.outC
	// With one output column, rows oy and oy+T share a phase, T·strideH
	// being a whole number of X blocks: those rows are the pixels of one
	// call.
	T := p.P * g.dilH / gcd(g.strideH, p.P*g.dilH)
	tStep := T * g.strideH / (p.P * g.dilH) * p.xStride
	for b := 0; b < batch; b++ {
		if d.mult == 1 {
			p.build(x, bytesOf(src[b*per:(b+1)*per]), g.inH, g.inW*g.inC, g.padT, g.padL*g.inC)
		} else {
			// The channel-repeated copy (its padding included).
			img, put := image(v, g, src[b*per:(b+1)*per], X(v.padI))
			p.build(x, bytesOf(img), v.pH, p.rowLen, 0, 0)
			if put != nil {
				v.padded.Put(put)
			}
		}
		if q != nil {
			out := dst[b*g.outH*g.outW*C:][:g.outH*g.outW*C]
			if g.outW == 1 {
				for r0 := 0; r0 < min(T, g.outH); r0++ {
					blk, s := p.phase(r0 * g.strideH)
					p.pixelsQ(q, out[r0*C:], T*C, x, blk*p.xStride, tStep, (g.outH-r0+T-1)/T, s, C)
				}
			} else {
				for r := 0; r < g.outH; r++ {
					p.rowQ(q, out[r*g.outW*C:], x, r, g)
				}
			}
			if after != nil {
				after(out)
			}
			continue
		}
		for oy0 := 0; oy0 < g.outH; oy0 += p.chunkRows {
			rows := min(p.chunkRows, g.outH-oy0)
			if g.outW == 1 {
				for r0 := 0; r0 < min(T, rows); r0++ {
					blk, s := p.phase((oy0 + r0) * g.strideH)
					p.pixels(acc[r0*p.cp:], T*p.cp, x, blk*p.xStride, tStep, (rows-r0+T-1)/T, s)
				}
			} else {
				for r := 0; r < rows; r++ {
					p.row(acc[r*g.outW*p.cp:], x, oy0+r, g)
				}
			}
			n := rows * g.outW
			out := dst[(b*g.outH+oy0)*g.outW*C:][:n*C]
			rq.rowsStride(out, acc, n, p.cp)
			if after != nil {
				after(out)
			}
		}
	}
}

// gcd is the greatest common divisor of two positive ints.
func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// row fills the accumulators of output row oy (outW pixels at stride cp
// in acc).
func (p *dwGrp) row(acc []int32, x []byte, oy int, g *convGeom) {
	blk, s := p.phase(oy * g.strideH)
	base, npix, C := blk*p.xStride, g.outW, g.outC
	if P := p.packP; P > 0 {
		full := npix / P * P
		p.accPacked(acc, x, base, full/P, s)
		if full == npix {
			return
		}
		acc, base, npix = acc[full*p.cp:], base+full*4*C, npix-full
	}
	p.pixels(acc, p.cp, x, base, g.strideW*4*C, npix, s)
}

// pixels fills npix pixels' accumulators (stride accStride) whose windows
// start at byte base + i·step of x, phase s, one loop call per channel
// block.
func (p *dwGrp) pixels(acc []int32, accStride int, x []byte, base, step, npix, s int) {
	// Bounds: the last pixel's last tap reads up to the block's last
	// lane; the accumulator slack takes the last whole register.
	last := p.blocks[len(p.blocks)-1]
	ntaps := p.gs[s] * p.fW
	_, _ = x[base+(npix-1)*step+p.off[ntaps-1]+4*(last.c0+last.n)-1], acc[(npix-1)*accStride+last.c0+last.n-1]
	for _, b := range p.blocks {
		p.accBlock(acc[b.c0:], 4*accStride, x[base+4*b.c0:], step, npix, ntaps, &p.w[b.w[s]], &p.init[b.init], b.n)
	}
}

// rowsStride is rowsInt8 for accumulators at row stride lda ≥ channels.
func (r *requant) rowsStride(dst []int8, acc []int32, rows, lda int) {
	n := r.channels
	if lda == n {
		r.rowsInt8(dst, acc[:rows*n], rows)
		return
	}
	if r.fast != nil && r.fast.N() == n {
		r.fast.Rows(rows, dst, n, acc, lda)
		return
	}
	for i := 0; i < rows; i++ {
		r.rowInt8Go(dst[i*n:(i+1)*n], acc[i*lda:i*lda+n])
	}
}
