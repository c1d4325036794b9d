package kernels

import (
	"runtime"
	"sync"
	"testing"
)

// TestFreeListKeepsValues checks that a freeList hands back what it was
// given, across garbage collections, and makes values only when every one
// is in use.
func TestFreeListKeepsValues(t *testing.T) {
	made := 0
	l := &freeList{New: func() any { made++; b := make([]byte, 16); return &b }}
	a := l.Get().(*[]byte)
	b := l.Get().(*[]byte)
	if made != 2 || a == b {
		t.Fatalf("two Gets made %d values (same: %v)", made, a == b)
	}
	l.Put(a)
	l.Put(b)
	l.Put(nil)
	runtime.GC()
	runtime.GC()
	for range 10 {
		x := l.Get().(*[]byte)
		if x != a && x != b {
			t.Fatal("Get after Put made a new value")
		}
		l.Put(x)
	}
	if made != 2 {
		t.Fatalf("made %d values, want 2", made)
	}
	var empty freeList
	if empty.Get() != nil {
		t.Error("Get without New on an empty list is not nil")
	}
}

// TestFreeListConcurrent runs Gets and Puts from several goroutines: no
// value is handed to two holders at once, and the list makes at most one
// per concurrent holder.
func TestFreeListConcurrent(t *testing.T) {
	const workers = 8
	var mu sync.Mutex
	made := 0
	l := &freeList{New: func() any { mu.Lock(); made++; mu.Unlock(); return new(int) }}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				p := l.Get().(*int)
				*p++
				if *p != 1 {
					t.Error("a value was held twice")
					return
				}
				*p--
				l.Put(p)
			}
		}()
	}
	wg.Wait()
	if made > workers {
		t.Errorf("made %d values for %d workers", made, workers)
	}
}

// BenchmarkFreeList times a Get and Put pair (what each layer's Run pays
// per scratch buffer) against sync.Pool's.
func BenchmarkFreeList(b *testing.B) {
	b.Run("freeList", func(b *testing.B) {
		l := &freeList{New: func() any { return new([]byte) }}
		for b.Loop() {
			l.Put(l.Get())
		}
	})
	b.Run("sync.Pool", func(b *testing.B) {
		p := &sync.Pool{New: func() any { return new([]byte) }}
		for b.Loop() {
			p.Put(p.Get())
		}
	})
}
