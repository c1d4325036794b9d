package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Augment configures random training-time augmentation, applied to the
// preprocessed float HWC image (after normalisation), one independent draw
// per image per epoch. Zero values disable a transform.
type Augment struct {
	// Shift is the maximum translation as a fraction of width/height.
	Shift float64 `json:"shift"`
	// Rotate is the maximum rotation in degrees (either direction).
	Rotate float64 `json:"rotate"`
	// Scale is the maximum relative zoom (0.1 → ×0.9..×1.1).
	Scale float64 `json:"scale"`
	// Brightness is the maximum offset as a fraction of the image's value range.
	Brightness float64 `json:"brightness"`
	// Contrast is the maximum relative change of the spread around the mean.
	Contrast float64 `json:"contrast"`
	// Color is the maximum relative per-channel gain change around the mean.
	Color float64 `json:"color"`
}

// DefaultAugment is a mild setting suited to road signs: no flips (arrows
// have a direction), small geometric jitter, modest photometric jitter.
func DefaultAugment() Augment {
	return Augment{Shift: 0.08, Rotate: 8, Scale: 0.08, Brightness: 0.1, Contrast: 0.15, Color: 0.08}
}

// Enabled reports whether any transform is on.
func (a Augment) Enabled() bool { return a != Augment{} }

// augmentMax is the largest value of each augmentation key: half the image
// for shift and scale, a half turn for rotate, the whole value range or
// spread for brightness, contrast and color.
var augmentMax = map[string]float64{"shift": 0.5, "rotate": 180, "scale": 0.5, "brightness": 1, "contrast": 1, "color": 1}

// ParseAugment reads "none", "default", or a comma list of key=value pairs
// over the keys shift, rotate, scale, brightness, contrast, color, which
// start from zero (e.g. "shift=0.1,rotate=10"). "default,rotate=0" starts
// from the default instead.
func ParseAugment(s string) (Augment, error) {
	var a Augment
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch part {
		case "", "none", "off":
			continue
		case "default", "on":
			a = DefaultAugment()
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Augment{}, fmt.Errorf("augment %q: %q is not key=value", s, part)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return Augment{}, fmt.Errorf("augment %q: %s needs a non-negative number, got %q", s, k, v)
		}
		key := strings.TrimSpace(k)
		var dst *float64
		switch key {
		case "shift":
			dst = &a.Shift
		case "rotate":
			dst = &a.Rotate
		case "scale":
			dst = &a.Scale
		case "brightness":
			dst = &a.Brightness
		case "contrast":
			dst = &a.Contrast
		case "color":
			dst = &a.Color
		default:
			return Augment{}, fmt.Errorf("augment %q: unknown key %q (want shift, rotate, scale, brightness, contrast, color)", s, k)
		}
		// A value past the limit is a typo (shift=9 for 0.09), not a
		// request to clamp: refuse it.
		if hi := augmentMax[key]; f > hi {
			return Augment{}, fmt.Errorf("augment %q: %s %g out of range [0, %g]", s, key, f, hi)
		}
		*dst = f
	}
	return a, nil
}

// augmentRNG returns the generator for the image at position pos of epoch,
// so every image's draw depends only on (seed, epoch, pos), never on which
// goroutine processes it.
func augmentRNG(seed int64, epoch, pos int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^0x5851f42d4c957f2d, uint64(epoch)<<32|uint64(uint32(pos))))
}

// apply augments the h×w×c image src into dst (same size) with draws from rng.
func (a Augment) apply(rng *rand.Rand, src, dst []float32, h, w, c int) {
	u := func(m float64) float64 { return (2*rng.Float64() - 1) * m }
	// Draw everything up front in a fixed order so disabling one transform
	// does not shift the others' random streams.
	tx, ty := u(a.Shift)*float64(w), u(a.Shift)*float64(h)
	ang := u(a.Rotate) * math.Pi / 180
	sc := 1 + u(a.Scale)
	bright := u(a.Brightness)
	contr := 1 + u(a.Contrast)
	var gain [maxChannels]float64
	for ch := 0; ch < c; ch++ {
		gain[ch] = 1 + u(a.Color)
	}
	if tx == 0 && ty == 0 && ang == 0 && sc == 1 {
		copy(dst, src[:h*w*c])
	} else {
		warp(src, dst, h, w, c, tx, ty, ang, sc)
	}
	if bright == 0 && contr == 1 && a.Color == 0 {
		return
	}
	img := dst[:h*w*c]
	lo, hi := img[0], img[0]
	var sum float64
	for _, v := range img {
		lo, hi = min(lo, v), max(hi, v)
		sum += float64(v)
	}
	mean := sum / float64(len(img))
	off := bright * float64(hi-lo)
	for i := 0; i < len(img); i += c {
		for ch := 0; ch < c; ch++ {
			v := float64(img[i+ch])
			img[i+ch] = float32(mean + (v-mean)*contr*gain[ch] + off)
		}
	}
}

// warp resamples src into dst by the inverse of "scale by sc, rotate by ang
// about the centre, then translate by (tx, ty)", bilinearly, replicating the
// border so no artificial black frame appears.
func warp(src, dst []float32, h, w, c int, tx, ty, ang, sc float64) {
	cy, cx := float64(h-1)/2, float64(w-1)/2
	cos, sin := math.Cos(ang)/sc, math.Sin(ang)/sc
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)-cx-tx, float64(y)-cy-ty
			sx := cos*dx + sin*dy + cx
			sy := -sin*dx + cos*dy + cy
			sx = min(max(sx, 0), float64(w-1))
			sy = min(max(sy, 0), float64(h-1))
			x0, y0 := int(sx), int(sy)
			x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
			fx, fy := float32(sx-float64(x0)), float32(sy-float64(y0))
			o := (y*w + x) * c
			p00, p01 := (y0*w+x0)*c, (y0*w+x1)*c
			p10, p11 := (y1*w+x0)*c, (y1*w+x1)*c
			for ch := 0; ch < c; ch++ {
				top := src[p00+ch] + (src[p01+ch]-src[p00+ch])*fx
				bot := src[p10+ch] + (src[p11+ch]-src[p10+ch])*fx
				dst[o+ch] = top + (bot-top)*fy
			}
		}
	}
}
