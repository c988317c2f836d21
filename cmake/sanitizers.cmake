# VRT_SANITIZE=ON builds every target with ASan + UBSan (CI runs the whole test suite this way).
# UBSan is made fatal so that a finding fails the test instead of printing and carrying on.
# -O1 -g1 (after the build type's -O3, so they win): ASan's recommended level, and line tables
# are all its reports need; full -O3 -g took twice as long to compile (server/http_session.cpp
# 232 s -> 106 s), which was half of CI's time.
if(VRT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer -O1 -g1)
  add_link_options(-fsanitize=address,undefined)
endif()
