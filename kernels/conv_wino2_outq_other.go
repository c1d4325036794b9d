//go:build !amd64 || noasm

package kernels

// wino2OutQFused is false: without the vector kernels the 2-D plan keeps
// its split output side.
func wino2OutQFused() bool { return false }

// wino2OutQVec is the Go loop here (tileRow2D only runs in tests: there
// is no winoOutQ without the kernels).
func wino2OutQVec(q *winoOutQ, dst []int8, rowStride, rows, w int, src []int32, plane, tiles, N, cv int) {
	wino2OutQGo(q, dst, rowStride, rows, src, plane, 0, tiles, 4*(tiles-1)+w, N, 0)
}

// wino2OutQPoolVec is the Go loop here (tileRow2DPool only runs in
// tests: there is no winoOutQ without the kernels).
func wino2OutQPoolVec(q *winoOutQ, dst []int8, rowStride, prows, pw int, src []int32, plane, tiles, N, cv int) {
	wino2OutQPoolGo(q, dst, rowStride, prows, src, plane, 0, tiles, 2*(tiles-1)+pw, N, 0)
}
