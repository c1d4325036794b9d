package train

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/fileio"
	"github.com/qbench/qbench/progress"
)

// Config is a training run. The zero value of most fields picks a fast,
// sensible default (see Defaults).
type Config struct {
	// Arch is the network; Arch.Classes 0 takes the class count from the data.
	Arch Arch
	// Init, when set, is the starting model (resume / fine-tune); Arch is
	// then ignored.
	Init *Model

	Epochs    int
	BatchSize int
	Optim     OptimConfig
	Schedule  ScheduleConfig
	Augment   Augment
	// Seed drives initialisation, shuffling and augmentation: the same seed
	// and data give bit-identical weights, whatever Threads is.
	Seed    int64
	Threads int

	// Out is where the best checkpoint (by validation accuracy; the last
	// epoch without validation data) is written after each improving epoch,
	// via a temporary file and rename so an interrupted run never leaves a
	// half-written model. Empty: no checkpoint files.
	Out string
	// Write serialises a graph to a file (normally tflite.WriteFile). It is
	// required when Out is set.
	Write func(path string, g *graph.Graph) error
	// Metadata is stored in every exported graph (e.g. the preprocessing
	// spec under graph.MetadataPreprocess).
	Metadata map[string][]byte
	// Meta, when set, is the standard model metadata of every exported
	// graph (see ModelMeta); an empty Name or Description is filled from
	// the architecture.
	Meta *graph.ModelMeta
}

// Defaults fills zero fields: 10 epochs, batch 64, Adam at lr 1e-3 (SGD:
// 0.05), cosine schedule with min(1, epochs/5) warmup epochs. Weight decay
// and augmentation stay as given (zero means none); DefaultWeightDecay and
// DefaultAugment are the values qbench train uses.
func (c Config) Defaults() Config {
	if c.Epochs == 0 {
		c.Epochs = 10
	}
	if c.BatchSize == 0 {
		c.BatchSize = 64
	}
	if c.Optim.Name == "" {
		c.Optim.Name = OptAdam
	}
	if c.Optim.LR == 0 {
		if c.Optim.Name == OptSGD {
			c.Optim.LR = 0.05
		} else {
			c.Optim.LR = 1e-3
		}
	}
	if c.Schedule.Name == "" {
		c.Schedule.Name = SchedCosine
		if c.Schedule.WarmupEpochs == 0 {
			c.Schedule.WarmupEpochs = math.Min(1, float64(c.Epochs)/5)
		}
	}
	return c
}

// EpochStats summarises one epoch.
type EpochStats struct {
	Epoch     int     `json:"epoch"` // 1-based
	LR        float64 `json:"lr"`    // at the epoch's last step
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_accuracy"` // on augmented batches, during the epoch
	ValLoss   float64 `json:"val_loss"`
	ValAcc    float64 `json:"val_accuracy"` // NaN without validation data
	// Seconds is the training time of the epoch (without validation);
	// ImagesPerSec the training throughput.
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
	Best         bool    `json:"best"`
}

// Result is what a training run produced.
type Result struct {
	// Best is the model of the best epoch (by validation accuracy, or the
	// last epoch without validation data); Last the model after the last
	// completed epoch.
	Best, Last *Model
	History    []EpochStats
	BestEpoch  int
	BestValAcc float64
	// ImagesPerSec is the mean training throughput over all epochs.
	ImagesPerSec float64
	// Interrupted is set when ctx was cancelled; Best and the checkpoint
	// file then hold the last good epoch.
	Interrupted bool
}

// Validate checks the settings Run would refuse (epochs, batch size,
// learning rate, weight decay, momentum, schedule), after Defaults, so a
// command can reject bad flags before loading any image.
func (c Config) Validate() error { return c.Defaults().validate() }

func (c Config) validate() error {
	if c.Epochs < 0 || c.Epochs > 100000 {
		return fmt.Errorf("epochs %d out of range", c.Epochs)
	}
	if c.BatchSize <= 0 || c.BatchSize > 1<<16 {
		return fmt.Errorf("batch size %d out of range 1..65536", c.BatchSize)
	}
	if !(c.Optim.LR > 0) || math.IsInf(c.Optim.LR, 0) {
		return fmt.Errorf("learning rate %v must be positive", c.Optim.LR)
	}
	if c.Optim.WeightDecay < 0 || c.Optim.Momentum < 0 || c.Optim.Momentum >= 1 {
		return fmt.Errorf("weight decay %v / momentum %v out of range", c.Optim.WeightDecay, c.Optim.Momentum)
	}
	if c.Out != "" && c.Write == nil {
		return errors.New("an output path needs a Write function")
	}
	return c.Schedule.validate()
}

