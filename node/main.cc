// segledgerd: the party's node (DESIGN.md "Command-line contract").
//
//   segledgerd init  --data DIR --origin ORIGIN --key-name NAME
//   segledgerd serve --data DIR --listen HOST:PORT [--insecure]
//                    [--ready-file F] [--config FILE] [TLS flags]
//
// Flags override the config file, which overrides DIR/node.textproto.
// Exit codes: 0 ok, 2 usage or input error, 3 cannot serve.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "node/data_dir.h"
#include "node/grpc_log.h"
#include "node/json_log.h"
#include "node/node.h"

namespace {

using segledger::node::LogJson;

// init and flag errors: one plain line (nothing is logged yet).
int Fail(int code, const absl::Status& s) {
  std::cerr << "segledgerd: " << s.message() << "\n";
  return code;
}

// serve errors: one line of the JSON log (docs/operations.md "Monitoring"),
// which names the problem.
int ServeFail(int code, absl::string_view what, const absl::Status& s) {
  segledger::node::LogFields fields = {{"status", s.ToString()}};
  std::string grpc = segledger::node::TakeHeldGrpcLog();
  if (!grpc.empty()) fields.emplace_back("grpc", grpc);
  LogJson("error", what, fields);
  return code;
}

struct ServeFlags {
  std::string data, listen, ready_file, config, cert, key, ca, party, site,
      metrics;
  bool insecure = false;
};

// Waits for SIGTERM or SIGINT (blocked in every thread, so only this
// sigwait sees them).
int WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

int Serve(const ServeFlags& f) {
  segledger::node::RouteGrpcLogToJson();  // held until the node serves
  segledger::v1::NodeConfig config;
  if (!f.config.empty()) {
    absl::StatusOr<segledger::v1::NodeConfig> c =
        segledger::node::ReadConfigFile(f.config);
    if (!c.ok()) return ServeFail(2, "cannot start", c.status());
    config = *c;
    if (config.insecure() && !f.insecure) {
      // Plaintext is never a file's default: it takes the flag each time.
      return ServeFail(2, "cannot start",
                       absl::InvalidArgumentError(absl::StrCat(
                           f.config,
                           ": insecure: plaintext needs --insecure on the "
                           "command line")));
    }
  }
  if (!f.data.empty()) config.set_data_dir(f.data);
  if (!f.listen.empty()) config.set_listen(f.listen);
  if (f.insecure) config.set_insecure(true);
  if (!f.cert.empty()) config.set_tls_cert(f.cert);
  if (!f.key.empty()) config.set_tls_key(f.key);
  if (!f.ca.empty()) config.set_tls_ca(f.ca);
  if (!f.party.empty()) config.set_party(f.party);
  if (!f.site.empty()) config.set_site_id(f.site);
  if (!f.metrics.empty()) config.set_metrics_listen(f.metrics);
  absl::StatusOr<std::unique_ptr<segledger::node::Node>> node =
      segledger::node::Node::Start(config);
  if (!node.ok()) {
    return ServeFail(absl::IsInvalidArgument(node.status()) ? 2 : 3,
                     "cannot start", node.status());
  }
  if (!f.ready_file.empty()) {
    absl::Status s = segledger::node::WriteFileAtomically(
        f.ready_file, (*node)->address() + "\n");
    if (!s.ok()) return ServeFail(3, "cannot write the ready file", s);
  }
  segledger::node::ReleaseGrpcLog();
  int sig = WaitForSignal();
  LogJson("info", "shutting down", {{"signal", absl::StrCat(sig)}});
  absl::Status s = (*node)->Shutdown();
  if (!s.ok()) return 3;  // Shutdown logged the store's close error
  LogJson("info", "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread starts; WaitForSignal
  // takes them synchronously.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"segledgerd: a party's segledger node"};
  app.require_subcommand(1);
  std::string data, origin, key_name;
  CLI::App* init = app.add_subcommand("init", "create a store and its key");
  init->add_option("--data", data, "data directory")->required();
  init->add_option("--origin", origin, "log origin")->required();
  init->add_option("--key-name", key_name, "signing key name")->required();

  ServeFlags f;
  CLI::App* serve = app.add_subcommand("serve", "serve the log over gRPC");
  serve->add_option("--data", f.data, "data directory");
  serve->add_option("--listen", f.listen, "HOST:PORT (port 0: any)");
  serve->add_flag("--insecure", f.insecure,
                  "plaintext, no client certificates (development only)");
  serve->add_option("--ready-file", f.ready_file,
                    "write the bound HOST:PORT here once serving");
  serve->add_option("--config", f.config, "NodeConfig text-format file");
  serve->add_option("--tls-cert", f.cert, "server certificate (PEM)");
  serve->add_option("--tls-key", f.key, "server private key (PEM)");
  serve->add_option("--tls-ca", f.ca, "CA of client certificates (PEM)");
  serve->add_option("--party", f.party, "this node's party (default origin)");
  serve->add_option("--site-id", f.site, "this log's site (domain rules)");
  serve->add_option("--metrics-listen", f.metrics,
                    "HOST:PORT of the Prometheus endpoint");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "segledgerd: " << e.what() << "\n";
    return 2;
  }
  if (init->parsed()) {
    absl::StatusOr<std::string> vkey =
        segledger::node::InitDataDir(data, origin, key_name);
    if (!vkey.ok()) return Fail(2, vkey.status());
    std::cout << *vkey << "\n";
    return 0;
  }
  return Serve(f);
}
