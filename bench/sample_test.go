package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLatencySampleBounded checks the latency sample: every latency while
// an executor has run at most sampleCap times, at most sampleCap each
// after that, with executors weighted by their runs and percentiles close
// to those of all the runs.
func TestLatencySampleBounded(t *testing.T) {
	small := []latencySample{{rng: rand.New(rand.NewPCG(1, 0))}, {rng: rand.New(rand.NewPCG(1, 1))}}
	for i := range 1000 {
		small[i%2].add(float64(i))
	}
	lat, runs := mergeSamples(small)
	slices.Sort(lat)
	if runs != 1000 || len(lat) != 1000 || lat[0] != 0 || lat[999] != 999 {
		t.Fatalf("unsampled: %d runs, %d latencies from %v to %v", runs, len(lat), lat[0], lat[len(lat)-1])
	}
	// Executor 0 runs three times as often as executor 1, and its runs
	// are the fast ones: 0.. for executor 0, 10⁶.. for executor 1.
	big := []latencySample{{rng: rand.New(rand.NewPCG(2, 0))}, {rng: rand.New(rand.NewPCG(2, 1))}}
	const n0, n1 = 6 * sampleCap, 2 * sampleCap
	for i := range n0 {
		big[0].add(float64(i))
	}
	for i := range n1 {
		big[1].add(1e6 + float64(i))
	}
	if len(big[0].lat) != sampleCap || len(big[1].lat) != sampleCap {
		t.Fatalf("kept %d and %d latencies, want at most %d", len(big[0].lat), len(big[1].lat), sampleCap)
	}
	lat, runs = mergeSamples(big)
	if runs != n0+n1 {
		t.Fatalf("%d runs, want %d", runs, n0+n1)
	}
	slices.Sort(lat)
	// Exact: p50 of all runs is executor 0's run 4·cap, p90 executor 1's
	// run 0.6·n1 (both in units of runs of that executor).
	if got, want := Percentile(lat, 50), float64(n0+n1)/2; math.Abs(got-want) > 0.02*n0 {
		t.Errorf("p50 %v, want about %v", got, want)
	}
	if got, want := Percentile(lat, 90), 1e6+0.6*n1; math.Abs(got-want) > 0.02*n1 {
		t.Errorf("p90 %v, want about %v", got, want)
	}
	fast := 0
	for _, v := range lat {
		if v < 1e6 {
			fast++
		}
	}
	if share := float64(fast) / float64(len(lat)); math.Abs(share-0.75) > 0.01 {
		t.Errorf("executor 0 has %.3f of the sample, want 0.75 (its share of the runs)", share)
	}
}
