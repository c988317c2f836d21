# VRT_FUZZ=ON: every target is compiled with libFuzzer's coverage instrumentation plus ASan and
# UBSan (UBSan fatal, as in VRT_SANITIZE), so findings inside the library are reported with the
# input that caused them. The fuzz executables themselves link -fsanitize=fuzzer (fuzz/).
# Included from the top-level CMakeLists.txt before any target exists.
if(VRT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "VRT_FUZZ needs clang's libFuzzer: configure a separate build directory "
                        "with CC=clang CXX=clang++ (scripts/fuzz.sh does)")
  endif()
  if(VRT_SANITIZE)
    message(FATAL_ERROR "VRT_FUZZ already enables ASan + UBSan; leave VRT_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
