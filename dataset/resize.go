package dataset

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Preprocessor applies specs with reusable scratch buffers, so a worker that
// preprocesses many images allocates only once. The zero value is ready; a
// Preprocessor must not be used by two goroutines at once.
type Preprocessor struct {
	pix  []uint8   // packed source pixels, sc channels
	res  []float32 // resized, sc channels
	tmp  []float32 // area: horizontally filtered rows
	xs   []tap
	ys   []tap
	axs  [][]wtap
	ays  [][]wtap
	wtab []wtap
	chw  []float32 // NCHW: the HWC values before transposing
}

// tap is one output coordinate's bilinear neighbours.
type tap struct {
	lo, hi int
	lerp   float32
}

// wtap is one source index with its area weight.
type wtap struct {
	i int
	w float32
}

// Apply is Spec.Apply with p's scratch buffers.
func (p *Preprocessor) Apply(s Spec, img image.Image, roi *image.Rectangle, dst []float32) error {
	s = s.withDefaults()
	if err := s.Validate(); err != nil {
		return err
	}
	if len(dst) != s.Size() {
		return fmt.Errorf("preprocess: dst has %d floats, spec needs %d", len(dst), s.Size())
	}
	if img == nil {
		return fmt.Errorf("preprocess: nil image")
	}
	r := img.Bounds()
	if f, _ := s.centerFraction(); f > 0 {
		r = centralCrop(r, f)
	} else if roi != nil && s.Crop == CropROI {
		r = roi.Intersect(r)
		if r.Empty() {
			return fmt.Errorf("preprocess: roi %v outside image bounds %v", *roi, img.Bounds())
		}
	}
	if r.Empty() {
		return fmt.Errorf("preprocess: empty image")
	}
	sc := p.unpack(img, r)
	inW, inH := r.Dx(), r.Dy()
	n := s.Height * s.Width * sc
	p.res = grow(p.res, n)
	switch s.Resize {
	case ResizeArea:
		p.resizeArea(inW, inH, s.Width, s.Height, sc)
	case ResizeNearest:
		p.resizeNearest(inW, inH, s.Width, s.Height, sc)
	default:
		p.resizeBilinear(inW, inH, s.Width, s.Height, sc)
	}
	if s.Layout != LayoutNCHW {
		p.finish(s, sc, dst)
		return nil
	}
	hw := s.Height * s.Width
	p.chw = grow(p.chw, len(dst))
	p.finish(s, sc, p.chw)
	for i := 0; i < hw; i++ {
		for c := 0; c < s.Channels; c++ {
			dst[c*hw+i] = p.chw[i*s.Channels+c]
		}
	}
	return nil
}

// centralCrop keeps the central fraction f of r's width and height, with
// tf.image.central_crop's rounding: the start is int((size - size*f)/2)
// and the crop is symmetric.
func centralCrop(r image.Rectangle, f float64) image.Rectangle {
	side := func(size int) (int, int) {
		start := int((float64(size) - float64(size)*f) / 2)
		n := size - 2*start
		if n < 1 {
			start, n = size/2, 1
		}
		return start, n
	}
	x0, w := side(r.Dx())
	y0, h := side(r.Dy())
	return image.Rect(r.Min.X+x0, r.Min.Y+y0, r.Min.X+x0+w, r.Min.Y+y0+h)
}

// resizeNearest copies, for each output pixel, the source pixel under
// its center: in = floor((out+0.5)*inSize/outSize), clamped (TF2's
// nearest with half-pixel centers).
func (p *Preprocessor) resizeNearest(inW, inH, outW, outH, sc int) {
	src := func(o, in, out int) int {
		return min(int((float64(o)+0.5)*float64(in)/float64(out)), in-1)
	}
	for y := 0; y < outH; y++ {
		sy := src(y, inH, outH)
		for x := 0; x < outW; x++ {
			sx := src(x, inW, outW)
			for c := 0; c < sc; c++ {
				p.res[(y*outW+x)*sc+c] = float32(p.pix[(sy*inW+sx)*sc+c])
			}
		}
	}
}

