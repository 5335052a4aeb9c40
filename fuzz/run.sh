#!/usr/bin/env bash
# fuzz/run.sh SECONDS TARGET...: runs each fuzz target for SECONDS, one after another, from its
# committed seeds (fuzz/seeds/<target>) and the working corpus in $FUZZ_DIR/corpus/<target>
# (outside the clone in CI, where it is cached and grows from run to run).
#
# Stable Rust: RUSTC_BOOTSTRAP=1 lets it take cargo-fuzz's unstable flags. No sanitizer: the
# code is safe Rust, and what the targets catch is a panic or a failed property.
# AddressSanitizer builds and runs this way too (`--sanitizer address`, a build of its own),
# about 7 times slower (head: 13,000 runs/s against 90,000).
#
# libFuzzer's output goes to $FUZZ_DIR/logs/<target>.log. On a crash or a failed property the
# end of the log is shown, with the path of the input that did it (under fuzz/artifacts/), and
# the script fails. Replay an input with
#   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --target-dir "$FUZZ_DIR" <target> <input>
set -euo pipefail
cd "$(dirname "$0")"
seconds=$1
shift
dir=${FUZZ_DIR:-$PWD/target}
mkdir -p "$dir/logs"
for t in "$@"; do
  mkdir -p "$dir/corpus/$t"
  log=$dir/logs/$t.log
  dict=()
  if [ -f "dicts/$t.dict" ]; then dict=("-dict=dicts/$t.dict"); fi
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --target-dir "$dir" "$t" "$dir/corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
    tail -n 60 "$log"
    input=$(grep -o 'Test unit written to .*' "$log" | tail -n 1 | sed 's/^Test unit written to //')
    echo "fuzz: $t FAILED; the input: ${input:-none written} (log: $log)"
    exit 1
  fi
  echo "fuzz: $t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | sed 's/^Done //'), corpus $(ls "$dir/corpus/$t" | wc -l) inputs; no failure"
done
