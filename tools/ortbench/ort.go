//go:build ortbench

package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/onnx"
)

// session is one ORT session with its bound input and output tensors;
// ins/outs view the tensors' memory as raw little-endian bytes.
type session struct {
	s    *ort.AdvancedSession
	vals []ort.Value
	ins  [][]byte
	outs [][]byte
}

// asBytes views a slice's memory as bytes (the ORT tensor's own buffer).
func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

func newValue(t *graph.Tensor) (ort.Value, []byte, error) {
	s := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		s[i] = int64(d)
	}
	shape := ort.NewShape(s...)
	switch t.DType {
	case graph.Float32:
		v, err := ort.NewEmptyTensor[float32](shape)
		if err != nil {
			return nil, nil, err
		}
		return v, asBytes(v.GetData()), nil
	case graph.Int8:
		v, err := ort.NewEmptyTensor[int8](shape)
		if err != nil {
			return nil, nil, err
		}
		return v, asBytes(v.GetData()), nil
	case graph.UInt8:
		v, err := ort.NewEmptyTensor[uint8](shape)
		if err != nil {
			return nil, nil, err
		}
		return v, asBytes(v.GetData()), nil
	case graph.Int16:
		v, err := ort.NewEmptyTensor[int16](shape)
		if err != nil {
			return nil, nil, err
		}
		return v, asBytes(v.GetData()), nil
	case graph.Int32:
		v, err := ort.NewEmptyTensor[int32](shape)
		if err != nil {
			return nil, nil, err
		}
		return v, asBytes(v.GetData()), nil
	case graph.Int64:
		v, err := ort.NewEmptyTensor[int64](shape)
		if err != nil {
			return nil, nil, err
		}
		return v, asBytes(v.GetData()), nil
	}
	return nil, nil, fmt.Errorf("tensor %q: dtype %s", t.Name, t.DType)
}

// newSession opens data (g exported) with one intra-op thread, its inputs
// and outputs bound to tensors shaped as prog's (g compiled at the batch).
func newSession(g *graph.Graph, prog *interp.Program, data []byte) (*session, error) {
	inNames, outNames := onnx.IONames(g)
	ss := &session{}
	var ins, outs []ort.Value
	for i := range prog.NumInputs() {
		v, b, err := newValue(prog.InputTensor(i))
		if err != nil {
			ss.destroy()
			return nil, err
		}
		ss.vals = append(ss.vals, v)
		ins = append(ins, v)
		ss.ins = append(ss.ins, b)
	}
	for i := range prog.NumOutputs() {
		v, b, err := newValue(prog.OutputTensor(i))
		if err != nil {
			ss.destroy()
			return nil, err
		}
		ss.vals = append(ss.vals, v)
		outs = append(outs, v)
		ss.outs = append(ss.outs, b)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		ss.destroy()
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		ss.destroy()
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		ss.destroy()
		return nil, err
	}
	ss.s, err = ort.NewAdvancedSessionWithONNXData(data, inNames, outNames, ins, outs, opts)
	if err != nil {
		ss.destroy()
		return nil, err
	}
	return ss, nil
}

func (s *session) destroy() {
	if s.s != nil {
		s.s.Destroy()
	}
	for _, v := range s.vals {
		v.Destroy()
	}
}

// fillInput writes seeded values spanning the dtype into b (floats in
// [0,1), int32/int64 in [0,256) as token or index inputs), the ranges
// qbench bench uses.
func fillInput(b []byte, dt graph.DType, rng *rand.Rand) {
	switch dt {
	case graph.Float32:
		for i := 0; i+4 <= len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(rng.Float32()))
		}
	case graph.Int32:
		for i := 0; i+4 <= len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], uint32(rng.IntN(256)))
		}
	case graph.Int64:
		for i := 0; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], uint64(rng.IntN(256)))
		}
	default:
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
	}
}