func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// unpack copies the pixels of r into p.pix as packed RGB (3 channels) or
// grey (1 channel) and returns the channel count. Alpha is dropped without
// premultiplying, as tf.io.decode_png(channels=3) does.
func (p *Preprocessor) unpack(img image.Image, r image.Rectangle) int {
	w, h := r.Dx(), r.Dy()
	switch m := img.(type) {
	case *image.Gray:
		p.pix = grow(p.pix, w*h)
		for y := 0; y < h; y++ {
			o := m.PixOffset(r.Min.X, r.Min.Y+y)
			copy(p.pix[y*w:(y+1)*w], m.Pix[o:o+w])
		}
		return 1
	case *image.RGBA:
		p.pix = grow(p.pix, w*h*3)
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			dst := p.pix[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
			}
		}
		return 3
	case *image.NRGBA:
		p.pix = grow(p.pix, w*h*3)
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			dst := p.pix[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
			}
		}
		return 3
	case *image.YCbCr:
		p.pix = grow(p.pix, w*h*3)
		i := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				p.pix[i], p.pix[i+1], p.pix[i+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i += 3
			}
		}
		return 3
	}
	p.pix = grow(p.pix, w*h*3)
	i := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			p.pix[i], p.pix[i+1], p.pix[i+2] = c.R, c.G, c.B
			i += 3
		}
	}
	return 3
}

// bilinearTaps computes TensorFlow's half-pixel-center source coordinates:
// in = (out+0.5)*(inSize/outSize)-0.5, lo = max(floor(in),0),
// hi = min(ceil(in), inSize-1), lerp = in-floor(in); float32 as in TF.
func bilinearTaps(t []tap, inSize, outSize int) []tap {
	t = grow(t, outSize)
	scale := float32(inSize) / float32(outSize)
	for i := range t {
		in := (float32(i)+0.5)*scale - 0.5
		f := float32(math.Floor(float64(in)))
		t[i] = tap{
			lo:   max(int(f), 0),
			hi:   min(int(math.Ceil(float64(in))), inSize-1),
			lerp: in - f,
		}
	}
	return t
}

func (p *Preprocessor) resizeBilinear(inW, inH, outW, outH, sc int) {
	p.xs = bilinearTaps(p.xs, inW, outW)
	p.ys = bilinearTaps(p.ys, inH, outH)
	// Horizontal pass over the source rows the output uses, then the
	// vertical pass: the same float operations, in the same order, as
	// interpolating each output pixel from its four neighbours (top and
	// bottom first, then between them), at a fraction of the cost.
	lo, hi := p.ys[0].lo, p.ys[len(p.ys)-1].hi
	rowLen := outW * sc
	p.tmp = grow(p.tmp, (hi-lo+1)*rowLen)
	stride := inW * sc
	for y := lo; y <= hi; y++ {
		src := p.pix[y*stride : (y+1)*stride]
		row := p.tmp[(y-lo)*rowLen : (y-lo+1)*rowLen]
		if sc == 3 {
			for x, tx := range p.xs {
				l, r := tx.lo*3, tx.hi*3
				a0, a1, a2 := float32(src[l]), float32(src[l+1]), float32(src[l+2])
				row[3*x] = a0 + (float32(src[r])-a0)*tx.lerp
				row[3*x+1] = a1 + (float32(src[r+1])-a1)*tx.lerp
				row[3*x+2] = a2 + (float32(src[r+2])-a2)*tx.lerp
			}
			continue
		}
		for x, tx := range p.xs {
			for c := 0; c < sc; c++ {
				a := float32(src[tx.lo*sc+c])
				row[x*sc+c] = a + (float32(src[tx.hi*sc+c])-a)*tx.lerp
			}
		}
	}
	out := p.res
	for y, ty := range p.ys {
		top := p.tmp[(ty.lo-lo)*rowLen : (ty.lo-lo+1)*rowLen]
		bot := p.tmp[(ty.hi-lo)*rowLen : (ty.hi-lo+1)*rowLen]
		o := out[y*rowLen : (y+1)*rowLen]
		for j, t := range top {
			o[j] = t + (bot[j]-t)*ty.lerp
		}
	}
}

