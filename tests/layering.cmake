# layering.cmake: proves the pipeline layout's rule (CMakeLists.txt, shakedown_stage) on the real
# include paths of one stage's library: a header of the stage itself compiles (the control: the
# flags are right), and each header of a later stage does not — an include against the flow is a
# build error. Run as a test: cmake -DCC=... -DINC=dir|dir|... -DOWN=header -DLATER=h|h|...
# -DOUT=dir -P layering.cmake
string(REPLACE "|" ";" dirs "${INC}")
string(REPLACE "|" ";" later "${LATER}")
set(flags -std=c11 -D_POSIX_C_SOURCE=200809L -fsyntax-only)
foreach(d IN LISTS dirs)
  list(APPEND flags -I${d})
endforeach()
file(MAKE_DIRECTORY ${OUT})

function(compile header result_var err_var)
  string(MAKE_C_IDENTIFIER ${header} base)
  file(WRITE ${OUT}/${base}.c "#include \"${header}\"\n")
  execute_process(COMMAND ${CC} ${flags} ${OUT}/${base}.c RESULT_VARIABLE rc
                  OUTPUT_QUIET ERROR_VARIABLE err)
  set(${result_var} ${rc} PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
endfunction()

compile(${OWN} rc err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "control: ${OWN} does not compile with the stage's include path:\n${err}")
endif()
foreach(h IN LISTS later)
  compile(${h} rc err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "${h}, a later stage's header, compiles with this stage's include path")
  endif()
  if(NOT err MATCHES "No such file")
    message(FATAL_ERROR "${h} failed for another reason than not being found:\n${err}")
  endif()
endforeach()
message(STATUS "${OWN} compiles; ${LATER} are not found")
