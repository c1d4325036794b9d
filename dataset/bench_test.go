package dataset

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// gtsrbSized writes n PNGs with GTSRB's size distribution (25..177 px,
// median ~44) and returns them as samples.
func gtsrbSized(b *testing.B, n int) []Sample {
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	samples := make([]Sample, n)
	for i := range samples {
		side := 25 + int(r.ExpFloat64()*20)
		side = min(side, 177)
		p := filepath.Join(dir, fmt.Sprintf("c/%05d.png", i))
		writePNG(b, p, side, side+r.IntN(5), uint8(i))
		samples[i] = Sample{Path: p}
	}
	return samples
}

// BenchmarkDecodeResize80 measures Stream on GTSRB-sized PNGs to 80x80
// float32 on all cores: images/s (wall) and images/cpu-s (what one idle
// core does; multiply by cores for an unloaded machine).
func BenchmarkDecodeResize80(b *testing.B) {
	samples := gtsrbSized(b, 2000)
	spec := DefaultSpec(80, 80)
	opts := StreamOptions{Workers: runtime.GOMAXPROCS(0)}
	for b.Loop() {
		start, cpu0 := time.Now(), cpuSeconds()
		sum, err := Stream(context.Background(), samples, spec, opts, func(Item) error { return nil })
		if err != nil || sum.Read != len(samples) {
			b.Fatal(sum, err)
		}
		b.ReportMetric(float64(len(samples))/time.Since(start).Seconds(), "images/s")
		b.ReportMetric(float64(len(samples))/(cpuSeconds()-cpu0), "images/cpu-s")
	}
}

// BenchmarkGTSRBMini streams the real gtsrb-mini train images.
func BenchmarkGTSRBMini(b *testing.B) {
	d, err := Open(filepath.Join(sharedDir(b), "data", "gtsrb-mini", "train"), OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	opts := StreamOptions{Workers: runtime.GOMAXPROCS(0)}
	for b.Loop() {
		start, cpu0 := time.Now(), cpuSeconds()
		if _, err := Stream(context.Background(), d.Samples, DefaultSpec(80, 80), opts, func(Item) error { return nil }); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(d.Samples))/time.Since(start).Seconds(), "images/s")
		b.ReportMetric(float64(len(d.Samples))/(cpuSeconds()-cpu0), "images/cpu-s")
	}
}

func BenchmarkApplyBilinear(b *testing.B) {
	img := mustPNGImage(b, 44, 44)
	var p Preprocessor
	dst := make([]float32, 80*80*3)
	spec := DefaultSpec(80, 80)
	for b.Loop() {
		if err := p.Apply(spec, img, nil, dst); err != nil {
			b.Fatal(err)
		}
	}
}
