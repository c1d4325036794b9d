// Command noavx512 writes a copy of ONNX Runtime's shared library that
// believes the CPU lacks some of its features, so ORT's own CPU dispatch
// picks the kernels another x86 CPU would run. Three modes:
//
//   - default: the operating system has not enabled AVX-512 register state,
//     so MLAS and the cpuinfo library pick their AVX2 kernels (AVX2 +
//     AVX-VNNI, as on Intel Alder Lake and later client cores);
//   - --no-avxvnni: also no AVX-VNNI, so MLAS's int8 GEMM picks its plain
//     AVX2 kernels (VPMADDUBSW/VPMADDWD) as on an AVX2-only CPU (AMD Zen
//     2/3, Intel Haswell–Skylake client);
//   - --no-avx512vnni: AVX-512 stays, but MLAS sees neither AVX512-VNNI nor
//     AVX-VNNI, so its int8 GEMM runs the AVX-512 "Core" kernels
//     (512-bit VPMADDUBSW, saturating) as on Intel Skylake-SP/X.
//
// Why: qbench can be told to ignore CPU features (GODEBUG=cpu.avx512f=off,
// ...), but ONNX Runtime reads the CPU itself, so on this machine a "qbench
// without AVX-512" run was compared against ORT *with* AVX-512, and with
// only the XGETBV patch against an AVX2+AVX-VNNI ORT. Cascade Lake (AVX-512
// with VNNI, no VBMI) needs no patch: MLAS has no VBMI kernel.
//
// XGETBV: every x86 runtime checks the XCR0 register before using AVX-512,
// since the OS must save the ZMM state; each XGETBV whose result feeds that
// check is replaced by a constant XCR0 of 7 (x87, SSE and AVX state enabled,
// nothing else). Extensions that need only AVX state (AVX2, FMA, AVX-VNNI)
// stay visible that way.
//
// AVX-VNNI (--no-avxvnni, --no-avx512vnni): CPUID leaf 7 subleaf 1 reports
// it in EAX bit 4. In ORT 1.30 the only reader that gates a kernel choice is
// MLAS's platform initialisation (onnxruntime/core/mlas/lib/platform.cpp):
// when the bit is set it swaps the u8s8 GEMM and GEMV kernels, the symmetric
// u8s8 conv dispatch and the n-bit GEMM dispatch to their AVX-VNNI versions.
// That test compiles to mov eax,7; mov ecx,1; cpuid; test al,0x10; je — the
// je (skip the AVX-VNNI block) becomes an unconditional jmp. ORT's own
// CPUIDInfo reads the subleaf only for AVX512-BF16, and the cpuinfo
// library's avxvnni flag gates no ORT kernel, so both are left alone.
// AVX-VNNI-INT8 (the same subleaf's EDX bit 4, absent on the Zen 5 this was
// written on) is not hidden.
//
// AVX512-VNNI (--no-avx512vnni): CPUID leaf 7 subleaf 0 reports it in ECX
// bit 11. Again only MLAS's platform initialisation reads it for a kernel
// choice (CPUIDInfo does not read it; cpuinfo's avx512vnni flag gates no ORT
// kernel): inside its AVX-512 Core block (F+DQ+BW+VL), after installing the
// Core u8s8 GEMM/GEMV kernels and conv dispatch, it installs the
// AVX512-VNNI ones when the bit is set. ORT 1.30 compiles the test as
// and r11d,0x800 (r11d holds that ECX) right before Avx512Supported_ = true
// (mov byte ptr [rdi+1],1); a je after the Core assignments, with no
// flag-changing instruction between, skips the AVX512-VNNI block when the
// result is zero. The mask becomes 0, so r11d and the flags are exactly what
// a CPU without the bit gives. XGETBV is not touched in this mode.
//
// Each mode counts its CPUID tests on the unpatched bytes first and refuses
// a library with another count than ORT 1.30's: another build needs its
// patterns re-checked by disassembly (objdump -d -M intel around the hits).
//
//	go run ./noavx512 --in .../libonnxruntime.so.1 --out ~/.cache/qbench/ort-noavx512/libonnxruntime.so.1
//	go run ./noavx512 --no-avxvnni --in .../libonnxruntime.so.1 --out ~/.cache/qbench/ort-avx2only/libonnxruntime.so.1
//	go run ./noavx512 --no-avx512vnni --in .../libonnxruntime.so.1 --out ~/.cache/qbench/ort-skx/libonnxruntime.so.1
//	CPU=avxvnni bash zoo.sh    # or CPU=avx2, CPU=skylake: zoo.sh builds the copy it needs and sets GODEBUG
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

