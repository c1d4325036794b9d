//go:build !noasm

package kernels

import "testing"

// TestHybridVecAVX2 runs the hybrid vector-loop tests (quantization with
// ties, subnormal, huge and non-finite inputs, odd lengths; the epilogue
// with wrapping zero-point shares and every clamp) with the AVX-512 loops
// turned off, so the AVX2 forms and their Go tails are checked bit for
// bit against the references on an AVX-512 machine too.
func TestHybridVecAVX2(t *testing.T) {
	if !hasAVX2 {
		t.Skip("needs AVX2 and FMA")
	}
	defer func(v bool) { hybridAVX512 = v }(hybridAVX512)
	hybridAVX512 = false
	t.Run("quantize", TestHybridQuantizeVecMatchesRef)
	t.Run("epilogue", TestHybridEpilogueVecMatchesRef)
	if _, _, ok := hybridRangeVec(make([]float32, 9)); !ok {
		t.Fatal("the AVX2 range loop did not run")
	}
	if !hybridOutVec(make([]float32, 9), make([]int32, 9), 1, make([]int32, 9), make([]float32, 9), make([]float32, 9), 0, 1) {
		t.Fatal("the AVX2 epilogue loop did not run")
	}
}
