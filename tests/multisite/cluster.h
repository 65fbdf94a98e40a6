// Test fixture: four segledgerd child processes - MAH, upstream CMO,
// downstream CMO and fill-finish - on 127.0.0.1 with mutual TLS (dev CA of
// scripts/make-dev-certs.sh), each configured with the other three as
// peers (the MAH follows every site; every site follows the MAH), and the
// ADC chain's records built with the domain tests' builders
// (tests/ledger/domain/adc_chain.h), timed around now.
//
// Header-only (one test executable). Not thread-safe.
#ifndef SEGLEDGER_TESTS_MULTISITE_CLUSTER_H_
#define SEGLEDGER_TESTS_MULTISITE_CLUSTER_H_

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/support/test_util.h"

namespace segledger::multisite {

using domain::testing::Party;

inline const std::string kBin = SEGLEDGER_BINARY_DIR;
inline const std::string kSegledgerd = kBin + "/node/segledgerd";
inline const std::string kSegctl = kBin + "/client/segctl";
inline const std::string kSegaudit = kBin + "/tools/segaudit";

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CmdResult {
  int code = -1;
  std::string out;
};

// Runs a shell command; stdout captured, stderr to `err_file`.
inline CmdResult Sh(const std::string& cmd, const std::string& err_file) {
  CmdResult r;
  FILE* p = popen((cmd + " 2>" + err_file).c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// A free loopback port (bound, then released: the node binds it next).
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// Polls `cond` every 20 ms for at most `limit`; true once it held.
inline bool WaitFor(const std::function<bool()>& cond,
                    absl::Duration limit = absl::Seconds(20)) {
  absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return cond();
}

struct Site {
  std::string name;  // node and certificate name: mah, up, down, fill
  Party party;
  std::string data;
  std::string vkey;
  std::string key_name;
  std::string address;  // 127.0.0.1:<port>, fixed for restarts
  std::string config;   // text-format NodeConfig file
  pid_t pid = -1;
};

class Cluster {
 public:
  static constexpr const char* kNames[] = {"mah", "up", "down", "fill"};

  explicit Cluster(const testing::TempDir& tmp) : tmp_(tmp) {}

  // Node timing knobs written into every config (call before Init();
  // benchmarks/handoff_bench.cc varies them, the tests keep the defaults).
  void SetIntervals(int checkpoint_interval_ms, int follow_interval_ms) {
    checkpoint_interval_ms_ = checkpoint_interval_ms;
    follow_interval_ms_ = follow_interval_ms;
  }
  ~Cluster() {
    for (auto& [name, s] : sites_) {
      if (s.pid > 0) Kill(name, SIGKILL);
    }
    if (::testing::Test::HasFailure()) {  // the nodes' last words
      for (const char* n : kNames) {
        std::string log = ReadAll(tmp_.Sub(absl::StrCat("log-", n)));
        if (log.size() > 3000) log = log.substr(log.size() - 3000);
        std::cerr << "---- log of " << n << " (tail)\n" << log << "\n";
      }
    }
  }

  // Certificates, stores, configs; then starts all four.
  void Init() {
    certs_ = tmp_.Sub("certs");
    std::string cmd = absl::StrCat(SEGLEDGER_SOURCE_DIR,
                                   "/scripts/make-dev-certs.sh ", certs_);
    for (const char* n : kNames) absl::StrAppend(&cmd, " --node ", n);
    for (const char* n : kNames) absl::StrAppend(&cmd, " operator-", n);
    absl::StrAppend(&cmd, " inspector");
    ASSERT_EQ(Sh(cmd, tmp_.Sub("certs.err")).code, 0)
        << ReadAll(tmp_.Sub("certs.err"));
    const std::map<std::string, std::pair<std::string, std::string>> hosts = {
        {"mah", {"mah.example", "CN-SH"}},
        {"up", {"cmo-up.example", "CN-JS"}},
        {"down", {"cmo-down.example", "CN-ZJ"}},
        {"fill", {"fill.example", "CN-BJ"}}};
    for (const char* n : kNames) {
      Site s;
      s.name = n;
      s.party =
          domain::testing::MakeParty(hosts.at(n).first, hosts.at(n).second);
      s.data = tmp_.Sub(absl::StrCat("data-", n));
      s.key_name = absl::StrCat(s.party.origin, "-key-1");
      CmdResult r =
          Sh(absl::StrCat(kSegledgerd, " init --data ", s.data, " --origin ",
                          s.party.origin, " --key-name ", s.key_name),
             tmp_.Sub("init.err"));
      ASSERT_EQ(r.code, 0) << ReadAll(tmp_.Sub("init.err"));
      s.vkey = std::string(absl::StripSuffix(r.out, "\n"));
      s.address = absl::StrCat("127.0.0.1:", FreePort());
      sites_[n] = s;
    }
    for (const char* n : kNames) WriteConfig(n, sites_[n].data);
    for (const char* n : kNames) Start(n);
  }

  // (Re)writes `name`'s config with data directory `data`.
  void WriteConfig(const std::string& name, const std::string& data) {
    Site& s = sites_[name];
    v1::NodeConfig c;
    c.set_data_dir(data);
    c.set_party(s.party.party);
    c.set_site_id(s.party.site);
    c.set_listen(s.address);
    c.set_tls_cert(absl::StrCat(certs_, "/", name, ".pem"));
    c.set_tls_key(absl::StrCat(certs_, "/", name, ".key"));
    c.set_tls_ca(absl::StrCat(certs_, "/ca.pem"));
    c.set_checkpoint_interval_ms(checkpoint_interval_ms_);
    c.set_cosign_interval_ms(200);
    c.set_follow_interval_ms(follow_interval_ms_);
    c.set_peer_timeout_ms(2000);
    auto* op = c.add_principals();
    op->set_match(absl::StrCat("operator-", name));
    op->set_party(s.party.party);
    op->set_role("operator");
    auto* insp = c.add_principals();
    insp->set_match("inspector");
    insp->set_party("https://nmpa.example/party");
    insp->set_role("inspector");
    for (const char* other : kNames) {
      if (name == other) continue;
      const Site& o = sites_[other];
      auto* p = c.add_principals();
      p->set_match(other);
      p->set_party(o.party.party);
      p->set_role("peer");
      v1::PeerNode* peer = c.add_peers();
      peer->set_origin(o.party.origin);
      peer->set_party(o.party.party);
      peer->set_address(o.address);
      peer->add_verifier_keys(o.vkey);
      peer->set_follow(name == "mah" || std::string(other) == "mah");
    }
    std::string text;
    ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(c, &text));
    s.config = tmp_.Sub(absl::StrCat("config-", name, ".textproto"));
    std::ofstream(s.config) << text;
  }

  void Start(const std::string& name) {
    Site& s = sites_[name];
    std::string ready = tmp_.Sub(absl::StrCat("ready-", name, "-", starts_++));
    std::string log = tmp_.Sub(absl::StrCat("log-", name));
    std::vector<std::string> args = {kSegledgerd, "serve",        "--config",
                                     s.config,    "--ready-file", ready};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The log file is opened before the fork (no allocation in the child).
    const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_GE(log_fd, 0);
    s.pid = fork();
    ASSERT_GE(s.pid, 0);
    if (s.pid == 0) {
      // The node dies with the test process, even when that crashes.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(log_fd, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(log_fd);
    ASSERT_TRUE(WaitFor([&] { return !ReadAll(ready).empty(); }))
        << name << ": " << ReadAll(log);
  }

  // Sends `sig` and reaps; returns the exit code (128+signal if killed).
  int Kill(const std::string& name, int sig) {
    Site& s = sites_[name];
    if (s.pid <= 0) return -1;
    kill(s.pid, sig);
    int st = 0;
    waitpid(s.pid, &st, 0);
    s.pid = -1;
    clients_.erase(name);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

  // The operator's client of `name` (the inspector's with `inspector`).
  client::Client& Op(const std::string& name, bool inspector = false) {
    std::string key = inspector ? name + "#inspector" : name;
    auto it = clients_.find(key);
    if (it != clients_.end()) return *it->second;
    client::ClientOptions o;
    o.target = sites_[name].address;
    std::string cn = inspector ? "inspector" : "operator-" + name;
    o.ca_file = certs_ + "/ca.pem";
    o.cert_file = absl::StrCat(certs_, "/", cn, ".pem");
    o.key_file = absl::StrCat(certs_, "/", cn, ".key");
    o.timeout = absl::Seconds(10);
    auto c = client::Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return *(clients_[key] = *std::move(c));
  }

  // segctl against `name` with the operator's (or inspector's) cert.
  CmdResult Ctl(const std::string& name, const std::string& args,
                bool inspector = false) {
    std::string cn = inspector ? "inspector" : "operator-" + name;
    return Sh(absl::StrCat(kSegctl, " --node ", sites_[name].address, " --ca ",
                           certs_, "/ca.pem --cert ", certs_, "/", cn,
                           ".pem --key ", certs_, "/", cn, ".key ", args),
              tmp_.Sub("ctl.err"));
  }
  std::string CtlErr() const { return ReadAll(tmp_.Sub("ctl.err")); }

  // Appends `r` (authored by `name`'s operator) and returns its reference.
  absl::StatusOr<v1::EntryRef> Append(const std::string& name, v1::Record r) {
    v1::AppendRequest req;
    v1::AppendRecordRequest* rec = req.add_records();
    rec->set_request_id(absl::StrCat(name, "-", ++requests_));
    rec->mutable_actor()->set_person_id(absl::StrCat("op-", name));
    rec->mutable_actor()->set_printed_name(absl::StrCat("Operator ", name));
    rec->mutable_actor()->set_role("operator");
    rec->mutable_actor()->set_meaning(v1::SIGNATURE_MEANING_PERFORMED);
    *rec->mutable_record() = std::move(r);
    absl::StatusOr<v1::AppendResponse> resp = Op(name).Append(req);
    if (!resp.ok()) return resp.status();
    v1::EntryRef ref;
    ref.set_origin(sites_[name].party.origin);
    ref.set_index(resp->acks(0).index());
    ref.set_leaf_hash(resp->acks(0).leaf_hash());
    return ref;
  }

  // The peer state `name` reports for `peer`'s log.
  v1::PeerLogStatus PeerState(const std::string& name,
                              const std::string& peer) {
    absl::StatusOr<v1::StatusResponse> st = Op(name).GetStatus();
    if (st.ok()) {
      for (const v1::PeerLogStatus& p : st->peers()) {
        if (p.origin() == sites_[peer].party.origin) return p;
      }
    }
    return v1::PeerLogStatus();
  }

  // True once `holder` holds verified evidence of `ref`.
  bool HoldsEvidence(const std::string& holder, const v1::EntryRef& ref) {
    absl::StatusOr<v1::PeerDataResponse> d =
        Op(holder).GetPeerData(ref.origin());
    if (!d.ok()) return false;
    for (const v1::StoredEvidence& e : d->evidence()) {
      if (e.evidence().entry().index() == ref.index() &&
          e.leaf_hash() == ref.leaf_hash()) {
        return true;
      }
    }
    return false;
  }

  // True once the MAH's verified copy of `site` is as long as its log.
  bool MahCaughtUp(const std::string& site) {
    absl::StatusOr<v1::StatusResponse> st = Op(site).GetStatus();
    return st.ok() && PeerState("mah", site).followed_size() == st->size();
  }

  Site& site(const std::string& name) { return sites_[name]; }
  const std::string& certs() const { return certs_; }

 private:
  const testing::TempDir& tmp_;
  std::string certs_;
  std::map<std::string, Site> sites_;
  std::map<std::string, std::unique_ptr<client::Client>> clients_;
  int starts_ = 0;
  int requests_ = 0;
  int checkpoint_interval_ms_ = 200;
  int follow_interval_ms_ = 50;
};

}  // namespace segledger::multisite

#endif  // SEGLEDGER_TESTS_MULTISITE_CLUSTER_H_
