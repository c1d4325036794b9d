//go:build noasm || !amd64

package gemm

// segFusedDouble has no kernels without assembly.
func segFusedDouble(name string) [2]s8SegFusedFn { return [2]s8SegFusedFn{} }

// segFusedFP32 has no kernels without assembly.
func segFusedFP32(name string) [2]s8SegFusedFn { return [2]s8SegFusedFn{} }
