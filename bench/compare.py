#!/usr/bin/env python3
"""Side-by-side comparison of Nabla with the textbook's PyTorch reference and with TorchSharp on this machine.

Installs what the reference needs (Debian's python3-torch, python3-torchvision, libopenblas0-pthread,
dataset-fashion-mnist), then runs the reference and Nabla alternately (A B A B ..., --pairs of each) and prints
medians, ratios and peak RSS for each workload of the fast-CPU issue. TorchSharp (libtorch + oneMKL, built from
../shared/reference/torchsharp into /tmp/nabla-vs-torchsharp by bench/vs_torchsharp.py's helper) is a third
column of the same alternation, unless --no-torchsharp. --record appends the table to
bench/RESULTS.md with the date, commit and CPU model.

Usage: bench/compare.py [--pairs 3] [--reference PATH/seed_pytorch.py] [--record] [--skip-pipeline] [--no-torchsharp]
"""
import argparse, datetime, gzip, json, os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, text=True, capture_output=True, **kw).stdout


def install():
    need = [p for p in ("python3-torch", "python3-torchvision", "libopenblas0-pthread", "dataset-fashion-mnist", "python3-numpy")
            if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if need:
        print("installing", " ".join(need), file=sys.stderr)
        subprocess.run("apt-get update -q >/dev/null", shell=True)
        subprocess.run(["apt-get", "install", "-y", "-q", *need], check=True, stdout=subprocess.DEVNULL)


def torchvision_root(scratch):
    raw = os.path.join(scratch, "fm", "FashionMNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for f in os.listdir(DATA):
        out = os.path.join(raw, f[:-3])
        if not os.path.exists(out):
            with gzip.open(os.path.join(DATA, f)) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return os.path.join(scratch, "fm")


def timed(cmd):
    """Wall seconds, peak RSS (MiB) and the last stdout line parsed as JSON."""
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", "bash", "-c", cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{out.stderr[-2000:]}")
    rss_kb = int(out.stderr.strip().splitlines()[-1])
    last = [l for l in out.stdout.strip().splitlines() if l.startswith("{")][-1]
    return wall, rss_kb / 1024, json.loads(last)


def alternate(name, runs, pairs):
    """runs: list of (label, cmd). Runs them round-robin `pairs` times; returns {label: [results]}."""
    res = {label: [] for label, _ in runs}
    for i in range(pairs):
        for label, cmd in runs:
            r = timed(cmd)
            res[label].append(r)
            print(f"  [{name}] {label} run {i + 1}: {r[0]:.2f} s, {r[1]:.0f} MiB", file=sys.stderr)
    return res


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--reference", default=os.path.join(os.path.dirname(ROOT), "shared", "reference", "seed_pytorch.py"))
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--skip-pipeline", action="store_true", help="skip the 35 s textbook pipeline runs")
    ap.add_argument("--no-torchsharp", action="store_true", help="leave TorchSharp out")
    a = ap.parse_args()
    install()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from vs_torchsharp import anchor_command
    anchor = None if a.no_torchsharp else anchor_command("/tmp/nabla-vs-torchsharp")
    scratch = "/tmp/nabla-compare"
    root = torchvision_root(scratch)
    py = f"/usr/bin/python3 {a.reference} {root}"
    nabla = os.path.join(ROOT, "nabla")
    sh(f"{nabla} --help >/dev/null")  # builds once, outside the timings
    sh(f"dotnet build {ROOT}/bench/Nabla.Bench -c Release -v quiet --nologo")
    lines = []

    # 1. The textbook run, whole process.
    runs = [("nabla seed", f"{nabla} seed --threads 2 --json"), ("pytorch --preloaded", f"{py} --preloaded --threads 2")]
    if not a.skip_pipeline:
        runs.append(("pytorch pipeline", f"{py} --threads 2"))
    if anchor:
        runs.append(("torchsharp", f"{anchor} --threads 2"))
    r = alternate("textbook", runs, a.pairs)
    nab = med([x[0] for x in r["nabla seed"]])
    pre = med([x[0] for x in r["pytorch --preloaded"]])
    acc = r["nabla seed"][0][2]
    ref_acc = r["pytorch --preloaded"][0][2]
    lines.append("| workload | Nabla | PyTorch | ratio | target |")
    lines.append("|---|---|---|---|---|")
    if not a.skip_pipeline:
        pipe = med([x[0] for x in r["pytorch pipeline"]])
        lines.append(f"| textbook run vs pipeline (whole process) | {nab:.2f} s | {pipe:.2f} s | {pipe / nab:.1f}× | ≥ 20× |")
    lines.append(f"| textbook run vs --preloaded (whole process) | {nab:.2f} s | {pre:.2f} s | {pre / nab:.1f}× | ≥ 7× |")
    if anchor:
        ts = med([x[0] for x in r["torchsharp"]])
        lines.append(f"| textbook run vs TorchSharp (whole process; TorchSharp in the PyTorch column) | {nab:.2f} s | {ts:.2f} s | {ts / nab:.1f}× | ≥ 5× |")
        nab_train = med([x[2]["train_seconds"] for x in r["nabla seed"]])
        ts_train = med([sum(e[1] for e in x[2]["epochs"]) for x in r["torchsharp"]])
        lines.append(f"| textbook training, 13 epochs, vs TorchSharp | {nab_train:.2f} s | {ts_train:.2f} s | {ts_train / nab_train:.1f}× | ≥ 6× |")
    lines.append(f"| accuracy after SGD / Adam | {acc['sgd_accuracy']:.2f} / {acc['adam_accuracy']:.2f} % | "
                 f"{ref_acc['sgd_acc']:.2f} / {ref_acc['adam_acc']:.2f} % | | SGD 61.5–67.5, Adam 84–86.5 |")
    rss_n = max(x[1] for x in r["nabla seed"])
    rss_p = max(x[1] for x in r["pytorch --preloaded"])
    lines.append(f"| peak RSS of the textbook run | {rss_n:.0f} MiB | {rss_p:.0f} MiB (preloaded) | | ≤ 190 MiB |")

    # 2. One Adam epoch of 784-1024-1024-10 ReLU, batch 256.
    big_cmd = f"{nabla} train --hidden 1024,1024 --activation relu --batch-size 256 --epochs 1 --optimizer adam --threads 2 --json"
    big = alternate("1024x1024", [
        ("nabla", big_cmd),
        ("pytorch", f"{py} --preloaded --sgd-epochs 0 --adam-epochs 1 --hidden 1024,1024 --act relu --batch 256 --threads 2"),
        ("nabla --gemm openblas", big_cmd + " --gemm openblas"),
        *([("torchsharp", f"{anchor} --threads 2 --sgd-epochs 0 --adam-epochs 1 --hidden 1024,1024 --act relu --batch 256")] if anchor else []),
    ], a.pairs)
    p_ep = med([x[2]["epochs"][0][1] for x in big["pytorch"]])
    floor = 670 / 165.0  # GFLOP per epoch / OpenBLAS GFLOP/s on this machine (numpy, 2 threads)
    for label, provider in (("nabla", "managed GEMM"), ("nabla --gemm openblas", "OpenBLAS provider")):
        n_ep = med([x[2]["epochs"][0]["seconds"] for x in big[label]])
        lines.append(f"| one Adam epoch, 784-1024-1024-10 ReLU, batch 256 ({provider}) | {n_ep:.2f} s | {p_ep:.2f} s | {p_ep / n_ep:.1f}× | ≥ 3.3× |")
        lines.append(f"| same epoch vs its GEMMs at OpenBLAS speed (≈{floor:.1f} s; {provider}) | {n_ep:.2f} s | | {n_ep / floor:.2f}× | ≤ 1.2× |")
    if anchor:
        n_ep = med([x[2]["epochs"][0]["seconds"] for x in big["nabla"]])
        t_ep = med([x[2]["epochs"][0][1] for x in big["torchsharp"]])
        lines.append(f"| one Adam epoch, 784-1024-1024-10 ReLU, batch 256, vs TorchSharp (managed GEMM) | {n_ep:.2f} s | {t_ep:.2f} s | {t_ep / n_ep:.2f}× | ≥ 1.25× |")

    # 3. SGEMM: Nabla's managed GEMM vs numpy on Debian's OpenBLAS, 2 threads, median of 21.
    ours = json.loads(sh(f"dotnet {ROOT}/bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll gemm 2").strip().splitlines()[-1])
    npcode = ("import numpy as np,time,statistics,json;r={}\n"
              "for m,k,n in [(1024,1024,1024),(256,784,1024),(32,784,32)]:\n"
              " a=np.random.rand(m,k).astype(np.float32);w=np.random.rand(n,k).astype(np.float32);t=[]\n"
              " [a@w.T for _ in range(20)]\n"
              " for _ in range(21):\n"
              "  reps=max(1,int(2e8/(2*m*n*k)));s=time.perf_counter()\n"
              "  for _ in range(reps): a@w.T\n"
              "  t.append((time.perf_counter()-s)/reps)\n"
              " r[f'{m}x{k}x{n}']=round(2*m*n*k/statistics.median(t)/1e9,1)\n"
              "print(json.dumps(r))")
    theirs = json.loads(sh(f"OPENBLAS_NUM_THREADS=2 /usr/bin/python3 -c \"{npcode}\"").strip().splitlines()[-1])
    for shape, target in (("1024x1024x1024", 85), ("256x784x1024", 90), ("32x784x32", 100)):
        lines.append(f"| sgemm {shape} (m×k×n, x·Wᵀ; managed GEMM vs OpenBLAS) | {ours[shape]:.1f} GFLOP/s | {theirs[shape]:.1f} GFLOP/s | "
                     f"{100 * ours[shape] / theirs[shape]:.0f} % | ≥ {target} % |")

    cpu = next((l.split(":", 1)[1].strip() for l in sh("lscpu").splitlines() if l.startswith("Model name")), "?")
    commit = sh(f"git -C {ROOT} rev-parse --short HEAD").strip()
    dirty = " (with uncommitted changes)" if sh(f"git -C {ROOT} status --porcelain -- src bench/Nabla.Bench bench/compare.py").strip() else ""
    head = (f"### {datetime.date.today()} — commit {commit}{dirty} — {cpu}, {os.cpu_count()} cores, "
            f"{a.pairs} alternated rounds, medians, `--threads 2`; managed GEMM unless a row says otherwise")
    table = "\n".join([head, "", *lines, ""])
    print(table)
    if a.record:
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write("\n" + table)


if __name__ == "__main__":
    main()