// avx512VNNISite is MLAS's AVX512-VNNI test: and r11d,0x800 (CPUID(7,0)
// ECX bit 11) then mov byte ptr [rdi+1],1 (Avx512Supported_ = true), whose
// flags a later je reads to skip the AVX512-VNNI kernel assignments. The
// mask becomes 0: the je is always taken and r11d is 0, as on a CPU
// without AVX512-VNNI.
var avx512VNNISite = site{
	"and r11d,0x800; mov byte ptr [rdi+1],1",
	[]byte{0x41, 0x81, 0xe3, 0x00, 0x08, 0x00, 0x00, 0xc6, 0x47, 0x01, 0x01},
	[]byte{0x41, 0x81, 0xe3, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x47, 0x01, 0x01},
}

// wantAVX512VNNISites is how many AVX512-VNNI tests ORT 1.30 has (MLAS's
// platform init only).
const wantAVX512VNNISites = 1

// mode says which CPU features the patched copy hides.
type mode struct {
	avx512     bool // AVX-512 register state (the XGETBV sites)
	avxVNNI    bool // AVX-VNNI (MLAS's test)
	avx512VNNI bool // AVX512-VNNI (MLAS's test); AVX-512 itself stays
}

// patched lists the offsets patchLib changed, per kind of site.
type patched struct {
	xgetbv, avxVNNI, avx512VNNI []int
}

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

// patchLib applies the patches m asks for and refuses a library whose sites
// are not what this tool expects. lib is only meaningful without error; on
// error it is unchanged.
func patchLib(lib []byte, m mode) (patched, error) {
	var p patched
	if !m.avx512 && !m.avxVNNI && !m.avx512VNNI {
		return p, fmt.Errorf("nothing to hide")
	}
	// Count the CPUID tests first, on the unpatched bytes, so the patches
	// cannot influence each other's matches and a refusal changes nothing.
	for _, c := range []struct {
		on   bool
		s    site
		want int
		what string
	}{
		{m.avxVNNI, avxVNNISite, wantAVXVNNISites, "AVX-VNNI"},
		{m.avx512VNNI, avx512VNNISite, wantAVX512VNNISites, "AVX512-VNNI"},
	} {
		if !c.on {
			continue
		}
		if n := bytes.Count(lib, c.s.old); n != c.want {
			return p, fmt.Errorf("found %d %s tests (%s), want %d; this build needs new patterns",
				n, c.what, c.s.name, c.want)
		}
	}
	if m.avx512 {
		p.xgetbv = patch(lib, xgetbvSites)
		if len(p.xgetbv) == 0 {
			return p, fmt.Errorf("no XGETBV site of a known shape; this build needs new patterns")
		}
	}
	if m.avxVNNI {
		p.avxVNNI = patch(lib, []site{avxVNNISite})
	}
	if m.avx512VNNI {
		p.avx512VNNI = patch(lib, []site{avx512VNNISite})
	}
	return p, nil
}

func main() {
	in := flag.String("in", "", "ONNX Runtime shared library to read (libonnxruntime.so.1)")
	out := flag.String("out", "", "where to write the patched copy")
	noAVXVNNI := flag.Bool("no-avxvnni", false, "also hide AVX-VNNI from MLAS (int8 GEMM as on an AVX2-only CPU)")
	noAVX512VNNI := flag.Bool("no-avx512vnni", false,
		"keep AVX-512 but hide AVX512-VNNI and AVX-VNNI from MLAS (int8 GEMM as on Intel Skylake-SP/X)")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "noavx512: --in and --out are required")
		os.Exit(2)
	}
	m := mode{avx512: true, avxVNNI: *noAVXVNNI}
	if *noAVX512VNNI {
		m = mode{avxVNNI: true, avx512VNNI: true}
	}
	lib, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "noavx512:", err)
		os.Exit(1)
	}
	p, err := patchLib(lib, m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "noavx512: %s: %v\n", *in, err)
		os.Exit(1)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "noavx512:", err)
		os.Exit(1)
	}
	// Write beside the target and rename, so a reader (zoo.sh) never loads
	// a half-written library.
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, lib, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "noavx512:", err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, *out); err != nil {
		fmt.Fprintln(os.Stderr, "noavx512:", err)
		os.Exit(1)
	}
	for _, o := range p.xgetbv {
		fmt.Printf("patched XGETBV at %#x\n", o)
	}
	for _, o := range p.avxVNNI {
		fmt.Printf("patched AVX-VNNI test at %#x\n", o)
	}
	for _, o := range p.avx512VNNI {
		fmt.Printf("patched AVX512-VNNI test at %#x\n", o)
	}
	fmt.Printf("noavx512: wrote %s (%d XGETBV sites, %d AVX-VNNI tests, %d AVX512-VNNI tests)\n",
		*out, len(p.xgetbv), len(p.avxVNNI), len(p.avx512VNNI))
}
