#!/usr/bin/env python3
"""--threads auto against fixed counts, quiet and with a busy process on one core (issue 23).

Alternates, in one sitting, `nabla seed` with --threads 1, --threads 2 and the default (auto), quiet and then with a
process spinning on one core; and one Adam epoch of the wide model (784-1024-1024-10 ReLU, batch 256) likewise.
Reports medians of whole-process wall time (seed; and its training alone, `train_seconds`, the part the tuner
governs) and of the epoch's own seconds (wide), the count auto ended with,
and the issue's goals: auto within 5 % of the better fixed count, quiet or busy; busy auto at most 1.2x the quiet
one-thread time. Prints a Markdown table to paste into bench/RESULTS.md.

Usage: bench/threads.py [--rounds 3] [--nabla "dotnet .nabla-build/Nabla.Cli.dll"]
"""
import argparse, json, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = ["1", "2", "auto"]

def run(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, shell=True, check=True, text=True, capture_output=True).stdout
    wall = time.perf_counter() - t
    return wall, json.loads(out.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", default="seed,wide", help="which of seed, wide to run")
    ap.add_argument("--nabla", default=f"dotnet {ROOT}/.nabla-build/Nabla.Cli.dll")
    a = ap.parse_args()
    subprocess.run(f"{ROOT}/nabla backprop --json", shell=True, check=True, capture_output=True)  # builds if needed
    jobs = {
        "seed": (f"{a.nabla} seed --device cpu --json --threads {{}}", lambda wall, j: wall),
        "seed training": (None, None),
        "wide": (f"{a.nabla} train --hidden 1024,1024 --activation relu --optimizer adam --batch-size 256 --epochs 1 --device cpu --json --threads {{}}",
                 lambda wall, j: j["epochs"][0]["seconds"]),
    }
    jobs = {k: v for k, v in jobs.items() if k.split()[0] in a.jobs.split(",")}
    results = {}  # (job, load, setting) -> [(seconds, threads at the end, changes)]
    for _ in range(a.rounds):
        for load in ["quiet", "busy"]:
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
            try:
                if hog: time.sleep(0.3)
                for job, (cmd, measure) in jobs.items():
                    if cmd is None: continue
                    for s in SETTINGS:
                        wall, j = run(cmd.format(s))
                        results.setdefault((job, load, s), []).append((measure(wall, j), j.get("threads"), j.get("thread_changes")))
                        if job == "seed":
                            results.setdefault(("seed training", load, s), []).append((j["train_seconds"], j.get("threads"), j.get("thread_changes")))
            finally:
                if hog:
                    hog.kill()
                    hog.wait()
    med = lambda k: statistics.median(r[0] for r in results[k])
    print("| run | load | --threads 1 | --threads 2 | auto (default) | auto ended on | auto vs better fixed |")
    print("|---|---|---:|---:|---:|---|---:|")
    for job in jobs:
        for load in ["quiet", "busy"]:
            one, two, auto = (med((job, load, s)) for s in SETTINGS)
            ended = ", ".join(str(r[1]) for r in results[(job, load, "auto")])
            runs = lambda s: "/".join(f"{r[0]:.2f}" for r in results[(job, load, s)])
            print(f"| {job} | {load} | {one:.2f} s ({runs('1')}) | {two:.2f} s ({runs('2')}) | {auto:.2f} s ({runs('auto')}) | {ended} threads | {auto / min(one, two):.3f}x |")
    for job in [j for j in jobs if j != "seed training"]:
        print(f"{job}: busy auto / quiet one thread = {med((job, 'busy', 'auto')) / med((job, 'quiet', '1')):.2f}x (goal <= 1.2x)")
    print("auto's choices (step, threads), last round:", {f"{job} {load}": results[(job, load, 'auto')][-1][2] for job in jobs if job != "seed training" for load in ["quiet", "busy"]})

if __name__ == "__main__":
    main()
