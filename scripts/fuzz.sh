#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS (default 60)
# on a scratch copy of its seed corpus (tests/fuzz/corpus/<name>). Fails on any crash,
# leak, timeout or sanitizer report.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_packages
FUZZ_DIR="${FUZZ_DIR:-$REPO_ROOT/build-fuzz}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
if [ ! -f "$FUZZ_DIR/build.ninja" ]; then
  mapfile -t cache_options < <(compiler_cache_options)
  CXX=clang++ cmake -S "$REPO_ROOT" -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTIDEWATER_FUZZ=ON "${cache_options[@]}" >/dev/null || die "cmake configure (fuzz) failed"
fi
targets=()
for source in "$REPO_ROOT"/tests/fuzz/*_fuzz.cc; do targets+=("$(basename "$source" .cc)"); done
cmake --build "$FUZZ_DIR" --target "${targets[@]}" -- -j"$(nproc)" || die "fuzz build failed"
for target in "${targets[@]}"; do
  name="${target%_fuzz}"
  scratch="$(mktemp -d)"
  cp -r "$REPO_ROOT/tests/fuzz/corpus/$name/." "$scratch/" 2>/dev/null || true
  dict=()
  [ -f "$REPO_ROOT/tests/fuzz/$name.dict" ] && dict=(-dict="$REPO_ROOT/tests/fuzz/$name.dict")
  log "fuzzing $target for ${FUZZ_SECONDS}s"
  (cd "$scratch" && "$FUZZ_DIR/tests/fuzz/$target" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" \
     -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$scratch" 2>&1 | tail -n 12) ||
    die "$target found a failure (see above)"
  rm -rf "$scratch"
done
