"""Summarizes bench/gpu/run.sh's JSON lines into the table that goes into bench/RESULTS.md (medians)."""
import json, statistics, sys, pathlib

out = pathlib.Path(sys.argv[1])
def rows(name):
    p = out / f"{name}.jsonl"
    if not p.exists(): return []
    res = []
    for line in p.read_text().splitlines():
        try: res.append(json.loads(line))
        except json.JSONDecodeError: pass
    return res

def med(xs): return statistics.median(xs) if xs else float("nan")

seed, tp, tpl = rows("nabla_seed"), rows("torch_preloaded"), rows("torch_pipeline")
big, tbig = rows("nabla_big"), rows("torch_big")
def walls(name):  # whole-process wall seconds, as run.sh measured them
    p = out / f"{name}.wall"
    return [float(x) for x in p.read_text().split()] if p.exists() else []

n_total, p_pre, p_pipe = med(walls("nabla_seed")), med(walls("torch_preloaded")), med(walls("torch_pipeline"))
n_big = med([r["epochs"][0]["seconds"] for r in big])
p_big = med([r["epochs"][0][1] for r in tbig])
print((out / "gpu.csv").read_text() if (out / "gpu.csv").exists() else "")
print("Medians of the successful runs (failed runs are in log.txt and count nowhere; nan: none succeeded).\n")
print("| run | Nabla | PyTorch | ratio | target |")
print("|---|---|---|---|---|")
print(f"| textbook run, whole process, vs --preloaded cuda | {n_total:.2f} s | {p_pre:.2f} s | {p_pre / n_total:.1f}× | ≥ 20× |")
print(f"| textbook run, whole process, vs pipeline cuda | {n_total:.2f} s | {p_pipe:.2f} s | {p_pipe / n_total:.1f}× | ≥ 50× |")
print(f"| 784-1024-1024-10 Adam epoch, batch 256 | {n_big:.3f} s | {p_big:.3f} s | {p_big / n_big:.1f}× | ≥ 15× |")
if seed: print(f"Nabla accuracy: SGD {seed[0]['sgd_accuracy']} %, Adam {seed[0]['adam_accuracy']} % ({seed[0].get('device')})")
if tp: print(f"PyTorch accuracy: SGD {tp[0]['sgd_acc']} %, Adam {tp[0]['adam_acc']} % (torch {tp[0]['torch']}); in-script totals {[r['total_s'] for r in tp + tpl]}")
if big: print(f"Nabla big-model test accuracy: {big[0]['test_accuracy']} %; dataset upload (not in the epoch time, as PyTorch's preload is not): {big[0].get('upload_seconds')} s")
if seed: print(f"Nabla textbook epochs (s): {[e['seconds'] for e in seed[0]['epochs']]}; upload {seed[0].get('upload_seconds')} s")
