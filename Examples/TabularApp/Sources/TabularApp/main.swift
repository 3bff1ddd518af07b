import Foundation
import Tabular

// Train: the clinical table next to this package (text labels B and M, an id
// column, a text column, missing values written NA), with median fills and a
// threshold chosen for 95 % sensitivity on the validation split.
let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()
let table = here.appendingPathComponent("../clinical/breast-masses.csv").standardizedFileURL.path
var options = TabularModel.FitOptions()
options.label = "diagnosis"
options.ignoredColumns = ["patient_id"]
options.missing = .median
options.threshold = .targetSensitivity(0.95)

let report: TabularModel.FitReport
do {
  report = try TabularModel.fit(.csvFile(table), options: options)
} catch {
  print("training failed: \(error)")
  exit(1)
}
let test = report.metrics.last!.binary!
print("trained: \(report.model.network), \(report.history.epochsRun) epochs")
print("test accuracy \(String(format: "%.4f", test.accuracy)), sensitivity \(String(format: "%.4f", test.sensitivity ?? 0))")

// Save, and load back as another program would.
let file = FileManager.default.temporaryDirectory.appendingPathComponent("tabular-app-model.json").path
do {
  try report.model.save(to: file)
} catch {
  print("saving failed: \(error)")
  exit(1)
}
let model = try TabularModel.load(from: file)
print("loaded: classes \(model.classes), threshold \(String(format: "%.4f", model.decisionThreshold))")

// Records built in code, fields as a CSV file would hold them.
var patient = [
  "size_band": "large", "mean_radius": "17.99", "mean_texture": "NA", "mean_perimeter": "122.8",
  "mean_area": "1001", "mean_smoothness": "0.1184", "mean_compactness": "0.2776", "mean_concavity": "0.3001",
  "mean_concave_points": "0.1471", "mean_symmetry": "0.2419", "mean_fractal_dimension": "0.07871",
  "radius_se": "1.095", "texture_se": "0.9053", "perimeter_se": "8.589", "area_se": "153.4",
  "smoothness_se": "0.006399", "compactness_se": "0.04904", "concavity_se": "0.05373",
  "concave_points_se": "0.01587", "symmetry_se": "0.03003", "fractal_dimension_se": "0.006193",
  "worst_radius": "25.38", "worst_texture": "17.33", "worst_perimeter": "184.6", "worst_area": "2019",
  "worst_smoothness": "0.1622", "worst_compactness": "0.6656", "worst_concavity": "0.7119",
  "worst_concave_points": "0.2654", "worst_symmetry": "0.4601", "worst_fractal_dimension": "0.1189",
]
let first = try model.predict(patient)
print("record 1: \(first.className) (p(M) = \(String(format: "%.4f", first.probabilities[1])))")

// A bad record: a typed error naming the column and the value, no crash.
patient["size_band"] = "enormous"
do {
  _ = try model.predict(patient)
  print("record 2: predicted, which it should not have been")
  exit(1)
} catch {
  print("record 2: \(error)")
}
try? FileManager.default.removeItem(atPath: file)
