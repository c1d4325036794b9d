//go:build !amd64 || noasm

package kernels

// sumRowsVec does nothing here: the Go loop adds every column.
func sumRowsVec(dst, src []float32, idx []int32, stride int) int { return 0 }

// sumRowsVecIn does nothing here: the Go loop adds every column.
func sumRowsVecIn(dst, src []float32, idx []int32, stride int, lo, hi int32) int { return 0 }
