//go:build !amd64 || noasm

package gemm

// s8NibFor returns set's one-row nibble kernel: none without assembly
// (in plain Go the few-row kernel is faster).
func s8NibFor(*s8Set) *s8NibKernel { return nil }

// nibSplitAsm is splitNibbles' vector loop: none without assembly.
var nibSplitAsm func(n int, src *int8, lo, hi *uint8)
