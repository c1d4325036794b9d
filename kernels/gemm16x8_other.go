//go:build !amd64 || noasm

package kernels

// x16Best is the fastest tile level this build runs: the Go loop.
func x16Best() x16Level { return x16Go }

// x16Levels lists the levels this build can run (tests force each).
func x16Levels() []x16Level { return []x16Level{x16Go} }

// x16TileFor picks the tile for n outputs; only the Go loop here.
func x16TileFor(n int, lv x16Level) x16Tile { return x16GoTile() }

// x16Requant64Vec does nothing here: the Go loop takes every value.
func x16Requant64Vec(e *x16Epi, dst []int16, acc []int32, j0 int, lv x16Level) int { return 0 }

// dw16Vec does nothing here: the Go loop takes every channel.
func dw16Vec(lv x16Level, acc []int32, src []int16, xoff, woff []int64, w []int32) int { return 0 }
