package synth

import "math"

// primKind selects a primitive's signed-distance function.
type primKind uint8

const (
	pBox primKind = iota
	pCircle
	pRing
	pCapsule
	pPoly
)

// prim is a shape in some local 2-D frame (floor centimetres or sign
// units) given by its signed distance: negative inside, positive outside.
// Coverage of a pixel is clamp(0.5 - d/footprint), which anti-aliases edges
// without supersampling.
type prim struct {
	kind           primKind
	cx, cy, hx, hy float32 // box centre and half size; circle/ring centre
	c, s           float32 // box rotation cos, sin
	r, t           float32 // radius; ring half thickness
	ax, ay, bx, by float32 // capsule ends
	n              int     // polygon vertex count
	nx, ny, no     [8]float32
	clip           *prim // when set, the shape is intersected with clip
	// Local bounding box.
	x0, y0, x1, y1 float32
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func clamp01(x float32) float32 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// box returns a w x h rectangle centred at (cx, cy), rotated by angle
// (radians).
func box(cx, cy, w, h, angle float32) prim {
	c, s := float32(math.Cos(float64(angle))), float32(math.Sin(float64(angle)))
	p := prim{kind: pBox, cx: cx, cy: cy, hx: w / 2, hy: h / 2, c: c, s: s}
	ex := abs32(c)*p.hx + abs32(s)*p.hy
	ey := abs32(s)*p.hx + abs32(c)*p.hy
	p.x0, p.y0, p.x1, p.y1 = cx-ex, cy-ey, cx+ex, cy+ey
	return p
}

// rect returns an axis-aligned rectangle from its corners.
func rect(x0, y0, x1, y1 float32) prim {
	return box((x0+x1)/2, (y0+y1)/2, abs32(x1-x0), abs32(y1-y0), 0)
}

func circle(cx, cy, r float32) prim {
	return prim{kind: pCircle, cx: cx, cy: cy, r: r, x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r}
}

// ring returns an annulus with outer radius ro and inner radius ri.
func ring(cx, cy, ro, ri float32) prim {
	return prim{kind: pRing, cx: cx, cy: cy, r: (ro + ri) / 2, t: (ro - ri) / 2,
		x0: cx - ro, y0: cy - ro, x1: cx + ro, y1: cy + ro}
}

// capsule returns a stroke of radius r from (ax, ay) to (bx, by).
func capsule(ax, ay, bx, by, r float32) prim {
	return prim{kind: pCapsule, ax: ax, ay: ay, bx: bx, by: by, r: r,
		x0: min(ax, bx) - r, y0: min(ay, by) - r, x1: max(ax, bx) + r, y1: max(ay, by) + r}
}

// poly returns a convex polygon (up to 8 vertices, either winding). Its
// distance is the largest edge-line distance: exact on edges, slightly
// short near corners, which only rounds the anti-aliasing there.
func poly(pts ...[2]float32) prim {
	p := prim{kind: pPoly, n: min(len(pts), 8)}
	area := float32(0)
	for i := 0; i < p.n; i++ {
		a, b := pts[i], pts[(i+1)%p.n]
		area += a[0]*b[1] - b[0]*a[1]
	}
	sign := float32(1)
	if area < 0 {
		sign = -1
	}
	p.x0, p.y0, p.x1, p.y1 = pts[0][0], pts[0][1], pts[0][0], pts[0][1]
	for i := 0; i < p.n; i++ {
		a, b := pts[i], pts[(i+1)%p.n]
		ex, ey := b[0]-a[0], b[1]-a[1]
		l := sqrt32(ex*ex + ey*ey)
		if l == 0 {
			l = 1
		}
		// Outward normal for counter-clockwise (positive area) winding.
		nx, ny := sign*ey/l, -sign*ex/l
		p.nx[i], p.ny[i], p.no[i] = nx, ny, nx*a[0]+ny*a[1]
		p.x0, p.y0 = min(p.x0, a[0]), min(p.y0, a[1])
		p.x1, p.y1 = max(p.x1, a[0]), max(p.y1, a[1])
	}
	return p
}

// dist is the signed distance from (x, y) to p.
func (p *prim) dist(x, y float32) float32 {
	var d float32
	switch p.kind {
	case pBox:
		dx, dy := x-p.cx, y-p.cy
		lx := abs32(dx*p.c+dy*p.s) - p.hx
		ly := abs32(-dx*p.s+dy*p.c) - p.hy
		ox, oy := max(lx, 0), max(ly, 0)
		d = sqrt32(ox*ox+oy*oy) + min(max(lx, ly), 0)
	case pCircle:
		dx, dy := x-p.cx, y-p.cy
		d = sqrt32(dx*dx+dy*dy) - p.r
	case pRing:
		dx, dy := x-p.cx, y-p.cy
		d = abs32(sqrt32(dx*dx+dy*dy)-p.r) - p.t
	case pCapsule:
		px, py := x-p.ax, y-p.ay
		bx, by := p.bx-p.ax, p.by-p.ay
		bb := bx*bx + by*by
		h := float32(0)
		if bb > 0 {
			h = clamp01((px*bx + py*by) / bb)
		}
		dx, dy := px-bx*h, py-by*h
		d = sqrt32(dx*dx+dy*dy) - p.r
	case pPoly:
		d = p.nx[0]*x + p.ny[0]*y - p.no[0]
		for i := 1; i < p.n; i++ {
			d = max(d, p.nx[i]*x+p.ny[i]*y-p.no[i])
		}
	}
	if p.clip != nil {
		d = max(d, p.clip.dist(x, y))
	}
	return d
}

// clipped returns copies of ps intersected with clip.
func clipped(clip prim, ps ...prim) []prim {
	c := clip
	out := make([]prim, len(ps))
	for i, p := range ps {
		p.clip = &c
		p.x0, p.y0 = max(p.x0, c.x0), max(p.y0, c.y0)
		p.x1, p.y1 = min(p.x1, c.x1), min(p.y1, c.y1)
		out[i] = p
	}
	return out
}

// polyline returns capsules along the points (x, y pairs).
func polyline(r float32, pts ...[2]float32) []prim {
	out := make([]prim, 0, len(pts))
	for i := 1; i < len(pts); i++ {
		out = append(out, capsule(pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1], r))
	}
	return out
}

// rgb is a linear colour with components in 0..1.
type rgb [3]float32

func (c rgb) scale(k float32) rgb { return rgb{c[0] * k, c[1] * k, c[2] * k} }

func mix(a, b rgb, t float32) rgb {
	return rgb{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t, a[2] + (b[2]-a[2])*t}
}

// layer is a set of primitives painted in one colour.
type layer struct {
	col   rgb
	alpha float32
	prims []prim
}
