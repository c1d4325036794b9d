package gemm

import (
	"runtime/debug"
	"testing"

	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestSingleThreadCallsDoNotAllocate: the inference entry points run on
// the caller's goroutine without allocating (the interpreter promises no
// allocation per inference), once their pools are warm.
func TestSingleThreadCallsDoNotAllocate(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	a8, b8, c32, o8 := make([]int8, 100*72), make([]int8, 16*72), make([]int32, 100*16), make([]int8, 100*16)
	pq := PackS8(b8, 16, 72, 72)
	rq, err := NewRequant(fixedpoint.SingleRounding, nil, make([]int32, 16), make([]int, 16), 0, -128, 127)
	if err != nil {
		t.Fatal(err)
	}
	pqs := PackS8Segmented(b8, 16, 72, 72, 24)
	af, bf, cf := make([]float32, 100*72), make([]float32, 16*72), make([]float32, 100*16)
	pf := PackF32(bf, 16, 72, 72)
	pfs := PackF32Segmented(bf, 16, 72, 72, 24)
	offs := make([]int, 60)
	for i := range offs {
		offs[i] = i * 16
	}
	offs[7] = -1
	rm := NewRowMap(offs, 16)
	for name, f := range map[string]func(){
		"PackedS8.Mul":                 func() { pq.Mul(100, a8, 72, 3, c32, 16) },
		"PackedS8.MulRequant":          func() { pq.MulRequant(100, a8, 72, 3, rq, o8, 16) },
		"PackedS8.MulRequantSegmented": func() { pqs.MulRequantSegmented(1, 60, a8, 8, 24, 3, rq, o8, 16) },
		"PackedF32.Mul":                func() { pf.Mul(100, af, 72, cf, 16) },
		"PackedF32.MulBiasClamp":       func() { pf.MulBiasClamp(1, 100, af, 72, nil, 0, 6, cf, 16) },
		"PackedF32.MulSegmented":       func() { pfs.MulSegmented(1, 60, af, 8, 24, nil, 0, 6, cf, 16) },
		"PackedF32.MulSegmentedRows":   func() { pfs.MulSegmentedRows(1, 60, af, 8, 24, nil, 0, 6, cf, rm) },
		"Sgemm":                        func() { Sgemm(false, true, 100, 16, 72, 1, af, 72, bf, 72, 0, cf, 16) },
	} {
		f()
		if n := testing.AllocsPerRun(20, f); n > 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}