// Run trains a model on trainSet, validating on valSet (may be nil) after
// every epoch, and reports progress (loss, accuracy, images/s) on rep (may
// be nil). When ctx is cancelled it stops between batches and returns the
// result so far with Interrupted set, together with ctx's error.
func Run(ctx context.Context, cfg Config, trainSet, valSet *Data, rep *progress.Reporter) (*Result, error) {
	cfg = cfg.Defaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if trainSet.Len() == 0 {
		return nil, errors.New("train: the training set is empty")
	}
	m := cfg.Init
	if m != nil {
		m = m.Clone()
	} else {
		arch := cfg.Arch
		if arch.Classes == 0 {
			arch.Classes = len(trainSet.Classes)
		}
		var err error
		if m, err = New(arch, cfg.Seed); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if cfg.Metadata != nil {
		m.Metadata = cfg.Metadata
	}
	if cfg.Meta != nil {
		m.Meta = cfg.Meta.Clone()
		if m.Meta.Name == "" {
			m.Meta.Name = m.Arch.Name
		}
		if m.Meta.Description == "" {
			m.Meta.Description = "qbench train: " + m.Arch.String()
		}
		if _, ok := m.Metadata[graph.MetadataModelMeta]; ok {
			// A resumed model's raw metadata would be written instead of
			// the new Meta; drop it (from a copy: the map is the caller's).
			md := make(map[string][]byte, len(m.Metadata))
			for k, v := range m.Metadata {
				if k != graph.MetadataModelMeta {
					md[k] = v
				}
			}
			m.Metadata = md
		}
	}
	for _, d := range []*Data{trainSet, valSet} {
		if d.Len() == 0 {
			continue
		}
		if in := m.Arch.Input; d.H != in[0] || d.W != in[1] || d.C != in[2] {
			return nil, fmt.Errorf("train: data images are %dx%dx%d, the model takes %dx%dx%d", d.H, d.W, d.C, in[0], in[1], in[2])
		}
		for i, l := range d.Labels {
			if l >= m.Arch.Classes {
				return nil, fmt.Errorf("train: image %d has label %d but the model has %d classes", i, l, m.Arch.Classes)
			}
		}
	}
	opt, err := newOptimizer(cfg.Optim, m.decayMask())
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	batch := min(cfg.BatchSize, trainSet.Len())
	eng := newEngine(m, cfg.Threads, batch)
	n := trainSet.Len()
	stepsPerEpoch := (n + batch - 1) / batch
	total := stepsPerEpoch * cfg.Epochs
	res := &Result{BestEpoch: 0, BestValAcc: math.Inf(-1)}
	if rep == nil {
		rep = progress.New(nil, progress.Options{Quiet: true})
	}
	var trainTime float64
	var trainImages int
	step := 0
	for ep := 1; ep <= cfg.Epochs; ep++ {
		order := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(ep))).Perm(n)
		task := rep.Start(fmt.Sprintf("epoch %d/%d", ep, cfg.Epochs), int64(n), "images")
		var lossSum float64
		var correct, seen int
		var lr float64
		start := time.Now()
		for b := 0; b < stepsPerEpoch; b++ {
			if err := ctx.Err(); err != nil {
				task.Done()
				res.Interrupted = true
				return finish(res, m), fmt.Errorf("train: interrupted in epoch %d: %w", ep, err)
			}
			lo, hi := b*batch, min((b+1)*batch, n)
			idx := order[lo:hi]
			fill := func(x, tmp []float32, labels []int, clo, chi int) {
				sz := m.InputSize()
				for k := clo; k < chi; k++ {
					dst := x[(k-clo)*sz : (k-clo+1)*sz]
					i := idx[k]
					labels[k-clo] = trainSet.Labels[i]
					if !cfg.Augment.Enabled() {
						trainSet.Image(i, dst)
						continue
					}
					trainSet.Image(i, tmp)
					cfg.Augment.apply(augmentRNG(cfg.Seed, ep, lo+k), tmp, dst, trainSet.H, trainSet.W, trainSet.C)
				}
			}
			l, c := eng.pass(hi-lo, fill, true)
			lr = cfg.Schedule.lrAt(cfg.Optim.LR, step, total, stepsPerEpoch)
			opt.step(m.Params, eng.grads[0], lr)
			step++
			lossSum += l
			correct += c
			seen += hi - lo
			task.Add(int64(hi - lo))
			task.SetStatus(fmt.Sprintf("loss %.4f acc %.1f%%", lossSum/float64(seen), 100*float64(correct)/float64(seen)))
		}
		el := time.Since(start).Seconds()
		trainTime += el
		trainImages += n
		st := EpochStats{Epoch: ep, LR: lr, TrainLoss: lossSum / float64(n), TrainAcc: float64(correct) / float64(n),
			Seconds: el, ImagesPerSec: float64(n) / el, ValAcc: math.NaN(), ValLoss: math.NaN()}
		if valSet.Len() > 0 {
			vl, va := evaluate(eng, valSet)
			st.ValLoss, st.ValAcc = vl, va
		}
		score := st.ValAcc
		if math.IsNaN(score) {
			score = math.Inf(1) // no validation: the latest epoch is the best
		}
		if score > res.BestValAcc || res.Best == nil {
			st.Best = true
			res.Best, res.BestEpoch, res.BestValAcc = m.Clone(), ep, score
			if cfg.Out != "" {
				if err := SaveAtomic(cfg.Out, res.Best.Graph(), cfg.Write); err != nil {
					task.Done()
					return finish(res, m), fmt.Errorf("train: epoch %d: %w", ep, err)
				}
			}
		}
		status := fmt.Sprintf("loss %.4f acc %.1f%%", st.TrainLoss, 100*st.TrainAcc)
		if !math.IsNaN(st.ValAcc) {
			status += fmt.Sprintf(" val_loss %.4f val_acc %.2f%%", st.ValLoss, 100*st.ValAcc)
		}
		if st.Best {
			status += " *"
		}
		task.SetStatus(status)
		task.Done()
		res.History = append(res.History, st)
		res.ImagesPerSec = float64(trainImages) / trainTime
	}
	rep.Wait()
	return finish(res, m), nil
}

