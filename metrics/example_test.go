package metrics_test

import (
	"fmt"

	"github.com/qbench/qbench/metrics"
)

// Feed (label, probabilities) per sample, then read every statistic.
func ExampleModel() {
	m, _ := metrics.NewModel(3, []int{1, 2})
	_ = m.Add(0, []float32{0.7, 0.2, 0.1})
	_ = m.Add(1, []float32{0.4, 0.4, 0.2}) // tie: class 0 wins, so wrong
	_ = m.Add(2, []float32{0, 0, 1})
	r := m.Result([]string{"cat", "dog", "eel"})
	fmt.Printf("accuracy %.3f, 95%% CI [%.3f, %.3f], top-2 %.3f\n", r.Accuracy, r.AccuracyCI.Lo, r.AccuracyCI.Hi, r.TopK[1].Accuracy)
	fmt.Println("confusion", r.Confusion)
	fmt.Printf("dog: recall %.1f, precision %.1f\n", r.PerClass[1].Recall, r.PerClass[1].Precision)
	// Output:
	// accuracy 0.667, 95% CI [0.208, 0.939], top-2 1.000
	// confusion [[1 0 0] [1 0 0] [0 0 1]]
	// dog: recall 0.0, precision 0.0
}

// Compare a reference model with a second one on the same samples.
func ExamplePair() {
	p, _ := metrics.NewPair(2)
	_ = p.Add(0, []float32{0.9, 0.1}, []float32{0.4, 0.6}) // correct → wrong
	_ = p.Add(1, []float32{0.2, 0.8}, []float32{0.3, 0.7})
	r := p.Result([]string{"stop", "yield"})
	fmt.Printf("agreement %.2f, flips %d→wrong %d→right, McNemar p %.2f\n", r.Agreement, r.CorrectToWrong, r.WrongToCorrect, r.McNemarP)
	c := r.ConfusionChanges[0]
	fmt.Printf("%s predicted as %s: %d → %d\n", c.TrueClass, c.PredClass, c.CountA, c.CountB)
	// Output:
	// agreement 0.50, flips 1→wrong 0→right, McNemar p 1.00
	// stop predicted as yield: 0 → 1
}
