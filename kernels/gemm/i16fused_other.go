//go:build noasm || !amd64

package gemm

// i16FusedSet is nil: the fused int16 kernels are amd64 assembly.
func i16FusedSet() *s8Set { return nil }
