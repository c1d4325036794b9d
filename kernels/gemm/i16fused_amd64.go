//go:build !noasm

package gemm

// avxvnniWS8Set is the fused int16-pair family of AVX-VNNI CPUs without
// AVX-512 (Intel client cores since Alder Lake): the 6×16 ymm tile and
// its 5..2-row forms with VEX VPDPWSSD (internal/asmgen/s8_dpwssd.go),
// doing VPMADDWD + VPADDD's work in one instruction with the same
// wrapping int32 sums. Its int8 kernels are the u8-quad ones
// (avxvnniS8Set), so this family holds a segmented int16 kernel alone
// and is not in s8Sets; the packing is the int16-pair one of its nr
// (avx2S8Set's). With 4 or 6 accumulators the 2- and 3-row tiles' loop
// would wait on VPDPWSSD's latency, so their k loop runs on two
// accumulator sets (the K2 kernels); the 1-row tile is load-bound and
// stays on the AVX2 kernel, which a two- or four-way split does not
// beat (BenchmarkSegI16Heights' shape, K = 64, N = 128, AVX-VNNI
// GODEBUG, Zen 5, 3 alternating runs, GOP/s median fused/AVX2: 1 row
// K2 110/112, K4 113/112; 2 rows K2 166/144; 3 rows K2 213/176; earlier
// runs: 4 rows 196/181, 5 rows 200/184, 6 rows 209/186).
var avxvnniWS8Set = &s8Set{name: "avxvnniw", format: fmtI16Pair, kernels: []s8Kernel{
	{name: "avxvnniwx6x16", mr: 6, nr: 16, weight: 1,
		segI16: &[6]s8SegI16Fn{s8AVX2SI16x1x16, s8AVXVNNIWK2SI16x2x16, s8AVXVNNIWK2SI16x3x16, s8AVXVNNIWSI16x4x16, s8AVXVNNIWSI16x5x16, s8AVXVNNIWSI16x6x16}},
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
