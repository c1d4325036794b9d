package tflite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
)

// A small FlexBuffers reader and writer for custom op options, which TFLite
// stores as a FlexBuffers map of scalars (TFLite_Detection_PostProcess:
// max_detections, nms_iou_threshold, ...). Only what such maps hold is
// decoded: the root map, its keys, and scalar values (int, uint, float,
// bool, their indirect forms, null). Every offset and width is checked
// against the buffer; a bad buffer is an error, never a panic.

// ErrFlex is wrapped by every FlexBuffers decoding error.
var ErrFlex = errors.New("invalid FlexBuffers")

// FlexBuffers value types (the format's FBT_* numbers).
const (
	flexNull         = 0
	flexInt          = 1
	flexUint         = 2
	flexFloat        = 3
	flexKey          = 4
	flexString       = 5
	flexIndirectInt  = 6
	flexIndirectUint = 7
	flexIndirectFlt  = 8
	flexMap          = 9
	flexVectorKey    = 14
	flexBool         = 26
)

// flexMaxKeys bounds how many entries a map may declare, so a corrupt size
// cannot make the reader loop for long (options maps have about a dozen).
const flexMaxKeys = 4096

// flexValue is one decoded scalar of a map.
type flexValue struct {
	typ   int
	i     int64
	u     uint64
	f     float64
	valid bool // the key was present
}

// isNull reports whether the key was absent or its value is null.
func (v flexValue) isNull() bool { return !v.valid || v.typ == flexNull }

// asInt64 converts as flexbuffers' AsInt64 does for scalars: floats
// truncate toward zero, null is 0.
func (v flexValue) asInt64() int64 {
	switch v.typ {
	case flexInt, flexIndirectInt:
		return v.i
	case flexUint, flexIndirectUint, flexBool:
		return int64(v.u)
	case flexFloat, flexIndirectFlt:
		if v.f != v.f || v.f >= math.MaxInt64 || v.f <= math.MinInt64 {
			if v.f > 0 {
				return math.MaxInt64
			}
			return math.MinInt64
		}
		return int64(v.f)
	}
	return 0
}

// asInt32 is asInt64 narrowed as C++'s static_cast does (wrapping).
func (v flexValue) asInt32() int32 { return int32(v.asInt64()) }

func (v flexValue) asFloat64() float64 {
	switch v.typ {
	case flexInt, flexIndirectInt:
		return float64(v.i)
	case flexUint, flexIndirectUint, flexBool:
		return float64(v.u)
	case flexFloat, flexIndirectFlt:
		return v.f
	}
	return 0
}

func (v flexValue) asFloat32() float32 { return float32(v.asFloat64()) }

func (v flexValue) asBool() bool {
	switch v.typ {
	case flexBool, flexUint, flexIndirectUint:
		return v.u != 0
	case flexInt, flexIndirectInt:
		return v.i != 0
	case flexFloat, flexIndirectFlt:
		return v.f != 0
	}
	return false
}

// flexMapReader holds the decoded entries of a root map.
type flexMapReader struct {
	vals map[string]flexValue
}

// get returns the value under key (valid false when absent).
func (m *flexMapReader) get(key string) flexValue { return m.vals[key] }

// flexBuf reads bounds-checked little-endian fields of a buffer.
type flexBuf []byte

// uint reads an unsigned field of width w (1, 2, 4 or 8) at pos.
func (b flexBuf) uint(pos int64, w int) (uint64, error) {
	if pos < 0 || pos+int64(w) > int64(len(b)) {
		return 0, fmt.Errorf("%w: %d-byte field at %d outside the %d-byte buffer", ErrFlex, w, pos, len(b))
	}
	p := b[pos:]
	switch w {
	case 1:
		return uint64(p[0]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(p)), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(p)), nil
	case 8:
		return binary.LittleEndian.Uint64(p), nil
	}
	return 0, fmt.Errorf("%w: byte width %d", ErrFlex, w)
}

func (b flexBuf) int(pos int64, w int) (int64, error) {
	u, err := b.uint(pos, w)
	if err != nil {
		return 0, err
	}
	switch w {
	case 1:
		return int64(int8(u)), nil
	case 2:
		return int64(int16(u)), nil
	case 4:
		return int64(int32(u)), nil
	}
	return int64(u), nil
}

func (b flexBuf) float(pos int64, w int) (float64, error) {
	u, err := b.uint(pos, w)
	if err != nil {
		return 0, err
	}
	switch w {
	case 4:
		return float64(math.Float32frombits(uint32(u))), nil
	case 8:
		return math.Float64frombits(u), nil
	}
	return 0, fmt.Errorf("%w: float of %d bytes", ErrFlex, w)
}

// indirect follows the offset stored at pos (width w) backwards.
func (b flexBuf) indirect(pos int64, w int) (int64, error) {
	off, err := b.uint(pos, w)
	if err != nil {
		return 0, err
	}
	if off > uint64(pos) {
		return 0, fmt.Errorf("%w: offset %d at %d points before the buffer", ErrFlex, off, pos)
	}
	return pos - int64(off), nil
}

// cstring reads the NUL-terminated key at pos.
func (b flexBuf) cstring(pos int64) (string, error) {
	if pos < 0 || pos >= int64(len(b)) {
		return "", fmt.Errorf("%w: key at %d outside the %d-byte buffer", ErrFlex, pos, len(b))
	}
	for i := pos; i < int64(len(b)); i++ {
		if b[i] == 0 {
			return string(b[pos:i]), nil
		}
	}
	return "", fmt.Errorf("%w: key at %d has no terminating NUL", ErrFlex, pos)
}

