#!/usr/bin/env python3
"""Data-parallel training over MPI on this machine (issue 22), whole-process runs alternated in one sitting.

One Adam epoch of 784-1024-1024-10 ReLU at batch 256 on Fashion-MNIST (the epoch's own seconds, from --json):
  1 process x 1 thread, 1 process x 2 threads (plain runs, no MPI),
  mpiexec -n 2, 1 thread each (on one host the processes share the step's buffers and the parameters in memory),
  the same with NABLA_MPI_SHARED=0 (rows copied by MPI through MPICH's shared-memory transport, as between hosts),
  over TCP on loopback (that, with MPIR_CVAR_NOLOCAL=1 UCX_TLS=tcp,self: the processes talk as if on two hosts), and
  with NABLA_MPI_OVERLAP=0 (each weight gradient gathered as soon as computed, blocking, and the whole step after).
  Two plain 1 x 1 runs side by side (no MPI): the machine's own bound for a two-way split, their mean and the slower
  of each pair (a split waits for both processes at every step, so it goes at most at the slower one's pace).
For the MPI runs, the time of the step spent in MPI calls (gathers, and waiting for the other process), and its
share. --old DLL adds `mpiexec -n 2` of another build (for instance the commit before a change), alternated with the rest. Then the peak resident memory (sum over processes, polled from /proc) of 1 and 4 processes, for Fashion-MNIST
(the IDX cache), a CSV (the binary table cache) and NPY float32 arrays, each of them mapped.
Prints Markdown to paste into bench/RESULTS.md.

Usage: bench/mpi.py [--rounds 3] [--epochs 1] [--nabla "dotnet .nabla-build/Nabla.Cli.dll"] [--old /tmp/old/.nabla-build/Nabla.Cli.dll]
"""
import argparse, json, os, statistics, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDE = "train --hidden 1024,1024 --activation relu --optimizer adam --batch-size 256 --tol 0 --device cpu --json"

def run(cmd, env=None, poll=False):
    full = dict(os.environ, **(env or {}))
    p = subprocess.Popen(cmd, shell=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full)
    peak = (0, 0)
    while poll and p.poll() is None:
        rss = pss = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit(): continue
            try:
                if "Nabla.Cli.dll" not in open(f"/proc/{pid}/cmdline").read(): continue
                for line in open(f"/proc/{pid}/smaps_rollup"):
                    if line.startswith("Rss:"): rss += int(line.split()[1])
                    if line.startswith("Pss:"): pss += int(line.split()[1])
            except OSError:
                pass
        peak = (max(peak[0], rss), max(peak[1], pss))
        time.sleep(0.05)
    out, err = p.communicate()
    if p.returncode != 0: raise SystemExit(f"{cmd}: exit {p.returncode}: {err}")
    return json.loads(out.strip().splitlines()[-1]), (peak[0] / 1024, peak[1] / 1024)

