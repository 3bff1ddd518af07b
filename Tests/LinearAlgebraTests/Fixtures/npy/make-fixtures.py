# Writes the .npy fixtures of NPYTests with NumPy (run here with NumPy 2.4.6):
#   python3 make-fixtures.py
# Each file's line below is the one that made it; the tests hold the values.
import numpy as np

a = np.array([[0.1, -2.25, 1e-8, 3.0e38], [7.0, 0.3, -0.0, 65504.5], [1 / 3, -1e-30, 2.5, 100.0]])

np.save("f4-c.npy", a.astype("<f4"))                                   # (3, 4) float32, C order, v1.0
np.save("f8-fortran.npy", np.asfortranarray(a))                         # (3, 4) float64, Fortran order
with open("f4-v2.npy", "wb") as f:                                      # (3, 4) float32, format 2.0
    np.lib.format.write_array(f, a.astype("<f4"), version=(2, 0))
np.save("labels-i8.npy", np.array([0, 1, 1, 0, 1], dtype="<i8"))        # (5,) int64
np.save("mask-bool.npy", np.array([[True, False], [False, True]]))      # (2, 2) bool
np.save("f4-3d.npy", np.zeros((2, 3, 4), dtype="<f4"))                  # 3 dimensions
np.save("f4-big-endian.npy", a.astype(">f4"))                           # big-endian
np.save("f8-scalar.npy", np.float64(2.5))                               # shape ()
full = open("f4-c.npy", "rb").read()
open("f4-truncated.npy", "wb").write(full[:-5])                         # 5 bytes short
