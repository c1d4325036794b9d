//go:build !amd64 || noasm

package kernels

// addF32Vec does nothing here: the Go loop adds every value.
func addF32Vec(x, y, z []float32, lo, hi float32) int { return 0 }

// addXNNVec does nothing here: the Go loop adds every value.
func addXNNVec[T ~int8 | ~uint8](a *xnnAdd, zo, lo, hi int32, x, y, z []T) int { return 0 }

// addF32ScalarVec does nothing here: the Go loop adds every value.
func addF32ScalarVec(v []float32, s float32, z []float32, sFirst bool, lo, hi float32) int { return 0 }
