//go:build amd64 && !noasm

package kernels

import (
	"testing"
	"unsafe"
)

// TestLSTMRowsArgsLayout pins the field offsets lstm_amd64.s reads.
func TestLSTMRowsArgsLayout(t *testing.T) {
	var a lstmRowsArgs
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"xp", unsafe.Offsetof(a.xp), 0}, {"pre", unsafe.Offsetof(a.pre), 8}, {"bias", unsafe.Offsetof(a.bias), 16},
		{"c", unsafe.Offsetof(a.c), 24}, {"out", unsafe.Offsetof(a.out), 32},
		{"peepI", unsafe.Offsetof(a.peepI), 40}, {"peepF", unsafe.Offsetof(a.peepF), 48}, {"peepO", unsafe.Offsetof(a.peepO), 56},
		{"xstride", unsafe.Offsetof(a.xstride), 64}, {"w", unsafe.Offsetof(a.w), 72},
		{"cstride", unsafe.Offsetof(a.cstride), 80}, {"ostr", unsafe.Offsetof(a.ostr), 88},
		{"n", unsafe.Offsetof(a.n), 96}, {"nc", unsafe.Offsetof(a.nc), 104},
		{"offI", unsafe.Offsetof(a.offI), 112}, {"offF", unsafe.Offsetof(a.offF), 120},
		{"offG", unsafe.Offsetof(a.offG), 128}, {"offO", unsafe.Offsetof(a.offO), 136},
		{"cifg", unsafe.Offsetof(a.cifg), 144}, {"clip", unsafe.Offsetof(a.clip), 152},
		{"act", unsafe.Offsetof(a.act), 160}, {"actStride", unsafe.Offsetof(a.actStride), 168},
		{"cols", unsafe.Offsetof(a.cols), 176}, {"colStride", unsafe.Offsetof(a.colStride), 184},
	} {
		if f.got != f.want {
			t.Errorf("lstmRowsArgs.%s at %d, lstm_amd64.s reads %d", f.name, f.got, f.want)
		}
	}
}
