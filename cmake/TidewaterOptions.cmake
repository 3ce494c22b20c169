# Debug information is line tables only (-g1): enough for stack traces (sanitizer reports,
# crashes, gdb's bt) and profilers, and a quarter less compile time and objects 60% smaller
# than -g on this code base; a developer who wants variables in gdb configures with
# -DCMAKE_CXX_FLAGS=-g.
set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O2 -g1 -DNDEBUG" CACHE STRING
    "Flags for the RelWithDebInfo build type" FORCE)

# Linking with lld when it is there (scripts/common.sh installs it): the test executables
# link statically against the project's libraries, and lld links them 4x faster than ld.bfd.
find_program(TW_LLD ld.lld)
if(TW_LLD)
  add_link_options(-fuse-ld=lld)
endif()

# Build types beyond CMake's own:
#   Asan  -- AddressSanitizer + UndefinedBehaviorSanitizer, used by CI as a second build
#            (scripts/common.sh configures it with clang). Without UBSan's pointer-overflow
#            check: RapidJSON 1.1's internal stack adds 0 to a null pointer, which clang
#            reports in every JSON parse (the fuzz build turns it off for the same reason).
set(CMAKE_CXX_FLAGS_ASAN "-O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=pointer-overflow -fno-sanitize-recover=undefined"
    CACHE STRING "Flags for the Asan build type" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_ASAN "-fsanitize=address,undefined" CACHE STRING "" FORCE)
set(CMAKE_SHARED_LINKER_FLAGS_ASAN "-fsanitize=address,undefined" CACHE STRING "" FORCE)
#   Tsan  -- ThreadSanitizer, used by CI on the suites that exercise concurrency
#            (scripts/common.sh configures it with clang, so that it also runs -Wthread-safety).
set(CMAKE_CXX_FLAGS_TSAN "-O1 -g1 -fno-omit-frame-pointer -fsanitize=thread"
    CACHE STRING "Flags for the Tsan build type" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_TSAN "-fsanitize=thread" CACHE STRING "" FORCE)
set(CMAKE_SHARED_LINKER_FLAGS_TSAN "-fsanitize=thread" CACHE STRING "" FORCE)

# Named failure points (core/include/tidewater/core/failure_point.h): compiled in for tests,
# out of Release builds. The default is taken when the build directory is first configured.
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  set(TW_FAILURE_POINTS_DEFAULT OFF)
else()
  set(TW_FAILURE_POINTS_DEFAULT ON)
endif()
option(TIDEWATER_FAILURE_POINTS "Compile in the named failure points tests arm"
       ${TW_FAILURE_POINTS_DEFAULT})

# Warnings are errors in our own code; generated and third-party code is included as SYSTEM.
# GCC 12 reports false maybe-uninitialized (std::variant) and restrict (std::string +)
# warnings at -O3; they are off for GCC only. Clang checks the locking annotations
# (core/include/tidewater/core/thread_annotations.h).
function(tidewater_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers
    $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized -Wno-restrict>
    $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety>)
endfunction()

# Every test file is built: tidewater_add_test(name sources... LIBS libs...)
# SERIAL: the test's cases never run beside another test (RUN_SERIAL), for tests whose
# children must get CPU within fixed windows.
function(tidewater_add_test name)
  cmake_parse_arguments(T "SERIAL" "" "LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_UNPARSED_ARGUMENTS})
  tidewater_warnings(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  include(GoogleTest)
  set(properties LABELS "${T_LABELS}")
  if(T_SERIAL)
    list(APPEND properties RUN_SERIAL TRUE)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
endfunction()

# Tsan builds: every executable also gets cmake/tsan_c11_threads.cc (librdkafka's C11 threads
# made visible to ThreadSanitizer; see there). Called at the end of the top-level
# CMakeLists.txt, once every target exists.
function(tidewater_tsan_executables directory)
  get_property(targets DIRECTORY ${directory} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target ${targets})
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/tsan_c11_threads.cc)
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY ${directory} PROPERTY SUBDIRECTORIES)
  foreach(subdirectory ${subdirectories})
    tidewater_tsan_executables(${subdirectory})
  endforeach()
endfunction()
