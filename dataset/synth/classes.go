package synth

import (
	"fmt"
	"math/rand/v2"
)

// Class ids of the study's 30 classes.
const (
	Crosswalk = iota
	Stopline
	GiveWayLine
	RArrow
	LArrow
	Forbidden
	SpeedLimit10
	SpeedLimit20
	SpeedLimit30
	SpeedLimit40
	SpeedLimit50
	SpeedLimit60
	SpeedLimit70
	SpeedLimit80
	SpeedLimit90
	NSpeedLimit
	StartlineParking
	Crossingline
	Pedestrian
	ExpressStart
	ExpressEnd
	NoPassingStart
	NoPassingEnd
	Uphill
	Downhill
	PedestrianIsland
	SharpTurnRight
	SharpTurnLeft
	RightOfWay
	NoClass
	NumClasses
)

// ClassNames are the study's class names; the index is the class id.
var ClassNames = [NumClasses]string{
	"CROSSWALK", "STOPLINE", "GIVE_WAY_LINE", "R_ARROW", "L_ARROW", "FORBIDDEN",
	"SPEEDLIMIT10", "SPEEDLIMIT20", "SPEEDLIMIT30", "SPEEDLIMIT40", "SPEEDLIMIT50",
	"SPEEDLIMIT60", "SPEEDLIMIT70", "SPEEDLIMIT80", "SPEEDLIMIT90", "NSPEEDLIMIT",
	"STARTLINE_PARKING", "CROSSINGLINE", "PEDESTRIAN", "EXPRESS_START", "EXPRESS_END",
	"NO_PASSING_START", "NO_PASSING_END", "UPHILL", "DOWNHILL", "PEDESTRIAN_ISLAND",
	"SHARP_TURN_RIGHT", "SHARP_TURN_LEFT", "RIGHT_OF_WAY", "NO_CLASS",
}

// Classes returns the class names in id order.
func Classes() []string { return append([]string(nil), ClassNames[:]...) }

var (
	signWhite = rgb{0.92, 0.92, 0.9}
	signRed   = rgb{0.78, 0.08, 0.09}
	signBlue  = rgb{0.08, 0.28, 0.72}
	signBlack = rgb{0.07, 0.07, 0.08}
	signGray  = rgb{0.42, 0.42, 0.43}
)

// isFloorClass reports classes that are always road markings.
func isFloorClass(c int) bool {
	switch c {
	case Crosswalk, Stopline, GiveWayLine, RArrow, LArrow, StartlineParking, Crossingline,
		ExpressStart, ExpressEnd, PedestrianIsland:
		return true
	}
	return false
}

