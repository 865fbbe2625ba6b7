# The npm packages of the agmodel-serve tests (tests/npm/package.json: the
# official clients openai and ollama, ajv, puppeteer-core), installed into
# DIR in the build tree, never into the source tree. Skipped when DIR holds
# them already.
#   cmake -DNPM=npm -DSRC=tests/npm -DDIR=build/npm -P npm_install.cmake
set(want ajv ollama openai puppeteer-core)
set(missing FALSE)
foreach(p IN LISTS want)
  if(NOT EXISTS "${DIR}/node_modules/${p}/package.json")
    set(missing TRUE)
  endif()
endforeach()
file(READ "${SRC}/package.json" src_json)
if(EXISTS "${DIR}/package.json")
  file(READ "${DIR}/package.json" dir_json)
else()
  set(dir_json "")
endif()
if(NOT missing AND src_json STREQUAL dir_json)
  message(STATUS "npm packages present in ${DIR}")
  return()
endif()
file(MAKE_DIRECTORY "${DIR}")
file(COPY_FILE "${SRC}/package.json" "${DIR}/package.json")
execute_process(COMMAND "${NPM}" install --no-audit --no-fund --no-save --loglevel=error
  WORKING_DIRECTORY "${DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "npm install in ${DIR} failed (${rc}): is the npm registry reachable?")
endif()
