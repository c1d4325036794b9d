//go:build !noasm

package gemm

// avxvnniWS8Set is the fused int16-pair family of AVX-VNNI CPUs without
// AVX-512 (Intel client cores since Alder Lake): the 6×16 ymm tile and
// its 5..1-row forms with VEX VPDPWSSD (internal/asmgen/s8_dpwssd.go),
// doing VPMADDWD + VPADDD's work in one instruction with the same
// wrapping int32 sums. Its int8 kernels are the u8-quad ones
// (avxvnniS8Set), so this family holds a segmented int16 kernel alone
// and is not in s8Sets; the packing is the int16-pair one of its nr.
var avxvnniWS8Set = &s8Set{name: "avxvnniw", format: fmtI16Pair, kernels: []s8Kernel{
	{name: "avxvnniwx6x16", mr: 6, nr: 16, weight: 1,
		segI16: &[6]s8SegI16Fn{s8AVXVNNIWSI16x1x16, s8AVXVNNIWSI16x2x16, s8AVXVNNIWSI16x3x16, s8AVXVNNIWSI16x4x16, s8AVXVNNIWSI16x5x16, s8AVXVNNIWSI16x6x16}},
}}

// i16FusedSet is the fused int16-pair family MulSegmented takes before
// the int8 ones, nil when there is none: avxvnniWS8Set on AVX-VNNI CPUs
// without the AVX-512BW zmm kernels (those keep their own family: no
// zmm fused form is measured to pay yet).
func i16FusedSet() *s8Set {
	if avxVNNIOk && !avx512WOk {
		return avxvnniWS8Set
	}
	return nil
}
