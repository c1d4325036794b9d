package train

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSeedCNNGradientThreadInvariant: one batch of the real network at
// 80x80 (groups of one image in the first layers, AVX-512 pool and col2im
// rows, strided weight gradients) gives bit-identical loss and gradient
// with 1, 2 and 3 threads.
func TestSeedCNNGradientThreadInvariant(t *testing.T) {
	m, err := New(SeedCNN(10), 5)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 40 // 3 chunks, the last one partial
	rng := rand.New(rand.NewPCG(24, 25))
	sz := m.InputSize()
	imgs := randSlice(rng, batch*sz, 1)
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	fill := func(x, _ []float32, lab []int, lo, hi int) {
		copy(x, imgs[lo*sz:hi*sz])
		copy(lab, labels[lo:hi])
	}
	var grad0 []float32
	var loss0 float64
	for _, threads := range []int{1, 2, 3} {
		eng := newEngine(m, threads, batch)
		loss, _ := eng.pass(batch, fill, true)
		if grad0 == nil {
			grad0, loss0 = append([]float32(nil), eng.grads[0]...), loss
			continue
		}
		if loss != loss0 || !slices.Equal(eng.grads[0], grad0) {
			t.Fatalf("%d threads: loss %v vs %v, gradients equal: %v", threads, loss, loss0, slices.Equal(eng.grads[0], grad0))
		}
	}
}
