// Command noavx512 writes a copy of ONNX Runtime's shared library that
// believes the operating system has not enabled AVX-512 register state, so
// its CPU dispatch (MLAS and the cpuinfo library) picks its AVX2 kernels.
//
// Why: qbench can be told to ignore AVX-512 (GODEBUG=cpu.avx512f=off,
// cpu.avx512bw=off), but ONNX Runtime reads the CPU itself, so on an
// AVX-512 machine a "qbench without AVX-512" run was compared against ORT
// *with* AVX-512. Every x86 runtime checks the XCR0 register (instruction
// XGETBV) before using AVX-512, since the OS must save the ZMM state; this
// tool replaces each XGETBV whose result feeds that check by a constant
// XCR0 of 7 (x87, SSE and AVX state enabled, nothing else). CPUID is left
// alone, so extensions that need only AVX state (AVX2, FMA, AVX-VNNI) stay
// visible: on a CPU with AVX-VNNI the copy behaves like an AVX2+AVX-VNNI
// machine (e.g. Intel's client cores), not like an AVX2-only one.
//
//	go run ./noavx512 --in .../libonnxruntime.so.1 --out /tmp/ort-noavx512/libonnxruntime.so.1
//	GODEBUG=cpu.avx512f=off,cpu.avx512bw=off ORT_LIB=/tmp/ort-noavx512/libonnxruntime.so.1 bash zoo.sh
//
// It is a measuring aid only: nothing in qbench loads the patched file.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// site is one byte pattern around an XGETBV and its replacement (same
// length, so no code moves).
type site struct {
	name     string
	old, new []byte
}

// sites are the two shapes XGETBV takes in compiled dispatch code:
// ECX zeroed right before it, or its EAX zero-extended right after it.
var sites = []site{
	// xor ecx,ecx; xgetbv  ->  xor ecx,ecx; lea eax,[rcx+7]
	{"xor ecx,ecx; xgetbv", []byte{0x31, 0xc9, 0x0f, 0x01, 0xd0}, []byte{0x31, 0xc9, 0x8d, 0x41, 0x07}},
	// xgetbv; mov eax,eax  ->  mov eax,7
	{"xgetbv; mov eax,eax", []byte{0x0f, 0x01, 0xd0, 0x89, 0xc0}, []byte{0xb8, 0x07, 0x00, 0x00, 0x00}},
}

// patch rewrites every site in lib in place and returns the offsets it
// changed. Sites are matched in order, so an XGETBV matching both shapes
// is rewritten once, by the first.
func patch(lib []byte) []int {
	var offs []int
	for _, s := range sites {
		for i := 0; ; {
			j := bytes.Index(lib[i:], s.old)
			if j < 0 {
				break
			}
			copy(lib[i+j:], s.new)
			offs = append(offs, i+j)
			i += j + len(s.old)
		}
	}
	return offs
}

func main() {
	in := flag.String("in", "", "ONNX Runtime shared library to read (libonnxruntime.so.1)")
	out := flag.String("out", "", "where to write the patched copy")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "noavx512: --in and --out are required")
		os.Exit(2)
	}
	lib, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "noavx512:", err)
		os.Exit(1)
	}
	offs := patch(lib)
	if len(offs) == 0 {
		fmt.Fprintf(os.Stderr, "noavx512: %s: no XGETBV site of a known shape; this build needs new patterns\n", *in)
		os.Exit(1)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "noavx512:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, lib, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "noavx512:", err)
		os.Exit(1)
	}
	for _, o := range offs {
		fmt.Printf("patched XGETBV at %#x\n", o)
	}
	fmt.Printf("noavx512: wrote %s (%d sites)\n", *out, len(offs))
}
