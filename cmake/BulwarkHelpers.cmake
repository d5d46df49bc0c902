# bulwark_glob_sources(<var> <dir>): every .cc under <dir> except *_test.cc and main.cc.
function(bulwark_glob_sources var dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  list(FILTER srcs EXCLUDE REGEX ".*_test\\.cc$")
  list(FILTER srcs EXCLUDE REGEX ".*/main\\.cc$")
  set(${var} ${srcs} PARENT_SCOPE)
endfunction()

