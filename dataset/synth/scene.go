package synth

import (
	"math"
	"math/rand/v2"
)

// recording holds what stays fixed across one recording: the room, the
// light, the camera and its settings. A held-out recording therefore really
// differs from the training ones.
type recording struct {
	light      float32 // overall brightness
	gradient   float32 // strength of uneven lighting
	cast       rgb     // colour cast gains
	gamma      float32 // exposure curve
	blur       float32 // Gaussian sigma in pixels (per-image jitter added)
	motion     float32 // probability of horizontal motion blur
	noise      float32 // sensor noise sigma (0..1 units)
	floor      rgb     // floor base colour
	floorTex   float32 // floor texture amplitude
	floorFreq  float32 // floor texture frequency (per cm)
	paint      rgb     // road paint colour
	wear       float32 // paint wear 0..1
	wall       rgb     // background wall colour
	clutter    float32 // clutter density
	camHeight  float32 // camera height (cm)
	distMin    float32 // distance range to markings (cm)
	distMax    float32
	yawStd     float32 // heading jitter (radians)
	rollStd    float32
	zoomMin    float32 // object size as a fraction of the crop
	zoomMax    float32
	offStd     float32 // object centre jitter (fraction of the crop)
	signFade   float32 // sign print fading 0..1
	floorSigns float32 // probability a speed limit is painted, not a sign
	glare      float32 // probability of a specular highlight
}

// newRecording draws the parameters of recording r.
func newRecording(seed int64, r int) recording {
	g := newRand(seed, "recording", int64(r), 0, 0)
	u := func(a, b float32) float32 { return a + (b-a)*g.Float32() }
	gray := u(0.06, 0.35)
	tint := rgb{u(-0.03, 0.03), u(-0.03, 0.03), u(-0.03, 0.05)}
	wall := rgb{u(0.35, 0.9), u(0.35, 0.9), u(0.35, 0.9)}
	wg := u(0.3, 0.8) // walls are mostly greyish
	w := (wall[0] + wall[1] + wall[2]) / 3
	wall = mix(wall, rgb{w, w, w}, wg)
	return recording{
		light:      u(0.6, 1.25),
		gradient:   u(0, 0.5),
		cast:       rgb{u(0.85, 1.15), u(0.9, 1.1), u(0.85, 1.15)},
		gamma:      u(0.8, 1.25),
		blur:       u(0, 1.0),
		motion:     u(0, 0.3),
		noise:      u(0.01, 0.045),
		floor:      rgb{gray + tint[0], gray + tint[1], gray + tint[2]},
		floorTex:   u(0.05, 0.35),
		floorFreq:  u(0.05, 0.3),
		paint:      rgb{u(0.8, 0.95), u(0.8, 0.95), u(0.78, 0.95)},
		wear:       u(0, 0.45),
		wall:       wall,
		clutter:    u(0.2, 1),
		camHeight:  u(22, 36),
		distMin:    u(22, 40),
		distMax:    u(50, 95),
		yawStd:     u(0.05, 0.2),
		rollStd:    u(0.01, 0.06),
		zoomMin:    u(0.45, 0.6),
		zoomMax:    u(0.75, 0.95),
		offStd:     u(0.03, 0.08),
		signFade:   u(0, 0.35),
		floorSigns: u(0.25, 0.5),
		glare:      u(0, 0.4),
	}
}

// newRand returns a PCG generator for one purpose; every image draws from
// its own, so generation order and parallelism never change a pixel.
func newRand(seed int64, purpose string, a, b, c int64) *rand.Rand {
	h := uint64(14695981039346656037)
	for i := 0; i < len(purpose); i++ {
		h = (h ^ uint64(purpose[i])) * 1099511628211
	}
	for _, v := range []int64{a, b, c} {
		h = (h ^ uint64(v)) * 1099511628211
		h ^= h >> 29
	}
	return rand.New(rand.NewPCG(uint64(seed), h))
}

// valueNoise is a smooth 16x16 periodic random field in 0..1.
type valueNoise [16 * 16]float32

func newNoise(g *rand.Rand) *valueNoise {
	var n valueNoise
	for i := range n {
		n[i] = g.Float32()
	}
	return &n
}

func (n *valueNoise) at(x, y float32) float32 {
	// Shift by a multiple of the period so truncation is a floor.
	x, y = x+4096, y+4096
	if x < 0 || y < 0 || x > 1<<30 || y > 1<<30 {
		return 0.5
	}
	ix, iy := int(x), int(y)
	tx, ty := x-float32(ix), y-float32(iy)
	ix, iy = ix&15, iy&15
	jx, jy := (ix+1)&15, (iy+1)&15
	a := n[iy*16+ix] + (n[iy*16+jx]-n[iy*16+ix])*tx
	b := n[jy*16+ix] + (n[jy*16+jx]-n[jy*16+ix])*tx
	return a + (b-a)*ty
}

