package train

import (
	"fmt"
	"math"
)

// Data is a labelled image set held in memory for training: every image
// is preprocessed once, then epochs iterate from RAM.
//
// Images are stored as uint8 with a per-image affine map (value = Offset +
// Scale·q, spanning the image's own min..max), a quarter of float32's
// memory: 40 000 images of 80x80x3 take 768 MB instead of 3 GB. Because the
// source pixels were 8-bit to begin with, the rounding error (at most half a
// step of the image's range /255) is below what resizing already blurs.
type Data struct {
	H, W, C int
	// Classes names the labels 0..len-1.
	Classes []string
	// Labels holds one class index per image.
	Labels []int
	pix    []uint8
	scale  []float32
	offset []float32
}

// maxDataBytes caps the pixel memory a Data may allocate (16 GiB), so a
// wrong size fails fast instead of exhausting the machine.
const maxDataBytes = 16 << 30

// NewData allocates room for n images of h×w×c; fill them with Set.
func NewData(n, h, w, c int, classes []string) (*Data, error) {
	if n < 0 || h <= 0 || w <= 0 || c <= 0 || h > maxExtent || w > maxExtent || c > maxChannels {
		return nil, fmt.Errorf("training data: bad size %d images of %dx%dx%d", n, h, w, c)
	}
	if int64(n)*int64(h*w*c) > maxDataBytes {
		return nil, fmt.Errorf("training data: %d images of %dx%dx%d need %d MB, over the %d MB limit",
			n, h, w, c, int64(n)*int64(h*w*c)>>20, maxDataBytes>>20)
	}
	return &Data{H: h, W: w, C: c, Classes: classes, Labels: make([]int, n),
		pix: make([]uint8, n*h*w*c), scale: make([]float32, n), offset: make([]float32, n)}, nil
}

// Len is the number of images.
func (d *Data) Len() int {
	if d == nil {
		return 0
	}
	return len(d.Labels)
}

// Size is the number of values in one image.
func (d *Data) Size() int { return d.H * d.W * d.C }

// Set stores image i (H·W·C float32 values, HWC) with its label. Distinct
// indices may be set concurrently.
func (d *Data) Set(i int, img []float32, label int) error {
	if i < 0 || i >= len(d.Labels) {
		return fmt.Errorf("training data: image index %d out of range [0,%d)", i, len(d.Labels))
	}
	if len(img) != d.Size() {
		return fmt.Errorf("training data: image %d has %d values, want %dx%dx%d = %d", i, len(img), d.H, d.W, d.C, d.Size())
	}
	if label < 0 || label >= len(d.Classes) {
		return fmt.Errorf("training data: image %d has label %d, want 0..%d", i, label, len(d.Classes)-1)
	}
	lo, hi := img[0], img[0]
	for _, v := range img {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("training data: image %d contains %v", i, v)
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	sc := (hi - lo) / 255
	d.Labels[i] = label
	d.offset[i] = lo
	d.scale[i] = sc
	dst := d.pix[i*d.Size() : (i+1)*d.Size()]
	if sc == 0 {
		clear(dst)
		return nil
	}
	inv := 1 / sc
	for j, v := range img {
		dst[j] = uint8(min(math.Round(float64((v-lo)*inv)), 255))
	}
	return nil
}

// Image decodes image i into dst (H·W·C values).
func (d *Data) Image(i int, dst []float32) {
	src := d.pix[i*d.Size() : (i+1)*d.Size()]
	sc, off := d.scale[i], d.offset[i]
	for j, q := range src {
		dst[j] = off + sc*float32(q)
	}
}
