package synth

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
)

// pngWriter encodes opaque RGBA images as 8-bit RGB PNGs with the Sub
// filter on every row and the fastest deflate level. The standard encoder
// tries five filters per row, which costs more than drawing the image;
// a fixed Sub filter keeps files about as small for these smooth images.
// A pngWriter reuses its buffers and is not safe for concurrent use.
type pngWriter struct {
	raw  []byte
	comp bytes.Buffer
	zw   *zlib.Writer
}

func (p *pngWriter) encode(out *bytes.Buffer, img *image.RGBA) error {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	row := 1 + 3*w
	if cap(p.raw) < row*h {
		p.raw = make([]byte, row*h)
	}
	raw := p.raw[:row*h]
	for y := 0; y < h; y++ {
		src := img.Pix[img.PixOffset(img.Bounds().Min.X, img.Bounds().Min.Y+y):]
		dst := raw[y*row : (y+1)*row]
		dst[0] = 1 // Sub: each byte minus the same channel of the pixel to its left
		var pr, pg, pb byte
		for x := 0; x < w; x++ {
			r, g, b := src[4*x], src[4*x+1], src[4*x+2]
			dst[1+3*x], dst[2+3*x], dst[3+3*x] = r-pr, g-pg, b-pb
			pr, pg, pb = r, g, b
		}
	}
	p.comp.Reset()
	if p.zw == nil {
		var err error
		if p.zw, err = zlib.NewWriterLevel(&p.comp, zlib.BestSpeed); err != nil {
			return err
		}
	} else {
		p.zw.Reset(&p.comp)
	}
	if _, err := p.zw.Write(raw); err != nil {
		return err
	}
	if err := p.zw.Close(); err != nil {
		return err
	}
	out.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit, truecolour
	chunk(out, "IHDR", ihdr[:])
	chunk(out, "IDAT", p.comp.Bytes())
	chunk(out, "IEND", nil)
	return nil
}

func chunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	out.WriteString(typ)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}