// canvas is the image being drawn, linear RGB floats, plus the floor
// mapping for scenes looking at the floor.
type canvas struct {
	s   int
	pix []float32
	// Floor mapping per pixel centre: world x (right), y (forward) in cm,
	// and the pixel footprint in cm; ok is false where the ray misses the
	// floor (above the horizon or too far).
	wx, wy, fw []float32
	ok         []bool
	cam        camera
}

func newCanvas(s int) *canvas {
	return &canvas{s: s, pix: make([]float32, s*s*3)}
}

func (cv *canvas) fill(c rgb) {
	for i := 0; i < len(cv.pix); i += 3 {
		cv.pix[i], cv.pix[i+1], cv.pix[i+2] = c[0], c[1], c[2]
	}
}

func (cv *canvas) blend(i int, c rgb, a float32) {
	p := cv.pix[3*i : 3*i+3 : 3*i+3]
	p[0] += (c[0] - p[0]) * a
	p[1] += (c[1] - p[1]) * a
	p[2] += (c[2] - p[2]) * a
}

// camera is a pinhole camera above the floor (z up, y forward).
type camera struct {
	px, py, pz float32 // position
	r, d, f    [3]float32
	focal      float32
	cx, cy     float32 // principal point in pixels
}

// lookAt returns a camera at (px, py, h) looking at floor point (tx, ty)
// with a roll angle.
func lookAt(px, py, h, tx, ty, roll, focal, cx, cy float32) camera {
	f := norm3([3]float32{tx - px, ty - py, -h})
	r := norm3(cross(f, [3]float32{0, 0, 1}))
	d := cross(f, r)
	cr, sr := float32(math.Cos(float64(roll))), float32(math.Sin(float64(roll)))
	r2 := [3]float32{r[0]*cr + d[0]*sr, r[1]*cr + d[1]*sr, r[2]*cr + d[2]*sr}
	d2 := [3]float32{d[0]*cr - r[0]*sr, d[1]*cr - r[1]*sr, d[2]*cr - r[2]*sr}
	return camera{px: px, py: py, pz: h, r: r2, d: d2, f: f, focal: focal, cx: cx, cy: cy}
}

