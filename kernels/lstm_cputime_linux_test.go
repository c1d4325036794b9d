package kernels

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// runCPU runs f b.N times pinned to one OS thread and reports the thread's
// CPU time per run as cpu-ns/op: on the shared, overloaded machine the
// wall-clock ns/op mostly measures the run queue.
func runCPU(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok0 := threadCPU()
	b.ResetTimer()
	for range b.N {
		f()
	}
	b.StopTimer()
	if t1, ok1 := threadCPU(); ok0 && ok1 {
		b.ReportMetric(float64(t1-t0)/float64(b.N), "cpu-ns/op")
	}
}

// runKernelCPU runs k on x into y b.N times pinned to one OS thread and
// reports the thread CPU time per image (x holds images) as cpu-ns/image.
func runKernelCPU(b *testing.B, k Kernel, x, y []*Buffer, images int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok0 := threadCPU()
	for b.Loop() {
		if err := k.Run(x, y); err != nil {
			b.Fatal(err)
		}
	}
	if t1, ok1 := threadCPU(); ok0 && ok1 {
		b.ReportMetric(float64(t1-t0)/float64(b.N*images), "cpu-ns/image")
	}
}

func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
