package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
)

// This file is a small, bounds-checked FlatBuffers reader. The Go
// FlatBuffers runtime trusts every offset and length it reads (it has no
// verifier), so a corrupt file can make it index out of range or allocate a
// slice sized by a hostile 32-bit length. Every accessor here checks the
// bytes it is about to touch against the buffer first and returns an error
// instead, and every vector length is checked against the bytes that remain
// before any caller allocates from it.

// fbuf is the whole file being decoded plus an allocation budget: decoded
// vectors are charged against it so that many tables pointing at the same
// large vector cannot multiply the memory a small file costs.
type fbuf struct {
	b      []byte
	budget int64
}

func newFbuf(b []byte) *fbuf {
	// Decoded data can legitimately be larger than the file (int4 unpacks to
	// twice its size, shapes widen from int32 to int), so the budget is a
	// generous multiple of the file size plus a fixed allowance.
	return &fbuf{b: b, budget: 8*int64(len(b)) + 1<<20}
}

// charge records n bytes of decoded output and fails when the budget is spent.
func (f *fbuf) charge(n int64) error {
	if n < 0 || n > f.budget {
		return fmt.Errorf("%w: decoded data exceeds %d bytes allowed for a %d-byte file", ErrCorrupt, 8*int64(len(f.b))+1<<20, len(f.b))
	}
	f.budget -= n
	return nil
}

// need checks that [pos, pos+n) lies inside the buffer.
func (f *fbuf) need(pos, n int64, what string) error {
	if pos < 0 || n < 0 || pos > int64(len(f.b)) || n > int64(len(f.b))-pos {
		return fmt.Errorf("%w: %s at offset %d (+%d bytes) is outside the %d-byte file", ErrCorrupt, what, pos, n, len(f.b))
	}
	return nil
}

func (f *fbuf) u16(pos int64) uint16 { return binary.LittleEndian.Uint16(f.b[pos:]) }
func (f *fbuf) u32(pos int64) uint32 { return binary.LittleEndian.Uint32(f.b[pos:]) }
func (f *fbuf) u64(pos int64) uint64 { return binary.LittleEndian.Uint64(f.b[pos:]) }

// table is a decoded table header: its position, vtable position and sizes.
type table struct {
	f      *fbuf
	pos    int64
	vt     int64
	vtLen  int64
	objLen int64
	what   string
}

// tableAt validates the table whose start is pos.
func (f *fbuf) tableAt(pos int64, what string) (table, error) {
	if err := f.need(pos, 4, what); err != nil {
		return table{}, err
	}
	if pos%4 != 0 {
		// Tables are always 4-byte aligned by conforming writers; an odd
		// position means the offset leading here is garbage.
		return table{}, fmt.Errorf("%w: %s at offset %d is misaligned", ErrCorrupt, what, pos)
	}
	vt := pos - int64(int32(f.u32(pos)))
	if err := f.need(vt, 4, what+" vtable"); err != nil {
		return table{}, err
	}
	vtLen := int64(f.u16(vt))
	objLen := int64(f.u16(vt + 2))
	if vtLen < 4 || vtLen%2 != 0 {
		return table{}, fmt.Errorf("%w: %s vtable at offset %d has invalid size %d", ErrCorrupt, what, vt, vtLen)
	}
	if err := f.need(vt, vtLen, what+" vtable"); err != nil {
		return table{}, err
	}
	if objLen < 4 {
		return table{}, fmt.Errorf("%w: %s at offset %d has invalid object size %d", ErrCorrupt, what, pos, objLen)
	}
	if err := f.need(pos, objLen, what); err != nil {
		return table{}, err
	}
	return table{f: f, pos: pos, vt: vt, vtLen: vtLen, objLen: objLen, what: what}, nil
}

// field returns the position of field id holding size bytes, or 0 when the
// field is absent (so the schema default applies).
func (t table) field(id int, size int64) (int64, error) {
	slot := 4 + 2*int64(id)
	if slot+2 > t.vtLen {
		return 0, nil
	}
	o := int64(t.f.u16(t.vt + slot))
	if o == 0 {
		return 0, nil
	}
	if o < 4 || o+size > t.objLen {
		return 0, fmt.Errorf("%w: %s field %d at offset %d lies outside the table (%d bytes)", ErrCorrupt, t.what, id, o, t.objLen)
	}
	return t.pos + o, nil
}

func (t table) u8(id int, def uint8) (uint8, error) {
	p, err := t.field(id, 1)
	if err != nil || p == 0 {
		return def, err
	}
	return t.f.b[p], nil
}

func (t table) i8(id int, def int8) (int8, error) {
	v, err := t.u8(id, uint8(def))
	return int8(v), err
}

