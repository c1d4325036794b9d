package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseConfigs(t *testing.T) {
	cs, err := parseConfigs("1x1, 2x64")
	if err != nil || len(cs) != 2 || cs[0] != (config{1, 1}) || cs[1] != (config{2, 64}) {
		t.Fatalf("parseConfigs = %v, %v", cs, err)
	}
	for _, bad := range []string{"", "2", "0x1", "1x0", "ax2", "1x1,"} {
		if _, err := parseConfigs(bad); err == nil {
			t.Errorf("parseConfigs(%q): no error", bad)
		}
	}
	if _, err := parseVariants("default,avx3"); err == nil {
		t.Error("parseVariants accepted an unknown variant")
	}
}

func TestParsePeak(t *testing.T) {
	p, err := parsePeak([]byte(`{"model":"m","peak_memory_mb":21.5}` + "\n"))
	if err != nil || p != 21.5 {
		t.Fatalf("parsePeak = %v, %v", p, err)
	}
	if _, err := parsePeak([]byte(`{"model":"m"}`)); err == nil {
		t.Error("parsePeak accepted a line without peak_memory_mb")
	}
	if _, err := parsePeak([]byte("not json")); err == nil {
		t.Error("parsePeak accepted non-JSON")
	}
}

func TestTableBound(t *testing.T) {
	m := &model{name: "m", weights: 1 << 20, plan: map[int]int{1: 1 << 19, 64: 3 << 20}}
	cs := []config{{1, 1}, {2, 64}}
	if got := m.bound(cs[0]); got != 21.5 {
		t.Errorf("bound 1t b1 = %v, want 21.5", got)
	}
	if got := m.bound(cs[1]); got != 27 {
		t.Errorf("bound 2t b64 = %v, want 27", got)
	}
	var b bytes.Buffer
	writeTable(&b, []*model{m}, cs, variants[:2], [][][]float64{{{20, 26}, {21, 27.5}}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines:\n%s", len(lines), b.String())
	}
	row := lines[2]
	for _, want := range []string{"| m | 1.05 |", "20.0 / 26.0", "21.0 / **27.5**", "-0.5 (cascadelake 2t b64)"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
}
