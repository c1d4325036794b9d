package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestPatchRewritesBothShapesOnce(t *testing.T) {
	lib := []byte{
		0x90, 0x31, 0xc9, 0x0f, 0x01, 0xd0, 0x89, 0xc0, // both shapes overlap: first wins
		0x48, 0x0f, 0x01, 0xd0, 0x89, 0xc0, // second shape alone
		0x83, 0xe0, 0x0f, 0x01, 0xd0, 0x41, // and eax,0xf; add eax,edx: not an XGETBV, left alone
	}
	want := []byte{
		0x90, 0x31, 0xc9, 0x8d, 0x41, 0x07, 0x89, 0xc0,
		0x48, 0xb8, 0x07, 0x00, 0x00, 0x00,
		0x83, 0xe0, 0x0f, 0x01, 0xd0, 0x41,
	}
	offs := patch(lib, xgetbvSites)
	if !bytes.Equal(lib, want) {
		t.Fatalf("patched bytes\n got % x\nwant % x", lib, want)
	}
	if !slices.Equal(offs, []int{1, 9}) {
		t.Fatalf("offsets %v, want [1 9]", offs)
	}
}

// mlasVNNITest is ORT 1.30's MLAS AVX-VNNI test as compiled: mov eax,7;
// mov ecx,1; cpuid; test al,0x10; je +0x38.
var mlasVNNITest = []byte{0xb8, 0x07, 0x00, 0x00, 0x00, 0xb9, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xa8, 0x10, 0x74, 0x38}

// xgetbvOnly is one XGETBV site, so patchLib accepts the library.
var xgetbvOnly = []byte{0x31, 0xc9, 0x0f, 0x01, 0xd0}

