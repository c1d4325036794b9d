//go:build noasm || !amd64

package gemm

// s8RowsFor returns the few-row kernels of an int8 family: without
// assembly only the portable family has them.
func s8RowsFor(set *s8Set) *s8RowKernels {
	if set == goS8Set {
		return goS8Rows
	}
	return nil
}
