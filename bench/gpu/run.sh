#!/usr/bin/env bash
# The one call on a lent GPU machine (issue 6). Prepare here, then run there through the device tool:
#   scripts/publish-device && bench/gpu/stage       # fills .device/ (binary, data, PyTorch script; ~55 MB)
#   device run: carry [".device"], command "bash bench/gpu/run.sh", timeout_s 540
# It works in /tmp/nabla-gpu and leaves 4 files in $OUT (the device tool returns at most 8): summary.md, log.txt,
# check.txt (the self-check) and runs.tgz (every run's output and timing). No .NET SDK is needed there:
# .device/nabla is self-contained.
set -u
D=.device
RESULT=${OUT:-/tmp/nabla-gpu-out}
OUT=/tmp/nabla-gpu
mkdir -p "$OUT" "$RESULT"
export LD_LIBRARY_PATH=/usr/local/cuda-13.0/lib64:${LD_LIBRARY_PATH:-}
log() { echo "== $*" | tee -a "$OUT/log.txt"; }
run() { # name, command...: appends the command's last line (its JSON) to $OUT/name.jsonl, times it
  local name=$1; shift
  local t0=$(date +%s%N)
  "$@" > "$OUT/$name.last.txt" 2>&1
  local rc=$? t1=$(date +%s%N)
  local wall=$(printf '%d.%03d' $(( (t1 - t0) / 1000000000 )) $(( (t1 - t0) / 1000000 % 1000 )))
  echo "$name rc=$rc wall=$wall s" | tee -a "$OUT/log.txt"
  [ $rc -eq 0 ] || { tail -n 3 "$OUT/$name.last.txt" | sed 's/^/   /' | tee -a "$OUT/log.txt"; return; }  # failed runs count nowhere
  tail -n 1 "$OUT/$name.last.txt" >> "$OUT/$name.jsonl"
  echo "$wall" >> "$OUT/$name.wall"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.csv" 2>&1
python3 -c 'import torch; print(torch.__version__, torch.version.cuda)' > "$OUT/torch.txt" 2>&1
mkdir -p /tmp/fm/FashionMNIST/raw && cp $D/data/*.gz /tmp/fm/FashionMNIST/raw/ && gunzip -f /tmp/fm/FashionMNIST/raw/*.gz

log "self-check: kernels and training engine against the CPU"
$D/nabla devices --check > "$OUT/check.txt" 2>&1; echo "check rc=$?" | tee -a "$OUT/log.txt"

log "textbook run, alternated"
for i in 1 2 3; do
  run nabla_seed $D/nabla seed --device cuda --data $D/data --json
  run torch_preloaded python3 $D/seed_pytorch.py /tmp/fm --device cuda --preloaded
done
run torch_pipeline python3 $D/seed_pytorch.py /tmp/fm --device cuda

log "784-1024-1024-10 ReLU, batch 256, one Adam epoch"
for i in 1 2 3; do
  run nabla_big $D/nabla train --data $D/data --hidden 1024,1024 --activation relu --batch-size 256 --epochs 1 --optimizer adam --device cuda --json
  run torch_big python3 $D/seed_pytorch.py /tmp/fm --device cuda --preloaded --sgd-epochs 0 --adam-epochs 1 --hidden 1024,1024 --act relu --batch 256
done

python3 bench/gpu/summarize.py "$OUT" | tee "$OUT/summary.md"
cp "$OUT/summary.md" "$OUT/log.txt" "$OUT/check.txt" "$RESULT/"
tar czf "$RESULT/runs.tgz" -C "$OUT" .
