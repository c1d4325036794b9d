package gemm_test

import (
	"fmt"
	"github.com/qbench/qbench/kernels/fixedpoint"

	"github.com/qbench/qbench/kernels/gemm"
)

// A 1x1 int8 "conv" with two output channels: weights packed once, then
// int8 activations in, int8 activations out (TFLite's requantization).
func ExamplePackedS8_MulRequant() {
	w := []int8{1, 2, 3, -1, 0, 1} // 2 channels × k=3
	pw := gemm.PackS8(w, 2, 3, 3)
	// Output scale: multiplier 2^30 (0.5) with shift −1 → ×0.25.
	rq, err := gemm.NewRequant(fixedpoint.SingleRounding, []int32{4, 0}, []int32{1 << 30, 1 << 30}, []int{-1, -1}, 0, -128, 127)
	if err != nil {
		panic(err)
	}
	a := []int8{10, 20, 30} // one pixel, input zero point 0
	out := make([]int8, 2)
	pw.MulRequant(1, a, 3, 0, rq, out, 2)
	// channel 0: (10+40+90+4)/4 = 36; channel 1: (−10+30)/4 = 5
	fmt.Println(out)
	// Output: [36 5]
}
