package gemm

// WidenS8 stores src sign-extended into dst (len(dst) ≥ len(src)): the
// int16 A of the wide fused products. On AVX2 the bulk runs in an
// assembly loop (32 values per pass), and the rest, when src has 32
// values or more, in one more pass over its last 32 (rewriting some
// with the same values); only shorter sources run in Go. A first conv
// widens each padded row on its own (240 values at 80×80×3), and the
// Go tail of each took 1.5% of its time.
func WidenS8(dst []int16, src []int8) {
	dst = dst[:len(src)]
	n := 0
	if widenAsm {
		n = len(src) &^ 31
		if n > 0 {
			widenS8AVX2(n, &dst[0], &src[0])
		}
		if t := len(src) - 32; n < len(src) && t >= 0 {
			widenS8AVX2(32, &dst[t], &src[t])
			return
		}
	}
	widenS8Go(dst[n:], src[n:])
}

// widenS8Go is WidenS8 in plain Go (the reference of the asm loop).
func widenS8Go(dst []int16, src []int8) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = int16(v)
	}
}
