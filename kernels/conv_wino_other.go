//go:build !amd64 || noasm

package kernels

// winoVecWidth is 0: no vector transforms, so pathAuto keeps the direct
// convolution (the Go transforms serve pathWinograd and tests).
func winoVecWidth() int { return 0 }

// winoInVec does nothing here: the Go loop transforms every channel.
func winoInVec(dst []float32, plane int, src []float32, tiles, C int) int { return 0 }

// winoOutVec does nothing here: the Go loop transforms every channel.
func winoOutVec(dst, src []float32, plane, tiles, N int, bias []float32, lo, hi float32) (int, bool) {
	return 0, false
}

// winoAVX512 is false: there are no vector transforms.
var winoAVX512 = false
