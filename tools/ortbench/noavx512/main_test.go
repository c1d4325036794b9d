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
	x, v, err := patchLib(lib, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lib, want) {
		t.Fatalf("patched bytes\n got % x\nwant % x", lib, want)
	}
	if !slices.Equal(x, []int{0}) || !slices.Equal(v, []int{len(xgetbvOnly) + 1}) {
		t.Fatalf("offsets %v %v, want [0] [%d]", x, v, len(xgetbvOnly)+1)
	}
}

func TestPatchLibWithoutFlagKeepsAVXVNNI(t *testing.T) {
	lib := slices.Concat(xgetbvOnly, mlasVNNITest, mlasVNNITest) // two tests would be refused with the flag
	x, v, err := patchLib(lib, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 1 || len(v) != 0 || !bytes.Equal(lib[len(xgetbvOnly):], slices.Concat(mlasVNNITest, mlasVNNITest)) {
		t.Fatalf("offsets %v %v, bytes % x: AVX-VNNI test changed without --no-avxvnni", x, v, lib)
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
		_, _, err := patchLib(tc.lib, true)
		if err == nil || !strings.Contains(err.Error(), "AVX-VNNI tests") {
			t.Errorf("%s: err %v, want a refusal naming the AVX-VNNI tests", tc.name, err)
		}
		if !bytes.Equal(tc.lib, orig) {
			t.Errorf("%s: library changed although refused", tc.name)
		}
	}
}

func TestPatchLibRefusesWithoutXGETBV(t *testing.T) {
	if _, _, err := patchLib(slices.Clone(mlasVNNITest), true); err == nil {
		t.Fatal("accepted a library without an XGETBV site")
	}
}
