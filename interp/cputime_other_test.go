//go:build !linux

package interp_test

import "time"

// threadCPU is unavailable here; benchmarks then omit their CPU-time metric.
func threadCPU() (time.Duration, bool) { return 0, false }

func lockThread() func() { return func() {} }
