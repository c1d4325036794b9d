//go:build amd64 && !noasm

package kernels

// u8RowFixAVX512 is subRowSums on whole rows (see conv_u8_amd64.s for the
// masks and the base).
//
//go:noescape
func u8RowFixAVX512(acc *int32, n int, a *int8, k int, rows int, base, wz int32, kmask uint64, nmask uint16)

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
	nmask := uint16(1)<<(n%16) - 1
	u8RowFixAVX512(&acc[0], n, &a[0], k, rows, base, wz, kmask, nmask)
	return true
}
