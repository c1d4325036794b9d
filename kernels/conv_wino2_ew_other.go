//go:build !amd64 || noasm

package kernels

// wino2InYVec does nothing here: the Go loop transforms every column.
func wino2InYVec(dst []int16, dstStride int, src []int16, srcStride int, n int) int { return 0 }

// wino2OutYVec does nothing here: the Go loop transforms every column.
func wino2OutYVec(dst []int32, dstStride int, src []int32, srcStride int, n int) int { return 0 }

// wino2OutXVec does nothing here: the Go loop transforms every channel.
func wino2OutXVec(dst, src []int32, plane, tiles, N int, corr []int32) int { return 0 }

// winoOutI32Vec does nothing here: the Go loop transforms every channel.
func winoOutI32Vec(dst, src []int32, plane, tiles, N int, corr []int32, by576 bool) int { return 0 }

// winoOutI32TailVec does nothing here: the Go loop transforms every channel.
func winoOutI32TailVec(dst, src []int32, plane, w, N int, corr []int32, by576 bool) int { return 0 }
