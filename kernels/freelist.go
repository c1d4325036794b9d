package kernels

import "sync"

// freeList hands out a kernel's scratch values (pointers) like sync.Pool,
// with the same Get, Put and New, but keeps what it is given until the
// kernel itself is dropped. sync.Pool's per-P caches and its clearing at
// every garbage collection made each layer hold up to one buffer per P
// and, worse, allocate them again after each GC: the refills were garbage
// that grew the heap towards twice its live size between collections
// (coral_mnv1_025_128_u8 at 1 thread, batch 1 allocated 5 MB of scratch
// in steady state on top of 2.4 MB at its first run). A free list holds
// at most as many values as Runs that were concurrently inside the
// kernel, and allocates nothing in steady state.
type freeList struct {
	// New makes a value when the list is empty (nil: Get returns nil).
	New  func() any
	mu   sync.Mutex
	free []any
}

// Get takes a value from the list, or makes one with New.
func (l *freeList) Get() any {
	l.mu.Lock()
	if n := len(l.free); n > 0 {
		x := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		l.mu.Unlock()
		return x
	}
	l.mu.Unlock()
	if l.New == nil {
		return nil
	}
	return l.New()
}

// Put gives x back for a later Get (nil is dropped).
func (l *freeList) Put(x any) {
	if x == nil {
		return
	}
	l.mu.Lock()
	l.free = append(l.free, x)
	l.mu.Unlock()
}
