// segbench: segledger's load generator. Every mode prints its figure next to
// a ceiling measured in the same run on the same machine, and their ratio
// (DESIGN.md command-line contract).
//
//   segbench ledger --appenders N --seconds S --dir DIR [--json]
#include <cstdio>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "benchmarks/segbench/ledger_bench.h"

namespace {

int RunLedger(const segledger::bench::LedgerBenchOptions& options, bool json) {
  auto result = segledger::bench::RunLedgerBench(options);
  if (!result.ok()) {
    std::cerr << "segbench ledger: " << result.status() << "\n";
    return 1;
  }
  if (json) {
    std::cout << *result << "\n";
  } else {
    std::cout << "segbench ledger: " << *result << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"segbench: segledger load generator with same-run ceilings"};
  app.require_subcommand(1);
  bool json = false;

  segledger::bench::LedgerBenchOptions ledger;
  double ledger_seconds = 5;
  double ceiling_seconds = 3;
  auto* lcmd = app.add_subcommand(
      "ledger", "in-process durable appends through the log store");
  lcmd->add_option("--appenders", ledger.appenders, "appender threads")
      ->check(CLI::Range(1, 4096));
  lcmd->add_option("--seconds", ledger_seconds, "load duration")
      ->check(CLI::Range(0.1, 3600.0));
  lcmd->add_option("--dir", ledger.dir, "scratch directory")->required();
  lcmd->add_option("--records-per-append", ledger.records_per_append,
                   "records per Append call")
      ->check(CLI::Range(1, 4096));
  lcmd->add_option("--payload-bytes", ledger.payload_bytes,
                   "filler bytes per record")
      ->check(CLI::Range(0, 60000));
  lcmd->add_option("--ceiling-seconds", ceiling_seconds,
                   "duration of the ceiling measurement")
      ->check(CLI::Range(0.1, 600.0));
  lcmd->add_flag("--skip-ceiling", ledger.skip_ceiling,
                 "do not measure the ceiling (ratio 0)");
  lcmd->add_flag("--json", json, "print one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "segbench: " << e.what() << "\n";
    return 2;
  }
  if (lcmd->parsed()) {
    ledger.duration = absl::Seconds(ledger_seconds);
    ledger.ceiling_duration = absl::Seconds(ceiling_seconds);
    return RunLedger(ledger, json);
  }
  return 2;
}
