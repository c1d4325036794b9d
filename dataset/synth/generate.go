// Package synth draws a synthetic dataset of the study's 30 classes as seen
// by the camera of a 1:10 model car on an indoor track: road markings in
// perspective on the floor and small signs on posts, plus NO_CLASS
// background, clutter and partial objects.
//
// Every image is drawn procedurally from vector shapes (signed distance
// fields, anti-aliased by the pixel footprint), then lit, blurred, colour
// cast, tone mapped and noised according to its recording. Each recording
// has its own room, light, exposure, camera height and pose distribution,
// blur, noise, floor texture and clutter, so a held-out recording is a real
// domain shift. Each image's randomness comes only from (seed, recording,
// class, index), so any subset can be generated in any order, in parallel,
// with identical pixels.
//
//	img := synth.Generate(synth.Config{Seed: 1}, rec, synth.SpeedLimit30, i) // in memory
//	sum, err := synth.Write(ctx, dir, cfg, synth.WriteOptions{})             // dataset on disk
package synth

import (
	"image"
	"math"
	"math/rand/v2"
)

// Config describes a synthetic dataset.
type Config struct {
	// Seed selects the dataset; the same seed gives identical images.
	Seed int64
	// Size of the square images in pixels (default 80).
	Size int
	// Recordings is the number of recordings (default 4).
	Recordings int
	// PerClass is the number of images per class per recording (default 50).
	PerClass int
	// Verification is how many of the last recordings form the
	// verification split (0: default 1; negative: none; at most
	// Recordings-1).
	Verification int
}

// Defaults fills unset fields.
func (c Config) Defaults() Config {
	if c.Size <= 0 {
		c.Size = 80
	}
	if c.Recordings <= 0 {
		c.Recordings = 4
	}
	if c.PerClass <= 0 {
		c.PerClass = 50
	}
	switch {
	case c.Verification < 0:
		c.Verification = 0
	case c.Verification == 0:
		c.Verification = 1
	}
	c.Verification = min(c.Verification, max(c.Recordings-1, 0))
	if c.Recordings == 1 {
		c.Verification = 0
	}
	return c
}

// scene is the state of one image being drawn.
type scene struct {
	cv  *canvas
	rec recording
	g   *rand.Rand
	nz  *valueNoise
	s   float32
	// index of the image; it picks the number on end-of-limit signs.
	index int
}

func (sc *scene) u(a, b float32) float32 { return a + (b-a)*sc.g.Float32() }

func (sc *scene) normal(std float32) float32 { return float32(sc.g.NormFloat64()) * std }

// Generate draws image index of class in recording rec. It panics only on
// a class outside 0..NumClasses-1 (a programming error).
func Generate(cfg Config, rec, class, index int) *image.RGBA {
	if class < 0 || class >= NumClasses {
		panic("synth: class out of range")
	}
	cfg = cfg.Defaults()
	sc := &scene{
		cv:    newCanvas(cfg.Size),
		rec:   newRecording(cfg.Seed, rec),
		g:     newRand(cfg.Seed, "image", int64(rec), int64(class), int64(index)),
		s:     float32(cfg.Size),
		index: index,
	}
	sc.nz = newNoise(sc.g)
	switch {
	case class == NoClass:
		sc.noClass()
	case isFloorClass(class):
		sc.floorScene(class, 0, true)
	case class >= SpeedLimit10 && class <= NSpeedLimit && sc.g.Float32() < sc.rec.floorSigns:
		sc.floorScene(class, 0, true)
	default:
		sc.signScene(class, 0, 0, 1)
	}
	return sc.finish()
}

// floorScene frames a road marking (class < 0: none) with the target
// displaced by off crop widths.
func (sc *scene) floorScene(class int, off float32, lanes bool) {
	r := sc.rec
	var (
		ps     []prim
		extent float32 = 40
		gapY   float32
	)
	if class >= 0 {
		ps, extent, gapY = floorMarking(class, sc.index)
	}
	dist := sc.u(r.distMin, r.distMax)
	yaw := sc.normal(r.yawStd)
	// Markings are seen from farther away than signs are cropped, so
	// small (hard) views are common.
	zoom := sc.u(r.zoomMin*0.75, r.zoomMax)
	h := r.camHeight * sc.u(0.92, 1.08)
	d3 := float32(math.Hypot(float64(dist), float64(h)))
	focal := zoom * sc.s * d3 / extent
	// Jitter the aim point so objects are not always centred; off pushes
	// it out of frame for partial NO_CLASS views.
	span := extent / zoom
	tx := sc.normal(r.offStd)*span + off*span*sc.sign()
	ty := sc.normal(r.offStd)*span*0.5 + off*span*sc.sign()*0.5
	px := tx + dist*float32(math.Sin(float64(yaw))) + sc.u(-6, 6)
	py := ty - dist*float32(math.Cos(float64(yaw)))
	cam := lookAt(px, py, h, tx, ty, sc.normal(r.rollStd), focal, sc.s/2, sc.s/2)
	sc.cv.setFloor(cam)
	sc.drawFloor()
	var ls []layer
	if lanes {
		ls = append(ls, layer{col: r.paint, alpha: sc.u(0.85, 1), prims: laneLines(gapY, sc.u(0, 40))})
	}
	if len(ps) > 0 {
		ls = append(ls, layer{col: r.paint, alpha: sc.u(0.85, 1), prims: ps})
	}
	sc.cv.paintFloor(ls, r.wear*sc.u(0.5, 1.5), sc.nz)
}

func (sc *scene) sign() float32 {
	if sc.g.IntN(2) == 0 {
		return -1
	}
	return 1
}

