// segbench: segledger's load generator. Every mode prints its figure next to
// a ceiling measured in the same run on the same machine, and their ratio
// (DESIGN.md command-line contract).
//
//   segbench ledger --appenders N --seconds S --dir DIR [--json]
//   segbench grpc --node HOST:PORT [--insecure | --ca F --cert F --key F]
//                 --mode unary|stream|mixed --concurrency N --seconds S
//   segbench audit DIR [--json]
//   segbench mkbundle --entries N --out DIR [--scratch DIR]
//   segbench proof --dir DIR | --data NODE_DIR --entries N [--node ...]
//   segbench query --dir DIR --records N [--keep]
//
// Exit codes: 0 done, 1 the run failed, 2 usage, 3 node unreachable.
#include <cstdio>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "benchmarks/segbench/audit_bench.h"
#include "benchmarks/segbench/grpc_bench.h"
#include "benchmarks/segbench/ledger_bench.h"
#include "benchmarks/segbench/proof_bench.h"
#include "benchmarks/segbench/query_bench.h"

namespace {

// Prints a mode's JSON line (or a labelled line) and maps errors to exit
// codes.
int Report(const char* mode, const absl::StatusOr<std::string>& result,
           bool json) {
  if (!result.ok()) {
    std::cerr << "segbench " << mode << ": " << result.status() << "\n";
    if (segledger::client::IsUnreachableOrRefused(result.status())) return 3;
    return absl::IsInvalidArgument(result.status()) ? 2 : 1;
  }
  if (json) {
    std::cout << *result << "\n";
  } else {
    std::cout << "segbench " << mode << ": " << *result << "\n";
  }
  return 0;
}

// --node/--insecure/--ca/--cert/--key on `cmd`.
void AddNodeFlags(CLI::App* cmd, segledger::client::ClientOptions* c,
                  bool node_required) {
  auto* node = cmd->add_option("--node", c->target, "node HOST:PORT");
  if (node_required) node->required();
  cmd->add_flag("--insecure", c->insecure, "plaintext (loopback only)");
  cmd->add_option("--ca", c->ca_file, "PEM CA of the node");
  cmd->add_option("--cert", c->cert_file, "PEM client certificate");
  cmd->add_option("--key", c->key_file, "PEM client key");
  cmd->add_option("--server-name", c->server_name_override,
                  "TLS name to check");
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

  segledger::bench::GrpcBenchOptions grpc;
  double grpc_seconds = 5;
  double grpc_ceiling_seconds = 3;
  auto* gcmd = app.add_subcommand("grpc", "load on a running segledgerd");
  AddNodeFlags(gcmd, &grpc.client, true);
  gcmd->add_option("--mode", grpc.mode, "unary | stream | mixed")
      ->check(CLI::IsMember({"unary", "stream", "mixed"}));
  gcmd->add_option("--concurrency", grpc.concurrency, "calls in flight")
      ->check(CLI::Range(1, 4096));
  gcmd->add_option("--seconds", grpc_seconds, "load duration")
      ->check(CLI::Range(0.1, 3600.0));
  gcmd->add_option("--ceiling-seconds", grpc_ceiling_seconds,
                   "duration of the ceiling measurement")
      ->check(CLI::Range(0.1, 600.0));
  gcmd->add_option("--batch", grpc.stream_batch, "records per stream message")
      ->check(CLI::Range(1, 4096));
  gcmd->add_option("--max-records", grpc.max_records, "bound on records sent")
      ->check(CLI::Range(1, 100000000));
  gcmd->add_flag("--skip-ceiling", grpc.skip_ceiling, "no ceiling (ratio 0)");
  gcmd->add_flag("--json", json, "print one JSON object");

  std::string audit_dir;
  double audit_ceiling_seconds = 3;
  bool audit_skip_ceiling = false;
  auto* acmd = app.add_subcommand("audit", "offline verification of a bundle");
  acmd->add_option("DIR", audit_dir, "bundle directory")->required();
  acmd->add_option("--ceiling-seconds", audit_ceiling_seconds,
                   "duration of the ceiling measurement")
      ->check(CLI::Range(0.1, 600.0));
  acmd->add_flag("--skip-ceiling", audit_skip_ceiling, "no ceiling (ratio 0)");
  acmd->add_flag("--json", json, "print one JSON object");

  uint64_t mk_entries = 100000;
  std::string mk_out, mk_scratch;
  auto* mcmd = app.add_subcommand("mkbundle", "write a bundle of N entries");
  mcmd->add_option("--entries", mk_entries, "entries")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  mcmd->add_option("--out", mk_out, "bundle directory (must not exist)")
      ->required();
  mcmd->add_option("--scratch", mk_scratch, "store scratch (default OUT.tmp)");
  mcmd->add_flag("--json", json, "print one JSON object");

  segledger::bench::ProofBenchOptions proof;
  segledger::client::ClientOptions proof_node;
  double proof_max_seconds = 10;
  auto* pcmd = app.add_subcommand("proof", "proof latency on an N-entry store");
  pcmd->add_option("--dir", proof.dir, "scratch directory");
  pcmd->add_option("--data", proof.data,
                   "segledgerd data dir to fill to --entries and reuse");
  pcmd->add_option("--origin", proof.origin, "origin of --data's log");
  pcmd->add_flag("--grpc-only", proof.grpc_only,
                 "only proofs over gRPC against --node (no store)");
  pcmd->add_option("--entries", proof.entries, "entries")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  pcmd->add_option("--samples", proof.samples, "proofs of each kind")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10000000}));
  pcmd->add_option("--max-seconds", proof_max_seconds, "per sampling loop")
      ->check(CLI::Range(0.1, 600.0));
  pcmd->add_flag("--keep", proof.keep, "keep the store");
  AddNodeFlags(pcmd, &proof_node, false);
  pcmd->add_flag("--json", json, "print one JSON object");

  segledger::bench::QueryBenchOptions query;
  double query_max_seconds = 10;
  auto* qcmd = app.add_subcommand(
      "query", "lot timeline and traces on an N-record domain store");
  qcmd->add_option("--dir", query.dir, "scratch directory")->required();
  qcmd->add_option("--records", query.records, "domain records")
      ->check(CLI::Range(uint64_t{7}, uint64_t{100000000}));
  qcmd->add_option("--samples", query.samples, "queries of each kind")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10000000}));
  qcmd->add_option("--max-seconds", query_max_seconds, "sampling loop")
      ->check(CLI::Range(0.1, 600.0));
  qcmd->add_flag("--keep", query.keep, "keep the store for a later run");
  qcmd->add_flag("--json", json, "print one JSON object");

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
    return Report("ledger", segledger::bench::RunLedgerBench(ledger), json);
  }
  if (gcmd->parsed()) {
    grpc.duration = absl::Seconds(grpc_seconds);
    grpc.ceiling_duration = absl::Seconds(grpc_ceiling_seconds);
    return Report("grpc", segledger::bench::RunGrpcBench(grpc), json);
  }
  if (acmd->parsed()) {
    return Report("audit",
                  segledger::bench::RunAuditBench(
                      audit_dir, absl::Seconds(audit_ceiling_seconds),
                      audit_skip_ceiling),
                  json);
  }
  if (mcmd->parsed()) {
    if (mk_scratch.empty()) mk_scratch = mk_out + ".tmp";
    return Report(
        "mkbundle",
        segledger::bench::RunMakeBundle(mk_entries, mk_scratch, mk_out), json);
  }
  if (qcmd->parsed()) {
    query.max_time = absl::Seconds(query_max_seconds);
    return Report("query", segledger::bench::RunQueryBench(query), json);
  }
  if (pcmd->parsed()) {
    if (!proof_node.target.empty()) proof.node = proof_node;
    proof.max_time = absl::Seconds(proof_max_seconds);
    if (proof.dir.empty() && proof.data.empty() && !proof.grpc_only) {
      std::cerr << "segbench proof: --dir or --data is required\n";
      return 2;
    }
    return Report("proof", segledger::bench::RunProofBench(proof), json);
  }
  return 2;
}
