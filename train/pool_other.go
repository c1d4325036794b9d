//go:build !amd64 || noasm

package train

// avx512Asm is false: the plain-Go pool and col2im loops run.
const avx512Asm = false

func poolFwdRowAVX512(ow, cb int, r0, r1, bias, y *float32, arg *uint8) {
	panic("train: no assembly rows in this build")
}

func poolBwdRowAVX512(ow, cb int, arg *uint8, y, dy, d0, d1, db *float32) {
	panic("train: no assembly rows in this build")
}

func addRowsAVX512(n16 int, dst, src *float32) {
	panic("train: no assembly rows in this build")
}
