#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) on the stable
# toolchain. RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its sanitizer flags
# (-Zsanitizer=address) to the stable compiler. Needs cargo-fuzz:
#   cargo install cargo-fuzz --locked
# Each target starts from the committed seeds in fuzz/seeds/TARGET plus
# what earlier runs left in fuzz/corpus/TARGET (ignored by git). A crash
# leaves its input in fuzz/artifacts/TARGET and fails this script.
set -euo pipefail

seconds="${1:-30}"
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=$(cargo fuzz list --fuzz-dir fuzz)
cargo fuzz build -O --fuzz-dir fuzz
log_dir=$(mktemp -d)
failed=""
for target in $targets; do
    mkdir -p "fuzz/corpus/$target"
    log="$log_dir/$target.log"
    echo "== $target: ${seconds}s"
    status=0
    cargo fuzz run -O --fuzz-dir fuzz "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E '^#[0-9]+.*DONE|^stat::number_of_executed_units|^stat::average_exec_per_sec' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        failed="$failed $target"
    fi
done
rm -rf "$log_dir"
if [ -n "$failed" ]; then
    echo "fuzz targets failed:$failed"
    exit 1
fi