// floorMarking returns the paint primitives of a road-marking class in
// floor centimetres (x right, y forward; the ego lane spans x = -20..20),
// the marking's extent for framing, and which lane lines to break.
func floorMarking(c, index int) (ps []prim, extent float32, gapY float32) {
	switch c {
	case Crosswalk:
		for x := float32(-58); x < 20; x += 8 {
			ps = append(ps, rect(x, -15, x+4, 15))
		}
		return ps, 45, 22
	case Stopline:
		return []prim{rect(-20, -2, 20, 2)}, 40, 0
	case GiveWayLine:
		for x := float32(-19); x < 19; x += 10 {
			ps = append(ps, rect(x, -2, x+6, 2))
		}
		return ps, 40, 0
	case RArrow, LArrow:
		sx := float32(1)
		if c == LArrow {
			sx = -1
		}
		ps = []prim{
			rect(sx*-6, -20, sx*-2, 2),
			rect(sx*-6, -2, sx*6, 2),
			poly([2]float32{sx * 6, -7}, [2]float32{sx * 15, 0}, [2]float32{sx * 6, 7}),
		}
		return ps, 32, 0
	case StartlineParking:
		for row := 0; row < 2; row++ {
			for k := 0; k < 10; k++ {
				if (k+row)%2 == 0 {
					x := float32(-20 + 4*k)
					y := float32(-4 + 4*row)
					ps = append(ps, rect(x, y, x+4, y+4))
				}
			}
		}
		return ps, 40, 0
	case Crossingline:
		for x := float32(-60); x < 60; x += 20 {
			ps = append(ps, rect(x, -1, x+10, 1))
		}
		for _, y := range []float32{-40, 40} {
			ps = append(ps, rect(-140, y-1, -60, y+1), rect(20, y-1, 100, y+1))
		}
		return ps, 70, 40
	case PedestrianIsland:
		pts := [][2]float32{{-20, -30}, {-12, 0}, {-20, 30}, {-28, 0}, {-20, -30}}
		ps = polyline(1, pts...)
		clip := poly(pts[0], pts[1], pts[2], pts[3])
		var hatch []prim
		for y := float32(-30); y <= 30; y += 7 {
			hatch = append(hatch, box(-20, y, 30, 2, 0.8))
		}
		ps = append(ps, clipped(clip, hatch...)...)
		return ps, 55, 36
	case ExpressStart, ExpressEnd:
		ps = []prim{rect(-20, -2, 20, 2)}
		for x := float32(-16); x < 20; x += 8 {
			if c == ExpressStart {
				ps = append(ps, poly([2]float32{x - 3, 4}, [2]float32{x + 3, 4}, [2]float32{x, 13}))
			} else {
				ps = append(ps, poly([2]float32{x - 3, 13}, [2]float32{x + 3, 13}, [2]float32{x, 4}))
			}
		}
		return ps, 40, 0
	}
	// Speed limits (and their end) painted on the road: digits stretched
	// along the lane so they read upright from the car.
	n := speedValue(c, index)
	place := func(x, y float32) (float32, float32) { return x * 1.1, -y * 2.2 }
	ps = number(n, 0, 0, 14, 0.9, place)
	if c == NSpeedLimit {
		ps = append(ps, capsule(-14, -18, 14, 18, 1.2))
	}
	return ps, 36, 0
}

// speedValue is the number shown by a speed class; an end-of-limit sign
// shows 10..90 in turn by index, so FolderName can file it like the study's
// Speed<N>EndSigns folders.
func speedValue(c, index int) int {
	if c >= SpeedLimit10 && c <= SpeedLimit90 {
		return 10 * (c - SpeedLimit10 + 1)
	}
	return 10 * (1 + index%9)
}

// FolderName is the folder Write files image index of class in: the class
// name, except NSPEEDLIMIT, which goes to Speed<N>EndSigns by the number
// drawn (N = 10..90), as in the study's data; LabelMap maps those folders
// back to NSPEEDLIMIT.
func FolderName(class, index int) string {
	if class == NSpeedLimit {
		return fmt.Sprintf("Speed%dEndSigns", speedValue(class, index))
	}
	return ClassNames[class]
}

// laneLines returns the lane markings around a marking: left road edge,
// dashed centre line, right edge; lines are broken for |y| < gapY.
func laneLines(gapY float32, phase float32) []prim {
	var ps []prim
	solid := func(x float32) {
		if gapY > 0 {
			ps = append(ps, rect(x-1, gapY, x+1, 600), rect(x-1, -600, x+1, -gapY))
		} else {
			ps = append(ps, rect(x-1, -600, x+1, 600))
		}
	}
	solid(-60)
	solid(20)
	for y := -600 + phase; y < 600; y += 40 {
		if gapY > 0 && y+20 > -gapY && y < gapY {
			continue
		}
		ps = append(ps, rect(-21, y, -19, y+20))
	}
	return ps
}

