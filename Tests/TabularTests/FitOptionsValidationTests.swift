import Foundation
import NeuralNetwork
import Tabular
import Testing

/// Issue 35, point 5: the options are checked in one place, each problem
/// keyed by the option it is about and worded in the library's names.
@Suite struct FitOptionsValidationTests {
  func problem(_ change: (inout TabularModel.FitOptions) -> Void) -> TableError? {
    var o = TabularModel.FitOptions()
    change(&o)
    do {
      try o.validate()
      return nil
    } catch {
      return error
    }
  }

  @Test func theDefaultsAreValid() throws {
    try TabularModel.FitOptions().validate()
  }

  @Test func eachProblemNamesItsOptionFirst() throws {
    let cases: [(Setting, String, (inout TabularModel.FitOptions) -> Void)] = [
      (.testFraction, "testFraction must be at least 0 and below 1, got 1.0", { $0.testFraction = 1 }),
      (.validationFraction, "validationFraction must be in [0, 1), got -0.1", { $0.validationFraction = -0.1 }),
      (.epochs, "epochs must be at least 1, got 0", { $0.epochs = 0 }),
      (.batchSize, "batchSize must be at least 1, got 0", { $0.batchSize = .examples(0) }),
      (.l2, "l2 must be ≥ 0, got -1.0", { $0.l2 = -1 }),
      (.keepProbability, "keepProbability must be in (0, 1], got 0.0", { $0.keepProbability = 0 }),
      (.maxCategories, "maxCategories must be at least 1, got 0", { $0.maxCategories = 0 }),
      (.hiddenLayers, "hiddenLayers need at least 1 unit each, got [16, 0]", { $0.hiddenLayers = [16, 0] }),
      (.learningRate, "learningRate must be a positive number, got 0.0", { $0.optimizer = .adam(learningRate: 0) }),
      (.bootstrap, "bootstrap must be 0 (none) or more, got -1", { $0.bootstrap = -1 }),
      (.ensembleSize, "ensembleSize must be from 1 to 64, got 0", { $0.ensembleSize = 0 }),
      (
        .calibration, "calibration is fitted on the validation split: it needs validationFraction above 0",
        {
          $0.calibration = .platt
          $0.validationFraction = 0
        }
      ),
      (
        .earlyStopping, "earlyStopping watches the validation cost: it needs validationFraction above 0",
        {
          $0.earlyStopping = .on(EarlyStopping(patience: 5))
          $0.validationFraction = 0
        }
      ),
      (
        .threshold, "threshold is for classes; task = regression predicts a number",
        {
          $0.task = .regression
          $0.threshold = .fixed(0.3)
        }
      ),
    ]
    for (setting, message, change) in cases {
      let error = try #require(problem(change), "\(setting) was accepted")
      #expect(error.description == message)
      #expect(error.settings.first == setting, "\(error.settings)")
    }
  }
}
