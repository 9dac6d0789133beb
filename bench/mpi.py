#!/usr/bin/env python3
"""Data-parallel training over MPI on this machine (issue 22), whole-process runs alternated in one sitting.

One Adam epoch of 784-1024-1024-10 ReLU at batch 256 on Fashion-MNIST (the epoch's own seconds, from --json):
  1 process x 1 thread, 1 process x 2 threads (plain runs, no MPI),
  mpiexec -n 2, 1 thread each (MPICH's shared-memory transport), and the same over TCP on loopback
  (MPIR_CVAR_NOLOCAL=1 UCX_TLS=tcp,self: the processes talk as if on two hosts).
For the MPI runs, the share of the step the training thread spent waiting for the exchange, and the time in the
exchange's MPI calls. Then the peak resident memory (sum over processes, polled from /proc) of 1 and 4 processes.
Prints Markdown to paste into bench/RESULTS.md.

Usage: bench/mpi.py [--rounds 3] [--nabla "dotnet .nabla-build/Nabla.Cli.dll"]
"""
import argparse, json, os, statistics, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDE = "train --hidden 1024,1024 --activation relu --optimizer adam --batch-size 256 --epochs 1 --device cpu --json"

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

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--nabla", default=f"dotnet {ROOT}/.nabla-build/Nabla.Cli.dll")
    ap.add_argument("--memory-only", action="store_true", help="only the resident memory of 1 and 4 processes")
    a = ap.parse_args()
    subprocess.run(f"{ROOT}/nabla backprop --json", shell=True, check=True, capture_output=True)  # builds if needed
    configs = {
        "1 process x 1 thread": (f"{a.nabla} {WIDE} --threads 1", None),
        "1 process x 2 threads": (f"{a.nabla} {WIDE} --threads 2", None),
        "2 processes x 1 thread (shared memory)": (f"mpiexec.mpich -n 2 {a.nabla} {WIDE} --threads 1", None),
        "2 processes x 1 thread (TCP on loopback)": (f"mpiexec.mpich -n 2 {a.nabla} {WIDE} --threads 1", {"MPIR_CVAR_NOLOCAL": "1", "UCX_TLS": "tcp,self"}),
    }
    results = {k: [] for k in configs}
    for _ in range(0 if a.memory_only else a.rounds):
        for name, (cmd, env) in configs.items():
            j, _ = run(cmd, env)
            results[name].append(j)
    if not a.memory_only:
        table(results)
    seed = "seed --device cpu --json --threads 1"
    _, one = run(f"mpiexec.mpich -n 1 {a.nabla} {seed}", poll=True)
    _, four = run(f"mpiexec.mpich -n 4 {a.nabla} {seed}", poll=True)
    print(f"\nPeak memory of `nabla seed` under mpiexec, all processes together (polled every 50 ms from smaps_rollup): "
          f"RSS 1 process {one[0]:.0f} MB, 4 processes {four[0]:.0f} MB ({four[0] / one[0]:.2f}x); "
          f"PSS (shared pages divided among the processes that map them) {one[1]:.0f} MB and {four[1]:.0f} MB ({four[1] / one[1]:.2f}x).")

def table(results):
    base = statistics.median(r["epochs"][0]["seconds"] for r in results["1 process x 1 thread"])
    print("| run | epoch (median) | runs | vs 1 x 1 | waiting for the exchange | in MPI calls | test accuracy |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, rs in results.items():
        sec = [r["epochs"][0]["seconds"] for r in rs]
        m = statistics.median(sec)
        mpi = [r["mpi"] for r in rs if "mpi" in r]
        wait = f"{statistics.median(x['wait_seconds'] / x['step_seconds'] for x in mpi) * 100:.0f} %" if mpi else "–"
        calls = f"{statistics.median(x['exchange_seconds'] for x in mpi):.2f} s" if mpi else "–"
        print(f"| {name} | {m:.2f} s | {' / '.join(f'{s:.2f}' for s in sec)} | {base / m:.2f}x | {wait} | {calls} | {rs[0]['test_accuracy']} % |")

if __name__ == "__main__":
    main()
