package train

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// chunkSize is how many images one unit of parallel work holds. Batches
// are cut into chunks of this fixed size (not into one piece per thread),
// each chunk's gradient is computed on its own and the chunk gradients are
// summed in chunk order — so the arithmetic, and the trained weights, are
// identical whatever --threads is. Within a chunk the convolutions run a
// few images at a time (convGroup), so 16 keeps a worker's buffers small
// (about 12 MB for seed-cnn at 80x80, mostly pooled activations) while
// the dense layers still see 16-row products.
const chunkSize = 16

// engine runs forward/backward passes of one model over batches, in parallel.
type engine struct {
	m       *Model
	threads int
	ws      []*workspace // one per worker
	grads   [][]float32  // one per chunk of the largest batch
	loss    []float64    // per chunk
	correct []int        // per chunk
}

func newEngine(m *Model, threads, maxBatch int) *engine {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	chunks := (maxBatch + chunkSize - 1) / chunkSize
	threads = max(1, min(threads, chunks))
	e := &engine{m: m, threads: threads, loss: make([]float64, chunks), correct: make([]int, chunks)}
	for range threads {
		e.ws = append(e.ws, m.newWorkspace(chunkSize))
	}
	return e
}

// fillFunc writes images lo..hi-1 of the current batch into x (HWC, back to
// back) and their labels into labels[0:hi-lo]; tmp is one image of scratch.
type fillFunc func(x, tmp []float32, labels []int, lo, hi int)

// pass runs n images through the model. With grad true it also
// back-propagates the batch-mean cross-entropy and leaves the batch
// gradient in e.grads[0]. It returns the summed loss and the number of
// correct argmax predictions.
func (e *engine) pass(n int, fill fillFunc, grad bool) (loss float64, correct int) {
	chunks := (n + chunkSize - 1) / chunkSize
	if grad {
		for len(e.grads) < chunks {
			e.grads = append(e.grads, make([]float32, len(e.m.Params)))
		}
	}
	for len(e.loss) < chunks {
		e.loss = append(e.loss, 0)
		e.correct = append(e.correct, 0)
	}
	scale := 1 / float32(n)
	k := e.m.Arch.Classes
	var next atomic.Int64
	var wg sync.WaitGroup
	labels := make([][]int, len(e.ws))
	for w := range min(e.threads, chunks) {
		labels[w] = make([]int, chunkSize)
		wg.Add(1)
		go func(ws *workspace, lab []int) {
			defer wg.Done()
			for {
				c := int(next.Add(1)) - 1
				if c >= chunks {
					return
				}
				lo := c * chunkSize
				hi := min(lo+chunkSize, n)
				cn := hi - lo
				fill(ws.x, ws.tmp, lab, lo, hi)
				logits := e.m.forward(ws, cn)
				var d []float32
				if grad {
					d = ws.dz[len(ws.dz)-1]
				}
				e.loss[c], e.correct[c] = softmaxCrossEntropy(logits, lab, cn, k, scale, d)
				if grad {
					e.m.backward(ws, cn, e.grads[c])
				}
			}
		}(e.ws[w], labels[w])
	}
	wg.Wait()
	for c := range chunks {
		loss += e.loss[c]
		correct += e.correct[c]
	}
	if grad && chunks > 1 {
		e.reduce(chunks)
	}
	return loss, correct
}

// reduce sums e.grads[1:chunks] into e.grads[0], each element in chunk
// order (so the result is deterministic), splitting the parameter range
// across workers.
func (e *engine) reduce(chunks int) {
	p := len(e.m.Params)
	parts := e.threads
	var wg sync.WaitGroup
	for t := range parts {
		lo, hi := p*t/parts, p*(t+1)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := e.grads[0][lo:hi]
			for c := 1; c < chunks; c++ {
				src := e.grads[c][lo:hi]
				for i, v := range src {
					dst[i] += v
				}
			}
		}()
	}
	wg.Wait()
}
