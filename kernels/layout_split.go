package kernels

import "github.com/qbench/qbench/graph"

// splitKernel is SPLIT and SPLIT_V with constant parameters: for each
// outer index (the product of dimensions before the axis) the input row
// holds each output's contiguous block in turn, so output o gets blocks[o]
// elements from offset offs[o] of every row. The index map (mapKernel)
// stays the reference it is tested against; this moves the same elements
// as block copies, short blocks (up to smallBlock elements, as
// coral_split_concat's one-channel slices) with element loops, one output
// at a time.
type splitKernel struct {
	from   int // the data input: 1 for SPLIT, 0 for SPLIT_V
	width  int
	outer  int
	row    int   // elements per input row: Σ blocks
	blocks []int // elements per output and row
	offs   []int // offset of each output's block in a row
}

// newSplitKernel plans splitKernel for input shape split into parts
// along axis (as graph.SplitSizes resolves them).
func newSplitKernel(from int, shape []int, axis int, parts []int, width int) *splitKernel {
	k := &splitKernel{from: from, width: width, outer: graph.NumElements(shape[:axis])}
	inner := graph.NumElements(shape[axis+1:])
	for _, n := range parts {
		k.offs = append(k.offs, k.row)
		k.blocks = append(k.blocks, n*inner)
		k.row += n * inner
	}
	return k
}

func (k *splitKernel) Run(ins, outs []*Buffer) error {
	x := ins[k.from]
	for o, y := range outs {
		if o >= len(k.blocks) {
			break
		}
		n, off := k.blocks[o], k.offs[o]
		switch k.width {
		case 1:
			splitBlock(raw[uint8](x), raw[uint8](y), k.outer, k.row, off, n)
		case 2:
			splitBlock(raw[uint16](x), raw[uint16](y), k.outer, k.row, off, n)
		case 4:
			splitBlock(raw[uint32](x), raw[uint32](y), k.outer, k.row, off, n)
		case 8:
			splitBlock(raw[uint64](x), raw[uint64](y), k.outer, k.row, off, n)
		}
	}
	return nil
}

// splitBlock copies the n elements at offset off of each of the outer
// rows (row elements each) of x into y, one after another.
func splitBlock[T uint8 | uint16 | uint32 | uint64](x, y []T, outer, row, off, n int) {
	if n == 0 || outer == 0 {
		return
	}
	y = y[:outer*n]
	x = x[off : (outer-1)*row+off+n]
	switch {
	case n == 1:
		// Four rows per step: independent loads, one bounds check each.
		r := 0
		for ; r+4 <= outer; r += 4 {
			s, d := x[r*row:], y[r:r+4:r+4]
			d[0], d[1], d[2], d[3] = s[0], s[row], s[2*row], s[3*row]
		}
		for ; r < outer; r++ {
			y[r] = x[r*row]
		}
	case n == 2:
		for r := range outer {
			s, d := x[r*row:r*row+2], y[2*r:2*r+2]
			d[0], d[1] = s[0], s[1]
		}
	case n <= smallBlock:
		for r := range outer {
			s, d := x[r*row:r*row+n], y[r*n:r*n+n]
			for j, v := range s {
				d[j] = v
			}
		}
	default:
		for r := range outer {
			copy(y[r*n:r*n+n], x[r*row:r*row+n])
		}
	}
}
