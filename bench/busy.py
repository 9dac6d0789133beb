#!/usr/bin/env python3
"""The textbook run with another process keeping one core busy, against the same run on a quiet machine.

Issue 12's goal: `nabla seed --threads 2` under a competing busy process takes at most 1.3x its quiet time (a worker
pool that waits for a descheduled worker took 4.3x). Alternates quiet and busy runs, reports medians.

Usage: bench/busy.py [--pairs 3] [--nabla "dotnet .nabla-build/Nabla.Cli.dll"] [--threads 2]
"""
import argparse, json, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def run(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, shell=True, check=True, text=True, capture_output=True).stdout
    wall = time.perf_counter() - t
    last = json.loads(out.strip().splitlines()[-1])
    return wall, last["train_seconds"], last["sgd_accuracy"], last["adam_accuracy"]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--nabla", default=f"dotnet {ROOT}/.nabla-build/Nabla.Cli.dll")
    a = ap.parse_args()
    subprocess.run(f"{ROOT}/nabla backprop --json", shell=True, check=True, capture_output=True)  # builds if needed
    cmd = f"{a.nabla} seed --threads {a.threads} --device cpu --json"
    quiet, busy = [], []
    for _ in range(a.pairs):
        quiet.append(run(cmd))
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.3)
            busy.append(run(cmd))
        finally:
            hog.kill()
            hog.wait()
    q = statistics.median(r[0] for r in quiet)
    b = statistics.median(r[0] for r in busy)
    print(f"quiet: {q:.2f} s (runs {', '.join(f'{r[0]:.2f}' for r in quiet)}); train {statistics.median(r[1] for r in quiet):.2f} s")
    print(f"busy:  {b:.2f} s (runs {', '.join(f'{r[0]:.2f}' for r in busy)}); train {statistics.median(r[1] for r in busy):.2f} s")
    print(f"busy / quiet: {b / q:.2f}x (goal <= 1.3x); accuracy {quiet[0][2]} / {quiet[0][3]} % quiet, {busy[0][2]} / {busy[0][3]} % busy")

if __name__ == "__main__":
    main()
