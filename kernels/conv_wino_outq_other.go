//go:build !amd64 || noasm

package kernels

// winoOutQVecOK is false: without the vector kernels the plans keep the
// unfused epilogue (newWinoOutQ returns nil).
func winoOutQVecOK() bool { return false }

// winoOutQVec is never called here (there is no winoOutQ).
func winoOutQVec(q *winoOutQ, dst []int8, src []int32, plane, tiles, N, cv int) {
	winoOutQGo(q, dst, src, plane, 0, tiles, 4, N, 0)
}

// winoOutQTailVec is never called here (there is no winoOutQ).
func winoOutQTailVec(q *winoOutQ, dst []int8, src []int32, plane, w, N, cv int) {
	winoOutQGo(q, dst, src, plane, 0, 1, w, N, 0)
}
