import Foundation
import Tabular
import Testing

@testable import BLASNetCLI

/// Issue 35, point 5: the library's messages name options as Swift spells
/// them; the command line shows the same message with its flags.
@Suite struct SettingNamesTests {
  @Test func aMessageNamesItsSettingsBothWays() {
    let error = TableError(
      "too few rows; use \(Setting.validationFraction.named(0)) or a larger \(Setting.testData.named)")
    #expect(error.description == "too few rows; use validationFraction = 0 or a larger testData")
    #expect(error.commandLineMessage == "too few rows; use --validation-fraction 0 or a larger --test-data")
    #expect(error.settings == [.validationFraction, .testData])
    // A place put before the message keeps the marks (cross-validation's folds, other processes).
    let placed = TableError.at("t.csv", line: 3, "see \(Setting.ignoredColumns.named("id"))")
    #expect(placed.commandLineMessage == "t.csv:3: see --ignore id")
    #expect(TableError("no settings here").settings.isEmpty)
  }

  /// Every setting's flag is an option of a command (its help lists it).
  @Test func everyFlagIsAnOptionOfACommand() throws {
    try withTemporaryFolder { folder in
      var helps = ""
      for command in ["train", "predict", "import"] {
        helps += try CLI.run([command, "--help"], in: folder).stdout
      }
      for setting in Setting.allCases {
        #expect(
          helps.contains(setting.flag + " ") || helps.contains(setting.flag + "\n"), "\(setting) → \(setting.flag)")
      }
    }
  }
}
