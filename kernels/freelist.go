package kernels

import (
	"sync"
	"sync/atomic"
)

// freeList hands out a kernel's scratch values (pointers) with
// sync.Pool's Get, Put and New, combining the two things each of the
// obvious designs gets right:
//
//   - A sync.Pool alone gives a Run back the buffer its own P used last,
//     still in that core's cache, but it drops what it holds at garbage
//     collections, and the refills are garbage that grew the heap towards
//     twice its live size between collections (coral_mnv1_025_128_u8 at
//     1 thread, batch 1 allocated 5 MB of scratch in steady state).
//   - A mutex-guarded stack keeps its values and allocates nothing in
//     steady state, but hands the two executors of a 2-thread run each
//     other's buffers: seed-cnn float at batch 1 ran 9–10% slower
//     (`qbench bench float-full.tflite --threads 2 --batch 1`, 7,300
//     against 8,100 images/s with the pool, alternating runs).
//
// So the pool is the fast path and the list keeps every value it made
// (all), each with a busy flag: a Get that finds the pool empty (after a
// collection cleared it) claims an idle value from all before it makes a
// new one, and a value is only ever handed out by winning its flag, so a
// value both in the pool and claimed from all cannot be held twice. The
// list makes at most one value per Run concurrently inside the kernel.
type freeList struct {
	// New makes a value when every value is in use (nil: Get returns nil).
	New   func() any
	pool  sync.Pool // *flEntry
	index sync.Map  // value → *flEntry
	mu    sync.Mutex
	all   []*flEntry
}

// flEntry is one value of a freeList and whether a holder has it.
type flEntry struct {
	v    any
	busy atomic.Bool
}

// Get takes an idle value, or makes one with New.
func (l *freeList) Get() any {
	for {
		e, _ := l.pool.Get().(*flEntry)
		if e == nil {
			break
		}
		if e.busy.CompareAndSwap(false, true) {
			return e.v
		}
		// Claimed from all while it sat in the pool: drop this copy.
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.all {
		if e.busy.CompareAndSwap(false, true) {
			return e.v
		}
	}
	if l.New == nil {
		return nil
	}
	e := &flEntry{v: l.New()}
	e.busy.Store(true)
	l.all = append(l.all, e)
	l.index.Store(e.v, e)
	return e.v
}

// Put gives x back for a later Get (nil is dropped). x must be a value
// from Get or a pointer the list has not seen, which it then keeps.
func (l *freeList) Put(x any) {
	if x == nil {
		return
	}
	ev, ok := l.index.Load(x)
	if !ok {
		e := &flEntry{v: x}
		l.mu.Lock()
		l.all = append(l.all, e)
		l.mu.Unlock()
		l.index.Store(x, e)
		l.pool.Put(e)
		return
	}
	e := ev.(*flEntry)
	e.busy.Store(false)
	l.pool.Put(e)
}