// signLayers returns a sign class's artwork in sign units (radius 1, y
// down), with colours faded toward grey by fade.
func signLayers(c, index int, g *rand.Rand, fade float32) []layer {
	f := func(col rgb) rgb { return mix(col, rgb{0.55, 0.55, 0.55}, fade) }
	L := func(col rgb, ps ...prim) layer { return layer{col: f(col), alpha: 1, prims: ps} }
	disk := circle(0, 0, 1)
	stroke := 0.06 + 0.025*g.Float32() // printing varies between signs
	redRing := ring(0, 0, 1, 0.78)
	switch {
	case c == Forbidden:
		return []layer{L(signWhite, disk), L(signRed, redRing)}
	case c >= SpeedLimit10 && c <= SpeedLimit90:
		return []layer{L(signWhite, disk), L(signRed, redRing),
			L(signBlack, number(speedValue(c, index), 0, 0.02, 0.8, stroke, nil)...)}
	case c == NSpeedLimit:
		return []layer{L(signWhite, disk), L(signGray, ring(0, 0, 1, 0.95)),
			L(signGray, number(speedValue(c, index), 0, 0.02, 0.8, stroke, nil)...),
			L(signBlack, endStripes()...)}
	case c == NoPassingStart:
		return []layer{L(signWhite, disk), L(signRed, redRing),
			L(signBlack, car(-0.3)...), L(signRed, car(0.3)...)}
	case c == NoPassingEnd:
		return []layer{L(signWhite, disk), L(signGray, ring(0, 0, 1, 0.95)),
			L(signGray, car(-0.3)...), L(signGray, car(0.3)...), L(signBlack, endStripes()...)}
	case c == Uphill || c == Downhill || c == RightOfWay:
		ls := []layer{
			L(signRed, poly([2]float32{0, -1}, [2]float32{1.1, 0.9}, [2]float32{-1.1, 0.9})),
			L(signWhite, poly([2]float32{0, -0.62}, [2]float32{0.78, 0.72}, [2]float32{-0.78, 0.72})),
		}
		switch c {
		case Uphill:
			ls = append(ls, L(signBlack, poly([2]float32{-0.5, 0.6}, [2]float32{0.5, 0.6}, [2]float32{0.5, 0.05})))
		case Downhill:
			ls = append(ls, L(signBlack, poly([2]float32{-0.5, 0.6}, [2]float32{0.5, 0.6}, [2]float32{-0.5, 0.05})))
		default:
			ls = append(ls, L(signBlack,
				poly([2]float32{-0.05, 0.6}, [2]float32{0.05, 0.6}, [2]float32{0.1, -0.3}, [2]float32{-0.1, -0.3}),
				rect(-0.3, 0.12, 0.3, 0.2)))
		}
		return ls
	case c == Pedestrian:
		return []layer{
			L(signBlue, rect(-0.95, -0.95, 0.95, 0.95)),
			L(signWhite, poly([2]float32{0, -0.8}, [2]float32{0.82, 0.72}, [2]float32{-0.82, 0.72})),
			L(signBlack, circle(0.06, -0.3, 0.09),
				capsule(0.04, -0.17, -0.03, 0.18, 0.06),
				capsule(-0.03, 0.18, -0.22, 0.5, 0.05), capsule(-0.03, 0.18, 0.17, 0.5, 0.05),
				capsule(0.02, -0.1, -0.2, 0.08, 0.04), capsule(0.02, -0.1, 0.22, 0.05, 0.04),
				rect(-0.55, 0.56, -0.35, 0.64), rect(-0.25, 0.56, -0.05, 0.64),
				rect(0.05, 0.56, 0.25, 0.64), rect(0.35, 0.56, 0.55, 0.64)),
		}
	case c == SharpTurnRight || c == SharpTurnLeft:
		sx := float32(1)
		if c == SharpTurnLeft {
			sx = -1
		}
		var chev []prim
		for _, dx := range []float32{-0.45, 0.25} {
			chev = append(chev, polyline(0.11,
				[2]float32{sx * (dx - 0.2), -0.45}, [2]float32{sx * (dx + 0.2), 0}, [2]float32{sx * (dx - 0.2), 0.45})...)
		}
		return []layer{L(signRed, rect(-1.1, -0.7, 1.1, 0.7)), L(signWhite, chev...)}
	}
	return nil
}

// endStripes are the thin diagonal lines of "end of ..." signs.
func endStripes() []prim {
	var ps []prim
	for _, o := range []float32{-0.24, -0.08, 0.08, 0.24} {
		ps = append(ps, capsule(-0.75+o, 0.75+o, 0.75+o, -0.75+o, 0.025))
	}
	return clipped(circle(0, 0, 0.95), ps...)
}

// car is a rear view of a car centred at x = cx.
func car(cx float32) []prim {
	return []prim{
		rect(cx-0.22, -0.02, cx+0.22, 0.22),
		poly([2]float32{cx - 0.16, -0.02}, [2]float32{cx + 0.16, -0.02}, [2]float32{cx + 0.11, -0.22}, [2]float32{cx - 0.11, -0.22}),
		rect(cx-0.2, 0.22, cx-0.12, 0.3), rect(cx+0.12, 0.22, cx+0.2, 0.3),
	}
}
