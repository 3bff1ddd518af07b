// Multiplies two matrices and trains a tiny network through BLASNet's public
// API. With the argument `mismatch` it multiplies a 2×3 by a 4×5 matrix on
// purpose, to show that the shape error reaches the user in a release build.
import LinearAlgebra
import NeuralNetwork

print("BLAS: \(BLAS.summary); products in \(BLAS.productLibrary)")
let a = try Matrix<Float>([[1, 2, 3], [4, 5, 6]])
if CommandLine.arguments.dropFirst().first == "mismatch" {
  _ = matmul(a, Matrix<Float>.zeros(4, 5))
}
let product = matmul(a, a, transposeB: true)
print("A·Aᵀ =", product.rowArrays)
guard product.rowArrays == [[14, 32], [32, 77]] else { fatalError("wrong product \(product)") }

var net = Network<Float>(sizes: [2, 4, 1], hiddenActivation: .tanh, initializer: .xavier, seed: 1)
let x = try Matrix<Float>([[0, 1, 0, 1], [0, 0, 1, 1]])
let y = Matrix<Float>(row: [0, 1, 1, 0])
try net.train(x: x, y: y, options: TrainingOptions(epochs: 2000, optimizer: .adam(learningRate: 0.05)))
print("\(net) learned XOR:", net.classify(x))
