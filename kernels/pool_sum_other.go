//go:build !amd64 || noasm

package kernels

// sumPixelsVec does nothing here: the Go loop sums every channel.
func sumPixelsVec[T float32 | int8 | uint8 | int16, L float32 | int32](acc []L, px []T, npix, C int) int {
	return 0
}
