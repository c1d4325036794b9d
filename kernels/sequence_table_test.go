package kernels

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
)

// sequenceSigs lists, per sequence-family kind, the dtype forms its prepare
// accepts (input / weights / state) and one it must refuse.
var sequenceSigs = map[graph.OpKind][]string{
	graph.OpUnidirectionalSequenceLSTM: {"float32", "hybrid", "int8x8_16"},
	graph.OpSVDF:                       {"float32", "hybrid", "int8/int16 state", "int8/int8 state"},
}

// sequenceCase builds one op of kind k in form sig (or an unlisted form,
// "uint8"), small and random.
func sequenceCase(rng *rand.Rand, k graph.OpKind, sig string) (*graph.Op, []*graph.Tensor, []*graph.Tensor, []*graph.Tensor) {
	q := func(s float32, zp int64) *graph.Quantization {
		return &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{zp}}
	}
	toInt8 := func(t *graph.Tensor) {
		if t == nil {
			return
		}
		v := make([]int8, t.NumElements())
		for i := range v {
			v[i] = int8(rng.IntN(255) - 127)
		}
		t.DType, t.Data, t.Quant = graph.Int8, graph.EncodeInt8s(v), q(0.01, 0)
	}
	retype := func(t *graph.Tensor, dt graph.DType, qq *graph.Quantization) {
		if t == nil {
			return
		}
		t.DType, t.Quant = dt, qq
		if t.Data != nil {
			t.Data = make([]byte, t.NumElements()*dt.Size())
		}
	}
	if k == graph.OpSVDF {
		ins := []*graph.Tensor{
			{DType: graph.Float32, Shape: []int{2, 5}},
			{DType: graph.Float32, Shape: []int{6, 5}, Data: make([]byte, 6*5*4)},
			{DType: graph.Float32, Shape: []int{6, 3}, Data: make([]byte, 6*3*4)},
			{DType: graph.Float32, Shape: []int{3}, Data: make([]byte, 3*4)},
			{DType: graph.Float32, Shape: []int{2, 18}, Variable: true},
		}
		outs := []*graph.Tensor{{DType: graph.Float32, Shape: []int{2, 3}}}
		op := &graph.Op{Kind: k, Options: &graph.SVDFOptions{Rank: 2, Activation: graph.ActRelu}}
		switch sig {
		case "hybrid":
			toInt8(ins[1])
			toInt8(ins[2])
		case "int8/int16 state", "int8/int8 state":
			retype(ins[0], graph.Int8, q(0.05, 3))
			toInt8(ins[1])
			st := graph.Int16
			if sig == "int8/int8 state" {
				st = graph.Int8
			}
			retype(ins[2], st, q(1e-4, 0))
			retype(ins[3], graph.Int32, q(1e-6, 0))
			retype(ins[4], st, q(1e-3, 0))
			retype(outs[0], graph.Int8, q(0.1, -2))
		case "uint8":
			retype(ins[0], graph.UInt8, q(0.05, 128))
			retype(ins[1], graph.UInt8, q(0.01, 128))
		}
		return op, ins, outs, nil
	}
	c := lstmTestCase{peephole: true, batch: 2, time: 3, nIn: 4, nCell: 5, nOut: 5}
	ins, out, _ := lstmTestTensors(rng, c)
	outs := []*graph.Tensor{out}
	op := &graph.Op{Kind: k, Options: &graph.SequenceLSTMOptions{Activation: graph.ActTanh}}
	var inter []*graph.Tensor
	switch sig {
	case "hybrid":
		for i := 1; i <= 11; i++ {
			toInt8(ins[i])
		}
	case "int8x8_16":
		retype(ins[0], graph.Int8, q(0.02, -5))
		for i := 1; i <= 8; i++ {
			toInt8(ins[i])
		}
		for i := 9; i <= 11; i++ {
			retype(ins[i], graph.Int16, q(1e-4, 0))
		}
		for i := 12; i <= 15; i++ {
			retype(ins[i], graph.Int32, q(1e-5, 0))
		}
		retype(ins[lstmOutputState], graph.Int8, q(0.008, 1))
		retype(ins[lstmCellState], graph.Int16, q(1.0/4096, 0))
		retype(outs[0], graph.Int8, q(0.008, 1))
		for range 4 {
			inter = append(inter, &graph.Tensor{DType: graph.Float32, Shape: []int{0}})
		}
		inter = append(inter, &graph.Tensor{DType: graph.Int8, Shape: []int{0}, Quant: q(0.008, 1)})
	case "uint8":
		retype(ins[0], graph.UInt8, q(0.02, 128))
		for i := 1; i <= 8; i++ {
			retype(ins[i], graph.UInt8, q(0.01, 128))
		}
	}
	return op, ins, outs, inter
}

// TestSequenceTableCoversForms walks opTable: every op prepared in the
// sequence family files (sequence.go, lstm_*.go, svdf*.go) must be listed
// in sequenceSigs, prepare and run every listed form, and refuse an
// unlisted one (uint8) with ErrUnsupported. The TFLite oracle checks the
// arithmetic (interp's TestLSTM*/TestSVDF* tests).
func TestSequenceTableCoversForms(t *testing.T) {
	for kind, f := range opTable {
		if f == nil {
			continue
		}
		file, _ := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).FileLine(reflect.ValueOf(f).Pointer())
		base := filepath.Base(file)
		if base != "sequence.go" && base != "svdf.go" && !slices.Contains([]string{"lstm_float.go", "lstm_int.go", "lstm_hybrid.go", "svdf_hybrid.go"}, base) {
			continue
		}
		if _, ok := sequenceSigs[graph.OpKind(kind)]; !ok {
			t.Errorf("%s: prepared in %s but has no entry in sequenceSigs", graph.OpKind(kind), base)
		}
	}
	rng := rand.New(rand.NewPCG(14, 11))
	for kind, sigs := range sequenceSigs {
		for _, sig := range append(slices.Clone(sigs), "uint8") {
			op, ins, outs, inter := sequenceCase(rng, kind, sig)
			k, err := PrepareWith(op, ins, outs, Options{Intermediates: inter})
			if sig == "uint8" {
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("%s %s: err = %v, want ErrUnsupported", kind, sig, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: %v", kind, sig, err)
				continue
			}
			bufs := make([]*Buffer, len(ins))
			for i, ti := range ins {
				if ti != nil {
					bufs[i] = newTestBuffer(ti)
				}
			}
			if err := k.Run(bufs, []*Buffer{newTestBuffer(outs[0])}); err != nil {
				t.Errorf("%s %s: run: %v", kind, sig, err)
			}
		}
	}
}

// newTestBuffer is a zeroed buffer of t's dtype and shape.
func newTestBuffer(t *graph.Tensor) *Buffer {
	n := t.NumElements()
	b := &Buffer{DType: t.DType, Shape: t.Shape}
	switch t.DType {
	case graph.Float32:
		b.F32 = make([]float32, n)
	case graph.Int8:
		b.I8 = make([]int8, n)
	case graph.UInt8:
		b.U8 = make([]uint8, n)
	case graph.Int16:
		b.I16 = make([]int16, n)
	case graph.Int32:
		b.I32 = make([]int32, n)
	}
	return b
}