// drawFloor paints the textured floor (and the far wall above the horizon).
func (sc *scene) drawFloor() {
	cv, r := sc.cv, sc.rec
	n := cv.s * cv.s
	freq := r.floorFreq
	tex := r.floorTex
	for i := 0; i < n; i++ {
		if !cv.ok[i] {
			v := float32(i/cv.s) / sc.s
			c := r.wall.scale(0.7 + 0.3*v)
			cv.pix[3*i], cv.pix[3*i+1], cv.pix[3*i+2] = c[0], c[1], c[2]
			continue
		}
		x, y := cv.wx[i], cv.wy[i]
		t := 1 + tex*(sc.nz.at(x*freq, y*freq)-0.5)*2 + tex*0.5*(sc.nz.at(x*freq*4+7, y*freq*4+3)-0.5)
		cv.pix[3*i] = r.floor[0] * t
		cv.pix[3*i+1] = r.floor[1] * t
		cv.pix[3*i+2] = r.floor[2] * t
	}
}

// signScene draws a class's sign on a post in front of a cluttered room;
// off displaces it (crop widths), scaleMul shrinks it.
func (sc *scene) signScene(class int, offX, offY, scaleMul float32) {
	r := sc.rec
	sc.room()
	zoom := sc.u(r.zoomMin*0.7, r.zoomMax) * scaleMul
	radius := zoom * sc.s / 2
	cx := sc.s/2 + sc.normal(r.offStd)*sc.s + offX*sc.s
	cy := sc.s/2 + sc.normal(r.offStd)*sc.s + offY*sc.s
	squash := float32(math.Cos(float64(sc.u(0, 0.6))))
	m := newAffine(cx, cy, radius, sc.normal(r.rollStd*2), squash)
	if class < 0 {
		return
	}
	// The post, in pixels, from below the sign to the floor.
	post := []layer{{col: signGray.scale(sc.u(0.7, 1.2)), alpha: 1,
		prims: []prim{rect(cx-radius*0.07, cy, cx+radius*0.07, sc.s*2)}}}
	sc.cv.paintFlat(post, newAffine(0, 0, 1, 0, 1))
	sc.cv.paintFlat(signLayers(class, sc.index, sc.g, r.signFade*sc.u(0.5, 1.5)), m)
}

// room paints a wall with a floor below a random horizon and clutter.
func (sc *scene) room() {
	cv, r := sc.cv, sc.rec
	hz := int(sc.u(0.55, 1.0) * sc.s)
	wallTop := r.wall.scale(sc.u(0.85, 1.1))
	wallBot := r.wall.scale(sc.u(0.6, 0.9))
	s := cv.s
	for v := 0; v < s; v++ {
		var c rgb
		if v < hz {
			c = mix(wallTop, wallBot, float32(v)/float32(max(hz, 1)))
		} else {
			c = r.floor.scale(1 + r.floorTex*(sc.nz.at(float32(v)*0.3, 2)-0.5))
		}
		for u := 0; u < s; u++ {
			k := 3 * (v*s + u)
			t := 1 + 0.15*(sc.nz.at(float32(u)*0.15, float32(v)*0.15)-0.5)
			cv.pix[k], cv.pix[k+1], cv.pix[k+2] = c[0]*t, c[1]*t, c[2]*t
		}
	}
	sc.clutter(int(r.clutter*4 + sc.u(0, 2)))
}

// clutter paints n random objects: boxes, cones and table legs.
func (sc *scene) clutter(n int) {
	var ls []layer
	for k := 0; k < n; k++ {
		x, y := sc.u(-0.1, 1.1)*sc.s, sc.u(0.1, 1.1)*sc.s
		w, h := sc.u(0.05, 0.4)*sc.s, sc.u(0.05, 0.5)*sc.s
		col := rgb{sc.u(0.05, 0.9), sc.u(0.05, 0.9), sc.u(0.05, 0.9)}
		var p prim
		switch sc.g.IntN(3) {
		case 0:
			p = rect(x, y, x+w, y+h)
		case 1: // cone
			col = rgb{0.9, sc.u(0.3, 0.5), 0.1}
			p = poly([2]float32{x, y - h}, [2]float32{x + w/2, y}, [2]float32{x - w/2, y})
		default: // leg or cable
			p = box(x, y, w*0.15, h*1.5, sc.normal(0.3))
		}
		ls = append(ls, layer{col: col, alpha: sc.u(0.6, 1), prims: []prim{p}})
	}
	sc.cv.paintFlat(ls, newAffine(0, 0, 1, 0, 1))
}

// noClass draws background, clutter or partial objects.
func (sc *scene) noClass() {
	switch sc.g.IntN(6) {
	case 0: // empty lane
		sc.floorScene(-1, 0, true)
	case 1: // a marking mostly out of frame
		sc.floorScene(randomOf(sc.g, true), sc.u(0.55, 0.8), true)
	case 2: // room without a sign
		sc.signScene(-1, 0, 0, 1)
	case 3: // a sign mostly out of frame
		sc.signScene(randomOf(sc.g, false), sc.sign()*sc.u(0.5, 0.65), sc.u(-0.3, 0.3), 1)
	case 4: // a sign far away
		sc.signScene(randomOf(sc.g, false), sc.u(-0.2, 0.2), sc.u(-0.2, 0.2), sc.u(0.15, 0.3))
	default: // floor with clutter on it
		sc.floorScene(-1, 0, sc.g.IntN(2) == 0)
		sc.clutter(2 + sc.g.IntN(3))
	}
}

// randomOf picks a random floor-marking or sign class.
func randomOf(g *rand.Rand, floor bool) int {
	for {
		c := g.IntN(NoClass)
		if isFloorClass(c) == floor {
			return c
		}
	}
}
