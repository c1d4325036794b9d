//go:build !amd64 || noasm

package train

// poolAsm is false: the plain-Go pool loops run.
const poolAsm = false

func poolFwdRowAVX512(ow, cb int, r0, r1, bias, y *float32, arg *uint8) {
	panic("train: no assembly pool rows in this build")
}

func poolBwdRowAVX512(ow, cb int, arg *uint8, y, dy, d0, d1, db *float32) {
	panic("train: no assembly pool rows in this build")
}
