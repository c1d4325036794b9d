//go:build !amd64 || noasm

package kernels

// lstmRowsVec does nothing here: lstmRows.runGo runs.
func lstmRowsVec(a *lstmRows) bool { return false }

// lstmRowsVecWith does nothing here either.
func lstmRowsVecWith(a *lstmRows, wide bool) bool { return false }
