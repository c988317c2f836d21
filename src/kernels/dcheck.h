// VRT_DCHECK(cond): kernel-internal precondition check, active in debug and sanitizer builds
// only (kernels trust their inputs; the model validates shapes at its boundary). A failure is
// a bug in the caller, so it aborts with the location instead of throwing.
#pragma once

#include <cstdio>
#include <cstdlib>

#if !defined(NDEBUG) || defined(__SANITIZE_ADDRESS__) || defined(VRT_FORCE_DCHECK)
#define VRT_DCHECK_ENABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VRT_DCHECK_ENABLED 1
#endif
#endif

#ifndef VRT_DCHECK
#ifdef VRT_DCHECK_ENABLED
#define VRT_DCHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: VRT_DCHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
#else
#define VRT_DCHECK(cond) \
  do {                   \
  } while (0)
#endif
#endif
