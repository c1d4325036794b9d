package train

import (
	"fmt"
	"math"
)

// Optimizer names accepted by OptimConfig.Name.
const (
	OptAdam = "adam"
	OptSGD  = "sgd"
)

// OptimConfig selects and tunes the optimizer.
type OptimConfig struct {
	// Name is "adam" (AdamW: Adam with decoupled weight decay) or "sgd"
	// (momentum SGD with L2 weight decay added to the gradient).
	Name string
	// LR is the peak learning rate.
	LR float64
	// Momentum is SGD's momentum (default 0.9); Beta1/Beta2/Eps are Adam's
	// (defaults 0.9, 0.999, 1e-8).
	Momentum     float64
	Nesterov     bool
	Beta1, Beta2 float64
	Eps          float64
	// WeightDecay applies to weights only, never to biases.
	WeightDecay float64
}

// DefaultWeightDecay is the usual decay for an optimizer: 0.01 for Adam,
// whose decay is decoupled (AdamW: it shrinks weights by lr·λ per step),
// and 5e-4 for SGD, whose decay is an L2 term added to the gradient.
func DefaultWeightDecay(optimizer string) float64 {
	if optimizer == OptSGD {
		return 5e-4
	}
	return 0.01
}

// optimizer updates parameters in place from a gradient.
type optimizer interface {
	step(params, grad []float32, lr float64)
}

func newOptimizer(c OptimConfig, decay []bool) (optimizer, error) {
	n := len(decay)
	switch c.Name {
	case OptAdam, "adamw", "":
		o := &adam{b1: c.Beta1, b2: c.Beta2, eps: c.Eps, wd: c.WeightDecay, decay: decay,
			m: make([]float32, n), v: make([]float32, n)}
		if o.b1 == 0 {
			o.b1 = 0.9
		}
		if o.b2 == 0 {
			o.b2 = 0.999
		}
		if o.eps == 0 {
			o.eps = 1e-8
		}
		return o, nil
	case OptSGD:
		mu := c.Momentum
		if mu == 0 {
			mu = 0.9
		}
		return &sgd{mu: float32(mu), nesterov: c.Nesterov, wd: float32(c.WeightDecay), decay: decay, v: make([]float32, n)}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (want adam or sgd)", c.Name)
}

// sgd is momentum SGD: v ← μv + g + λw; w ← w − η·v (or, Nesterov,
// w ← w − η·(g + λw + μv)).
type sgd struct {
	mu, wd   float32
	nesterov bool
	decay    []bool
	v        []float32
}

func (o *sgd) step(p, g []float32, lr float64) {
	eta := float32(lr)
	for i := range p {
		gi := g[i]
		if o.decay[i] {
			gi += o.wd * p[i]
		}
		v := o.mu*o.v[i] + gi
		o.v[i] = v
		if o.nesterov {
			p[i] -= eta * (gi + o.mu*v)
		} else {
			p[i] -= eta * v
		}
	}
}

// adam is Adam with AdamW's decoupled weight decay: the decay shrinks
// weights directly (w ← w − η·λ·w) instead of passing through the adaptive
// moments, which would weaken it for parameters with large gradients.
type adam struct {
	b1, b2, eps, wd float64
	decay           []bool
	m, v            []float32
	t               int
}

func (o *adam) step(p, g []float32, lr float64) {
	o.t++
	// Fold bias corrections into one step size (Kingma & Ba, section 2).
	c1 := 1 - math.Pow(o.b1, float64(o.t))
	c2 := 1 - math.Pow(o.b2, float64(o.t))
	alpha := float32(lr * math.Sqrt(c2) / c1)
	eps := float32(o.eps * math.Sqrt(c2))
	b1, b2 := float32(o.b1), float32(o.b2)
	wd := float32(lr * o.wd)
	for i := range p {
		gi := g[i]
		m := b1*o.m[i] + (1-b1)*gi
		v := b2*o.v[i] + (1-b2)*gi*gi
		o.m[i], o.v[i] = m, v
		if o.decay[i] {
			p[i] -= wd * p[i]
		}
		p[i] -= alpha * m / (float32(math.Sqrt(float64(v))) + eps)
	}
}

// Schedule names accepted by ScheduleConfig.Name.
const (
	SchedCosine   = "cosine"
	SchedStep     = "step"
	SchedConstant = "constant"
)

// ScheduleConfig is the learning-rate schedule, evaluated every step.
type ScheduleConfig struct {
	// Name is "cosine" (linear warmup then cosine decay to MinFactor·LR),
	// "step" (multiply by Gamma every StepEpochs epochs) or "constant".
	Name string
	// WarmupEpochs of linear warmup from 0 (cosine only; fractional allowed).
	WarmupEpochs float64
	// MinFactor is the cosine floor as a fraction of LR (default 0).
	MinFactor float64
	// StepEpochs and Gamma configure "step" (defaults 10 and 0.1).
	StepEpochs int
	Gamma      float64
}

// lrAt returns the learning rate at step (0-based) of total steps, with
// stepsPerEpoch steps in an epoch.
func (s ScheduleConfig) lrAt(base float64, step, total, stepsPerEpoch int) float64 {
	switch s.Name {
	case SchedStep:
		every := s.StepEpochs
		if every <= 0 {
			every = 10
		}
		gamma := s.Gamma
		if gamma == 0 {
			gamma = 0.1
		}
		return base * math.Pow(gamma, float64(step/stepsPerEpoch/every))
	case SchedConstant:
		return base
	}
	warm := int(math.Round(s.WarmupEpochs * float64(stepsPerEpoch)))
	if step < warm {
		return base * float64(step+1) / float64(warm)
	}
	span := total - warm
	if span <= 1 {
		return base
	}
	frac := float64(step-warm) / float64(span-1)
	lo := base * s.MinFactor
	return lo + (base-lo)*0.5*(1+math.Cos(math.Pi*frac))
}

func (s ScheduleConfig) validate() error {
	switch s.Name {
	case "", SchedCosine, SchedStep, SchedConstant:
	default:
		return fmt.Errorf("unknown learning-rate schedule %q (want cosine, step or constant)", s.Name)
	}
	if s.WarmupEpochs < 0 || s.MinFactor < 0 || s.MinFactor > 1 || s.Gamma < 0 || s.StepEpochs < 0 {
		return fmt.Errorf("learning-rate schedule %+v: negative or out-of-range value", s)
	}
	return nil
}
