#!/bin/bash
# Trainer throughput on a GPU machine, without a renderer beside it: 40 s from the bundled
# model on the carried shards (.devdata/shards, `make device-payload`) for each of
#   A: low_res=0.15, 3 collating workers (also profiles 20 steps and evaluates 200 of each dev
#      slice: at lr 1e-9 only the encoder's BatchNorm statistics move)
#   B: low_res=0,    3 workers
#   C: low_res=0.15, 8 workers
# and prints the median images/s of each (the first three logged intervals left out).
# On the device: bash benchmarks/gpu_throughput.sh   (carry .devdata .devpkgs; files in $OUT)
# Session (18), one H200, before commit 245aeab: A 829, B 2,049, C 1,116 images/s.
export PYTHONPATH=.:.devpkgs PYTHONUNBUFFERED=1
mkdir -p /tmp/s && cp .devdata/shards/*.npz /tmp/s/
nproc; nvidia-smi --query-gpu=name,clocks.sm --format=csv,noheader
go() {  # go NAME LOW_RES LOADERS EVAL_SAMPLES PROFILE
  timeout 120 python3 main.py train --config training/configs/base.toml --set init_model=resources/models/base \
    --set shards=/tmp/s --set out=/tmp/t-$1 --set time_budget_s=40 --set steps=10000000 --set lr=1e-9 --set min_lr=1e-9 \
    --set warmup=1 --set ema=0 --set eval_every=1000000 --set eval_samples=$4 --set batch_pixels=2000000 --set max_batch=192 \
    --set loader_workers=$3 --set low_res=$2 --set profile_steps=$5 --set seed=25 > $OUT/train-$1.log 2>&1
  cp /tmp/t-$1/metrics.csv $OUT/metrics-$1.csv; [ $1 = A ] && cp /tmp/t-$1/eval.csv $OUT/eval-$1.csv
  cat /tmp/t-$1/profile.txt >> $OUT/train-$1.log 2>/dev/null
  python3 -c "
import csv,statistics as s;r=list(csv.DictReader(open('/tmp/t-$1/metrics.csv')))[3:]
print('$1', 'low_res=$2 loaders=$3', len(r)*20, 'steps, median img/s', round(s.median(float(x['samples_per_s']) for x in r)))"
}
go A 0.15 3 200 20
go B 0.0 3 20 0
go C 0.15 8 20 0