func (t table) boolean(id int, def bool) (bool, error) {
	d := uint8(0)
	if def {
		d = 1
	}
	v, err := t.u8(id, d)
	return v != 0, err
}

func (t table) i32(id int, def int32) (int32, error) {
	p, err := t.field(id, 4)
	if err != nil || p == 0 {
		return def, err
	}
	return int32(t.f.u32(p)), nil
}

func (t table) u32(id int, def uint32) (uint32, error) {
	v, err := t.i32(id, int32(def))
	return uint32(v), err
}

func (t table) u64(id int, def uint64) (uint64, error) {
	p, err := t.field(id, 8)
	if err != nil || p == 0 {
		return def, err
	}
	return t.f.u64(p), nil
}

func (t table) f32(id int, def float32) (float32, error) {
	p, err := t.field(id, 4)
	if err != nil || p == 0 {
		return def, err
	}
	return math.Float32frombits(t.f.u32(p)), nil
}

// ref follows the uoffset stored in field id; 0 when the field is absent.
func (t table) ref(id int) (int64, error) {
	p, err := t.field(id, 4)
	if err != nil || p == 0 {
		return 0, err
	}
	target := p + int64(t.f.u32(p))
	if err := t.f.need(target, 4, fmt.Sprintf("%s field %d target", t.what, id)); err != nil {
		return 0, err
	}
	return target, nil
}

// subTable returns the table referenced by field id; ok is false when absent.
func (t table) subTable(id int, what string) (table, bool, error) {
	p, err := t.ref(id)
	if err != nil || p == 0 {
		return table{}, false, err
	}
	st, err := t.f.tableAt(p, what)
	return st, err == nil, err
}

// vector is a validated vector: its element start and count.
type vector struct {
	f     *fbuf
	start int64
	n     int64
	elem  int64
	what  string
}

// vec returns the vector in field id with elements of elem bytes; an absent
// field gives an empty vector. The whole vector is checked to lie inside the
// file, which bounds n by the file size before anyone allocates from it.
func (t table) vec(id int, elem int64, what string) (vector, error) {
	p, err := t.ref(id)
	if err != nil {
		return vector{}, err
	}
	if p == 0 {
		return vector{f: t.f, elem: elem, what: what}, nil
	}
	n := int64(t.f.u32(p))
	if err := t.f.need(p+4, n*elem, what); err != nil {
		return vector{}, fmt.Errorf("%s: %d elements: %w", what, n, err)
	}
	return vector{f: t.f, start: p + 4, n: n, elem: elem, what: what}, nil
}

func (v vector) len() int { return int(v.n) }

// bytes returns the vector's raw bytes (a sub-slice of the file, not a copy).
func (v vector) bytes() []byte { return v.f.b[v.start : v.start+v.n*v.elem] }

// table returns element i of a vector of tables.
func (v vector) table(i int, what string) (table, error) {
	p := v.start + 4*int64(i)
	target := p + int64(v.f.u32(p))
	return v.f.tableAt(target, what)
}

// ints decodes a vector of int32 into ints, charging the budget.
func (v vector) ints() ([]int, error) {
	if v.n == 0 {
		return nil, nil
	}
	if err := v.f.charge(8 * v.n); err != nil {
		return nil, fmt.Errorf("%s: %w", v.what, err)
	}
	out := make([]int, v.n)
	for i := range out {
		out[i] = int(int32(v.f.u32(v.start + 4*int64(i))))
	}
	return out, nil
}

// float32s decodes a vector of float32, charging the budget.
func (v vector) float32s() ([]float32, error) {
	if v.n == 0 {
		return nil, nil
	}
	if err := v.f.charge(4 * v.n); err != nil {
		return nil, fmt.Errorf("%s: %w", v.what, err)
	}
	out := make([]float32, v.n)
	for i := range out {
		out[i] = math.Float32frombits(v.f.u32(v.start + 4*int64(i)))
	}
	return out, nil
}

// int64s decodes a vector of int64, charging the budget.
func (v vector) int64s() ([]int64, error) {
	if v.n == 0 {
		return nil, nil
	}
	if err := v.f.charge(8 * v.n); err != nil {
		return nil, fmt.Errorf("%s: %w", v.what, err)
	}
	out := make([]int64, v.n)
	for i := range out {
		out[i] = int64(v.f.u64(v.start + 8*int64(i)))
	}
	return out, nil
}

// str returns the string in field id ("" when absent).
func (t table) str(id int, what string) (string, error) {
	v, err := t.vec(id, 1, what)
	if err != nil {
		return "", err
	}
	if err := t.f.charge(v.n); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return string(v.bytes()), nil
}
