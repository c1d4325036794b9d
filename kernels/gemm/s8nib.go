package gemm

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// The one-row int8 product of the int16-pair families by nibbles: a
// dense layer at batch 1 (PackS8Rows(1, …)) streams its weights once, and
// the few-row kernels (s8row.go) spend six vector operations per 32
// multiply-adds, two of them sign-extending weight bytes; the 6×16 tile
// spends four but computes padding rows up to a multiple of 6. These
// kernels take one row per pass (dense layers at any batch, nibRows) and
// keep the weights in the u8-quad layout (k4 steps of nr columns × 4
// bytes, as the VNNI families do) and multiply them as bytes with
// VPMADDUBSW (unsigned × signed, pairs summed into int16 with
// saturation). The unsigned operand is the input row, x+128 (0..255),
// split into nibbles lo and hi (x+128 = 16·hi + lo): a pair of nibble ×
// weight products is at most 3840 in magnitude, so eight k-quad steps
// add up in int16 exactly before VPMADDWD by 1 and 16 widens them to
// int32 (internal/asmgen/gemv8). The sums are exact integers (int32
// wraps), so the results are bit-identical to the tile path's and
// GemmS8Ref's; init carries (aOffset−128)·Σw, as on the VNNI families.

// s8NibFn stores init[j] plus Σ_q Σ_t (16·hi[q][t] + lo[q][t])·b[q][j][t]
// for k4 quads into the nr int32s at c.
type s8NibFn func(k4 int, lo, hi *uint8, b *int8, c *int32, init *int32)

// s8NibKernel is a family's one-row nibble kernel over nr columns.
type s8NibKernel struct {
	name string
	nr   int
	fn   s8NibFn
}

// nibMinK is the depth from which the nibble kernel, one row per pass,
// also takes products of more than 4 rows whose 6-row tiles would be at
// least a fifth padding (nibRows): per row it runs as fast as the 6×16
// tile (AVX2-only GODEBUG, BenchmarkS8Nib: 3200→256 at 64 rows 755
// against 768 µs, 100→128 11.3 against 11.8; a tie, so full tiles keep
// the tiles), and faster than the few-row kernels at 2–4 rows (3200→256:
// 21.8 against 28.5 µs at 2, 43.7 against 51.4 at 4) or a tile with
// padding (8 rows: 91 against 141 µs). Below it the per-row set-up shows
// (64→16 at 64 rows: 1.52 against 1.00 µs), so only products of at most
// 4 rows take it.
const nibMinK = 128

// nibRows reports whether PackS8Rows(m, …) of depth k packs for the
// nibble kernel on a family that has one: up to 4 rows, or a depth of
// at least nibMinK and m rows that 6-row tiles would pad by a fifth or
// more (5, 7–10, 13–15, 19–20, …; not 64). PackS8 (convolutions, m =
// 1<<20) never does.
func nibRows(m, k int) bool {
	return m <= 4 || (k >= nibMinK && m < 1<<20 && 5*((m+5)/6*6) >= 6*m)
}

// nibBlock is the number of k quads whose nibble products the kernels
// sum in int16 before widening: 8·2·15·128 = 30720 ≤ 32767.
const nibBlock = 8

// goS8Nib returns the plain-Go form of the nibble kernels (the
// reference of the assembly ones): the same int16 block sums, widened
// every nibBlock quads.
func goS8Nib(nr int) s8NibFn {
	return func(k4 int, lo, hi *uint8, b *int8, c *int32, init *int32) {
		ls, hs := unsafe.Slice(lo, 4*k4), unsafe.Slice(hi, 4*k4)
		bs := unsafe.Slice(b, 4*nr*k4)
		cs, in := unsafe.Slice(c, nr), unsafe.Slice(init, nr)
		for j := 0; j < nr; j++ {
			acc := in[j]
			for q0 := 0; q0 < k4; q0 += nibBlock {
				var sl, sh [2]int16
				for q := q0; q < min(q0+nibBlock, k4); q++ {
					w := bs[(q*nr+j)*4 : (q*nr+j)*4+4]
					for h := 0; h < 2; h++ {
						t := 4*q + 2*h
						sl[h] += int16(ls[t])*int16(w[2*h]) + int16(ls[t+1])*int16(w[2*h+1])
						sh[h] += int16(hs[t])*int16(w[2*h]) + int16(hs[t+1])*int16(w[2*h+1])
					}
				}
				acc += int32(sl[0]) + int32(sl[1]) + 16*(int32(sh[0])+int32(sh[1]))
			}
			cs[j] = acc
		}
	}
}

