package kernels

import (
	"unsafe"
)

// Scratch is working memory the convolutions of one compiled program
// share. An executor runs its ops one at a time, so the im2col block and
// accumulators one convolution needs during its Run can be the next one's:
// shared, a program holds as many blocks as Runs were at once inside its
// convolutions (one per executor), each grown to the largest layer's,
// where kernels of their own hold one per layer and executor. Blocks come
// from a freeList, whose per-P fast path gives an executor back the block
// its own core used last: a plain shared stack handed the two executors
// of a 2-thread run each other's blocks, and mlt_kws_dscnn_f32 at 2
// threads, batch 1 ran 47,000–50,000 images/s instead of 56,000–57,500
// without sharing. Give each program one in Options.Scratch; it is safe
// for concurrent use.
type Scratch struct {
	blocks freeList // *[]byte
}

// NewScratch returns an empty Scratch.
func NewScratch() *Scratch {
	s := &Scratch{}
	s.blocks.New = func() any { return new([]byte) }
	return s
}

// get returns a block of n bytes, growing the block it takes when it is
// shorter (so the blocks reach the largest layer's size within the first
// Run and the program allocates nothing after).
func (s *Scratch) get(n int) *[]byte {
	b := s.blocks.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, n)
	}
	*b = (*b)[:n]
	return b
}

// put gives back a block from get.
func (s *Scratch) put(b *[]byte) { s.blocks.Put(b) }

// scratchAlign starts each slice carved from a block on a cache line.
const scratchAlign = 64

// carveBytes is the block size carve needs, with room to align its start.
func carveBytes(fLen, i8Len, accLen int) int {
	return roundUp(4*fLen, scratchAlign) + roundUp(4*accLen, scratchAlign) + roundUp(i8Len, scratchAlign) + scratchAlign
}

// carve sets cs's slices to fLen float32, accLen int32 and i8Len int8
// views of block b (carveBytes long), each 64-byte aligned.
func carve(cs *convScratch, b []byte, fLen, i8Len, accLen int) {
	o := int(-uintptr(unsafe.Pointer(&b[0])) & (scratchAlign - 1))
	if fLen > 0 {
		cs.f = unsafe.Slice((*float32)(unsafe.Pointer(&b[o])), fLen)
		o += roundUp(4*fLen, scratchAlign)
	}
	if accLen > 0 {
		cs.acc = unsafe.Slice((*int32)(unsafe.Pointer(&b[o])), accLen)
		o += roundUp(4*accLen, scratchAlign)
	}
	if i8Len > 0 {
		cs.i8 = unsafe.Slice((*int8)(unsafe.Pointer(&b[o])), i8Len)
	}
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// shareScratch points k's convolution scratch at s (nil: no-op). It runs
// when the kernel is prepared, before its first Run; kernels it does not
// know keep their own.
func shareScratch(k Kernel, s *Scratch) {
	if s == nil {
		return
	}
	switch c := k.(type) {
	case *convFloat:
		c.shared = s
		c.scratch.share(s)
		if c.wino != nil {
			c.wino.shared = s
		}
	case *convInt8:
		c.scratch.share(s)
	case *convU8:
		c.pool.share(s)
		c.x.shared = s
	case *convHybrid:
		c.pool.share(s)
		c.x.shared = s
	}
}

// convScratch is one worker's im2col and accumulator memory.
type convScratch struct {
	f   []float32
	i8  []int8
	acc []int32
	blk *[]byte // the program's Scratch block they are views of, if shared
}

// scratchPool hands out convScratch values sized for one kernel, so Run
// allocates nothing in steady state and concurrent Runs never share. Once
// shared (share), their memory is a block of the program's Scratch, held
// for one Run only.
type scratchPool struct {
	p                   freeList
	fLen, i8Len, accLen int
	shared              *Scratch
}

func newScratchPool(fLen, i8Len, accLen int) *scratchPool {
	sp := &scratchPool{fLen: fLen, i8Len: i8Len, accLen: accLen}
	sp.p.New = func() any {
		return &convScratch{f: make([]float32, fLen), i8: make([]int8, i8Len), acc: make([]int32, accLen)}
	}
	return sp
}

// share makes sp take its memory from s (nil sp or s: no-op); it must
// come before sp's first get.
func (sp *scratchPool) share(s *Scratch) {
	if sp == nil || s == nil {
		return
	}
	sp.shared = s
	sp.p.New = func() any { return new(convScratch) }
}

func (sp *scratchPool) get() *convScratch {
	cs := sp.p.Get().(*convScratch)
	if sp.shared != nil {
		cs.blk = sp.shared.get(carveBytes(sp.fLen, sp.i8Len, sp.accLen))
		carve(cs, *cs.blk, sp.fLen, sp.i8Len, sp.accLen)
	}
	return cs
}

func (sp *scratchPool) put(cs *convScratch) {
	if cs.blk != nil {
		sp.shared.put(cs.blk)
		*cs = convScratch{}
	}
	sp.p.Put(cs)
}