func validWidth(w uint64) bool { return w == 1 || w == 2 || w == 4 || w == 8 }

// readFlexMap decodes a buffer whose root is a map of scalars.
func readFlexMap(raw []byte) (*flexMapReader, error) {
	b := flexBuf(raw)
	if len(b) < 3 {
		return nil, fmt.Errorf("%w: %d bytes, too short for a root", ErrFlex, len(b))
	}
	rootWidth := uint64(b[len(b)-1])
	packed := b[len(b)-2]
	if !validWidth(rootWidth) {
		return nil, fmt.Errorf("%w: root byte width %d", ErrFlex, rootWidth)
	}
	if typ := int(packed >> 2); typ != flexMap {
		return nil, fmt.Errorf("%w: root is of type %d, not a map", ErrFlex, typ)
	}
	rootPos := int64(len(b)) - 2 - int64(rootWidth)
	m, err := b.indirect(rootPos, int(rootWidth))
	if err != nil {
		return nil, err
	}
	w := 1 << (packed & 3) // the map's element width
	// Before the map's first element: keys offset, keys width, size.
	n, err := b.uint(m-int64(w), w)
	if err != nil {
		return nil, err
	}
	if n > flexMaxKeys {
		return nil, fmt.Errorf("%w: map declares %d entries", ErrFlex, n)
	}
	keysPos, err := b.indirect(m-3*int64(w), w)
	if err != nil {
		return nil, err
	}
	kw, err := b.uint(m-2*int64(w), w)
	if err != nil {
		return nil, err
	}
	if !validWidth(kw) {
		return nil, fmt.Errorf("%w: key byte width %d", ErrFlex, kw)
	}
	nk, err := b.uint(keysPos-int64(kw), int(kw))
	if err != nil {
		return nil, err
	}
	if nk != n {
		return nil, fmt.Errorf("%w: map has %d keys for %d values", ErrFlex, nk, n)
	}
	r := &flexMapReader{vals: map[string]flexValue{}}
	for i := range int64(n) {
		kp, err := b.indirect(keysPos+i*int64(kw), int(kw))
		if err != nil {
			return nil, err
		}
		key, err := b.cstring(kp)
		if err != nil {
			return nil, err
		}
		tp, err := b.uint(m+int64(n)*int64(w)+i, 1)
		if err != nil {
			return nil, err
		}
		v, err := b.scalar(m+i*int64(w), w, uint8(tp))
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		if _, dup := r.vals[key]; dup {
			return nil, fmt.Errorf("%w: key %q twice", ErrFlex, key)
		}
		r.vals[key] = v
	}
	return r, nil
}

// scalar decodes the map element at pos (stored in w bytes) of packed type
// tp: inline scalars use w, indirect ones the width in tp's low bits.
func (b flexBuf) scalar(pos int64, w int, tp uint8) (flexValue, error) {
	v := flexValue{typ: int(tp >> 2), valid: true}
	tw := 1 << (tp & 3)
	var err error
	switch v.typ {
	case flexNull:
	case flexInt:
		v.i, err = b.int(pos, w)
	case flexUint, flexBool:
		v.u, err = b.uint(pos, w)
	case flexFloat:
		v.f, err = b.float(pos, w)
	case flexIndirectInt, flexIndirectUint, flexIndirectFlt:
		var at int64
		if at, err = b.indirect(pos, w); err != nil {
			break
		}
		switch v.typ {
		case flexIndirectInt:
			v.i, err = b.int(at, tw)
		case flexIndirectUint:
			v.u, err = b.uint(at, tw)
		default:
			v.f, err = b.float(at, tw)
		}
	default:
		err = fmt.Errorf("%w: value of type %d is not a scalar", ErrFlex, v.typ)
	}
	return v, err
}

// flexEntry is one key and scalar value for writeFlexMap.
type flexEntry struct {
	key string
	typ int // flexInt, flexFloat or flexBool
	i   int64
	f   float32
	b   bool
}

// writeFlexMap encodes entries as a FlexBuffers root map the way the
// FlexBuffers builder lays it out for such options: NUL-terminated keys,
// a sorted key vector (lookups binary-search it), values of 4 bytes (int32,
// float32, bool) followed by their type bytes, then the root offset, the
// map's packed type and the root's byte width.
func writeFlexMap(entries []flexEntry) []byte {
	es := append([]flexEntry(nil), entries...)
	sort.Slice(es, func(i, j int) bool { return es[i].key < es[j].key })
	var b []byte
	keyPos := make([]int, len(es))
	for i, e := range es {
		keyPos[i] = len(b)
		b = append(b, e.key...)
		b = append(b, 0)
	}
	const w = 4
	pad := func() {
		for len(b)%w != 0 {
			b = append(b, 0)
		}
	}
	put := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	pad()
	put(uint32(len(es)))
	keys := len(b)
	for i := range es {
		put(uint32(len(b) - keyPos[i]))
	}
	put(uint32(len(b) - keys)) // keys vector offset
	put(w)                     // keys byte width
	put(uint32(len(es)))
	m := len(b)
	for _, e := range es {
		switch e.typ {
		case flexInt:
			put(uint32(int32(e.i)))
		case flexFloat:
			put(math.Float32bits(e.f))
		case flexBool:
			if e.b {
				put(1)
			} else {
				put(0)
			}
		}
	}
	for _, e := range es {
		b = append(b, byte(e.typ<<2|2))
	}
	pad()
	root := len(b)
	put(uint32(root - m))
	return append(b, flexMap<<2|2, w)
}
