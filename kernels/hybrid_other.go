//go:build !amd64 || noasm

package kernels

// hybridRangeVec reports false here: the Go reference runs.
func hybridRangeVec(x []float32) (lo, hi float32, ok bool) { return 0, 0, false }

// hybridQuantVec reports false here: the Go reference runs.
func hybridQuantVec(dst []int8, x []float32, inv, zp float32, lo, hi int32) bool { return false }

// hybridOutVec reports false here: the Go loop runs.
func hybridOutVec(dst []float32, acc []int32, rows int, off []int32, sc, bias []float32, lo, hi float32) bool {
	return false
}
