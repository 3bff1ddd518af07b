// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE) are
// macros over addresses of its globals, which Swift cannot import: these
// functions hand them over.
#include <mpi.h>

static inline MPI_Comm blasnet_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype blasnet_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype blasnet_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype blasnet_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op blasnet_mpi_sum(void) { return MPI_SUM; }
static inline void *blasnet_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int blasnet_mpi_success(void) { return MPI_SUCCESS; }
