package kernels

import (
	"encoding/binary"
	"unsafe"
)

// Int8 im2col from a padded image, for layers whose window rows are
// short (a keyword model's 1-channel 10×4 first layer, a 1×1 stride-2
// shortcut): the general im2col spends more on finding each row's
// borders than on the few bytes it copies. Here the image is copied once
// into a buffer with a border of zero points (or read in place when its
// windows never leave it), and then every window row of every pixel is
// one unconditional move of fW·inC ≤ 16 bytes (at most two overlapping
// word moves).

// padColMax bounds fW·inC for the padded im2col.
const padColMax = 16

// padCol is the padded im2col's layout and scratch.
type padCol struct {
	p    *segPlan  // wp, hp, pitch, direct as for a segmented plan
	pool *freeList // *[]int8: the padded image, border preset
}

// newPadCol returns the padded im2col for g, or nil when it does not
// apply: window rows longer than padColMax bytes or not contiguous
// (dilated columns), the pointwise form, or a padded image far larger
// than the input (huge row dilations).
func newPadCol(g *convGeom, zp int8) *padCol {
	if g.pointwise() || g.fW*g.inC > padColMax || (g.dilW != 1 && g.fW != 1) || g.padT < 0 || g.padL < 0 {
		return nil
	}
	wp := (g.outW-1)*g.strideW + (g.fW-1)*g.dilW + 1
	hp := (g.outH-1)*g.strideH + (g.fH-1)*g.dilH + 1
	if hp > 2*(g.inH+g.fH) || wp > 2*(g.inW+g.fW) {
		return nil
	}
	p := &segPlan{wp: wp, hp: hp, pitch: wp, perRow: true}
	if g.padT == 0 && g.padL == 0 && wp <= g.inW && hp <= g.inH {
		p.direct, p.pitch = true, g.inW
	}
	n := p.padLen(g)
	return &padCol{p: p, pool: &freeList{New: func() any {
		b := make([]int8, n)
		fillPad(b, zp)
		return &b
	}}}
}

// im2colPadded writes rows [r0, r0+rows) of one image's im2col matrix
// (row r is output pixel r of the image) into dst, reading the windows
// from a, the image padded as pc lays it out.
func (pc *padCol) im2colPadded(dst, a []int8, g *convGeom, r0, rows int) {
	pc.im2colPaddedXor(dst, a, g, r0, rows, 0)
}

// im2colPaddedXor is im2colPadded storing each byte XOR x (every byte of
// x the same: 0, or 0x80 for the fused kernels' u8-offset input).
func (pc *padCol) im2colPaddedXor(dst, a []int8, g *convGeom, r0, rows int, x uint64) {
	k, run, c := g.k(), g.fW*g.inC, g.inC
	x32, x8 := uint32(x), byte(x)
	pitch := pc.p.pitch
	rowStep := g.dilH * pitch * c
	db, ab := int8Bytes(dst[:rows*k]), int8Bytes(a)
	oy, ox := r0/g.outW, r0%g.outW
	for r := 0; r < rows; r++ {
		base := (oy*g.strideH*pitch + ox*g.strideW) * c
		row := db[r*k : (r+1)*k]
		// One loop per move width, so the moves inline.
		switch {
		case run == 4:
			// One word per window row (a 1-channel 10×4 layer: ten per
			// pixel), moved through pointers once the row's last read is
			// known to lie inside a: slicing each cost more than the move.
			_, _ = ab[base+(g.fH-1)*rowStep+3], row[4*g.fH-1]
			s0, d0 := unsafe.Pointer(&ab[base]), unsafe.Pointer(&row[0])
			for ky := 0; ky < g.fH; ky++ {
				*(*uint32)(unsafe.Add(d0, 4*ky)) = *(*uint32)(unsafe.Add(s0, ky*rowStep)) ^ x32
			}
		case run >= 8:
			for ky := 0; ky < g.fH; ky++ {
				d, s := row[ky*run:(ky+1)*run], ab[base+ky*rowStep:][:run]
				binary.LittleEndian.PutUint64(d, binary.LittleEndian.Uint64(s)^x)
				binary.LittleEndian.PutUint64(d[run-8:], binary.LittleEndian.Uint64(s[run-8:])^x)
			}
		case run >= 4:
			for ky := 0; ky < g.fH; ky++ {
				d, s := row[ky*run:(ky+1)*run], ab[base+ky*rowStep:][:run]
				binary.LittleEndian.PutUint32(d, binary.LittleEndian.Uint32(s)^x32)
				binary.LittleEndian.PutUint32(d[run-4:], binary.LittleEndian.Uint32(s[run-4:])^x32)
			}
		default:
			for ky := 0; ky < g.fH; ky++ {
				d, s := row[ky*run:(ky+1)*run], ab[base+ky*rowStep:][:run]
				for i := range d {
					d[i] = s[i] ^ x8
				}
			}
		}
		if ox++; ox == g.outW {
			ox, oy = 0, oy+1
		}
	}
}

// runPadCol is convInt8's im2col path through the padded image: per
// image the padded copy (or the image itself), then chunks of its output
// pixels through im2colPadded and the product.
func (c *convInt8) runPadCol(batch int, src, dst []int8, s *convScratch) {
	g, pc := c.g, c.padCol
	n := g.outC
	perImg, inImg := g.outH*g.outW, g.inH*g.inW*g.inC
	chunk := min(len(s.acc)/n, perImg)
	bufp := pc.pool.Get().(*[]int8)
	defer pc.pool.Put(bufp)
	for b := 0; b < batch; b++ {
		img := src[b*inImg : (b+1)*inImg]
		a := img
		if !pc.p.direct {
			fillPadded(*bufp, img, pc.p, g)
			a = *bufp
		}
		for r0 := 0; r0 < perImg; r0 += chunk {
			rows := min(chunk, perImg-r0)
			pc.im2colPadded(s.i8, a, g, r0, rows)
			o := (b*perImg + r0) * n
			c.product(rows, s, dst[o:o+rows*n])
		}
	}
}
