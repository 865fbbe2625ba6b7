# Runs a program (through EMULATOR when cross-compiled) and compares its
# standard output byte for byte with EXPECTED.
#   cmake -DEMULATOR=<;-list or empty> -DPROGRAM=... -DARGS=<;-list> -DEXPECTED=file -P run_compare.cmake
separate_arguments(EMULATOR UNIX_COMMAND "${EMULATOR}")
execute_process(COMMAND ${EMULATOR} ${PROGRAM} ${ARGS}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}:\n${err}")
endif()
file(READ "${EXPECTED}" want)
if(NOT out STREQUAL want)
  file(WRITE "${EXPECTED_OUT}" "${out}")
  message(FATAL_ERROR "output differs from ${EXPECTED}; got (saved to ${EXPECTED_OUT}):\n${out}")
endif()
message(STATUS "output identical to ${EXPECTED}")
