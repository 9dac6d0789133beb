#!/usr/bin/env python3
"""Nabla side by side with TorchSharp (libtorch + oneMKL), alternated in one sitting: issue 12's anchor.

Builds ../shared/reference/torchsharp into a scratch folder (TorchSharp-cpu from NuGet), lays out Fashion-MNIST as
torchvision expects (FashionMNIST/raw, uncompressed), then alternates, --pairs times:
  textbook run: `nabla seed --threads 2 --json` vs `torchsharp_anchor DIR --threads 2`, whole process;
  one Adam epoch of 784-1024-1024-10 ReLU at batch 256: each program's reported epoch seconds.
Prints medians and ratios (TorchSharp time / Nabla time: above 1 means Nabla is faster).

Usage: bench/vs_torchsharp.py [--pairs 3] [--scratch /tmp/nabla-vs-torchsharp]
"""
import argparse, gzip, json, os, shutil, statistics, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(os.path.dirname(ROOT), "shared", "reference", "torchsharp")
DATA = "/usr/share/datasets/fashion-mnist"

def timed(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, shell=True, check=True, text=True, capture_output=True).stdout
    return time.perf_counter() - t, json.loads(out.strip().splitlines()[-1])

def anchor_command(scratch):
    """Builds the TorchSharp reference into scratch (once) and lays out Fashion-MNIST for it; returns its command
    line up to its options (shared with bench/compare.py)."""
    ts = os.path.join(scratch, "torchsharp")
    if not os.path.exists(os.path.join(ts, "bin/Release/net10.0/torchsharp_anchor")):
        shutil.rmtree(ts, ignore_errors=True)
        shutil.copytree(REF, ts)
        subprocess.run("dotnet build -c Release --nologo -v quiet", shell=True, check=True, cwd=ts)
    raw = os.path.join(scratch, "fm", "FashionMNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for f in os.listdir(DATA):
        if f.endswith(".gz") and not os.path.exists(os.path.join(raw, f[:-3])):
            with gzip.open(os.path.join(DATA, f)) as src, open(os.path.join(raw, f[:-3]), "wb") as dst:
                shutil.copyfileobj(src, dst)
    return os.path.join(ts, "bin/Release/net10.0/torchsharp_anchor") + " " + os.path.join(scratch, "fm")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--scratch", default="/tmp/nabla-vs-torchsharp")
    a = ap.parse_args()
    anchor = anchor_command(a.scratch)
    subprocess.run(f"{ROOT}/nabla backprop --json", shell=True, check=True, capture_output=True)  # builds Nabla if needed
    nabla = f"dotnet {ROOT}/.nabla-build/Nabla.Cli.dll"
    runs = {k: [] for k in ("nabla seed", "torchsharp seed", "nabla epoch", "torchsharp epoch")}
    for _ in range(a.pairs):
        w, j = timed(f"{nabla} seed --threads 2 --device cpu --json")
        runs["nabla seed"].append((w, j["train_seconds"], j["sgd_accuracy"], j["adam_accuracy"]))
        w, j = timed(f"{anchor} --threads 2")
        runs["torchsharp seed"].append((w, sum(e[1] for e in j["epochs"]), j["sgd_acc"], j["adam_acc"]))
        w, j = timed(f"{nabla} train --hidden 1024,1024 --activation relu --batch-size 256 --epochs 1 --optimizer adam --threads 2 --device cpu --quiet --json")
        runs["nabla epoch"].append((w, j["epochs"][0]["seconds"], j["test_accuracy"], 0))
        w, j = timed(f"{anchor} --threads 2 --sgd-epochs 0 --adam-epochs 1 --hidden 1024,1024 --act relu --batch 256")
        runs["torchsharp epoch"].append((w, j["epochs"][0][1], j["adam_acc"], 0))
    med = lambda k, i: statistics.median(r[i] for r in runs[k])
    print(f"textbook run, whole process: Nabla {med('nabla seed', 0):.2f} s, TorchSharp {med('torchsharp seed', 0):.2f} s "
          f"-> {med('torchsharp seed', 0) / med('nabla seed', 0):.2f}x (runs: {[round(r[0], 2) for r in runs['nabla seed']]} vs {[round(r[0], 2) for r in runs['torchsharp seed']]})")
    print(f"textbook training (13 epochs): Nabla {med('nabla seed', 1):.2f} s, TorchSharp {med('torchsharp seed', 1):.2f} s "
          f"-> {med('torchsharp seed', 1) / med('nabla seed', 1):.2f}x; accuracy {runs['nabla seed'][0][2]}/{runs['nabla seed'][0][3]} vs {runs['torchsharp seed'][0][2]}/{runs['torchsharp seed'][0][3]} %")
    print(f"one Adam epoch 784-1024-1024-10, batch 256: Nabla {med('nabla epoch', 1):.2f} s, TorchSharp {med('torchsharp epoch', 1):.2f} s "
          f"-> {med('torchsharp epoch', 1) / med('nabla epoch', 1):.2f}x (runs: {[round(r[1], 2) for r in runs['nabla epoch']]} vs {[round(r[1], 2) for r in runs['torchsharp epoch']]})")

if __name__ == "__main__":
    main()
