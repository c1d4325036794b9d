//go:build !amd64 || noasm

package kernels

// svdfDotsS8Vec does nothing here: the Go loop takes every filter.
func svdfDotsS8Vec(st []int8, w []int16, out []int32, mem int) int { return 0 }

// svdfDotsS16Vec does nothing here: the Go loop takes every filter.
func svdfDotsS16Vec(st []int16, w []int16, out []int32, mem int) int { return 0 }