// areaTaps lists, for each output index, the source indices overlapping
// [i*scale, (i+1)*scale) with their overlap lengths divided by scale.
func (p *Preprocessor) areaTaps(list [][]wtap, inSize, outSize int) [][]wtap {
	list = grow(list, outSize)
	scale := float64(inSize) / float64(outSize)
	for i := range list {
		start, end := float64(i)*scale, float64(i+1)*scale
		lo := int(math.Floor(start))
		hi := int(math.Ceil(end))
		n := len(p.wtab)
		for v := lo; v < hi; v++ {
			w := math.Min(float64(v+1), end) - math.Max(float64(v), start)
			if w <= 0 {
				continue
			}
			p.wtab = append(p.wtab, wtap{i: min(v, inSize-1), w: float32(w / scale)})
		}
		list[i] = p.wtab[n:len(p.wtab):len(p.wtab)]
	}
	return list
}

func (p *Preprocessor) resizeArea(inW, inH, outW, outH, sc int) {
	p.wtab = p.wtab[:0]
	p.axs = p.areaTaps(p.axs, inW, outW)
	p.ays = p.areaTaps(p.ays, inH, outH)
	// Horizontal pass over every source row, then vertical.
	rowLen := outW * sc
	p.tmp = grow(p.tmp, inH*rowLen)
	for y := 0; y < inH; y++ {
		src := p.pix[y*inW*sc:]
		row := p.tmp[y*rowLen : (y+1)*rowLen]
		for x, taps := range p.axs {
			for c := 0; c < sc; c++ {
				var acc float32
				for _, t := range taps {
					acc += t.w * float32(src[t.i*sc+c])
				}
				row[x*sc+c] = acc
			}
		}
	}
	for y, taps := range p.ays {
		out := p.res[y*rowLen : (y+1)*rowLen]
		clear(out)
		for _, t := range taps {
			row := p.tmp[t.i*rowLen : (t.i+1)*rowLen]
			for j, v := range row {
				out[j] += t.w * v
			}
		}
	}
}

// finish maps the resized sc-channel values to the spec's channels, order
// and value range.
func (p *Preprocessor) finish(s Spec, sc int, dst []float32) {
	n := s.Height * s.Width
	var mul, add [3]float32
	for c := 0; c < s.Channels; c++ {
		if len(s.Mean) > 0 {
			mul[c] = 1 / s.Std[c]
			add[c] = -s.Mean[c] / s.Std[c]
		} else {
			mul[c], add[c] = s.Scale, s.Offset
		}
	}
	res := p.res
	switch {
	case s.Channels == 1 && sc == 1:
		for i := 0; i < n; i++ {
			dst[i] = res[i]*mul[0] + add[0]
		}
	case s.Channels == 1: // RGB → luma (tf.image.rgb_to_grayscale weights)
		for i := 0; i < n; i++ {
			v := 0.2989*res[3*i] + 0.5870*res[3*i+1] + 0.1140*res[3*i+2]
			dst[i] = v*mul[0] + add[0]
		}
	case sc == 1: // grey source → 3 equal channels
		for i := 0; i < n; i++ {
			v := res[i]
			dst[3*i] = v*mul[0] + add[0]
			dst[3*i+1] = v*mul[1] + add[1]
			dst[3*i+2] = v*mul[2] + add[2]
		}
	case s.ChannelOrder == OrderBGR:
		for i := 0; i < n; i++ {
			dst[3*i] = res[3*i+2]*mul[0] + add[0]
			dst[3*i+1] = res[3*i+1]*mul[1] + add[1]
			dst[3*i+2] = res[3*i]*mul[2] + add[2]
		}
	default:
		for i := 0; i < n; i++ {
			dst[3*i] = res[3*i]*mul[0] + add[0]
			dst[3*i+1] = res[3*i+1]*mul[1] + add[1]
			dst[3*i+2] = res[3*i+2]*mul[2] + add[2]
		}
	}
}
