# The build states the layering: one static library per folder of src/, linked to the folders it
# may use (docs/ARCHITECTURE.md draws the graph). Internal targets put src/ and include/ on their
# users' include path; the public library (voxtral_rt) links them PRIVATE, so its users see
# include/ only.

# vrt_add_layer(NAME SOURCES file... [USES vrt_target...] [LIBS external...])
#   USES: the project's lower layers (PUBLIC: a layer's headers may expose theirs);
#   LIBS: third-party libraries used inside the folder only.
function(vrt_add_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;USES;LIBS" ${ARGN})
  add_library(${name} STATIC ${L_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${L_USES} PRIVATE ${L_LIBS})
  vrt_set_warnings(${name})
endfunction()

# vrt_isa_sources(TARGET ISA file...): sources compiled with one instruction set's flags (and
# only those files: see src/kernels/kernel_table.h). ISA is one of the keys below. On another
# architecture, or for AMX with a compiler that lacks the flags, the files are left out and the
# ISA is reported as not built (kernels::isa_built), so it is never selected.
#   avx2        AVX2 + FMA + F16C (Haswell)
#   avx2vnni    + AVX-VNNI
#   avx512      AVX-512 F/BW/DQ/VL + the avx2 set (Skylake-SP)
#   avx512vnni  + AVX512-VNNI
#   avx512amx   + AMX tile/int8 (Sapphire Rapids), when the compiler knows the flags
#   neon        AArch64 Advanced SIMD (ARMv8.0; AArch64 only)
#   neondotprod + SDOT/UDOT (ARMv8.2 FEAT_DotProd)
#   neoni8mm    + SMMLA/UMMLA/USDOT (FEAT_I8MM; ARMv8.6, optional from 8.2)
set(VRT_ISA_FLAGS_avx2 -mavx2 -mfma -mf16c)
set(VRT_ISA_FLAGS_avx2vnni ${VRT_ISA_FLAGS_avx2} -mavxvnni)
set(VRT_ISA_FLAGS_avx512 -mavx512f -mavx512bw -mavx512dq -mavx512vl ${VRT_ISA_FLAGS_avx2})
set(VRT_ISA_FLAGS_avx512vnni ${VRT_ISA_FLAGS_avx512} -mavx512vnni)
set(VRT_ISA_FLAGS_avx512amx ${VRT_ISA_FLAGS_avx512vnni} -mamx-tile -mamx-int8)
set(VRT_ISA_FLAGS_neon -march=armv8-a)
set(VRT_ISA_FLAGS_neondotprod -march=armv8.2-a+dotprod)
set(VRT_ISA_FLAGS_neoni8mm -march=armv8.2-a+dotprod+i8mm)
set(VRT_ISA_ARM64_ISAS neon neondotprod neoni8mm)
set(VRT_ISA_X86 OFF)
set(VRT_ISA_ARM64 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(VRT_ISA_ARM64 ON)
endif()
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|i.86")
  set(VRT_ISA_X86 ON)
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag("-mamx-tile -mamx-int8" VRT_HAVE_AMX_FLAGS)
endif()
# No contraction of a * b + c into a fused multiply-add anywhere: GCC fuses by default in C++
# wherever the target has FMA (every AArch64 core, x86 files built with -mfma), and the kernels
# give the same bits on every table and architecture only when each fused operation is the
# explicit one that kernels.h's arithmetic names (T::fma, std::fma).
add_compile_options(-ffp-contract=off)

function(vrt_isa_sources target isa)
  cmake_parse_arguments(S "" "" "" ${ARGN})
  if(NOT DEFINED VRT_ISA_FLAGS_${isa})
    message(FATAL_ERROR "vrt_isa_sources: unknown ISA '${isa}'")
  endif()
  if(isa IN_LIST VRT_ISA_ARM64_ISAS)
    if(NOT VRT_ISA_ARM64)
      return()  # not built: isa_built() says so and the ISA is never selected
    endif()
  elseif(NOT VRT_ISA_X86 OR (isa STREQUAL "avx512amx" AND NOT VRT_HAVE_AMX_FLAGS))
    return()  # not built: isa_built() says so and the ISA is never selected
  endif()
  set(flags ${VRT_ISA_FLAGS_${isa}})
  target_sources(${target} PRIVATE ${S_UNPARSED_ARGUMENTS})
  set_source_files_properties(${S_UNPARSED_ARGUMENTS} TARGET_DIRECTORY ${target}
    PROPERTIES COMPILE_OPTIONS "${flags}")
  string(TOUPPER "${isa}" upper)
  target_compile_definitions(${target} PRIVATE VRT_KERNELS_${upper}=1)
endfunction()
