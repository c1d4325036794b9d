//go:build !amd64 || noasm

package kernels

// hasAVX512 is false without the assembly (other arches, -tags noasm).
const hasAVX512 = false

// max2x2F32Vec does nothing here: the Go loop handles every pixel.
func max2x2F32Vec(o, a, b []float32, C, npix int, l, h int32) int { return 0 }

// quantizeXNNVec does nothing here: the Go loop handles every value.
func quantizeXNNVec(inv float32, zp, lo, hi int32, xs []float32, ys []int8) int { return 0 }

// quantizeI8Vec does nothing here: the Go loop handles every value.
func quantizeI8Vec(c *quantizer, xs []float32, ys []int8) int { return 0 }

// max2x2IntVec does nothing here and reports so: the Go loop runs.
func max2x2IntVec[T int8 | int16](o, a, b []T, C, npix int, lo, hi T) bool { return false }

// lookup8Vec does nothing here and reports so: the Go loop runs.
func lookup8Vec[X, Y ~int8 | ~uint8](t *[256]uint8, xs []X, ys []Y) bool { return false }