def side_by_side(cmd):
    """Two plain runs at once, no MPI: what the machine gives two single-thread processes at that moment. Their mean
    epoch against 1 x 1 bounds any 2-process split: 2 x (1 x 1) / (side by side) is the most it could reach. A split
    that waits for both processes at every step goes at the pace of the slower, so the slower run of the pair bounds
    it more tightly: returns the mean and the slower."""
    ps = [subprocess.Popen(cmd, shell=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate() for p in ps]
    for p, (_, err) in zip(ps, outs):
        if p.returncode != 0: raise SystemExit(f"{cmd}: exit {p.returncode}: {err}")
    js = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    merged, slower = dict(js[0]), dict(js[0])
    merged["epochs"] = [{"seconds": (a["seconds"] + b["seconds"]) / 2} for a, b in zip(js[0]["epochs"], js[1]["epochs"])]
    slower["epochs"] = max((j["epochs"] for j in js), key=lambda es: epoch({"epochs": es}))
    return merged, slower

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--nabla", default=f"dotnet {ROOT}/.nabla-build/Nabla.Cli.dll")
    ap.add_argument("--memory-only", action="store_true", help="only the resident memory of 1 and 4 processes")
    ap.add_argument("--old", help="another build's Nabla.Cli.dll, run as mpiexec -n 2 beside this one")
    ap.add_argument("--quick", action="store_true", help="only 1 x 1, 1 x 2 threads, 2 processes sharing memory, and two plain runs side by side; no memory")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per run; above 1, the figure is the mean of epochs 2 on (no start-up: JIT, first touch of memory)")
    a = ap.parse_args()
    global EPOCHS
    EPOCHS = a.epochs
    wide = f"{WIDE} --epochs {a.epochs}"
    subprocess.run(f"{ROOT}/nabla backprop --json", shell=True, check=True, capture_output=True)  # builds if needed
    configs = {
        "1 process x 1 thread": (f"{a.nabla} {wide} --threads 1", None),
        "1 process x 2 threads": (f"{a.nabla} {wide} --threads 2", None),
        "2 processes x 1 thread (shared memory)": (f"mpiexec.mpich -n 2 {a.nabla} {wide} --threads 1", None),
        "2 processes x 1 thread, rows copied by MPI (shared memory off)": (f"mpiexec.mpich -n 2 {a.nabla} {wide} --threads 1", {"NABLA_MPI_SHARED": "0"}),
        "2 processes x 1 thread, gradients gathered without overlap": (f"mpiexec.mpich -n 2 {a.nabla} {wide} --threads 1", {"NABLA_MPI_OVERLAP": "0"}),
        "2 processes x 1 thread (TCP on loopback)": (f"mpiexec.mpich -n 2 {a.nabla} {wide} --threads 1", {"MPIR_CVAR_NOLOCAL": "1", "UCX_TLS": "tcp,self", "NABLA_MPI_SHARED": "0"}),
    }
    configs["two 1 x 1 runs side by side, no MPI (each run's epoch)"] = (f"{a.nabla} {wide} --threads 1", "pair")
    if a.quick:
        configs = {k: v for k, v in configs.items() if "copied" not in k and "without overlap" not in k and "TCP" not in k}
    if a.old:
        configs["2 processes x 1 thread, the older build"] = (f"mpiexec.mpich -n 2 dotnet {a.old} {wide} --threads 1", None)
    results = {k: [] for k in configs}
    SLOWER = "the slower run of each side-by-side pair"
    results[SLOWER] = []
    for _ in range(0 if a.memory_only else a.rounds):
        for name, (cmd, env) in configs.items():
            if env == "pair":
                mean, slower = side_by_side(cmd)
                results[name].append(mean)
                results[SLOWER].append(slower)
            else: results[name].append(run(cmd, env)[0])
    if not a.memory_only:
        table(results)
    if a.quick: return
    data = make_data()
    jobs = {
        # One epoch, not `nabla seed`'s 13 of 32-row batches: 4 processes on 2 vCPUs are oversubscribed, and MPICH's
        # spinning waits make each of the step's gathers wait for a descheduled process (that run took over 10 minutes).
        "Fashion-MNIST, 1 epoch at batch 256 (IDX cache)": "train --hidden 32 --epochs 1 --batch-size 256 --tol 0 --json --threads 1",
        "a 30 MB CSV (binary table cache)": f"train --data {data}/big.csv --label-column label --hidden 32 --epochs 1 --batch-size 256 --tol 0 --json --threads 1",
        "NPY float32 arrays (mapped)": f"train --dataset npy --data {data}/npy --hidden 32 --epochs 1 --batch-size 256 --tol 0 --json --threads 1",
    }
    print("\nPeak memory under mpiexec, all processes together (polled every 50 ms from smaps_rollup; PSS divides shared pages among the processes that map them):\n")
    print("| job | RSS 1 process | RSS 4 | PSS 1 process | PSS 4 | PSS 4 / 1 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, job in jobs.items():
        run(f"{a.nabla} {job}")  # writes the caches once, before anything is measured
        _, one = run(f"mpiexec.mpich -n 1 {a.nabla} {job}", poll=True)
        _, four = run(f"mpiexec.mpich -n 4 {a.nabla} {job}", poll=True)
        print(f"| {name} | {one[0]:.0f} MB | {four[0]:.0f} MB | {one[1]:.0f} MB | {four[1]:.0f} MB | {four[1] / one[1]:.2f}x |")

def make_data():
    """A 100,000-row CSV of 40 numeric columns and a 3-class label (about 30 MB), and x/y_train/test .npy arrays of
    40,000 x 784 float32 (125 MB), under /tmp, made once."""
    import random, struct
    root = "/tmp/nabla-bench-mpi"
    os.makedirs(f"{root}/npy", exist_ok=True)
    if not os.path.exists(f"{root}/big.csv"):
        rng = random.Random(1)
        with open(f"{root}/big.csv.tmp", "w") as f:
            f.write(",".join(f"c{j}" for j in range(40)) + ",label\n")
            for _ in range(100_000):
                f.write(",".join(f"{rng.random():.5f}" for _ in range(40)) + f",{rng.randrange(3)}\n")
        os.replace(f"{root}/big.csv.tmp", f"{root}/big.csv")
    def npy(path, descr, shape, payload):
        header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
        header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
        with open(path + ".tmp", "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + payload)
        os.replace(path + ".tmp", path)
    for part, n in (("train", 40_000), ("test", 2_000)):
        if os.path.exists(f"{root}/npy/x_{part}.npy"): continue
        rng = random.Random(n)
        row = struct.pack("<784f", *[rng.random() for _ in range(784)])
        npy(f"{root}/npy/x_{part}.npy", "<f4", f"({n}, 784)", b"".join(row[:4 * (i % 784)] + row[4 * (i % 784):] for i in range(n)))
        npy(f"{root}/npy/y_{part}.npy", "<i8", f"({n},)", b"".join(struct.pack("<q", i % 10) for i in range(n)))
    return root

EPOCHS = 1

def epoch(r):
    e = [x["seconds"] for x in r["epochs"]]
    return e[0] if len(e) == 1 else statistics.mean(e[1:])

def table(results):
    print(f"Figure per run: {'its epoch' if EPOCHS == 1 else f'the mean of epochs 2 to {EPOCHS} of the run'} (seconds from --json).\n")
    base = statistics.median(epoch(r) for r in results["1 process x 1 thread"])
    bases = [epoch(r) for r in results["1 process x 1 thread"]]
    print("| run | epoch (median) | runs | vs 1 x 1 | paired (median) | in MPI calls | share of the step | test accuracy |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for name, rs in results.items():
        sec = [epoch(r) for r in rs]
        m = statistics.median(sec)
        mpi = [r["mpi"] for r in rs if "mpi" in r]
        calls = f"{statistics.median(x['exchange_seconds'] for x in mpi):.2f} s" if mpi else "–"
        share = f"{statistics.median(x['exchange_seconds'] / x['step_seconds'] for x in mpi) * 100:.0f} %" if mpi else "–"
        paired = statistics.median(b / s for b, s in zip(bases, sec))  # each run against the round's own 1 x 1: the VM drifts
        print(f"| {name} | {m:.2f} s | {' / '.join(f'{s:.2f}' for s in sec)} | {base / m:.2f}x | {paired:.2f}x | {calls} | {share} | {rs[0]['test_accuracy']} % |")

if __name__ == "__main__":
    main()
