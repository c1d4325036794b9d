package synth

import (
	"image"
	"math"
)

// finish applies the camera: lens/motion blur, uneven light and
// vignetting, an occasional specular highlight, colour cast, exposure curve
// and sensor noise, then quantises to 8 bits. Light and glare are smooth,
// so applying them after the blur (in the same pass as the tone curve)
// looks the same and saves a pass over the image.
func (sc *scene) finish() *image.RGBA {
	cv, r := sc.cv, sc.rec
	s := cv.s
	light := r.light * sc.u(0.8, 1.2)
	gx, gy := sc.normal(r.gradient), sc.normal(r.gradient)
	glare := sc.g.Float32() < r.glare
	hx, hy, hr := sc.u(0, sc.s), sc.u(0, sc.s), sc.u(0.1, 0.4)*sc.s
	sigma := r.blur * sc.u(0.5, 1.5)
	if sc.g.Float32() < r.motion {
		cv.boxBlurX(1 + sc.g.IntN(2))
	}
	if sigma > 0.3 {
		cv.gaussBlur(sigma)
	}
	// Tone curve as a table: pow per pixel would dominate the run time.
	const levels = 1024
	const knots = 64
	var curve [levels + 1]float32
	var knot [knots + 1]float32
	for i := range knot {
		knot[i] = 255 * float32(math.Pow(float64(i)/knots, float64(r.gamma)))
	}
	for i := range curve {
		f := float32(i) * knots / levels
		k := min(int(f), knots-1)
		curve[i] = knot[k] + (knot[k+1]-knot[k])*(f-float32(k))
	}
	// Noise: a luma component shared by the channels plus a weaker
	// per-channel one, each an Irwin-Hall sum of 16-bit uniforms (close to
	// Gaussian) from one splitmix64 word per pixel, seeded from the image's
	// generator: a full PCG draw per sample would cost more than drawing.
	const u16 = 1.0 / 65536
	noise := r.noise * 255
	lumK := noise * 1.7320508 // the sum of 4 uniforms has variance 4/12
	chK := noise * 0.4 * 3.4641016
	state := sc.g.Uint64()
	inv := 1 / sc.s
	img := image.NewRGBA(image.Rect(0, 0, s, s))
	for v := 0; v < s; v++ {
		fy := (float32(v)+0.5)*inv - 0.5
		for u := 0; u < s; u++ {
			fx := (float32(u)+0.5)*inv - 0.5
			k := light * (1 + gx*fx + gy*fy) * (1 - 0.35*(fx*fx+fy*fy))
			add := float32(0)
			if glare {
				dx, dy := (float32(u)-hx)/hr, (float32(v)-hy)/hr
				if d := dx*dx + dy*dy; d < 1 {
					add = 0.35 * (1 - d) * (1 - d)
				}
			}
			w := splitmix(&state)
			lum := ((float32(w&0xffff)+float32(w>>16&0xffff)+float32(w>>32&0xffff)+float32(w>>48))*u16 - 2) * lumK
			w = splitmix(&state)
			i := 3 * (v*s + u)
			o := 4 * (v*s + u)
			for c := 0; c < 3; c++ {
				x := clamp01((cv.pix[i+c]*k + add) * r.cast[c])
				ch := (float32(w>>(16*c)&0xffff)*u16 - 0.5) * chK
				q := curve[int(x*levels)] + lum + ch
				img.Pix[o+c] = uint8(min(max(q+0.5, 0), 255))
			}
			img.Pix[o+3] = 255
		}
	}
	return img
}

// splitmix advances a splitmix64 state and returns the next word.
func splitmix(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	w := *state
	w = (w ^ w>>30) * 0xbf58476d1ce4e5b9
	w = (w ^ w>>27) * 0x94d049bb133111eb
	return w ^ w>>31
}

// gaussBlur blurs with a separable Gaussian (radius up to 3 pixels).
func (cv *canvas) gaussBlur(sigma float32) {
	rad := min(int(math.Ceil(float64(2*sigma))), 3)
	var w [7]float32
	sum := float32(0)
	for k := -rad; k <= rad; k++ {
		w[k+rad] = float32(math.Exp(-float64(k*k) / float64(2*sigma*sigma)))
		sum += w[k+rad]
	}
	for k := range w {
		w[k] /= sum
	}
	cv.convolve(w[:2*rad+1], true)
	cv.convolve(w[:2*rad+1], false)
}

// boxBlurX smears horizontally over 2*rad+1 pixels (camera shake).
func (cv *canvas) boxBlurX(rad int) {
	w := make([]float32, 2*rad+1)
	for i := range w {
		w[i] = 1 / float32(len(w))
	}
	cv.convolve(w, true)
}

// convolve applies a centred 1-D kernel along x or y with clamped edges.
// Each line is copied into a padded buffer first, so the inner loop has no
// edge tests.
func (cv *canvas) convolve(w []float32, alongX bool) {
	s := cv.s
	rad := len(w) / 2
	pad := make([]float32, 3*(s+2*rad))
	step, lineStep := 3, 3*s // along x: pixels adjacent, lines are rows
	if !alongX {
		step, lineStep = 3*s, 3
	}
	for a := 0; a < s; a++ {
		base := a * lineStep
		for b := -rad; b < s+rad; b++ {
			j := base + min(max(b, 0), s-1)*step
			k := 3 * (b + rad)
			pad[k], pad[k+1], pad[k+2] = cv.pix[j], cv.pix[j+1], cv.pix[j+2]
		}
		for b := 0; b < s; b++ {
			var r, g, bl float32
			src := pad[3*b : 3*(b+len(w))]
			for k, wk := range w {
				r += wk * src[3*k]
				g += wk * src[3*k+1]
				bl += wk * src[3*k+2]
			}
			j := base + b*step
			cv.pix[j], cv.pix[j+1], cv.pix[j+2] = r, g, bl
		}
	}
}
