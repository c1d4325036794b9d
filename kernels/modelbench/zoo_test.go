package modelbench

import (
	"os"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// zooModels are the image and keyword models of ../shared/models/zoo the
// kernel work of issue 16 is measured on.
var zooModels = []string{"mlt_vww96_i8", "mlt_kws_dscnn_i8", "mlt_resnet8_i8", "coral_mnv1_025_128_u8", "mlt_resnet8_f32", "mlt_kws_dscnn_f32"}

// BenchmarkZoo is the batch-1 latency of each zoo model, one executor on
// the calling goroutine, input zeros, the runtime rounding (what bench
// runs); for profiles of one model: -bench Zoo/coral -cpuprofile.
func BenchmarkZoo(b *testing.B) {
	dir := testshared.Dir(b, "models", "zoo")
	for _, name := range zooModels {
		b.Run(name, func(b *testing.B) {
			data, err := os.ReadFile(dir + "/" + name + ".tflite")
			if err != nil {
				b.Fatal(err)
			}
			g, err := tflite.Read(data)
			if err != nil {
				b.Fatal(err)
			}
			p, err := interp.Compile(g, interp.Options{Batch: 1, Rounding: fixedpoint.RuntimeRounding})
			if err != nil {
				b.Fatal(err)
			}
			e := p.NewExecutor()
			for b.Loop() {
				if err := e.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
