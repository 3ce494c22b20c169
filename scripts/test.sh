#!/usr/bin/env bash
# Installs what is missing (Debian packages; s3rver and the AWS JS SDK into build-tools/),
# builds, and runs the whole test suite (CTest).
# BUILD_TYPE=Asan BUILD_DIR=build-asan runs it under AddressSanitizer + UBSan;
# BUILD_TYPE=Tsan under ThreadSanitizer (TSAN_OPTIONS defaults to halting on the first report,
# with tests/tsan_suppressions.txt).
# CTEST_ARGS adds ctest arguments, e.g. "-L tsan": the suites CI runs under TSan (see
# tests/CMakeLists.txt). TEST_JOBS: tests run at once (default: the number of CPUs).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_packages
install_s3rver  # the object store's tests run against it
install_aws_sdk_js  # the JS SDK test's client
build
if [ "$BUILD_TYPE" = Tsan ]; then
  export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 suppressions=$REPO_ROOT/tests/tsan_suppressions.txt}"
fi
ctest_args=()
[ -n "${CTEST_ARGS:-}" ] && read -r -a ctest_args <<<"$CTEST_ARGS"
log "running tests in $BUILD_DIR (installed and built in ${SECONDS}s)"
cd "$BUILD_DIR"
ctest --output-on-failure -j"${TEST_JOBS:-$(nproc)}" --timeout 900 "${ctest_args[@]}"
