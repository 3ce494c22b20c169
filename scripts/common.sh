# Shared by scripts/run.sh and scripts/test.sh: install what is missing, then build.
# Idempotent: a second run installs nothing and rebuilds only what changed.
#
# Environment:
#   BUILD_DIR   build directory            (default: build)
#   BUILD_TYPE  CMake build type, Asan or Tsan (default: RelWithDebInfo); both build with
#               clang, which also checks the locking annotations (-Wthread-safety) and
#               compiles the Asan tree in about two thirds of g++'s time (a build directory
#               configured before keeps its compiler)
#   BUILD_TARGETS  targets to build, space-separated (default: all)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"

# Debian 12 packages the project builds, tests and runs with.
TIDEWATER_PACKAGES=(
  g++ clang clang-format lld cmake ninja-build pkg-config git
  librocksdb-dev librdkafka-dev libprotobuf-dev protobuf-compiler prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libboost-system-dev rapidjson-dev libspdlog-dev libcli11-dev libyaml-cpp-dev
  libssl-dev libpq-dev zlib1g-dev
  awscli python3-boto3 python3-yaml kcat postgresql curl prometheus prometheus-node-exporter
  chromium chromium-driver python3-selenium
)

log() { printf '[tidewater] %s\n' "$*" >&2; }
die() { printf '[tidewater] error: %s\n' "$*" >&2; exit 1; }

install_packages() {
  local missing=()
  for package in "${TIDEWATER_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing missing packages: ${missing[*]}"
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand (Debian 12 expected)"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: cannot install ${missing[*]}"
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || die "apt-get install failed for: ${missing[*]}"
}

build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    log "configuring $BUILD_DIR ($BUILD_TYPE)"
    local options=()
    case "$BUILD_TYPE" in Asan | Tsan) options+=(-DCMAKE_CXX_COMPILER=clang++) ;; esac
    # Benchmarks measure nothing under a sanitizer; the Asan build only runs the tests.
    [ "$BUILD_TYPE" = Asan ] && options+=(-DTIDEWATER_BENCHMARKS=OFF)
    cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
      "${options[@]}" >/dev/null || die "cmake configure failed"
  fi
  local targets=() target_args=()
  if [ -n "${BUILD_TARGETS:-}" ]; then
    read -r -a targets <<<"$BUILD_TARGETS"
    target_args=(--target "${targets[@]}")
  fi
  log "building in $BUILD_DIR${BUILD_TARGETS:+ (targets: $BUILD_TARGETS)}"
  cmake --build "$BUILD_DIR" "${target_args[@]}" -- -j"$(nproc)" || die "build failed"
}
