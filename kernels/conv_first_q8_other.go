//go:build !amd64 || noasm

package kernels

// firstQ8Pooled is false: the kernels are amd64 assembly.
func firstQ8Pooled() (ok, wide bool) { return false, false }

// convFirstQ8Tile is the Go form here (newFirstQ8 returns nil, so only
// tests reach it).
func convFirstQ8Tile(f *firstQ8, a []int8, gr int, out []int8, n, ldo int, half bool) {
	if f.pooled {
		convFirstQ8PoolRef(f, a, gr, out, n, ldo, half)
		return
	}
	convFirstQ8RowRef(f, a, gr, out, n, ldo, half)
}

// firstQ8Tiles lists no kernels here.
func firstQ8Tiles(wide bool) map[string]q8RowFn { return nil }
