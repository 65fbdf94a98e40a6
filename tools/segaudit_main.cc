// segaudit: the inspector's offline tool (DESIGN.md "Command-line
// contract"). main only parses flags and dispatches to commands.h.
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "tools/cli_error.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  using namespace segledger::tools;  // NOLINT: main only
  CLI::App app{"segaudit: verify segledger audit bundles offline"};
  app.require_subcommand(1);

  VerifyFlags vf;
  CLI::App* verify = app.add_subcommand("verify", "verify a bundle (DIR|URL)");
  verify->add_option("BUNDLE", vf.where, "bundle directory or http:// URL")
      ->required();
  verify->add_option("--format", vf.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  verify
      ->add_option("--severity", vf.severity,
                   "fail (exit 1) on findings at or above this")
      ->check(CLI::IsMember({"info", "warning", "major", "critical"}));
  verify->add_option("--key", vf.keys, "pinned verifier key (repeatable)");
  verify->add_option("--keys", vf.keys_file, "file of pinned verifier keys");
  verify->add_option("--threads", vf.threads, "threads (0: all cores)");
  verify->add_flag("!--no-progress", vf.progress, "no progress bar");

  VerifyProofFlags pf;
  CLI::App* vproof = app.add_subcommand(
      "verify-proof", "verify a C2SP tlog-proof file for one entry");
  vproof->add_option("PROOF_FILE", pf.file, "proof file")->required();
  vproof->add_option("--key", pf.keys, "verifier key (repeatable)")->required();
  vproof->add_option("--origin", pf.origin, "expected log origin");
  vproof->add_option("--format", pf.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  ExportFlags ef;
  CLI::App* exp = app.add_subcommand(
      "export", "write a bundle from stopped nodes' data directories");
  exp->add_option("--data", ef.data_dirs, "node data directory (repeatable)")
      ->required();
  exp->add_option("--key-file", ef.key_files, "extra key file (repeatable)");
  exp->add_option("--out", ef.out, "bundle directory (must not exist)")
      ->required();

  EpcisFlags xf;
  CLI::App* epcis = app.add_subcommand(
      "epcis", "EPCIS 2.0 JSON-LD document of every event in a bundle");
  epcis->add_option("BUNDLE", xf.where, "bundle directory or URL")->required();
  epcis->add_option("--out", xf.out, "output file (default: stdout)");

  ReportFlags rf;
  CLI::App* report =
      app.add_subcommand("report", "self-contained HTML audit report");
  report->add_option("BUNDLE", rf.where, "bundle directory or URL")->required();
  report->add_option("--html", rf.html, "output HTML file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "segaudit: %s\n",
                 segledger::tools::CliErrorMessage(app, e, argc, argv).c_str());
    return kExitUsage;
  }
  if (verify->parsed()) return RunVerify(vf);
  if (vproof->parsed()) return RunVerifyProof(pf);
  if (exp->parsed()) return RunExport(ef);
  if (epcis->parsed()) return RunEpcis(xf);
  if (report->parsed()) return RunReport(rf);
  return kExitUsage;
}
