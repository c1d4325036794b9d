package demo

import "testing"

func TestSignedPointsHasNoNegativeZero(t *testing.T) {
	for v, want := range map[float64]string{-0.001: "+0.00", 0: "+0.00", 0.21: "+0.21", -1.5: "-1.50", -0.006: "-0.01"} {
		if got := signedPoints(v); got != want {
			t.Errorf("signedPoints(%v) = %q, want %q", v, got, want)
		}
	}
}
