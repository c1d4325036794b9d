package interp_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
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
				fillSmall(e.Input(i), rng)
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

// TestZooSchedulesBitIdentical: small zoo models at batch 64, 8, 6 and 4
// give the same bytes under the default schedule and a smaller chunk
// budget (one or several images per step, an embedding bag, or no split)
// as op by op, and the schedule is the one chosen for them.
func TestZooSchedulesBitIdentical(t *testing.T) {
	dir := testshared.Dir(t, "models", "zoo")
	for _, c := range []struct {
		name              string
		batch, budget     int // budget: Options.ChunkBytes
		perImage, perStep int
	}{
		{"tfls_movie_review", 64, 0, 0, 0}, // GATHER → MEAN is one embedding bag, over the whole batch
		{"tfls_movie_review", 6, 0, 0, 0},
		{"mlt_strww", 64, 0, 0, 0}, // the whole batch fits DefaultChunkBytes
		{"mlt_strww", 64, 256 << 10, 8, 16},
		{"coral_split_concat", 64, 0, 0, 0},
		{"mlt_vww96_i8", 8, 0, 28, 4},
		{"mlt_vww96_i8", 4, 256 << 10, 28, 1},
	} {
		t.Run(fmt.Sprintf("%s/batch%d/budget%d", c.name, c.batch, c.budget), func(t *testing.T) {
			g, err := tflite.ReadFile(dir + "/" + c.name + ".tflite")
			if err != nil {
				t.Fatal(err)
			}
			fast, err := interp.Compile(g, interp.Options{Batch: c.batch, ChunkBytes: c.budget})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := interp.Compile(g, interp.Options{Batch: c.batch, NoRewrite: true})
			if err != nil {
				t.Fatal(err)
			}
			if s := fast.Schedule(); s.PerImageOps != c.perImage || s.ImagesPerStep != c.perStep {
				t.Errorf("schedule %+v, want %d ops image by image, %d images per step", s, c.perImage, c.perStep)
			}
			ef, ep := fast.NewExecutor(), plain.NewExecutor()
			rng := rand.New(rand.NewPCG(7, 8))
			for round := range 2 {
				for i := range fast.NumInputs() {
					fillSmall(ef.Input(i), rng)
					copyBuffer(ep.Input(i), ef.Input(i))
				}
				if err := ef.Run(); err != nil {
					t.Fatal(err)
				}
				if err := ep.Run(); err != nil {
					t.Fatal(err)
				}
				for i := range fast.NumOutputs() {
					if !bytes.Equal(ef.AppendOutputBytes(i, nil), ep.AppendOutputBytes(i, nil)) {
						t.Fatalf("round %d output %d: default schedule differs from the plain run", round, i)
					}
				}
			}
		})
	}
}

// fillSmall writes random values into b, small enough to be valid token
// ids for an int32 input.
func fillSmall(b *kernels.Buffer, rng *rand.Rand) {
	for j := range b.I32 {
		b.I32[j] = int32(rng.IntN(1000))
	}
	for j := range b.F32 {
		b.F32[j] = rng.Float32()*4 - 2
	}
	for j := range b.I8 {
		b.I8[j] = int8(rng.IntN(256) - 128)
	}
	for j := range b.U8 {
		b.U8[j] = uint8(rng.IntN(256))
	}
	for j := range b.I16 {
		b.I16[j] = int16(rng.IntN(65536) - 32768)
	}
}

// copyBuffer copies src's values into dst (same dtype and size).
func copyBuffer(dst, src *kernels.Buffer) {
	copy(dst.I32, src.I32)
	copy(dst.F32, src.F32)
	copy(dst.I8, src.I8)
	copy(dst.U8, src.U8)
	copy(dst.I16, src.I16)
}
