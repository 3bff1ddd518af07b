// zlib, for the deflated members of .npz archives (np.savez_compressed).
#ifndef BLASNET_CZLIB_SHIM_H
#define BLASNET_CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 is a macro, which Swift does not import: a raw deflate stream
// (no zlib header), as zip stores it.
static inline int blasnet_inflate_init_raw(z_stream *stream) {
  return inflateInit2(stream, -MAX_WBITS);
}

#endif
