//go:build !amd64 || noasm

package kernels

// firstS8Available: the direct first-layer kernel is amd64 assembly.
func firstS8Available() bool { return false }

// firstS8Z16: no kernel reads wZ16 here.
func firstS8Z16() bool { return false }

// convFirstS8Tile is the Go tile where there is no kernel (never chosen:
// newFirstS8 returns nil there).
func convFirstS8Tile(f *firstS8, g *convGeom, a []int8, gr int, out []int8) {
	convFirstS8Ref(f, g, a, gr, out)
}

// firstS8Tiles: no kernels here.
func firstS8Tiles() map[string]firstTileFn { return nil }