func cross(a, b [3]float32) [3]float32 {
	return [3]float32{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func norm3(a [3]float32) [3]float32 {
	l := sqrt32(a[0]*a[0] + a[1]*a[1] + a[2]*a[2])
	return [3]float32{a[0] / l, a[1] / l, a[2] / l}
}

// floorAt intersects the ray through pixel (u, v) with the floor.
func (c *camera) floorAt(u, v float32) (x, y float32, ok bool) {
	du, dv := (u-c.cx)/c.focal, (v-c.cy)/c.focal
	dz := c.f[2] + c.r[2]*du + c.d[2]*dv
	if dz > -0.02 {
		return 0, 0, false
	}
	t := -c.pz / dz
	x = c.px + t*(c.f[0]+c.r[0]*du+c.d[0]*dv)
	y = c.py + t*(c.f[1]+c.r[1]*du+c.d[1]*dv)
	return x, y, t < 3000
}

// project maps a floor point to pixel coordinates.
func (c *camera) project(x, y float32) (u, v float32, ok bool) {
	q := [3]float32{x - c.px, y - c.py, -c.pz}
	z := q[0]*c.f[0] + q[1]*c.f[1] + q[2]*c.f[2]
	if z < 1 {
		return 0, 0, false
	}
	u = c.cx + c.focal*(q[0]*c.r[0]+q[1]*c.r[1]+q[2]*c.r[2])/z
	v = c.cy + c.focal*(q[0]*c.d[0]+q[1]*c.d[1]+q[2]*c.d[2])/z
	return u, v, true
}

// setFloor computes the floor mapping for cam.
func (cv *canvas) setFloor(cam camera) {
	s := cv.s
	cv.cam = cam
	n := s * s
	cv.wx, cv.wy, cv.fw = make([]float32, n), make([]float32, n), make([]float32, n)
	cv.ok = make([]bool, n)
	for v := 0; v < s; v++ {
		for u := 0; u < s; u++ {
			i := v*s + u
			cv.wx[i], cv.wy[i], cv.ok[i] = cam.floorAt(float32(u)+0.5, float32(v)+0.5)
		}
	}
	// Footprint: distance to the next pixel in x and y (backwards at the
	// last row/column).
	for v := 0; v < s; v++ {
		for u := 0; u < s; u++ {
			i := v*s + u
			if !cv.ok[i] {
				continue
			}
			j, k := i+1, i+s
			if u == s-1 {
				j = i - 1
			}
			if v == s-1 {
				k = i - s
			}
			f := float32(0)
			if cv.ok[j] {
				f = max(f, hyp(cv.wx[j]-cv.wx[i], cv.wy[j]-cv.wy[i]))
			}
			if cv.ok[k] {
				f = max(f, hyp(cv.wx[k]-cv.wx[i], cv.wy[k]-cv.wy[i]))
			}
			if f == 0 {
				f = 1
			}
			cv.fw[i] = f
		}
	}
}

func hyp(x, y float32) float32 { return sqrt32(x*x + y*y) }

// pixelBox returns the pixel range covering a floor bounding box.
func (cv *canvas) pixelBox(x0, y0, x1, y1 float32) (u0, v0, u1, v1 int) {
	s := cv.s
	fu0, fv0, fu1, fv1 := float32(math.Inf(1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Inf(-1))
	for _, p := range [4][2]float32{{x0, y0}, {x1, y0}, {x0, y1}, {x1, y1}} {
		u, v, ok := cv.cam.project(p[0], p[1])
		if !ok {
			// Part of the box is behind the camera: it may reach the
			// horizon, so scan the whole width down from the top.
			fu0, fu1, fv0 = 0, float32(s), 0
			continue
		}
		fu0, fv0, fu1, fv1 = min(fu0, u), min(fv0, v), max(fu1, u), max(fv1, v)
	}
	u0, v0 = max(int(fu0)-2, 0), max(int(fv0)-2, 0)
	u1, v1 = min(int(fu1)+3, s), min(int(fv1)+3, s)
	return
}

// paintFloor draws floor-plane layers; wear (0..1) removes paint in
// blotches following the noise field.
func (cv *canvas) paintFloor(ls []layer, wear float32, nz *valueNoise) {
	s := cv.s
	for _, l := range ls {
		for pi := range l.prims {
			p := &l.prims[pi]
			u0, v0, u1, v1 := cv.pixelBox(p.x0, p.y0, p.x1, p.y1)
			for v := v0; v < v1; v++ {
				for u := u0; u < u1; u++ {
					i := v*s + u
					if !cv.ok[i] {
						continue
					}
					x, y := cv.wx[i], cv.wy[i]
					if x < p.x0-cv.fw[i] || x > p.x1+cv.fw[i] || y < p.y0-cv.fw[i] || y > p.y1+cv.fw[i] {
						continue
					}
					a := clamp01(0.5 - p.dist(x, y)/cv.fw[i])
					if a == 0 {
						continue
					}
					if wear > 0 {
						a *= clamp01(1 - wear*2*nz.at(x*0.7+31, y*0.7+17))
					}
					cv.blend(i, l.col, a*l.alpha)
				}
			}
		}
	}
}

// affine maps sign units to pixels: pixel = o + A*local.
type affine struct {
	ox, oy         float32
	a, b, c, d     float32 // forward
	ia, ib, ic, id float32 // inverse
	foot           float32 // pixel footprint in local units
}

func newAffine(ox, oy, scale, angle, squash float32) affine {
	cs, sn := float32(math.Cos(float64(angle))), float32(math.Sin(float64(angle)))
	// Columns: local x axis squashed (turned sign), then rotated.
	a, c := cs*scale*squash, sn*scale*squash
	b, d := -sn*scale, cs*scale
	det := a*d - b*c
	return affine{ox: ox, oy: oy, a: a, b: b, c: c, d: d,
		ia: d / det, ib: -b / det, ic: -c / det, id: a / det,
		foot: 1 / (scale * min(squash, 1))}
}

// paintFlat draws image-plane layers through an affine frame.
func (cv *canvas) paintFlat(ls []layer, m affine) {
	s := cv.s
	for _, l := range ls {
		for pi := range l.prims {
			p := &l.prims[pi]
			fu0, fv0 := float32(math.Inf(1)), float32(math.Inf(1))
			fu1, fv1 := float32(math.Inf(-1)), float32(math.Inf(-1))
			for _, q := range [4][2]float32{{p.x0, p.y0}, {p.x1, p.y0}, {p.x0, p.y1}, {p.x1, p.y1}} {
				u := m.ox + m.a*q[0] + m.b*q[1]
				v := m.oy + m.c*q[0] + m.d*q[1]
				fu0, fv0, fu1, fv1 = min(fu0, u), min(fv0, v), max(fu1, u), max(fv1, v)
			}
			u0, v0 := max(int(fu0)-1, 0), max(int(fv0)-1, 0)
			u1, v1 := min(int(fu1)+2, s), min(int(fv1)+2, s)
			for v := v0; v < v1; v++ {
				py := float32(v) + 0.5 - m.oy
				for u := u0; u < u1; u++ {
					px := float32(u) + 0.5 - m.ox
					x := m.ia*px + m.ib*py
					y := m.ic*px + m.id*py
					a := clamp01(0.5 - p.dist(x, y)/m.foot)
					if a > 0 {
						cv.blend(v*s+u, l.col, a*l.alpha)
					}
				}
			}
		}
	}
}
