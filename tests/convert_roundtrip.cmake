# Converts INPUT (+ TOKENIZER) with CONVERT into WORK and compares the result
# with EXPECTED byte for byte.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(COMMAND ${CONVERT} ${INPUT} --tokenizer ${TOKENIZER} -o ${WORK}/out.agm
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "conversion failed (${rc}): ${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/out.agm ${EXPECTED} RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "${WORK}/out.agm differs from ${EXPECTED}: regenerate the bundled model")
endif()
message(STATUS "conversion reproduces ${EXPECTED}")
