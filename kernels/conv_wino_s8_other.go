//go:build !amd64 || noasm

package kernels

// winoInS8Vec does nothing here: the Go loop transforms every channel.
func winoInS8Vec(dst []int16, plane int, src []int8, tiles, C int) int { return 0 }
