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

# --- The agent built for size (issue 2's footprint: peak RSS <= 10 MiB, docs/benchmarks.md) --
# Most of the agent's own resident memory is its code: the kernel maps a binary's cached pages
# 64 KiB around every page fault, so code the agent runs anywhere in a block costs the whole
# block. Compiled with -Os and linked with --gc-sections (functions no caller reaches are
# dropped), the agent's resident code halves (2.8 -> 1.3 MiB). The collector shares
# xj_common and xj_checks but is measured for throughput at -O3 (docs/benchmarks.md, ingest),
# so in such a build those two libraries exist twice from the same source list: <name> for
# the collector and <name>_agent for the agent. Debug, sanitizer and test builds have one
# copy (<name>_agent is an alias): the tests link both names, which must then be one library.
option(XJ_AGENT_SMALL "Optimised builds: compile the agent's code for size (-Os, --gc-sections)" ON)
set(XJ_AGENT_SMALL_ACTIVE OFF)
if(XJ_AGENT_SMALL AND NOT XJ_SANITIZE AND NOT XJ_TESTS
   AND CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
  set(XJ_AGENT_SMALL_ACTIVE ON)
endif()
set(XJ_AGENT_SIZE_FLAGS -Os -ffunction-sections -fdata-sections)
set_property(GLOBAL PROPERTY XJ_AGENT_VARIANTS "")

# xj_library(<name> <sources...>): the static library <name> and its agent variant
# <name>_agent (see above). Set their properties with xj_target() so both get them.
function(xj_library name)
  add_library(${name} ${ARGN})
  if(XJ_AGENT_SMALL_ACTIVE)
    add_library(${name}_agent ${ARGN})
    target_compile_options(${name}_agent PRIVATE ${XJ_AGENT_SIZE_FLAGS})
  else()
    add_library(${name}_agent ALIAS ${name})
  endif()
  set_property(GLOBAL APPEND PROPERTY XJ_AGENT_VARIANTS ${name})
endfunction()

# xj_target(<command> <name> <args...>): target_<command>(<name> <args...>) for a library made
# by xj_library and, in a small-agent build, the same for <name>_agent with every library of
# xj_library's in <args> replaced by its agent variant:
#   xj_target(link_libraries xj_checks PUBLIC xj_common yaml-cpp)
function(xj_target command name)
  cmake_language(CALL target_${command} ${name} ${ARGN})
  if(XJ_AGENT_SMALL_ACTIVE)
    xj_agent_names(args ${ARGN})
    cmake_language(CALL target_${command} ${name}_agent ${args})
  endif()
endfunction()

# xj_agent_names(<out> <items...>): the items with xj_library names turned into <name>_agent.
function(xj_agent_names out)
  get_property(variants GLOBAL PROPERTY XJ_AGENT_VARIANTS)
  set(result "")
  foreach(item IN LISTS ARGN)
    if(item IN_LIST variants)
      list(APPEND result ${item}_agent)
    else()
      list(APPEND result ${item})
    endif()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()
