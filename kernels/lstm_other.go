//go:build !amd64 || noasm

package kernels

// sigmoidVec does nothing here: sigmoidFastF32's Go loop runs.
func sigmoidVec(v []float32) bool { return false }

// tanhVec does nothing here: tanhFastF32's Go loop runs.
func tanhVec(v []float32) bool { return false }
