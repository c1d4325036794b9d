//go:build !amd64 || noasm

package kernels

// subRowSumsVec does nothing here and reports so: subRowSums runs.
func subRowSumsVec(acc []int32, a []int8, n, k int, aOff, wz int32) bool { return false }

// xor80Vec does nothing here and reports so: the word loop runs.
func xor80Vec(dst, src []byte) bool { return false }