// finish records the last model and tidies the best score for callers.
func finish(res *Result, m *Model) *Result {
	res.Last = m.Clone()
	if math.IsInf(res.BestValAcc, 0) {
		res.BestValAcc = math.NaN()
	}
	return res
}

// evaluate returns the mean loss and accuracy of the model on d, without
// augmentation.
func evaluate(eng *engine, d *Data) (loss, acc float64) {
	sz := d.Size()
	bs := chunkSize * len(eng.ws) * 4
	var sum float64
	var correct int
	for lo := 0; lo < d.Len(); lo += bs {
		hi := min(lo+bs, d.Len())
		l, c := eng.pass(hi-lo, func(x, _ []float32, labels []int, clo, chi int) {
			for k := clo; k < chi; k++ {
				d.Image(lo+k, x[(k-clo)*sz:(k-clo+1)*sz])
				labels[k-clo] = d.Labels[lo+k]
			}
		}, false)
		sum += l
		correct += c
	}
	return sum / float64(d.Len()), float64(correct) / float64(d.Len())
}

// Evaluate returns the mean cross-entropy and accuracy of m on d using
// threads workers.
func Evaluate(m *Model, d *Data, threads int) (loss, acc float64, err error) {
	if d.Len() == 0 {
		return 0, 0, errors.New("evaluate: empty data set")
	}
	if in := m.Arch.Input; d.H != in[0] || d.W != in[1] || d.C != in[2] {
		return 0, 0, fmt.Errorf("evaluate: images are %dx%dx%d, the model takes %dx%dx%d", d.H, d.W, d.C, in[0], in[1], in[2])
	}
	for i, l := range d.Labels {
		if l >= m.Arch.Classes {
			return 0, 0, fmt.Errorf("evaluate: image %d has label %d but the model has %d classes", i, l, m.Arch.Classes)
		}
	}
	eng := newEngine(m, threads, chunkSize*max(threads, 1)*4)
	loss, acc = evaluate(eng, d)
	return loss, acc, nil
}

// SaveAtomic writes g to path through write, first to a temporary file in
// the same directory and then renaming it over path, so readers (and a
// run interrupted mid-write) only ever see a complete file. The file gets
// mode 0666 minus the umask. Errors name path once (never the temporary
// name).
func SaveAtomic(path string, g *graph.Graph, write func(string, *graph.Graph) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := fileio.CreateTemp(dir, "."+base+".tmp")
	if err != nil {
		return fmt.Errorf("write checkpoint %w", &fileio.Error{Path: path, Err: reason(err)})
	}
	tmp := f.Name()
	f.Close()
	if err := write(tmp, g); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", path, reason(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", path, reason(err))
	}
	return nil
}

// reason strips the (temporary) path from a file error, leaving why it
// failed.
func reason(err error) error {
	var fe *fileio.Error
	if errors.As(err, &fe) {
		return fe.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
