//go:build amd64 && !noasm

package kernels

// u8RowFixAVX512 is subRowSums on whole rows (see conv_u8_amd64.s for the
// masks and the base).
//
//go:noescape
func u8RowFixAVX512(acc *int32, n int, a *int8, k int, rows int, base, wz int32, kmask uint64)

// subRowSumsVec is subRowSums with AVX-512BW; it reports false (and does
// nothing) when the CPU lacks it.
func subRowSumsVec(acc []int32, a []int8, n, k int, aOff, wz int32) bool {
	if !hasAVX512BW || n <= 0 || k <= 0 {
		return false
	}
	rows := len(acc) / n
	if rows == 0 || wz == 0 {
		return true
	}
	if len(a) < rows*k {
		panic("kernels: subRowSumsVec: short rows")
	}
	// S counts each byte as a+128 and each masked-off tail byte as 128;
	// base turns it into Σ a + aOff·k (all mod 2^32, as subRowSums).
	base := (aOff - 128) * int32(k)
	var kmask uint64
	if r := k % 64; r != 0 {
		kmask = 1<<r - 1
		base -= 128 * int32(64-r)
	}
	u8RowFixAVX512(&acc[0], n, &a[0], k, rows, base, wz, kmask)
	return true
}

// xor80AVX512 flips the top bit of n bytes from src into dst.
//
//go:noescape
func xor80AVX512(dst, src *byte, n int)

// xor80Vec flips the top bit of every byte of src into dst (as long as
// src) with AVX-512BW or AVX2 and reports whether it did.
func xor80Vec(dst, src []byte) bool {
	if !hasAVX512BW {
		if !hasAVX2 {
			return false
		}
		n := len(src) &^ 31
		if n > 0 {
			_ = dst[len(src)-1]
			xor80AVX2(&dst[0], &src[0], n) // ew_avx2_amd64.s
			if n < len(src) && &dst[0] != &src[0] {
				// The last 32 bytes again, overlapping: a padded conv
				// image's rows (240 bytes for 80×3) had spent as long
				// on their byte tail in Go as on the vectors.
				xor80AVX2(&dst[len(src)-32], &src[len(src)-32], 32)
				return true
			}
		}
		for i := n; i < len(src); i++ {
			dst[i] = src[i] ^ 0x80
		}
		return true
	}
	if len(src) > 0 {
		_ = dst[len(src)-1]
		xor80AVX512(&dst[0], &src[0], len(src))
	}
	return true
}
