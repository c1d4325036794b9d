//go:build amd64 && !noasm

package kernels

// lstmActAVX2 sets v[i] = a + b·k/(1 + expF32(s·v[i])) for n values, each
// lane computed with the scalar code's operations in its order (no FMA):
// s = −1, k = 1, a = 0, b = 1 is sigmoidFastF32, s = 2, k = 2, a = 1,
// b = −1 is tanhFastF32.
//
//go:noescape
func lstmActAVX2(v *float32, n int, s, k, a, b float32)

// sigmoidVec applies sigmoidFastF32 to v with AVX2 when the CPU has it and
// reports whether it did.
func sigmoidVec(v []float32) bool {
	if !hasAVX2 || len(v) == 0 {
		return false
	}
	lstmActAVX2(&v[0], len(v), -1, 1, 0, 1)
	return true
}

// tanhVec is sigmoidVec for tanhFastF32.
func tanhVec(v []float32) bool {
	if !hasAVX2 || len(v) == 0 {
		return false
	}
	lstmActAVX2(&v[0], len(v), 2, 2, 1, -1)
	return true
}
