package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/qbench/qbench/interp"
	"github.com/spf13/pflag"
)

// arenaFlag is --max-arena: the activation memory one executor may use
// (interp.Options.MaxArenaBytes), given as a size such as 512MB or 2GiB.
// Unset, it is 0 and the interpreter's default applies.
type arenaFlag struct{ bytes int64 }

func (f *arenaFlag) String() string {
	if f.bytes == 0 {
		return formatSize(interp.DefaultMaxArenaBytes)
	}
	return formatSize(f.bytes)
}

func (f *arenaFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	f.bytes = n
	return nil
}

func (f *arenaFlag) Type() string { return "size" }

func addMaxArenaFlag(fs *pflag.FlagSet, f *arenaFlag) {
	fs.Var(f, "max-arena", "most activation memory one model instance may use, e.g. 512MB or 4GiB (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024); a model needing more is refused when compiled")
}

// sizeUnits are the suffixes parseSize accepts, longest first so "MiB"
// is not read as "B".
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseSize reads a positive byte count: a number (decimals allowed
// with a unit) and an optional unit, case-insensitive, spaces allowed
// between them. K, M, G and T alone are powers of 1024, as in ulimit.
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || t == "" || strings.ContainsAny(t, "xpn_i") {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit, such as 512MB, 2GiB or 1048576", s)
	}
	b := v * float64(mult)
	if !(b >= 1) || b >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: must be at least 1 byte and below 8 EiB", s)
	}
	return int64(b), nil
}

// formatSize writes n bytes in the largest binary unit dividing it.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.mult == 0 {
			return fmt.Sprintf("%d%s", n/u.mult, u.suffix)
		}
	}
	return fmt.Sprintf("%dB", n)
}
