// The C that BLASNet sees with the BLIS trait: BLIS's CBLAS interface, a few
// BLIS functions declared here, and LAPACKE (unchanged). Debian's OpenMP
// build of BLIS (libblis-openmp-dev) ships no pkg-config file, and its
// blis.h includes <omp.h>, which Swift's clang does not find; its cblas.h is
// self-contained, so the header is named by its multiarch path.
#ifndef BLASNET_CBLIS_SHIM_H
#define BLASNET_CBLIS_SHIM_H

// BLIS's cblas.h defines _POSIX_C_SOURCE when it is not defined, which
// narrows glibc's declarations (struct tm loses tm_gmtoff and tm_zone) and
// then clashes with Swift's Glibc module. _DEFAULT_SOURCE keeps glibc's
// default set, the one the Glibc module was built with.
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#if defined(__x86_64__)
#include <x86_64-linux-gnu/blis-openmp/cblas.h>
#elif defined(__aarch64__)
#include <aarch64-linux-gnu/blis-openmp/cblas.h>
#else
#error "BLASNet's BLIS backend knows the Debian header paths of x86_64 and aarch64 only"
#endif
#include <lapacke.h>

// From blis.h (BLIS 0.9), which cannot be included here; dim_t is a signed
// long and arch_t an enum in its LP64 builds.
long bli_thread_get_num_threads(void);
void bli_thread_set_num_threads(long n_threads);
char *bli_info_get_version_str(void);
int bli_arch_query_id(void);
char *bli_arch_string(int id);

#endif
