package synth

// digitStrokes are stroked glyphs for 0-9 in a 0.6 x 1 box (y down), one
// or more polylines each. They are drawn as capsules, like painted or
// printed digits, not as a font.
var digitStrokes = [10][][][2]float32{
	{{{0.15, 0}, {0.45, 0}, {0.6, 0.15}, {0.6, 0.85}, {0.45, 1}, {0.15, 1}, {0, 0.85}, {0, 0.15}, {0.15, 0}}},
	{{{0.12, 0.22}, {0.4, 0}, {0.4, 1}}},
	{{{0, 0.18}, {0.15, 0}, {0.45, 0}, {0.6, 0.15}, {0.6, 0.38}, {0, 1}, {0.6, 1}}},
	{{{0, 0.1}, {0.15, 0}, {0.45, 0}, {0.6, 0.15}, {0.6, 0.35}, {0.45, 0.48}, {0.2, 0.48}},
		{{0.45, 0.48}, {0.6, 0.62}, {0.6, 0.85}, {0.45, 1}, {0.15, 1}, {0, 0.9}}},
	{{{0.45, 1}, {0.45, 0}, {0, 0.7}, {0.6, 0.7}}},
	{{{0.6, 0}, {0.05, 0}, {0, 0.45}, {0.4, 0.42}, {0.6, 0.58}, {0.6, 0.85}, {0.45, 1}, {0.15, 1}, {0, 0.9}}},
	{{{0.55, 0.05}, {0.35, 0}, {0.15, 0.05}, {0, 0.3}, {0, 0.85}, {0.15, 1}, {0.45, 1}, {0.6, 0.85}, {0.6, 0.6}, {0.45, 0.47}, {0.15, 0.47}, {0, 0.6}}},
	{{{0, 0}, {0.6, 0}, {0.2, 1}}},
	{{{0.3, 0.47}, {0.08, 0.4}, {0.05, 0.12}, {0.2, 0}, {0.4, 0}, {0.55, 0.12}, {0.52, 0.4}, {0.3, 0.47},
		{0.05, 0.58}, {0, 0.85}, {0.15, 1}, {0.45, 1}, {0.6, 0.85}, {0.55, 0.58}, {0.3, 0.47}}},
	{{{0.05, 0.95}, {0.25, 1}, {0.45, 0.95}, {0.6, 0.7}, {0.6, 0.15}, {0.45, 0}, {0.15, 0}, {0, 0.15}, {0, 0.4}, {0.15, 0.53}, {0.45, 0.53}, {0.6, 0.4}}},
}

// number returns the strokes of the decimal digits of n, centred at
// (cx, cy), each digit h tall; mapping (x, y) of the glyph box through
// place lets the floor version stretch and flip the digits.
func number(n int, cx, cy, h, stroke float32, place func(x, y float32) (float32, float32)) []prim {
	var ds []int
	for {
		ds = append([]int{n % 10}, ds...)
		n /= 10
		if n == 0 {
			break
		}
	}
	w := 0.6 * h
	gap := 0.22 * h
	total := float32(len(ds))*w + float32(len(ds)-1)*gap
	var out []prim
	for k, d := range ds {
		x0 := cx - total/2 + float32(k)*(w+gap)
		y0 := cy - h/2
		for _, line := range digitStrokes[d] {
			pts := make([][2]float32, len(line))
			for i, p := range line {
				x, y := x0+p[0]*h, y0+p[1]*h
				if place != nil {
					x, y = place(x, y)
				}
				pts[i] = [2]float32{x, y}
			}
			out = append(out, polyline(stroke, pts...)...)
		}
	}
	return out
}
