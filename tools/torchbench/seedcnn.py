#!/usr/bin/python3
"""Peer throughput measurement of seed-cnn in PyTorch (CPU).

Builds the same network as qbench's train.SeedCNN(30) (80x80x3 input; four
blocks conv 3x3 SAME -> max-pool 2x2 -> ReLU with 16, 32, 64, 128 filters;
dense 3200->256 ReLU; dense 256->30; softmax cross-entropy) and measures:

  train   images/s of one training step at batch 64 (forward, backward,
          Adam step; lr 1e-4, betas 0.9/0.999, eps 1e-8, no weight decay,
          no augmentation, data in memory) -- what BenchmarkTrainSeedCNN in
          train/bench_test.go does;
  float   inference images/s (eval mode, softmax output) at batch 1 and 64;
  int8    post-training static quantized inference images/s at batch 1, 64.

Each thread count runs in its own child process because the OpenMP and
BLAS pools read OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS at
load time; torch.set_num_threads alone does not resize every pool.

Run: /usr/bin/python3 tools/torchbench/seedcnn.py [--threads 1,2] [--seconds 2]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CLASSES = 30
TRAIN_BATCH = 64
# qbench inspect's parameter count of seed-cnn (weights and biases): conv
# 448 + 4640 + 18496 + 73856, dense 819456 + 7710.
SEEDCNN_PARAMS = 924606


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2",
                   help="comma-separated thread counts, each run in a child process")
    p.add_argument("--batches", default="1,64", help="inference batch sizes")
    p.add_argument("--seconds", type=float, default=2.0, help="length of one timed round")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds; the median is printed")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per case")
    p.add_argument("--only", default="train,float,int8",
                   help="comma-separated subset of train,float,int8")
    p.add_argument("--layout", choices=["nchw", "nhwc"], default="nchw",
                   help="memory layout inside the network: PyTorch's default NCHW, or "
                        "channels_last (NHWC, qbench's layout)")
    p.add_argument("--qengine", default="onednn",
                   help="quantized engine; falls back to qnnpack if it is unavailable or fails")
    p.add_argument("--json", action="store_true", help="also print one JSON line per result")
    p.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def build_modules(torch):
    """Returns the float model class and its quantizable variant."""
    nn = torch.nn

    class SeedCNN(nn.Module):
        """qbench's seed-cnn. Takes NHWC input (N, 80, 80, 3) like qbench."""

        def __init__(self, layout):
            super().__init__()
            self.layout = layout
            chans = [3, 16, 32, 64, 128]
            self.convs = nn.ModuleList(
                nn.Conv2d(chans[i], chans[i + 1], 3, padding=1) for i in range(4))
            self.pool = nn.MaxPool2d(2)
            self.fc1 = nn.Linear(5 * 5 * 128, 256)
            self.fc2 = nn.Linear(256, CLASSES)

        def forward(self, x):
            # The NHWC input viewed as NCHW: a free permute whose strides are
            # channels_last; nchw copies it to PyTorch's default layout.
            x = x.permute(0, 3, 1, 2)
            x = x.contiguous(memory_format=torch.channels_last if self.layout == "nhwc"
                             else torch.contiguous_format)
            for conv in self.convs:
                x = torch.relu(self.pool(conv(x)))
            # Flatten in H, W, C order as qbench does, so weights would map 1:1.
            x = x.permute(0, 2, 3, 1).flatten(1)
            return self.fc2(torch.relu(self.fc1(x)))

    class QuantSeedCNN(nn.Module):
        """The same function arranged for eager-mode static quantization.

        ReLU sits before the pool here (conv+ReLU fuse into one quantized op);
        max-pool and ReLU commute, so in float this equals pool-then-ReLU.
        """

        def __init__(self, layout):
            super().__init__()
            self.layout = layout
            chans = [3, 16, 32, 64, 128]
            self.quant = torch.ao.quantization.QuantStub()
            self.dequant = torch.ao.quantization.DeQuantStub()
            self.convs = nn.ModuleList(
                nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1), nn.ReLU())
                for i in range(4))
            self.pool = nn.MaxPool2d(2)
            self.fc1 = nn.Sequential(nn.Linear(5 * 5 * 128, 256), nn.ReLU())
            self.fc2 = nn.Linear(256, CLASSES)

        def forward(self, x):
            x = x.permute(0, 3, 1, 2)
            x = x.contiguous(memory_format=torch.channels_last if self.layout == "nhwc"
                             else torch.contiguous_format)
            x = self.quant(x)
            for block in self.convs:
                x = self.pool(block(x))
            x = x.permute(0, 2, 3, 1).flatten(1)
            x = self.fc2(self.fc1(x))
            return torch.softmax(self.dequant(x), dim=1)

    return SeedCNN, QuantSeedCNN


