package interp_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/tflite"
)

// BenchmarkZooSchedules runs zoo models (QBENCH_BENCH_MODELS, a comma
// list of names without .tflite; a few small ones by default) at batch 64
// under three schedules — plain (NoRewrite), one image per step
// (ChunkBytes -1) and the default — single-threaded, in images per CPU
// second of the benchmark's thread (robust to a loaded machine). Run with
// -count to pair them.
func BenchmarkZooSchedules(b *testing.B) {
	names := "mlt_strww,mlt_kws_dscnn_i8,mlt_resnet8_i8,tfls_movie_review,coral_split_concat"
	if s := os.Getenv("QBENCH_BENCH_MODELS"); s != "" {
		names = s
	}
	dir := testshared.Dir(b, "models", "zoo")
	for _, name := range strings.Split(names, ",") {
		g, err := tflite.ReadFile(dir + "/" + name + ".tflite")
		if err != nil {
			b.Fatal(err)
		}
		for _, sc := range []struct {
			name string
			opts interp.Options
		}{
			{"plain", interp.Options{Batch: 64, NoRewrite: true}},
			{"image", interp.Options{Batch: 64, ChunkBytes: -1}},
			{"default", interp.Options{Batch: 64}},
		} {
			p, err := interp.Compile(g, sc.opts)
			if err != nil {
				b.Fatal(err)
			}
			e := p.NewExecutor()
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range p.NumInputs() {
				// Small values, valid as token ids too.
				in := e.Input(i)
				for j := range in.I32 {
					in.I32[j] = int32(rng.IntN(4))
				}
				for j := range in.F32 {
					in.F32[j] = rng.Float32()
				}
				for j := range in.I8 {
					in.I8[j] = int8(rng.IntN(256) - 128)
				}
				for j := range in.U8 {
					in.U8[j] = uint8(rng.IntN(256))
				}
				for j := range in.I16 {
					in.I16[j] = int16(rng.IntN(512) - 256)
				}
			}
			b.Run(fmt.Sprintf("%s/%s", name, sc.name), func(b *testing.B) {
				defer lockThread()()
				c0, ok := threadCPU()
				for b.Loop() {
					if err := e.Run(); err != nil {
						b.Fatal(err)
					}
				}
				if c1, ok1 := threadCPU(); ok && ok1 {
					b.ReportMetric(float64(b.N*64)/(c1-c0).Seconds(), "img/cpu-s")
				}
			})
		}
	}
}
