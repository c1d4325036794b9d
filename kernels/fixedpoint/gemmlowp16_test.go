package fixedpoint

import (
	"math"
	"testing"
)

// TestLogisticTanh16 checks the 16-bit gemmlowp exp, logistic and tanh on
// every int16 input for the integer-bit counts the LSTM uses against
// float64. The bounds are what 16-bit gemmlowp reaches: exp within 2 steps
// of Q0.15; the Newton division runs in Q2.13 and is shifted up by one
// (logistic) or two (tanh) bits, so those are within 8 and 16 steps
// (measured: 6.7 and 12.0). The exact values at zero are checked too.
func TestLogisticTanh16(t *testing.T) {
	for ib := 0; ib <= 6; ib++ {
		scale := math.Ldexp(1, ib-15)
		worstL, worstT, worstE := 0.0, 0.0, 0.0
		for v := -1 << 15; v < 1<<15; v++ {
			x := float64(v) * scale
			worstL = max(worstL, math.Abs(float64(Logistic16(int16(v), ib))-math.Min(1/(1+math.Exp(-x))*32768, 32767)))
			worstT = max(worstT, math.Abs(float64(Tanh16(int16(v), ib))-math.Max(math.Min(math.Tanh(x)*32768, 32767), -32768)))
			if v <= 0 {
				worstE = max(worstE, math.Abs(float64(ExpOnNegativeValues16(int16(v), ib))-math.Min(math.Exp(x)*32768, 32767)))
			}
		}
		if worstE > 2 || worstL > 8 || worstT > 16 {
			t.Errorf("ib %d: worst error exp %.1f, logistic %.1f, tanh %.1f steps of 2^-15", ib, worstE, worstL, worstT)
		}
	}
	if Logistic16(0, 3) != 1<<14 || Tanh16(0, 3) != 0 || ExpOnNegativeValues16(0, 3) != One16 {
		t.Errorf("logistic(0) = %d, tanh(0) = %d, exp(0) = %d", Logistic16(0, 3), Tanh16(0, 3), ExpOnNegativeValues16(0, 3))
	}
}
