# Compiles every public header of the given folders in a translation unit of
# its own, so a header that forgets an include fails the build (STYLE §4).
function(hepgnn_header_check target)
  cmake_parse_arguments(ARG "" "" "LINK" ${ARGN})
  set(srcs "")
  foreach(dir ${ARG_UNPARSED_ARGUMENTS})
    file(GLOB headers RELATIVE ${PROJECT_SOURCE_DIR} CONFIGURE_DEPENDS
         ${PROJECT_SOURCE_DIR}/${dir}/*.hpp)
    foreach(h ${headers})
      string(MAKE_C_IDENTIFIER ${h} id)
      set(src ${CMAKE_BINARY_DIR}/header_check/${id}.cpp)
      file(CONFIGURE OUTPUT ${src} CONTENT "#include \"${h}\"\n")
      list(APPEND srcs ${src})
    endforeach()
  endforeach()
  add_library(${target} OBJECT ${srcs})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PRIVATE ${ARG_LINK})
endfunction()
