// Command noavx512 writes a copy of ONNX Runtime's shared library that
// believes the operating system has not enabled AVX-512 register state, so
// its CPU dispatch (MLAS and the cpuinfo library) picks its AVX2 kernels;
// with --no-avxvnni the copy also believes the CPU lacks AVX-VNNI, so MLAS's
// int8 GEMM picks its plain AVX2 kernels (VPMADDUBSW/VPMADDWD) as on an
// AVX2-only CPU (AMD Zen 2/3, Intel Haswell–Skylake client).
//
// Why: qbench can be told to ignore AVX-512 and AVX-VNNI (GODEBUG=
// cpu.avx512f=off,cpu.avx512bw=off,cpu.avxvnni=off), but ONNX Runtime reads
// the CPU itself, so on this machine a "qbench without AVX-512" run was
// compared against ORT *with* AVX-512, and with only the XGETBV patch
// against an AVX2+AVX-VNNI ORT (Intel Alder Lake and later client cores).
//
// XGETBV: every x86 runtime checks the XCR0 register before using AVX-512,
// since the OS must save the ZMM state; each XGETBV whose result feeds that
// check is replaced by a constant XCR0 of 7 (x87, SSE and AVX state enabled,
// nothing else). Extensions that need only AVX state (AVX2, FMA, AVX-VNNI)
// stay visible that way.
//
// AVX-VNNI (--no-avxvnni): CPUID leaf 7 subleaf 1 reports it in EAX bit 4.
// In ORT 1.30 the only reader that gates a kernel choice is MLAS's platform
// initialisation (onnxruntime/core/mlas/lib/platform.cpp): when the bit is
// set it swaps the u8s8 GEMM and GEMV kernels, the symmetric u8s8 conv
// dispatch and the n-bit GEMM dispatch to their AVX-VNNI versions. That test
// compiles to mov eax,7; mov ecx,1; cpuid; test al,0x10; je — the je (skip
// the AVX-VNNI block) becomes an unconditional jmp. ORT's own CPUIDInfo
// reads the subleaf only for AVX512-BF16, and the cpuinfo library's avxvnni
// flag gates no ORT kernel, so both are left alone. AVX-VNNI-INT8 (the same
// subleaf's EDX bit 4, absent on the Zen 5 this was written on) is not
// hidden.
//
//	go run ./noavx512 --in .../libonnxruntime.so.1 --out /tmp/ort-noavx512/libonnxruntime.so.1
//	go run ./noavx512 --no-avxvnni --in .../libonnxruntime.so.1 --out /tmp/ort-avx2only/libonnxruntime.so.1
//	GODEBUG=cpu.avx512f=off,cpu.avx512bw=off ORT_LIB=/tmp/ort-noavx512/libonnxruntime.so.1 bash zoo.sh
//	GODEBUG=cpu.avx512f=off,cpu.avx512bw=off,cpu.avxvnni=off ORT_LIB=/tmp/ort-avx2only/libonnxruntime.so.1 bash zoo.sh
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

// site is one byte pattern and its replacement (same length, so no code
// moves).
type site struct {
	name     string
	old, new []byte
}

// xgetbvSites are the two shapes XGETBV takes in compiled dispatch code:
// ECX zeroed right before it, or its EAX zero-extended right after it.
var xgetbvSites = []site{
	// xor ecx,ecx; xgetbv  ->  xor ecx,ecx; lea eax,[rcx+7]
	{"xor ecx,ecx; xgetbv", []byte{0x31, 0xc9, 0x0f, 0x01, 0xd0}, []byte{0x31, 0xc9, 0x8d, 0x41, 0x07}},
	// xgetbv; mov eax,eax  ->  mov eax,7
	{"xgetbv; mov eax,eax", []byte{0x0f, 0x01, 0xd0, 0x89, 0xc0}, []byte{0xb8, 0x07, 0x00, 0x00, 0x00}},
}

// avxVNNISite is MLAS's AVX-VNNI test: CPUID(7,1) and a branch over the
// AVX-VNNI kernel assignments when EAX bit 4 is clear. The branch's rel8
// displacement follows the pattern and is kept.
var avxVNNISite = site{
	"mov eax,7; mov ecx,1; cpuid; test al,0x10; je",
	[]byte{0xb8, 0x07, 0x00, 0x00, 0x00, 0xb9, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xa8, 0x10, 0x74},
	[]byte{0xb8, 0x07, 0x00, 0x00, 0x00, 0xb9, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xa8, 0x10, 0xeb},
}

// wantAVXVNNISites is how many AVX-VNNI tests ORT 1.30 has (MLAS's platform
// init only); another count means a build this tool does not understand.
const wantAVXVNNISites = 1

// patch rewrites every occurrence of the sites in lib in place and returns
// the offsets it changed. Sites are matched in order, so bytes matching two
// sites are rewritten once, by the first.
func patch(lib []byte, sites []site) []int {
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

// patchLib applies the XGETBV patch and, if noAVXVNNI, the AVX-VNNI one,
// and refuses a library whose sites are not what this tool expects. It
// returns the offsets of each kind; lib is only meaningful without error.
func patchLib(lib []byte, noAVXVNNI bool) (xgetbv, vnni []int, err error) {
	// Count the AVX-VNNI sites first, on the unpatched bytes, so the two
	// patches cannot influence each other's matches.
	if noAVXVNNI {
		if n := bytes.Count(lib, avxVNNISite.old); n != wantAVXVNNISites {
			return nil, nil, fmt.Errorf("found %d AVX-VNNI tests (%s), want %d; this build needs new patterns",
				n, avxVNNISite.name, wantAVXVNNISites)
		}
	}
	xgetbv = patch(lib, xgetbvSites)
	if len(xgetbv) == 0 {
		return nil, nil, fmt.Errorf("no XGETBV site of a known shape; this build needs new patterns")
	}
	if noAVXVNNI {
		vnni = patch(lib, []site{avxVNNISite})
	}
	return xgetbv, vnni, nil
}

func main() {
	in := flag.String("in", "", "ONNX Runtime shared library to read (libonnxruntime.so.1)")
	out := flag.String("out", "", "where to write the patched copy")
	noAVXVNNI := flag.Bool("no-avxvnni", false, "also hide AVX-VNNI from MLAS (int8 GEMM as on an AVX2-only CPU)")
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
	xgetbv, vnni, err := patchLib(lib, *noAVXVNNI)
	if err != nil {
		fmt.Fprintf(os.Stderr, "noavx512: %s: %v\n", *in, err)
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
	for _, o := range xgetbv {
		fmt.Printf("patched XGETBV at %#x\n", o)
	}
	for _, o := range vnni {
		fmt.Printf("patched AVX-VNNI test at %#x\n", o)
	}
	fmt.Printf("noavx512: wrote %s (%d XGETBV sites, %d AVX-VNNI tests)\n", *out, len(xgetbv), len(vnni))
}