def timed(fn, images_per_call, seconds, rounds, warmup):
    """Median images/s and images per CPU-second over rounds of ~seconds each."""
    t_end = time.perf_counter() + warmup
    fn()
    while time.perf_counter() < t_end:
        fn()
    wall, cpu = [], []
    for _ in range(rounds):
        n = 0
        c0, t0 = time.process_time(), time.perf_counter()
        t_end = t0 + seconds
        while True:
            fn()
            n += 1
            t = time.perf_counter()
            if t >= t_end:
                break
        c = time.process_time() - c0
        wall.append(n * images_per_call / (t - t0))
        cpu.append(n * images_per_call / c if c > 0 else float("nan"))
    return statistics.median(wall), statistics.median(cpu), wall


def child(args):
    import torch

    threads = args.child
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    SeedCNN, QuantSeedCNN = build_modules(torch)
    only = set(args.only.split(","))
    batches = [int(b) for b in args.batches.split(",")]
    results = []

    def report(kind, batch, engine, med, cpu_med, rounds):
        r = {"kind": kind, "threads": threads, "batch": batch, "layout": args.layout,
             "engine": engine, "images_per_s": round(med, 1),
             "images_per_cpu_s": round(cpu_med, 1), "rounds": [round(x, 1) for x in rounds]}
        results.append(r)
        print(f"{kind:5s} threads={threads} batch={batch:<3d} layout={args.layout} "
              f"engine={engine:7s} median {med:8.1f} images/s  "
              f"({cpu_med:8.1f} images/cpu-s)  rounds {' '.join(f'{x:.0f}' for x in rounds)}",
              flush=True)
        if args.json:
            print(json.dumps(r), flush=True)

    gen = torch.Generator().manual_seed(2)

    def images(n):
        return torch.rand(n, 80, 80, 3, generator=gen) * 2 - 1

    n_params = sum(p.numel() for p in SeedCNN(args.layout).parameters())
    assert n_params == SEEDCNN_PARAMS, f"{n_params} parameters, qbench's seed-cnn has {SEEDCNN_PARAMS}"

    if "train" in only:
        model = SeedCNN(args.layout).train()
        if args.layout == "nhwc":
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.999),
                               eps=1e-8, weight_decay=0)
        loss_fn = torch.nn.CrossEntropyLoss()  # mean over the batch, like qbench
        x = images(TRAIN_BATCH)
        y = torch.randint(0, CLASSES, (TRAIN_BATCH,), generator=gen)

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()

        report("train", TRAIN_BATCH, "float32",
               *timed(step, TRAIN_BATCH, args.seconds, args.rounds, args.warmup))

    if "float" in only:
        model = SeedCNN(args.layout).eval()
        if args.layout == "nhwc":
            model = model.to(memory_format=torch.channels_last)
        for b in batches:
            x = images(b)

            def infer():
                with torch.inference_mode():
                    torch.softmax(model(x), dim=1)

            report("float", b, "float32", *timed(infer, b, args.seconds, args.rounds, args.warmup))

    if "int8" in only:
        engine = pick_qengine(torch, args.qengine)
        qmodel = quantize(torch, QuantSeedCNN(args.layout), engine, images)
        for b in batches:
            x = images(b)

            def qinfer():
                with torch.inference_mode():
                    qmodel(x)

            report("int8", b, engine, *timed(qinfer, b, args.seconds, args.rounds, args.warmup))

    return results


def pick_qengine(torch, want):
    """Sets and returns the quantized engine: want, else qnnpack."""
    supported = torch.backends.quantized.supported_engines
    for e in (want, "qnnpack"):
        if e in supported:
            try:
                torch.backends.quantized.engine = e
                return e
            except RuntimeError:
                continue
    raise SystemExit(f"no usable quantized engine among {supported}")


def quantize(torch, model, engine, images):
    """Post-training static quantization, calibrated on random images.

    The calibration data only sets scales; throughput does not depend on it.
    """
    q = torch.ao.quantization
    model.eval()
    for block in model.convs:
        q.fuse_modules(block, [["0", "1"]], inplace=True)
    q.fuse_modules(model.fc1, [["0", "1"]], inplace=True)
    model.qconfig = q.get_default_qconfig(engine)
    q.prepare(model, inplace=True)
    with torch.inference_mode():
        for _ in range(4):
            model(images(16))
    q.convert(model, inplace=True)
    # Fail here, not inside a timed loop, if the int8 graph does not run.
    with torch.inference_mode():
        out = model(images(2))
    assert out.shape == (2, CLASSES), out.shape
    return model


def main(argv):
    args = parse_args(argv)
    if args.child:
        child(args)
        return
    import platform
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  host {platform.node()}  "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    import torch  # only for the version line; children do the work
    print(f"# torch {torch.__version__}  quantized engines {torch.backends.quantized.supported_engines}",
          flush=True)
    for t in [int(s) for s in args.threads.split(",")]:
        env = dict(os.environ)
        for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[k] = str(t)
        rc = subprocess.call([sys.executable, os.path.abspath(__file__), "--child", str(t)]
                             + argv, env=env)
        if rc != 0:
            sys.exit(rc)


if __name__ == "__main__":
    main(sys.argv[1:])
