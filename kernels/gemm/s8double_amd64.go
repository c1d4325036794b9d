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
