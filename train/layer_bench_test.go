package train

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the calling OS thread's CPU time, so a stage's cost can be
// measured on a loaded machine without counting the neighbours or other
// goroutines.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// BenchmarkTrainLayers splits one chunk's forward and backward pass of
// seed-cnn (80x80, 16 images, one thread) into per-layer stages and
// reports each stage's thread CPU time in ms per chunk (convN-fwd and
// convN-bwd include the fused bias, max-pool and ReLU; dense = all dense
// layers and the loss).
func BenchmarkTrainLayers(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m, err := New(SeedCNN(30), 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := chunkSize
	ws := m.newWorkspace(n)
	copy(ws.x, randSlice(rng, len(ws.x), 1))
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(30)
	}
	grad := make([]float32, len(m.Params))
	var names []string
	spent := map[string]time.Duration{}
	var t0 time.Duration
	mark := func(name string) {
		t1 := threadCPU()
		if _, ok := spent[name]; !ok {
			names = append(names, name)
		}
		spent[name] += t1 - t0
		t0 = t1
	}
	step := func() {
		t0 = threadCPU()
		x := ws.x
		for i, c := range m.convs {
			p, arg, bias := ws.p[i], ws.arg[i], m.convB(c)
			pImg := c.p.OH * c.p.OW * c.p.C
			convForward(c.g, ws.pk[i], x, n, m.convW(c), nil, ws.col, ws.y, func(b0, nb int, yb []float32, yh, yw int) {
				q := c.p
				q.H, q.W = yh, yw
				poolReluForward(q, yb, bias, nb, p[b0*pImg:], arg[b0*pImg:])
			})
			mark(fmt.Sprintf("conv%d-fwd", i+1))
			x = ws.p[i]
		}
		in := m.flat(ws, n)
		for j, d := range m.dense {
			denseForward(in, n, d.in, d.out, m.denseW(d), m.denseB(d), ws.z[j], ws.dt)
			if d.relu {
				reluForward(ws.z[j][:n*d.out])
			}
			in = ws.z[j]
		}
		softmaxCrossEntropy(ws.z[len(m.dense)-1], labels, n, 30, 1/float32(n), ws.dz[len(m.dense)-1])
		for j := len(m.dense) - 1; j >= 0; j-- {
			d := m.dense[j]
			x, dx := m.flat(ws, n), ws.dp[len(m.convs)-1]
			if j > 0 {
				x, dx = ws.z[j-1], ws.dz[j-1]
			}
			denseBackward(x, ws.dz[j], n, d.in, d.out, m.denseW(d), grad[d.wOff:d.bOff], grad[d.bOff:d.bOff+d.out], dx, ws.dt)
			if j > 0 && m.dense[j-1].relu {
				reluBackward(ws.z[j-1][:n*d.in], dx[:n*d.in])
			}
		}
		mark("dense")
		for i := len(m.convs) - 1; i >= 0; i-- {
			c := m.convs[i]
			x, dx := ws.x, []float32(nil)
			if i > 0 {
				x, dx = ws.p[i-1], ws.dp[i-1]
			}
			p, dp, arg := ws.p[i], ws.dp[i], ws.arg[i]
			db := grad[c.bOff : c.bOff+c.g.Cout]
			clear(db)
			pImg := c.p.OH * c.p.OW * c.p.C
			convBackward(c.g, ws.pk[i], x, ws.dy, n, m.convW(c), grad[c.wOff:c.bOff], nil, ws.col, ws.dcol, dx, func(b0, nb int, dyb []float32) {
				poolReluBackward(c.p, arg[b0*pImg:], p[b0*pImg:], dp[b0*pImg:], nb, dyb, db)
			})
			mark(fmt.Sprintf("conv%d-bwd", i+1))
		}
	}
	step() // warm the GEMM buffer pools
	clear(spent)
	names = names[:0]
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	var total time.Duration
	for _, name := range names {
		total += spent[name]
		b.ReportMetric(spent[name].Seconds()*1e3/float64(b.N), name+"-ms")
	}
	b.ReportMetric(total.Seconds()*1e3/float64(b.N), "total-ms")
}
