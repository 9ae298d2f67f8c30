#!/usr/bin/env bash
# Train the base model on one GPU machine in a fixed wall-clock budget, rendering data beside it.
#
#   training/train_gpu.sh OUT_DIR DATA_ROOT TRAIN_SECONDS [--set key=value ...]
#
# DATA_ROOT is laid out like ../shared/data (crohme/train.zip, formulas/); shards already built
# (e.g. crohme-*.npz and printed-dev-*.npz made on a slower machine) may be put in
# DATA_ROOT/shards and are used as they are. Most cores render printed and synthetic
# handwritten shards for the whole run; the trainer reads the shards that exist at each epoch
# (grow_shards) and a few cores collate its batches (loader_workers). On an H200 the GPU trains
# on ~2,000 images/s; 12 cores rendered ~165/s before the render step got 4.3x faster
# (benchmarks/render_speed.py: a whole sample ~2x), so each image is seen several times,
# augmented anew each time, and carried shards add variety. The
# cosine schedule runs on time (time_budget_s). Logs, the exported model and the run's curves
# land in OUT_DIR, whatever happens. The trainer is stopped (SIGTERM: it saves a checkpoint)
# STOP_GRACE seconds (default 60) after TRAIN_SECONDS, should it overrun its budget.
set -u
out=$1 data=$2 budget=$3
shift 3
py=${PYTHON:-python3}
shards=${SHARDS:-/tmp/texsnap-shards}
run=${RUN:-$(mktemp -d /tmp/texsnap-run.XXXX)}  # a fresh folder: a warm machine keeps /tmp
cores=$(nproc)
# collating is cheap (~3,500 images/s per core): most cores render, a few feed the GPU
loaders=${LOADER_WORKERS:-3}
renderers=${RENDER_WORKERS:-$((cores - loaders - 1 > 0 ? cores - loaders - 1 : 1))}
build_log=$shards.log
mkdir -p "$out" "$shards"
cp -n "$data"/shards/*.npz "$shards"/ 2>/dev/null

collect() {  # 7 files: the lender returns 8 at most (in name order), one is left to the caller
    # the renderer and its worker processes: its own process group (no pkill on a bare machine)
    kill -TERM -- -"$build" 2>/dev/null || kill "$build" 2>/dev/null
    cp "$run"/metrics.csv "$run"/eval.csv "$out"/ 2>/dev/null
    cat "$run"/profile.txt >> "$out/train.log" 2>/dev/null  # --set profile_steps=N
    # the best model on the dev slices, and the last weights (python -m training.export_weights
    # makes them a model, for a next run to start from)
    mkdir -p "$out/model" && cp "$run"/model/model.safetensors "$run"/model/config.json "$out/model/"
    cp "$run"/checkpoint/model.safetensors "$out/checkpoint-model.safetensors" 2>/dev/null
    { ls -l "$shards"; tail -50 "$build_log"; } > "$out/data.log"
}
trap collect EXIT

# rendering is niced: the loaders feeding the GPU come first
seed=${BUILD_SEED:-0}  # another seed renders other formulas (a run continuing an earlier one)
set -m  # job control: the renderer gets a process group of its own, which collect() stops whole
nice -n 19 $py main.py data build --out "$shards" --data-root "$data" --printed 400000 \
    --handwritten 80000 --shard-size 250 --workers "$renderers" --seed "$seed" > "$build_log" 2>&1 &
build=$!
set +m
# the first epoch needs the dev slices, CROHME and a few rendered shards (carried ones count:
# with them the GPU starts at once), printed and synthetic handwritten ones among them while
# the renderer runs: run (25) started on CROHME and carried LaTeX shards alone, drew no printed
# or handwritten sample in its first epochs at the peak rate, and ended below its start on both
ready() {
    [ -f "$shards/crohme-dev.npz" ] && ls "$shards"/printed-dev-*.npz > /dev/null 2>&1 &&
        [ "$(ls "$shards" | grep -c -- "-train-[0-9]*-")" -ge "${FIRST_SHARDS:-4}" ] || return 1
    { ls "$shards"/printed-train-*.npz && ls "$shards"/handwritten-train-*.npz; } > /dev/null 2>&1 ||
        ! kill -0 "$build" 2>/dev/null
}
until ready; do
    kill -0 "$build" 2>/dev/null || { echo "data build failed"; tail -20 "$build_log"; exit 1; }
    [ "$SECONDS" -lt 90 ] || break  # a slow machine starts with what it has
    sleep 2
done
echo "$(date +%T) training on $(ls "$shards" | wc -l) shards"
# a hard stop well after the budget: SIGTERM saves a checkpoint (see training/cli.py)
train() {  # train RUN_DIR BUDGET [--set ...]
    local dir=$1 secs=$2
    shift 2
    timeout -s TERM $((${secs%.*} + ${STOP_GRACE:-60})) $py main.py train --config training/configs/base.toml \
        --set shards="$shards" --set out="$dir" --set time_budget_s="$secs" \
        --set loader_workers="$loaders" --set grow_shards=true --set steps=10000000 "$@"
}
started=$SECONDS
train "$run" "$budget" "$@" 2>&1 | tee "$out/train.log"
status=${PIPESTATUS[0]}
echo "$(date +%T) training exit $status" | tee -a "$out/train.log"
left=$((${budget%.*} - (SECONDS - started)))
if [ "$status" != 0 ] && [ "$left" -gt $((${budget%.*} / 2)) ]; then
    # an early failure on this machine's GPU stack: once more without bf16 autocast
    run=$run-fp32
    echo "retrying in fp32 for ${left}s" | tee -a "$out/train.log"
    train "$run" "$left" "$@" --set bf16=false 2>&1 | tee -a "$out/train.log"
fi
