#include "node/grpc_log.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "grpc/support/log.h"
#include "node/json_log.h"

namespace segledger::node {
namespace {

struct Line {
  std::string level;
  std::string message;
  std::string where;
};

struct State {
  absl::Mutex mu;
  bool hold ABSL_GUARDED_BY(mu) = true;
  std::vector<Line> held ABSL_GUARDED_BY(mu);
};

State& GetState() {
  static State* state = new State;  // never destroyed: gRPC may log at exit
  return *state;
}

void Write(const Line& l) {
  LogJson(l.level, "grpc", {{"message", l.message}, {"where", l.where}});
}

void OnGrpcLog(gpr_log_func_args* args) {
  Line l{
      args->severity == GPR_LOG_SEVERITY_ERROR  ? "error"
      : args->severity == GPR_LOG_SEVERITY_INFO ? "info"
                                                : "debug",
      args->message != nullptr ? args->message : "",
      absl::StrCat(args->file != nullptr ? args->file : "?", ":", args->line)};
  State& s = GetState();
  {
    absl::MutexLock lock(&s.mu);
    if (s.hold) {
      // Bounded: a start-up that logs more than this has said enough.
      if (s.held.size() < 32) s.held.push_back(std::move(l));
      return;
    }
  }
  Write(l);
}

}  // namespace

void RouteGrpcLogToJson() { gpr_set_log_function(&OnGrpcLog); }

void ReleaseGrpcLog() {
  std::vector<Line> held;
  State& s = GetState();
  {
    absl::MutexLock lock(&s.mu);
    s.hold = false;
    held.swap(s.held);
  }
  for (const Line& l : held) Write(l);
}

std::string TakeHeldGrpcLog() {
  std::vector<Line> held;
  State& s = GetState();
  {
    absl::MutexLock lock(&s.mu);
    held.swap(s.held);
  }
  return absl::StrJoin(held, "; ", [](std::string* out, const Line& l) {
    out->append(l.message);
  });
}

}  // namespace segledger::node