// values decodes raw little-endian values of dt.
func values(dt graph.DType, b []byte) []float64 {
	var v []float64
	switch dt {
	case graph.Float32:
		for i := 0; i+4 <= len(b); i += 4 {
			v = append(v, float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))))
		}
	case graph.Int8:
		for _, x := range b {
			v = append(v, float64(int8(x)))
		}
	case graph.UInt8:
		for _, x := range b {
			v = append(v, float64(x))
		}
	case graph.Int16:
		for i := 0; i+2 <= len(b); i += 2 {
			v = append(v, float64(int16(binary.LittleEndian.Uint16(b[i:]))))
		}
	case graph.Int32:
		for i := 0; i+4 <= len(b); i += 4 {
			v = append(v, float64(int32(binary.LittleEndian.Uint32(b[i:]))))
		}
	case graph.Int64:
		for i := 0; i+8 <= len(b); i += 8 {
			v = append(v, float64(int64(binary.LittleEndian.Uint64(b[i:]))))
		}
	}
	return v
}

// compareOutputs runs one batch of the same random input through qbench
// and ORT and summarises the difference of every output: max|Δ| for
// float, the count of differing values and the largest step for integers.
func compareOutputs(g *graph.Graph, prog *interp.Program, data []byte) (string, error) {
	ex := prog.NewExecutor()
	s, err := newSession(g, prog, data)
	if err != nil {
		return "", err
	}
	defer s.destroy()
	rng := rand.New(rand.NewPCG(7, 7))
	for i, b := range s.ins {
		fillInput(b, prog.InputTensor(i).DType, rng)
		if err := ex.SetInputBytes(i, b); err != nil {
			return "", err
		}
	}
	if err := ex.Run(); err != nil {
		return "", err
	}
	if err := s.s.Run(); err != nil {
		return "", err
	}
	var out string
	for i, ob := range s.outs {
		dt := prog.OutputTensor(i).DType
		q := values(dt, ex.AppendOutputBytes(i, nil))
		o := values(dt, ob)
		if len(q) != len(o) {
			return "", fmt.Errorf("output %d sizes differ: qbench %d, ORT %d", i, len(q), len(o))
		}
		var maxDiff float64
		differ := 0
		for j := range q {
			d := math.Abs(q[j] - o[j])
			if d != 0 || math.IsNaN(d) {
				differ++
			}
			maxDiff = math.Max(maxDiff, d)
		}
		if i > 0 {
			out += "; "
		}
		if dt == graph.Float32 {
			out += fmt.Sprintf("max|Δ| %.3g", maxDiff)
		} else {
			out += fmt.Sprintf("%d/%d differ (≤%g)", differ, len(q), maxDiff)
		}
	}
	return out, nil
}

// openSessions opens threads sessions of data, fills their inputs with
// seeded values and runs each once (warm-up). The caller destroys them.
func openSessions(g *graph.Graph, prog *interp.Program, data []byte, threads int) ([]*session, error) {
	var ss []*session
	for i := range threads {
		s, err := newSession(g, prog, data)
		if err != nil {
			destroyAll(ss)
			return nil, err
		}
		ss = append(ss, s)
		rng := rand.New(rand.NewPCG(uint64(i), 3))
		for k, b := range s.ins {
			fillInput(b, prog.InputTensor(k).DType, rng)
		}
		if err := s.s.Run(); err != nil {
			destroyAll(ss)
			return nil, err
		}
	}
	return ss, nil
}

func destroyAll(ss []*session) {
	for _, s := range ss {
		s.destroy()
	}
}

// ortThroughput runs the sessions concurrently for the given time (after a
// short warm-up run of each) and returns images per second.
func ortThroughput(ss []*session, batch int, seconds float64) (float64, error) {
	threads := len(ss)
	for _, s := range ss {
		if err := s.s.Run(); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	deadline := start.Add(time.Duration(seconds * float64(time.Second)))
	runs := make([]int, threads)
	errs := make([]error, threads)
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := s.s.Run(); err != nil {
					errs[i] = err
					return
				}
				runs[i]++
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	total := 0
	for i, n := range runs {
		if errs[i] != nil {
			return 0, errs[i]
		}
		total += n
	}
	return float64(total*batch) / wall, nil
}

// compile compiles g at batch in the given rounding.
func compile(g *graph.Graph, batch int, rnd fixedpoint.Rounding) (*interp.Program, error) {
	return interp.Compile(g, interp.Options{Batch: batch, Rounding: rnd})
}