func TestPatchLibHidesAVXVNNI(t *testing.T) {
	lib := slices.Concat(
		xgetbvOnly,
		[]byte{0xcc},
		mlasVNNITest,
		// test al,0x10; je without the CPUID(7,1) before it (any other
		// bit test in the library): left alone.
		[]byte{0x0f, 0xa2, 0xa8, 0x10, 0x74, 0x05},
		// CPUID(7,1) testing EAX bit 5 (ORT's AVX512-BF16 read): left alone.
		[]byte{0xb8, 0x07, 0x00, 0x00, 0x00, 0xb9, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xa8, 0x20, 0x74, 0x38},
	)
	want := slices.Clone(lib)
	copy(want, []byte{0x31, 0xc9, 0x8d, 0x41, 0x07})
	want[len(xgetbvOnly)+1+14] = 0xeb // je -> jmp, displacement 0x38 kept
	p, err := patchLib(lib, mode{avx512: true, avxVNNI: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lib, want) {
		t.Fatalf("patched bytes\n got % x\nwant % x", lib, want)
	}
	if !slices.Equal(p.xgetbv, []int{0}) || !slices.Equal(p.avxVNNI, []int{len(xgetbvOnly) + 1}) || p.avx512VNNI != nil {
		t.Fatalf("offsets %+v, want xgetbv [0] avxVNNI [%d]", p, len(xgetbvOnly)+1)
	}
}

func TestPatchLibWithoutFlagKeepsAVXVNNI(t *testing.T) {
	lib := slices.Concat(xgetbvOnly, mlasVNNITest, mlasVNNITest) // two tests would be refused with the flag
	p, err := patchLib(lib, mode{avx512: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.xgetbv) != 1 || len(p.avxVNNI) != 0 || !bytes.Equal(lib[len(xgetbvOnly):], slices.Concat(mlasVNNITest, mlasVNNITest)) {
		t.Fatalf("offsets %+v, bytes % x: AVX-VNNI test changed without --no-avxvnni", p, lib)
	}
}

func TestPatchLibRefusesUnexpectedAVXVNNICount(t *testing.T) {
	for _, tc := range []struct {
		name string
		lib  []byte
	}{
		{"none", slices.Concat(xgetbvOnly, []byte{0x0f, 0xa2, 0xa8, 0x10, 0x74, 0x38})},
		{"two", slices.Concat(xgetbvOnly, mlasVNNITest, []byte{0x90}, mlasVNNITest)},
	} {
		orig := slices.Clone(tc.lib)
		_, err := patchLib(tc.lib, mode{avx512: true, avxVNNI: true})
		if err == nil || !strings.Contains(err.Error(), "AVX-VNNI tests") {
			t.Errorf("%s: err %v, want a refusal naming the AVX-VNNI tests", tc.name, err)
		}
		if !bytes.Equal(tc.lib, orig) {
			t.Errorf("%s: library changed although refused", tc.name)
		}
	}
}

func TestPatchLibRefusesWithoutXGETBV(t *testing.T) {
	if _, err := patchLib(slices.Clone(mlasVNNITest), mode{avx512: true, avxVNNI: true}); err == nil {
		t.Fatal("accepted a library without an XGETBV site")
	}
}

// mlasAVX512VNNITest is ORT 1.30's MLAS AVX512-VNNI test as compiled: and
// r11d,0x800; mov byte ptr [rdi+1],1.
var mlasAVX512VNNITest = []byte{0x41, 0x81, 0xe3, 0x00, 0x08, 0x00, 0x00, 0xc6, 0x47, 0x01, 0x01}

func TestPatchLibSkylakeKeepsAVX512(t *testing.T) {
	lib := slices.Concat(
		xgetbvOnly, // kept: AVX-512 stays visible
		mlasVNNITest,
		[]byte{0x90},
		mlasAVX512VNNITest,
		// and r11d,0x800 without the Avx512Supported_ store after it: left alone.
		[]byte{0x41, 0x81, 0xe3, 0x00, 0x08, 0x00, 0x00, 0xc3},
	)
	want := slices.Clone(lib)
	vnniAt := len(xgetbvOnly)
	want[vnniAt+14] = 0xeb
	avx512At := vnniAt + len(mlasVNNITest) + 1
	want[avx512At+4] = 0x00 // mask 0x800 -> 0
	p, err := patchLib(lib, mode{avxVNNI: true, avx512VNNI: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lib, want) {
		t.Fatalf("patched bytes\n got % x\nwant % x", lib, want)
	}
	if p.xgetbv != nil || !slices.Equal(p.avxVNNI, []int{vnniAt}) || !slices.Equal(p.avx512VNNI, []int{avx512At}) {
		t.Fatalf("offsets %+v, want no XGETBV, AVX-VNNI [%d], AVX512-VNNI [%d]", p, vnniAt, avx512At)
	}
}

func TestPatchLibRefusesUnexpectedAVX512VNNICount(t *testing.T) {
	for _, tc := range []struct {
		name string
		lib  []byte
	}{
		{"none", slices.Concat(mlasVNNITest, []byte{0x41, 0x81, 0xe3, 0x00, 0x08, 0x00, 0x00, 0xc3})},
		{"two", slices.Concat(mlasVNNITest, mlasAVX512VNNITest, []byte{0x90}, mlasAVX512VNNITest)},
	} {
		orig := slices.Clone(tc.lib)
		_, err := patchLib(tc.lib, mode{avxVNNI: true, avx512VNNI: true})
		if err == nil || !strings.Contains(err.Error(), "AVX512-VNNI tests") {
			t.Errorf("%s: err %v, want a refusal naming the AVX512-VNNI tests", tc.name, err)
		}
		if !bytes.Equal(tc.lib, orig) {
			t.Errorf("%s: library changed although refused", tc.name)
		}
	}
	// The AVX-VNNI test missing is refused too, before anything is written.
	lib := slices.Clone(mlasAVX512VNNITest)
	if _, err := patchLib(lib, mode{avxVNNI: true, avx512VNNI: true}); err == nil ||
		!strings.Contains(err.Error(), "AVX-VNNI tests") || !bytes.Equal(lib, mlasAVX512VNNITest) {
		t.Errorf("err %v, bytes % x: want a refusal naming the AVX-VNNI tests and no change", err, lib)
	}
}

func TestPatchLibRefusesEmptyMode(t *testing.T) {
	if _, err := patchLib(slices.Clone(xgetbvOnly), mode{}); err == nil {
		t.Fatal("accepted a mode that hides nothing")
	}
}
