// zlib, for the deflated members of .npz archives (np.savez_compressed).
#ifndef BLASNET_CZLIB_SHIM_H
#define BLASNET_CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 is a macro, which Swift does not import: a raw deflate stream
// (no zlib header), as zip stores it.
static inline int blasnet_inflate_init_raw(z_stream *stream) {
  return inflateInit2(stream, -MAX_WBITS);
}

// deflateInit2 likewise: a raw deflate stream at the best compression, for
// tests that write deflated members.
static inline int blasnet_deflate_init_raw(z_stream *stream) {
  return deflateInit2(stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}

#endif
