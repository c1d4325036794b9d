package interp

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// SetInputBytes fills graph input i from raw little-endian values in the
// input's own dtype (bools as one byte each); len(b) must be exactly the
// input's byte size.
func (e *Executor) SetInputBytes(i int, b []byte) error {
	buf := e.Input(i)
	if buf == nil {
		return fmt.Errorf("input %d out of range [0,%d)", i, len(e.p.g.Inputs))
	}
	t := e.p.InputTensor(i)
	if len(b) != t.ByteSize() {
		return fmt.Errorf("input %d %q: %d bytes, %s shape %v needs %d", i, t.Name, len(b), t.DType, t.Shape, t.ByteSize())
	}
	switch buf.DType {
	case graph.Float32:
		for j := range buf.F32 {
			buf.F32[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
	case graph.Int8, graph.Int4:
		for j := range buf.I8 {
			buf.I8[j] = int8(b[j])
		}
	case graph.UInt8:
		copy(buf.U8, b)
	case graph.Int16, graph.Float16:
		for j := range buf.I16 {
			buf.I16[j] = int16(binary.LittleEndian.Uint16(b[2*j:]))
		}
	case graph.Int32:
		for j := range buf.I32 {
			buf.I32[j] = int32(binary.LittleEndian.Uint32(b[4*j:]))
		}
	case graph.Int64:
		for j := range buf.I64 {
			buf.I64[j] = int64(binary.LittleEndian.Uint64(b[8*j:]))
		}
	case graph.Bool:
		for j := range buf.Bool {
			buf.Bool[j] = b[j] != 0
		}
	default:
		return fmt.Errorf("input %d %q: unsupported dtype %s", i, t.Name, buf.DType)
	}
	return nil
}

// AppendOutputBytes appends graph output i's raw little-endian values to dst.
func (e *Executor) AppendOutputBytes(i int, dst []byte) []byte {
	return AppendBytes(dst, e.Output(i))
}

// AppendBytes appends a buffer's values as raw little-endian bytes.
func AppendBytes(dst []byte, b *kernels.Buffer) []byte {
	if b == nil {
		return dst
	}
	switch b.DType {
	case graph.Float32:
		for _, v := range b.F32 {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
		}
	case graph.Int8, graph.Int4:
		for _, v := range b.I8 {
			dst = append(dst, byte(v))
		}
	case graph.UInt8:
		dst = append(dst, b.U8...)
	case graph.Int16, graph.Float16:
		for _, v := range b.I16 {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		}
	case graph.Int32:
		for _, v := range b.I32 {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
		}
	case graph.Int64:
		for _, v := range b.I64 {
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		}
	case graph.Bool:
		for _, v := range b.Bool {
			if v {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
	}
	return dst
}

// RunRaw runs a single-input program on K samples given as raw
// little-endian values in the input's dtype, concatenated (the convention of
// TFLite's tflite-oracle tool), and returns the first output's raw values for
// all K samples, concatenated.
func (e *Executor) RunRaw(in []byte) ([]byte, error) {
	if n := e.p.NumInputs(); n != 1 {
		return nil, fmt.Errorf("raw input needs a model with exactly one input, this one has %d", n)
	}
	if e.p.NumOutputs() < 1 {
		return nil, fmt.Errorf("model has no outputs")
	}
	t := e.p.InputTensor(0)
	size := t.ByteSize()
	if size == 0 {
		return nil, fmt.Errorf("input %q has no elements (shape %v)", t.Name, t.Shape)
	}
	if len(in) == 0 || len(in)%size != 0 {
		return nil, fmt.Errorf("input is %d bytes, not a positive multiple of one sample (%s %v = %d bytes)",
			len(in), t.DType, t.Shape, size)
	}
	k := len(in) / size
	out := make([]byte, 0, k*e.p.OutputTensor(0).ByteSize())
	for s := range k {
		if err := e.SetInputBytes(0, in[s*size:(s+1)*size]); err != nil {
			return nil, err
		}
		if err := e.Run(); err != nil {
			return nil, fmt.Errorf("sample %d: %w", s, err)
		}
		out = e.AppendOutputBytes(0, out)
	}
	return out, nil
}

// RunRaw is Executor.RunRaw spread over up to workers goroutines, each with
// its own Executor; the result is identical to a single Executor's.
func RunRaw(p *Program, in []byte, workers int) ([]byte, error) {
	e := p.NewExecutor()
	// Outputs sized per run (dynamic.go) differ in length by sample: one
	// executor appends them one after another, as the oracle does.
	if p.NumInputs() != 1 || workers <= 1 || (p.HasState() && p.carryState) || p.dyn != nil {
		return e.RunRaw(in)
	}
	size := p.InputTensor(0).ByteSize()
	if size == 0 || len(in) == 0 || len(in)%size != 0 {
		return e.RunRaw(in) // reports the size error
	}
	k := len(in) / size
	workers = min(workers, k)
	outSize := p.OutputTensor(0).ByteSize()
	out := make([]byte, k*outSize)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := k*w/workers, k*(w+1)/workers
		ex := e
		if w > 0 {
			ex = p.NewExecutor()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := ex.RunRaw(in[lo*size : hi*size])
			if err != nil {
				errs[w] = fmt.Errorf("samples %d..%d: %w", lo, hi-1, err)
				return
			}
			copy(out[lo*outSize:hi*outSize], r)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Class is one entry of a TopK ranking.
type Class struct {
	Index int
	Score float32
}

// TopK returns the k highest scores with their indices, highest first; ties
// keep the lower index first. NaN scores rank last.
func TopK(scores []float32, k int) []Class {
	cs := make([]Class, len(scores))
	for i, s := range scores {
		cs[i] = Class{i, s}
	}
	sort.SliceStable(cs, func(a, b int) bool {
		x, y := cs[a].Score, cs[b].Score
		if x != x {
			return false
		}
		return y != y || x > y
	})
	if k < len(cs) {
		cs = cs[:max(k, 0)]
	}
	return cs
}

// RunRawAll runs a program with any number of inputs and outputs on K
// samples: ins[i] holds input i's raw little-endian values for all K
// samples, concatenated (each input must hold the same K). It returns each
// output's raw values for all K samples, concatenated. Samples spread over
// up to workers executors; the result is the same as with one.
func RunRawAll(p *Program, ins [][]byte, workers int) ([][]byte, error) {
	if len(ins) != p.NumInputs() {
		return nil, fmt.Errorf("%d raw inputs for a model with %d inputs", len(ins), p.NumInputs())
	}
	k := -1
	for i, in := range ins {
		t := p.InputTensor(i)
		size := t.ByteSize()
		if size == 0 {
			return nil, fmt.Errorf("input %d %q has no elements (shape %v)", i, t.Name, t.Shape)
		}
		if len(in) == 0 || len(in)%size != 0 {
			return nil, fmt.Errorf("input %d %q is %d bytes, not a positive multiple of one sample (%s %v = %d bytes)",
				i, t.Name, len(in), t.DType, t.Shape, size)
		}
		if n := len(in) / size; k < 0 {
			k = n
		} else if n != k {
			return nil, fmt.Errorf("input %d %q holds %d samples, input 0 holds %d", i, t.Name, n, k)
		}
	}
	if k < 0 {
		k = 1 // a model without inputs runs once
	}
	outs := make([][]byte, p.NumOutputs())
	for o := range outs {
		outs[o] = make([]byte, k*p.OutputTensor(o).ByteSize())
	}
	workers = max(1, min(workers, k))
	if p.HasState() && p.carryState {
		workers = 1 // each sample starts from the state the previous one left
	}
	if p.dyn != nil {
		// Outputs sized per run differ in length by sample: one executor
		// appends each sample's values after the previous one's.
		workers = 1
		for o := range outs {
			outs[o] = outs[o][:0]
		}
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := k*w/workers, k*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := p.NewExecutor()
			for s := lo; s < hi; s++ {
				for i, in := range ins {
					size := p.InputTensor(i).ByteSize()
					if err := e.SetInputBytes(i, in[s*size:(s+1)*size]); err != nil {
						errs[w] = err
						return
					}
				}
				if err := e.Run(); err != nil {
					errs[w] = fmt.Errorf("sample %d: %w", s, err)
					return
				}
				for o := range outs {
					if p.dyn != nil {
						outs[o] = AppendBytes(outs[o], e.Output(o))
						continue
					}
					size := p.OutputTensor(o).ByteSize()
					AppendBytes(outs[o][s*size:s*size], e.Output(o))
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return outs, nil
}
