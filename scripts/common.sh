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
  libssl-dev openssl libpq-dev zlib1g-dev libzstd-dev zstd ccache
  awscli python3-boto3 python3-yaml kcat postgresql curl prometheus prometheus-node-exporter
  chromium chromium-driver python3-selenium
  nodejs npm
)

log() { printf '[tidewater] %s\n' "$*" >&2; }
die() { printf '[tidewater] error: %s\n' "$*" >&2; exit 1; }

# True when `package` is installed, or provided by an installed package (NodeSource's nodejs
# provides npm, and conflicts with Debian's npm package).
package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" && return 0
  dpkg-query -W -f='${Status}\t${Provides}\n' 2>/dev/null |
    awk -F'\t' -v wanted="$1" '
      $1 == "install ok installed" {
        n = split($2, provided, /, */)
        for (i = 1; i <= n; i++) {
          sub(/ .*/, "", provided[i])
          if (provided[i] == wanted) found = 1
        }
      }
      END { exit !found }'
}

install_packages() {
  local missing=()
  for package in "${TIDEWATER_PACKAGES[@]}"; do
    package_installed "$package" || missing+=("$package")
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

# s3rver, the S3-compatible server the object store's tests run against
# (tests/support/s3rver_process.h): installed once with npm into build-tools/ (ignored by git).
S3RVER_VERSION=3.7.1
install_s3rver() {
  [ -x "$REPO_ROOT/build-tools/node_modules/.bin/s3rver" ] && return 0
  command -v npm >/dev/null || die "npm not found: install the Debian packages nodejs and npm"
  log "installing s3rver $S3RVER_VERSION into $REPO_ROOT/build-tools"
  mkdir -p "$REPO_ROOT/build-tools"
  npm install --no-audit --no-fund --prefix "$REPO_ROOT/build-tools" "s3rver@$S3RVER_VERSION" \
    >/dev/null || die "npm install s3rver@$S3RVER_VERSION failed"
}

# The AWS SDK for JavaScript v3, a real client for the JS SDK test
# (tests/server/js/dynamodb_js_sdk_test.mjs): installed once with npm into build-tools/, next
# to s3rver; installed again only when a pinned version below changes.
AWS_SDK_JS_PACKAGES=(
  @aws-sdk/client-dynamodb@3.1178.0
  @aws-sdk/client-dynamodb-streams@3.1141.0
)
install_aws_sdk_js() {
  local spec name version missing=()
  for spec in "${AWS_SDK_JS_PACKAGES[@]}"; do
    name="${spec%@*}" version="${spec##*@}"
    grep -qs "\"version\": \"$version\"" "$REPO_ROOT/build-tools/node_modules/$name/package.json" ||
      missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v npm >/dev/null || die "npm not found: install the Debian packages nodejs and npm"
  log "installing ${missing[*]} into $REPO_ROOT/build-tools"
  mkdir -p "$REPO_ROOT/build-tools"
  npm install --no-audit --no-fund --save-exact --prefix "$REPO_ROOT/build-tools" "${missing[@]}" \
    >/dev/null || die "npm install ${missing[*]} failed"
}

# CMake options that compile through ccache, so a fresh clone on a machine that built the same
# sources before (CI, a second checkout) reuses the objects: paths are hashed relative to the
# clone (CCACHE_BASEDIR, CCACHE_NOHASHDIR), and a precompiled header is trusted by content
# (CCACHE_SLOPPINESS). The settings travel in the launcher, so `cmake --build` run by hand in
# the build directory caches the same way.
compiler_cache_options() {
  command -v ccache >/dev/null || return 0
  local launcher="env;CCACHE_BASEDIR=$REPO_ROOT;CCACHE_NOHASHDIR=true;CCACHE_MAXSIZE=12G"
  launcher+=";CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
  launcher+=";ccache"
  printf '%s\n' "-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher" "-DCMAKE_C_COMPILER_LAUNCHER=$launcher"
}

build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    log "configuring $BUILD_DIR ($BUILD_TYPE)"
    local options=()
    case "$BUILD_TYPE" in Asan | Tsan) options+=(-DCMAKE_CXX_COMPILER=clang++) ;; esac
    # Benchmarks measure nothing under a sanitizer; the Asan build only runs the tests.
    [ "$BUILD_TYPE" = Asan ] && options+=(-DTIDEWATER_BENCHMARKS=OFF)
    mapfile -t -O "${#options[@]}" options < <(compiler_cache_options)
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
