# VRT_SANITIZE=ON builds every target with ASan + UBSan (CI runs the whole test suite this way).
# UBSan is made fatal so that a finding fails the test instead of printing and carrying on.
if(VRT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
