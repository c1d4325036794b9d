//go:build !noasm

package gemm

// avx2S8Nib is the AVX2 family's one-row nibble kernel (s8nib.go). The
// AVX-512BW family has none: there its zmm few-row kernels measured
// faster (3200→256 at one row, Skylake-SP GODEBUG on Zen 5: 7.9 µs
// against 8.6 for a 64-column zmm form of this kernel).
var avx2S8Nib = &s8NibKernel{name: "avx2nib", nr: 16, fn: s8NibAVX2x1x16}

// nibSplitAsm is the vector loop of splitNibbles (whole 32-byte blocks),
// nil without AVX2.
var nibSplitAsm = func() func(n int, src *int8, lo, hi *uint8) {
	if avx2Ok {
		return nibSplitAVX2
	}
	return nil
}()

// s8NibFor returns set's one-row nibble kernel, nil when it has none.
func s8NibFor(set *s8Set) *s8NibKernel {
	if set == avx2S8Set {
		return avx2S8Nib
	}
	return nil
}
