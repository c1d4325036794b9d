package kernels

// Broadcast ADD by rows. The broadcast walk (eachRow) hands over runs of
// the output's last axis, along which each input either advances with the
// output (step 1) or repeats one value (step 0). A run is then a
// same-shape add or a vector-plus-scalar add, which the SIMD loops
// (add_amd64.go) and index-free Go loops (the builtin 8-bit ADD's table)
// do, instead of the reference's indexing per element. Every form computes the reference's values: the
// same float32 operations in the same operand order, and for XNNPACK's
// 8-bit ADD the same wrapping int32 sum (a repeated operand's product is
// folded into the bias, which wrapping addition allows exactly).

// addF32Row sets z[j] = clamp(x[j·d1] + y[j·d2]) for j < len(z) (d1, d2
// are 0 or 1; x and y hold the values from the row's first).
func addF32Row(x, y, z []float32, d1, d2 int, lo, hi float32) {
	n := len(z)
	switch {
	case d1 == 1 && d2 == 1:
		x, y = x[:n], y[:n]
		for j := addF32Vec(x, y, z, lo, hi); j < n; j++ {
			z[j] = min(max(x[j]+y[j], lo), hi)
		}
	case d1 == 1:
		x, s := x[:n], y[0]
		for j := addF32ScalarVec(x, s, z, false, lo, hi); j < n; j++ {
			z[j] = min(max(x[j]+s, lo), hi)
		}
	case d2 == 1:
		s, y := x[0], y[:n]
		for j := addF32ScalarVec(y, s, z, true, lo, hi); j < n; j++ {
			z[j] = min(max(s+y[j], lo), hi)
		}
	default:
		v := min(max(x[0]+y[0], lo), hi)
		for j := range z {
			z[j] = v
		}
	}
}

// addXNNRow is addF32Row for XNNPACK's 8-bit ADD (k.xnn): a repeated
// operand's product joins the bias and the row runs as a same-shape add
// of the other operand with itself, its second multiplier 0.
func addXNNRow[T ~int8 | ~uint8](k *addKernel, x, y, z []T, d1, d2 int) {
	a := *k.xnn
	n := len(z)
	switch {
	case d1 == 1 && d2 == 1:
	case d1 == 1:
		a.bias += int32(y[0]) * a.mb
		a.mb, y = 0, x
	case d2 == 1:
		a.bias += int32(x[0]) * a.ma
		a.ma, a.mb, x = a.mb, 0, y
	default:
		a.bias += int32(y[0]) * a.mb
		v := T(min(max((a.bias+int32(x[0])*a.ma)>>a.shift+k.offOut, k.ilo), k.ihi))
		for j := range z {
			z[j] = v
		}
		return
	}
	addXNNRun(&a, k.offOut, k.ilo, k.ihi, x[:n], y[:n], z)
}

// addLUTRow is addF32Row for the builtin 8-bit ADD's table (addLUT8): a
// repeated operand fixes the table's high or low byte.
func addLUTRow[T ~int8 | ~uint8](t *[1 << 16]uint8, x, y, z []T, d1, d2 int) {
	n := len(z)
	switch {
	case d1 == 1 && d2 == 1:
		x, y = x[:n], y[:n]
		for j, v := range x {
			z[j] = T(t[uint16(uint8(v))<<8|uint16(uint8(y[j]))])
		}
	case d1 == 1:
		x, c := x[:n], uint16(uint8(y[0]))
		for j, v := range x {
			z[j] = T(t[uint16(uint8(v))<<8|c])
		}
	case d2 == 1:
		row, y := (*[256]uint8)(t[int(uint8(x[0]))<<8:]), y[:n]
		for j, v := range y {
			z[j] = T(row[uint8(v)])
		}
	default:
		v := T(t[uint16(uint8(x[0]))<<8|uint16(uint8(y[0]))])
		for j := range z {
			z[j] = v
		}
	}
}
