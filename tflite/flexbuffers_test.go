package tflite

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/qbench/qbench/graph"
)

func detOptions() *graph.DetectionPostProcessOptions {
	return &graph.DetectionPostProcessOptions{MaxDetections: 10, MaxClassesPerDetection: 2, DetectionsPerClass: 7,
		NumClasses: 2, NMSScoreThreshold: 0.25, NMSIoUThreshold: 0.6, YScale: 10, XScale: 10, HScale: 5, WScale: 5,
		UseRegularNMS: true}
}

// The options survive write → read, and a map holding only some keys
// reads with TFLite's defaults (detections_per_class 100, fast NMS, 0).
func TestDetectionOptionsRoundTrip(t *testing.T) {
	o := detOptions()
	got, err := readDetectionOptions(writeDetectionOptions(o))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Errorf("read back %+v, want %+v", got, o)
	}
	got, err = readDetectionOptions(writeFlexMap([]flexEntry{{key: detMaxDetections, typ: flexInt, i: 3},
		{key: detIoUThreshold, typ: flexFloat, f: 0.5}}))
	if err != nil {
		t.Fatal(err)
	}
	want := &graph.DetectionPostProcessOptions{MaxDetections: 3, DetectionsPerClass: 100, NMSIoUThreshold: 0.5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("partial map: %+v, want %+v", got, want)
	}
}

// flexHandMap lays out a map the way the FlexBuffers builder does for
// small values: 1-byte key offsets, 1-byte values where they fit, an
// indirect 8-byte float and a uint, and a 1-byte root.
func flexHandMap() []byte {
	var b []byte
	keys := []string{"a_int", "b_float", "c_uint", "d_indirect", "e_bool"}
	pos := map[string]int{}
	for _, k := range keys {
		pos[k] = len(b)
		b = append(b, k...)
		b = append(b, 0)
	}
	f64 := len(b)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(-2.5))
	// Keys vector, width 1.
	b = append(b, byte(len(keys)))
	kv := len(b)
	for i, k := range keys {
		b = append(b, byte(kv+i-pos[k]))
	}
	// Map prefix (width 1): keys offset, keys width, size.
	b = append(b, byte(len(b)-kv), 1, byte(len(keys)))
	m := len(b)
	// Values: int -3, float is 1 byte wide? no: floats need 4 or 8, so this
	// map stores b_float indirectly too; uint 200; indirect offset; bool.
	b = append(b, 0xfd) // a_int = -3
	b = append(b, 0)    // b_float: indirect, patched below
	b = append(b, 200)  // c_uint
	b = append(b, 0)    // d_indirect: patched below
	b = append(b, 1)    // e_bool
	b[m+1] = byte(m + 1 - f64)
	b[m+3] = byte(m + 3 - f64)
	b = append(b, flexInt<<2, flexIndirectFlt<<2|3, flexUint<<2, flexIndirectFlt<<2|3, flexBool<<2)
	root := len(b)
	b = append(b, byte(root-m), flexMap<<2|0, 1)
	return b
}

func TestFlexMapWidths(t *testing.T) {
	m, err := readFlexMap(flexHandMap())
	if err != nil {
		t.Fatal(err)
	}
	if v := m.get("a_int"); v.asInt64() != -3 || v.asFloat32() != -3 || !v.asBool() {
		t.Errorf("a_int: %+v", v)
	}
	if v := m.get("b_float"); v.asFloat64() != -2.5 || v.asInt64() != -2 {
		t.Errorf("b_float: %+v", v)
	}
	if v := m.get("c_uint"); v.asInt32() != 200 {
		t.Errorf("c_uint: %+v", v)
	}
	if v := m.get("e_bool"); !v.asBool() || v.asInt64() != 1 {
		t.Errorf("e_bool: %+v", v)
	}
	if v := m.get("missing"); !v.isNull() || v.asInt64() != 0 {
		t.Errorf("missing: %+v", v)
	}
}

// Truncating a valid map anywhere, or flipping its root, gives ErrFlex.
func TestFlexMapCorrupt(t *testing.T) {
	good := writeDetectionOptions(detOptions())
	for n := range len(good) {
		if _, err := readFlexMap(good[:n]); err == nil {
			// A prefix can still be a valid buffer by chance only if its
			// last bytes form a root; the writer's layout never does.
			t.Errorf("prefix of %d bytes read without error", n)
		} else if !errors.Is(err, ErrFlex) {
			t.Errorf("prefix of %d bytes: %v does not wrap ErrFlex", n, err)
		}
	}
}

// FuzzFlexbuffers feeds arbitrary bytes to the FlexBuffers map reader and
// the detection options decoder: errors are fine, panics and hangs are
// not, and a decoded map re-encodes to options that read back the same.
// Run: go test -fuzz=FuzzFlexbuffers -parallel 1 ./tflite
func FuzzFlexbuffers(f *testing.F) {
	f.Add(writeDetectionOptions(detOptions()))
	f.Add(flexHandMap())
	f.Add([]byte{0, 0x24, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := readFlexMap(data); err != nil && !errors.Is(err, ErrFlex) {
			t.Fatalf("error %v does not wrap ErrFlex", err)
		}
		v, err := readDetectionOptions(data)
		if err != nil {
			return
		}
		back, err := readDetectionOptions(writeDetectionOptions(v))
		if err != nil {
			t.Fatalf("re-encoded options do not read: %v", err)
		}
		a, b := *v.(*graph.DetectionPostProcessOptions), *back.(*graph.DetectionPostProcessOptions)
		// NaN thresholds or scales compare unequal; compare bits.
		if !reflect.DeepEqual(detBits(a), detBits(b)) {
			t.Fatalf("round trip %+v -> %+v", a, b)
		}
	})
}

func detBits(o graph.DetectionPostProcessOptions) []uint64 {
	return []uint64{uint64(o.MaxDetections), uint64(o.MaxClassesPerDetection), uint64(o.DetectionsPerClass),
		uint64(o.NumClasses), uint64(math.Float32bits(o.NMSScoreThreshold)), uint64(math.Float32bits(o.NMSIoUThreshold)),
		uint64(math.Float32bits(o.YScale)), uint64(math.Float32bits(o.XScale)), uint64(math.Float32bits(o.HScale)),
		uint64(math.Float32bits(o.WScale)), boolBits(o.UseRegularNMS)}
}

func boolBits(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
