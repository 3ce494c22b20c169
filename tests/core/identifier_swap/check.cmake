# core_identifier_swap_test: builds the control target, which must compile, then each
# swap case target, which must fail to compile with a diagnostic naming one of the
# identifier types (not some unrelated error). Run with cmake -P; arguments:
#   BUILD_DIR  the build tree;  CASES  the case numbers, comma-separated;  CONFIG  the config.
string(REPLACE "," ";" cases "${CASES}")

function(build_target target result_var output_var)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --config "${CONFIG}"
                          --target ${target}
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  set(${result_var} ${result} PARENT_SCOPE)
  set(${output_var} "${output}" PARENT_SCOPE)
endfunction()

build_target(identifier_swap_control result output)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the control (identifiers in their intended order) does not compile:\n"
                      "${output}")
endif()
message(STATUS "control compiles")

foreach(case IN LISTS cases)
  build_target(identifier_swap_case_${case} result output)
  if(result EQUAL 0)
    message(FATAL_ERROR "swap case ${case} compiled: swapped identifiers were accepted")
  endif()
  if(NOT output MATCHES "identifier_swap\\.cc:[0-9]+:[0-9]+: error: .*(ShardIndex|SequenceNumber|TableName)")
    message(FATAL_ERROR "swap case ${case} failed for another reason than the identifier types:\n"
                        "${output}")
  endif()
  message(STATUS "swap case ${case} does not compile, as required")
endforeach()
