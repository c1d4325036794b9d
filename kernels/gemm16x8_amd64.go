//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

// hasAVX2Plain gates the AVX2 16x8 tiles (integer AVX2 alone: no FMA).
var hasAVX2Plain = cpu.X86.HasAVX2

// x16Best is the fastest tile level this CPU runs.
func x16Best() x16Level {
	switch {
	case hasVNNI:
		return x16VNNI
	case hasAVX512BW:
		return x16AVX512
	case hasAVX2Plain:
		return x16AVX2
	}
	return x16Go
}

// x16Levels lists the levels this CPU can run (tests force each).
func x16Levels() []x16Level {
	var ls []x16Level
	for lv := x16Go; lv <= x16Best(); lv++ {
		ls = append(ls, lv)
	}
	return ls
}

// x16TileFor picks the tile of level lv for n outputs: the narrowest
// vector width that covers n, with more rows when it is narrow.
func x16TileFor(n int, lv x16Level) x16Tile {
	switch lv {
	case x16VNNI:
		switch {
		case n <= 16:
			return x16Tile{8, 16, x16VNNIx8x16}
		case n <= 32:
			return x16Tile{8, 32, x16VNNIx8x32}
		}
		return x16Tile{4, 64, x16VNNIx4x64}
	case x16AVX512:
		switch {
		case n <= 16:
			return x16Tile{8, 16, x16AVX512x8x16}
		case n <= 32:
			return x16Tile{8, 32, x16AVX512x8x32}
		}
		return x16Tile{4, 64, x16AVX512x4x64}
	case x16AVX2:
		if n <= 8 {
			return x16Tile{8, 8, x16AVX2x8x8}
		}
		return x16Tile{4, 16, x16AVX2x4x16}
	}
	return x16GoTile()
}

// x16Requant64Vec runs the int64 epilogue's vector loop of level lv on
// the longest prefix of acc it handles and returns its length.
func x16Requant64Vec(e *x16Epi, dst []int16, acc []int32, j0 int, lv x16Level) int {
	switch {
	case lv >= x16AVX512:
		n := len(acc) &^ 15
		if n == 0 {
			return 0
		}
		_, _ = dst[n-1], e.itot[j0+n-1]
		x16Requant64AVX512(&acc[0], &e.bias[j0], &e.red[j0], &e.half[j0], &e.tot[j0], &e.itot[j0], &dst[0], n, e.zp, e.lo, e.hi)
		return n
	case lv == x16AVX2:
		n := len(acc) &^ 3
		if n == 0 {
			return 0
		}
		_, _ = dst[n-1], e.itot[j0+n-1]
		x16Requant64AVX2(&acc[0], &e.bias[j0], &e.red[j0], &e.half[j0], &e.tot[j0], &e.itot[j0], &dst[0], n, e.zp, e.lo, e.hi)
		return n
	}
	return 0
}

// dw16Vec runs the 16x8 depthwise sums' vector loop of level lv on the
// largest whole number of channel blocks and returns how many channels
// it did (see dwInt16Fast.sums; xoff is not empty).
func dw16Vec(lv x16Level, acc []int32, src []int16, xoff, woff []int64, w []int32) int {
	lanes := 0
	switch {
	case lv >= x16AVX512:
		lanes = 16
	case lv == x16AVX2:
		lanes = 8
	default:
		return 0
	}
	c := len(acc) / lanes * lanes
	if c == 0 {
		return 0
	}
	// Every tap's c values lie inside src and w (offsets are in-image
	// pixels and in-window taps).
	for t, xo := range xoff {
		_, _ = src[int(xo)+c-1], w[int(woff[t])+c-1]
	}
	if lanes == 16 {
		x16DwAVX512(&src[0], &xoff[0], &woff[0], len(xoff), &w[0], c, &acc[0])
	} else {
		x16DwAVX2(&src[0], &xoff[0], &woff[0], len(xoff), &w[0], c, &acc[0])
	}
	return c
}
