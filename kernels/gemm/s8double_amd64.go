//go:build !noasm

package gemm

// segFusedDouble returns the double-rounding fused kernels (no clamp,
// clamp) of the VNNI tile called name: the s8Kernel.segF of TFLite
// Micro's arithmetic, zero for a tile without them.
func segFusedDouble(name string) [2]s8SegFusedFn {
	switch name {
	case "vnnix6x64":
		return [2]s8SegFusedFn{s8VNNISFDx6x64, s8VNNISFDCx6x64}
	case "vnnix14x32":
		return [2]s8SegFusedFn{s8VNNISFDx14x32, s8VNNISFDCx14x32}
	case "vnnix28x16":
		return [2]s8SegFusedFn{s8VNNISFDx28x16, s8VNNISFDCx28x16}
	}
	return [2]s8SegFusedFn{}
}

// segFusedFP32 returns the fused kernels (no clamp, clamp) of the VNNI
// tile called name with XNNPACK's float32 requantization
// (NewRequantFP32), zero for a tile without them. Their float clamp is
// always applied, so both entries are the same kernel.
func segFusedFP32(name string) [2]s8SegFusedFn {
	switch name {
	case "vnnix6x64":
		return [2]s8SegFusedFn{s8VNNISFFx6x64, s8VNNISFFx6x64}
	case "vnnix14x32":
		return [2]s8SegFusedFn{s8VNNISFFx14x32, s8VNNISFFx14x32}
	case "vnnix28x16":
		return [2]s8SegFusedFn{s8VNNISFFx28x16, s8VNNISFFx28x16}
	}
	return [2]s8SegFusedFn{}
}
