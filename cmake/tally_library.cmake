# tally_library(NAME SOURCES ... DEPS ...)
# One library per top-level folder, aliased tally::NAME, warnings as errors.
# Dependencies are declared here and nowhere else, so the target graph is the
# layering of docs/ARCHITECTURE (see docs/decisions/0001-layers.md).
function(tally_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 at -O3 reports std::string copies as overlapping memcpy
    # (GCC bug 105329): a false positive, not a warning we can act on.
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()

function(tally_library name)
  cmake_parse_arguments(ARG "INTERFACE" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  if(ARG_INTERFACE)
    add_library(tally_${name} INTERFACE)
    target_include_directories(tally_${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(tally_${name} INTERFACE ${ARG_DEPS})
  else()
    add_library(tally_${name} STATIC ${ARG_SOURCES})
    target_include_directories(tally_${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(tally_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    tally_warnings(tally_${name})
  endif()
  add_library(tally::${name} ALIAS tally_${name})
endfunction()
