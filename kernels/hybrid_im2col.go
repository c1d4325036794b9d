package kernels

import "encoding/binary"

// A hybrid CONV_2D with few input channels (a keyword model's 10×4 first
// layer over one channel has 4 bytes per window row) spends most of its
// time in im2col's per-window-row bounds checks and short copies. With
// the quantized image first written into a zero-point-padded copy, every
// window row is one in-bounds run of fW·inC bytes at a fixed offset,
// moved with at most two overlapping word stores.

// paddedIm2col is the padded image's geometry for g; ok is false when g
// does not suit it (dilated, or window rows longer than 16 bytes, which
// im2col copies well enough).
type paddedIm2col struct {
	ph, pw int // padded height and width in pixels
	run    int // fW·inC
}

func newPaddedIm2col(g *convGeom) (paddedIm2col, bool) {
	run := g.fW * g.inC
	if g.dilH != 1 || g.dilW != 1 || run > 16 || g.padT < 0 || g.padL < 0 {
		return paddedIm2col{}, false
	}
	return paddedIm2col{ph: (g.outH-1)*g.strideH + g.fH, pw: (g.outW-1)*g.strideW + g.fW, run: run}, true
}

// size is the padded image's length in bytes.
func (p paddedIm2col) size(g *convGeom) int { return p.ph * p.pw * g.inC }

// pad writes image img (inH×inW×inC) into dst (ph×pw×inC) at (padT,
// padL), every other value zp.
func (p paddedIm2col) pad(dst, img []int8, g *convGeom, zp int8) {
	dst = dst[:p.size(g)]
	rowLen := p.pw * g.inC
	left, inner := g.padL*g.inC, min(g.inW, p.pw-g.padL)*g.inC
	for y := 0; y < p.ph; y++ {
		d := dst[y*rowLen : (y+1)*rowLen]
		iy := y - g.padT
		if iy < 0 || iy >= g.inH || inner <= 0 {
			fillPad(d, zp)
			continue
		}
		fillPad(d[:left], zp)
		copy(d[left:left+inner], img[iy*g.inW*g.inC:][:inner])
		fillPad(d[left+inner:], zp)
	}
}

// rows writes im2col rows [r0, r0+rows) of one image (r0 counted within
// the image) from the padded image pimg into dst, as im2col would from the
// image itself.
func (p paddedIm2col) rows(dst, pimg []int8, g *convGeom, r0, rows int) {
	k, run := g.k(), p.run
	rowLen := p.pw * g.inC
	oy, ox := r0/g.outW, r0%g.outW
	db, sb := int8Bytes(dst), int8Bytes(pimg)
	for r := 0; r < rows; r, ox = r+1, ox+1 {
		if ox == g.outW {
			ox, oy = 0, oy+1
		}
		d := db[r*k : (r+1)*k]
		s := sb[oy*g.strideH*rowLen+ox*g.strideW*g.inC:]
		for ky := 0; ky < g.fH; ky++ {
			dd, ss := d[ky*run:(ky+1)*run], s[ky*rowLen:][:run]
			switch {
			case run >= 8:
				binary.LittleEndian.PutUint64(dd, binary.LittleEndian.Uint64(ss))
				binary.LittleEndian.PutUint64(dd[run-8:], binary.LittleEndian.Uint64(ss[run-8:]))
			case run >= 4:
				binary.LittleEndian.PutUint32(dd, binary.LittleEndian.Uint32(ss))
				binary.LittleEndian.PutUint32(dd[run-4:], binary.LittleEndian.Uint32(ss[run-4:]))
			default:
				copy(dd, ss)
			}
		}
	}
}
