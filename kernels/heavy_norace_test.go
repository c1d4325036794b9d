//go:build !race

package kernels

// raceEnabled reports whether the race detector is on (see heavy_race_test.go).
const raceEnabled = false
