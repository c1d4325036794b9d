//go:build noasm || !amd64

package gemm

// f32Sets lists the float32 kernel families available: only the portable
// Go one without assembly.
func f32Sets() []*f32Set { return []*f32Set{goF32Set} }

// s8Sets lists the int8 kernel families available.
func s8Sets() []*s8Set { return []*s8Set{goS8Set} }

// biasClampAsm is nil without assembly: the epilogue runs in plain Go.
var biasClampAsm func(groups int, c, bias *float32, lo, hi float32)
