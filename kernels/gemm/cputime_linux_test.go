package gemm

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// loopCPU runs f b.N times pinned to one OS thread and reports the
// thread's CPU time per run as cpu-ns/op and ops/(CPU time) as GOP/s-cpu:
// on the shared, overloaded machine wall-clock ns/op mostly measures the
// run queue.
func loopCPU(b *testing.B, ops float64, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok0 := threadCPU()
	for b.Loop() {
		f()
	}
	if t1, ok1 := threadCPU(); ok0 && ok1 {
		ns := float64(t1-t0) / float64(b.N)
		b.ReportMetric(ns, "cpu-ns/op")
		b.ReportMetric(ops/ns, "GOP/s-cpu")
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
