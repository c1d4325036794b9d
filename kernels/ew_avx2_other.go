//go:build !amd64 || noasm

package kernels

// Without the AVX2 loops every element takes the Go loop.

func clamp8Vec[T int8 | uint8](xs, ys []T, lo, hi T) int { return 0 }

func add16Vec(a *add16Fast, x, y, z []int16) int { return 0 }

func lookup8AVX2Vec[X, Y ~int8 | ~uint8](t *[256]uint8, xs []X, ys []Y) int { return 0 }

func max2x2Pix16Vec[T int8 | int16](o, a, b []T, C int, lo, hi T) int { return 0 }

// useAffine8 is false: lookup8's Go loop maps every byte.
const useAffine8 = false

func affine8AVX2Vec[X, Y ~int8 | ~uint8](a *affine8, xs []X, ys []Y) int { return 0 }

func max2x2Affine8Vec(a *affine8, o, ra, rb []int8, C int) int { return 0 }
