# xj_add_test(NAME <name> SOURCES <files...> LIBS <targets...> [LABEL <label>])
# One Catch2 executable; every TEST_CASE becomes its own ctest test. LABEL lets one area's
# tests run alone: ctest -L <label>.
function(xj_add_test)
  cmake_parse_arguments(T "" "NAME;LABEL" "SOURCES;LIBS" ${ARGN})
  set(_labels "")
  if(T_LABEL)
    set(_labels LABELS ${T_LABEL})
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE xj_catch_main ${T_LIBS})
  target_compile_definitions(${T_NAME} PRIVATE
    XJ_SOURCE_DIR="${PROJECT_SOURCE_DIR}" XJ_BINARY_DIR="${PROJECT_BINARY_DIR}")
  catch_discover_tests(${T_NAME}
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
    PROPERTIES TIMEOUT 120 ${_labels})
endfunction()
