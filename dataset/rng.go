package dataset

import (
	"hash/fnv"
	"math/rand/v2"
)

// rng is a small deterministic generator; every random choice in this
// package derives its own from (seed, purpose, index), so results do not
// depend on call order or concurrency.
type rng struct{ r *rand.Rand }

func newRNG(seed int64, purpose string, index int64) rng {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rng{rand.New(rand.NewPCG(uint64(seed), h.Sum64()^uint64(index)*0x9e3779b97f4a7c15))}
}

func (r rng) shuffle(n int, swap func(i, j int)) { r.r.Shuffle(n, swap) }