// packS8NibWith packs b for the one-row nibble kernel nk of set: u8-quad
// slivers of nk.nr columns, zero padded past k and n.
func packS8NibWith(set *s8Set, nk *s8NibKernel, b []int8, n, k, ldb int) *PackedS8 {
	p := &PackedS8{set: set, kern: set.pick(1, n), n: n, k: k, kq: (k + 3) / 4, nib: nk}
	nr := nk.nr
	p.np = (n + nr - 1) / nr * nr
	p.rowSum = make([]int32, p.np)
	p.u8 = make([]int8, p.np*p.kq*4)
	slv := p.kq * 4 * nr
	for j := 0; j < n; j++ {
		row := b[j*ldb : j*ldb+k]
		d := p.u8[j/nr*slv+j%nr*4:]
		var sum int32
		for t, v := range row {
			sum += int32(v)
			d[t/4*4*nr+t%4] = v
		}
		p.rowSum[j] = sum
	}
	return p
}

// splitNibbles stores the nibbles of x+128 for each x of src into lo
// and hi (16·hi + lo = x+128), zero past len(src) up to len(lo).
func splitNibbles(lo, hi []uint8, src []int8) {
	n := len(src)
	// The assembly loop writes n bytes of each: check the lengths here.
	if len(lo) < n || len(hi) < len(lo) {
		panic(fmt.Sprintf("gemm: splitNibbles: %d values into %d and %d bytes", n, len(lo), len(hi)))
	}
	s := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src))), n)
	v0 := 0
	if nibSplitAsm != nil && n >= 32 {
		v0 = n &^ 31
		nibSplitAsm(v0, &src[0], &lo[0], &hi[0])
	}
	full := v0 + (n-v0)&^7
	for i := v0; i < full; i += 8 {
		v := binary.LittleEndian.Uint64(s[i:i+8:i+8]) ^ 0x8080808080808080
		binary.LittleEndian.PutUint64(lo[i:i+8:i+8], v&0x0f0f0f0f0f0f0f0f)
		binary.LittleEndian.PutUint64(hi[i:i+8:i+8], v>>4&0x0f0f0f0f0f0f0f0f)
	}
	for i := full; i < n; i++ {
		u := s[i] ^ 0x80
		lo[i], hi[i] = u&15, u>>4
	}
	clear(lo[n:])
	clear(hi[n:len(lo)])
}

// runNib computes rows r0..r1 of C with the one-row nibble kernel, row
// by row (init holds (aOffset−128)·Σw); a partial last sliver goes
// through a tile.
func (p *PackedS8) runNib(r0, r1 int, a []int8, lda int, init []int32, c []int32, ldc int) {
	nk, k4 := p.nib, p.kq
	nr := nk.nr
	// int16 units: the two nibble panels (4·k4 bytes each), then an nr
	// int32 tile.
	need := 4*k4 + 2*nr
	bufp := s8Pool.Get().(*[]int16)
	if cap(*bufp) < need {
		*bufp = make([]int16, need)
	}
	defer s8Pool.Put(bufp)
	buf := (*bufp)[:need]
	pan := unsafe.Slice((*uint8)(unsafe.Pointer(&buf[0])), 8*k4)
	lo, hi := pan[:4*k4], pan[4*k4:]
	tile := unsafe.Slice((*int32)(unsafe.Pointer(&buf[4*k4])), nr)
	slv := k4 * 4 * nr
	for i := r0; i < r1; i++ {
		splitNibbles(lo, hi, a[i*lda:i*lda+p.k])
		for js := 0; js*nr < p.n; js++ {
			j0 := js * nr
			w := min(nr, p.n-j0)
			if w == nr {
				nk.fn(k4, &lo[0], &hi[0], &p.u8[js*slv], &c[i*ldc+j0], &init[j0])
				continue
			}
			nk.fn(k4, &lo[0], &hi[0], &p.u8[js*slv], &tile[0], &init[j0])
			copy(c[i*ldc+j0:i*ldc+j0+w], tile[:w])
		}
	}
}
