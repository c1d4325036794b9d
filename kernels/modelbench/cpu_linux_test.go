package modelbench

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// cpuModels are the int8 models BenchmarkZooCPU runs: zoo models by
// name, and the seed-cnn int8 demo model where `qbench demo` wrote it
// (QBENCH_SEED_INT8 overrides the path; skipped when absent).
var cpuModels = []string{"mlt_resnet8_i8", "mlt_vww96_i8", "mlt_kws_dscnn_i8", "seed-cnn-int8"}

// BenchmarkZooCPU is BenchmarkZoo at batch 1 and 64 in thread CPU time
// (cpu-µs/image): on the shared, overloaded machine wall-clock ns/op
// mostly measures the run queue. Compare builds or GODEBUG settings
// (cpu.avx512f=off,cpu.avx512bw=off simulates an AVX2-only CPU) within
// one session, alternating, medians of -count runs.
func BenchmarkZooCPU(b *testing.B) {
	for _, name := range cpuModels {
		path := ""
		if name == "seed-cnn-int8" {
			path = os.Getenv("QBENCH_SEED_INT8")
			if path == "" {
				path = "/tmp/rep/demo1/models/int8-full.tflite"
			}
		} else {
			path = testshared.Dir(b, "models", "zoo") + "/" + name + ".tflite"
		}
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/b%d", name, batch), func(b *testing.B) {
				data, err := os.ReadFile(path)
				if err != nil {
					b.Skipf("%s: %v", name, err)
				}
				g, err := tflite.Read(data)
				if err != nil {
					b.Fatal(err)
				}
				p, err := interp.Compile(g, interp.Options{Batch: batch, Rounding: fixedpoint.RuntimeRounding})
				if err != nil {
					b.Fatal(err)
				}
				e := p.NewExecutor()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0, ok0 := threadCPU()
				for b.Loop() {
					if err := e.Run(); err != nil {
						b.Fatal(err)
					}
				}
				if t1, ok1 := threadCPU(); ok0 && ok1 {
					b.ReportMetric(float64(t1-t0)/1e3/float64(b.N*batch), "cpu-µs/image")
				}
			})
		}
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
