// segctl: command-line client of a segledgerd node (DESIGN.md
// "Command-line contract"). Flag parsing only; the commands are in
// segctl_commands.cc.
#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "client/segctl_commands.h"
#include "tools/cli_error.h"

namespace {
using segledger::client::CommandEnv;
using segledger::client::kExitUsage;

int Usage(const std::string& msg) {
  std::cerr << "segctl: " << msg << "\n";
  return kExitUsage;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"segctl: client of a segledger node"};
  app.require_subcommand(1);
  segledger::client::ClientOptions opts;
  std::string format = "json";
  double timeout_s = 30;
  app.add_option("--node", opts.target, "HOST:PORT of the node")->required();
  app.add_flag("--insecure", opts.insecure, "plaintext (development only)");
  app.add_option("--ca", opts.ca_file, "CA certificate (PEM)");
  app.add_option("--cert", opts.cert_file, "client certificate (PEM)");
  app.add_option("--key", opts.key_file, "client private key (PEM)");
  app.add_option("--server-name", opts.server_name_override,
                 "TLS name expected in the node's certificate");
  app.add_option("--timeout", timeout_s,
                 "seconds per attempt of a call; for a stream (append, "
                 "entries, export), the longest wait for the node's next "
                 "message");
  app.add_option("--format", format, "json or text")
      ->check(CLI::IsMember({"json", "text"}));

  std::string file;
  auto* append = app.add_subcommand("append", "append JSON-line records");
  append->add_option("FILE", file, "records file, - for stdin")->required();

  int64_t cp_size = -1;
  auto* checkpoint = app.add_subcommand("checkpoint", "latest checkpoint");
  checkpoint->add_option("--size", cp_size, "checkpoint at exactly this size");

  uint64_t from = 0, to = 0;
  auto* entries = app.add_subcommand("entries", "entries [from, to)");
  entries->add_option("--from", from, "first index")->required();
  entries->add_option("--to", to, "one past the last index")->required();

  uint64_t arg = 0, size = 0;
  auto* prove = app.add_subcommand("prove", "inclusion/consistency proofs");
  prove->require_subcommand(1);
  auto* inclusion = prove->add_subcommand("inclusion", "inclusion proof");
  inclusion->add_option("INDEX", arg, "entry index")->required();
  inclusion->add_option("--size", size, "tree size (0: latest checkpoint)");
  std::string proof_file;
  inclusion->add_option("--proof-file", proof_file,
                        "also write a C2SP tlog-proof file for the entry");
  auto* consistency = prove->add_subcommand("consistency", "consistency proof");
  consistency->add_option("OLD", arg, "old tree size")->required();
  consistency->add_option("--size", size, "tree size (0: latest checkpoint)");

  auto* status = app.add_subcommand("status", "node status");
  auto* cp_now = app.add_subcommand("checkpoint-now", "sign a checkpoint now");
  segledger::v1::RotateKeyRequest rotate_req;
  std::string new_name, reason, person, printed;
  auto* rotate = app.add_subcommand("rotate-key", "rotate the log's key");
  rotate->add_option("--name", new_name, "new key name")->required();
  rotate->add_option("--reason", reason, "reason");
  rotate->add_option("--person-id", person, "operator id")->required();
  rotate->add_option("--printed-name", printed, "operator name")->required();
  std::string backup_dir;
  auto* backup = app.add_subcommand("backup", "online backup on the node");
  backup->add_option("--dir", backup_dir, "absolute path on the node")
      ->required();

  std::string export_dir;
  auto* export_cmd = app.add_subcommand(
      "export", "write the audit bundle of the node's log (checked first)");
  export_cmd
      ->add_option("--out", export_dir, "bundle directory (must not exist)")
      ->required();

  std::string query_kind, lot_id;
  auto* query = app.add_subcommand("query", "domain queries on a lot");
  query
      ->add_option("KIND", query_kind,
                   "timeline|trace-back|trace-forward|balance")
      ->required()
      ->check(CLI::IsMember(
          {"timeline", "trace-back", "trace-forward", "balance"}));
  query->add_option("LOT", lot_id, "lot id")->required();

  std::string min_severity = "warning";
  auto* findings = app.add_subcommand(
      "findings", "findings across every log the node holds verified");
  findings
      ->add_option("--min-severity", min_severity,
                   "info|warning|major|critical (default warning)")
      ->check(CLI::IsMember({"info", "warning", "major", "critical"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return Usage(segledger::tools::CliErrorMessage(app, e, argc, argv));
  }
  opts.timeout = absl::Seconds(timeout_s);
  auto client = segledger::client::Client::Connect(opts);
  if (!client.ok()) return Usage(std::string(client.status().message()));
  CommandEnv env{client->get(),
                 format == "text" ? segledger::client::Format::kText
                                  : segledger::client::Format::kJson,
                 &std::cout, &std::cerr};
  using namespace segledger::client;  // NOLINT: the Run* commands
  if (append->parsed()) {
    if (file == "-") return RunAppend(env, std::cin);
    std::ifstream in(file);
    if (!in) return Usage("FILE: cannot read \"" + file + "\"");
    return RunAppend(env, in);
  }
  if (checkpoint->parsed()) return RunCheckpoint(env, cp_size);
  if (entries->parsed()) return RunEntries(env, from, to);
  if (inclusion->parsed()) {
    return RunProveInclusion(env, arg, size, proof_file);
  }
  if (consistency->parsed()) return RunProveConsistency(env, arg, size);
  if (status->parsed()) return RunStatus(env);
  if (cp_now->parsed()) return RunCheckpointNow(env);
  if (rotate->parsed()) {
    rotate_req.set_new_key_name(new_name);
    rotate_req.set_reason(reason);
    rotate_req.mutable_actor()->set_person_id(person);
    rotate_req.mutable_actor()->set_printed_name(printed);
    rotate_req.mutable_actor()->set_meaning(
        segledger::v1::SIGNATURE_MEANING_APPROVED);
    return RunRotateKey(env, rotate_req);
  }
  if (backup->parsed()) return RunBackup(env, backup_dir);
  if (query->parsed()) return RunQuery(env, query_kind, lot_id);
  if (export_cmd->parsed()) return RunExport(env, export_dir);
  if (findings->parsed()) return RunFindings(env, min_severity);
  return Usage("no command");
}
