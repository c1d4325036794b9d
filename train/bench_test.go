package train

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. On a shared, overloaded
// machine wall-clock images/s mostly measures the neighbours; images per
// CPU-second (times the thread count) estimates the throughput on idle cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTrainSeedCNN measures training throughput of the study's
// network at 80x80, batch 64, 2 threads: forward, backward, gradient
// reduction and an Adam step per batch (no augmentation, data in memory).
func BenchmarkTrainSeedCNN(b *testing.B) {
	const batch, threads = 64, 2
	m, err := New(SeedCNN(30), 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sz := m.InputSize()
	imgs := randSlice(rng, batch*sz, 1)
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(30)
	}
	eng := newEngine(m, threads, batch)
	opt, _ := newOptimizer(OptimConfig{Name: OptAdam}, m.decayMask())
	fill := func(x, _ []float32, lab []int, lo, hi int) {
		copy(x, imgs[lo*sz:hi*sz])
		copy(lab, labels[lo:hi])
	}
	eng.pass(batch, fill, true) // warm up the GEMM's buffer pools
	c0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		eng.pass(batch, fill, true)
		opt.step(m.Params, eng.grads[0], 1e-4)
	}
	cpu := (cpuTime() - c0).Seconds()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N*batch)/cpu, "images/cpu-s")
	}
}

// BenchmarkPoolReluBackward is the fused pool+ReLU backward over one
// chunk of seed-cnn's first feature map (16 images of 80x80x16).
func BenchmarkPoolReluBackward(b *testing.B) {
	p := newPoolGeom(80, 80, 16)
	n := chunkSize
	rng := rand.New(rand.NewPCG(1, 1))
	x := randSlice(rng, n*80*80*16, 1)
	y := make([]float32, n*40*40*16)
	arg := make([]uint8, len(y))
	poolReluForward(p, x, nil, n, y, arg)
	dy := randSlice(rng, len(y), 1)
	dx := make([]float32, len(x))
	db := make([]float32, 16)
	for b.Loop() {
		poolReluBackward(p, arg, y, dy, n, dx, db)
	}
}
