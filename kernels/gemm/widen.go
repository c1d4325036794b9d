package gemm

// WidenS8 stores src sign-extended into dst (len(dst) ≥ len(src)): the
// int16 A of the wide fused products. On AVX2 the bulk runs in an
// assembly loop (32 values per pass), the rest in Go.
func WidenS8(dst []int16, src []int8) {
	dst = dst[:len(src)]
	n := 0
	if widenAsm {
		n = len(src) &^ 31
		if n > 0 {
			widenS8AVX2(n, &dst[0], &src[0])
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
