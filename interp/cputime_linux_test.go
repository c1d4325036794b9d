package interp_test

import (
	"runtime"
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used, so a
// benchmark pinned to its thread (lockThread) can report the time its work
// took regardless of how long other processes on a busy machine kept it
// waiting — wall-clock ns/op there mostly measures the queue.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// lockThread pins the goroutine to its OS thread; call the result to undo.
func lockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
