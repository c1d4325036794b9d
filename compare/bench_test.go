package compare

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"

	"github.com/qbench/qbench/report"
)

// sharedDir finds ../shared (see package testshared) or skips the test.
func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// BenchmarkCompareGTSRB runs the whole comparison (decode, inference,
// metrics, every report file) on gtsrb-mini/val. Set
// QBENCH_BENCH_MODELS=float.tflite,int8.tflite (models for 43 classes);
// profile with -cpuprofile to see which stage bounds it.
func BenchmarkCompareGTSRB(b *testing.B) {
	env := os.Getenv("QBENCH_BENCH_MODELS")
	if env == "" {
		b.Skip("set QBENCH_BENCH_MODELS=float.tflite,int8.tflite")
	}
	data := filepath.Join(sharedDir(b), "data", "gtsrb-mini", "val")
	d, err := OpenData(data, DataOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var models []ModelSpec
	for _, p := range strings.Split(env, ",") {
		models = append(models, ModelSpec{Path: p})
	}
	out := b.TempDir()
	b.ResetTimer()
	for range b.N {
		r, err := Run(context.Background(), Config{Models: models, Splits: d.Splits, Classes: d.Classes,
			DataRoot: d.Root, Workers: 2, OutDir: out})
		if err != nil {
			b.Fatal(err)
		}
		if err := report.WriteAll(out, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(d.Splits[0].Samples))/b.Elapsed().Seconds(), "images/s")
}
