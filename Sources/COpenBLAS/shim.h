// The only C that BLASNet sees: OpenBLAS's CBLAS interface (which also
// declares openblas_set_num_threads and friends) and LAPACKE.
#ifndef BLASNET_COPENBLAS_SHIM_H
#define BLASNET_COPENBLAS_SHIM_H

#include <cblas.h>
#include <lapacke.h>

#endif
