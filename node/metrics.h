// Node metrics in the Prometheus text exposition format, served by a tiny
// HTTP/1.0 responder on its own port (GET anything -> the metrics page).
//
// Why not cpp-httplib: Debian's libcpp-httplib-dev is not among the
// installed packages and a one-route scrape endpoint needs ~100 lines of
// poll()/accept(); this keeps the dependency set unchanged.
//
// Thread-safe: counters are atomics; the responder runs one thread.
#ifndef SEGLEDGER_NODE_METRICS_H_
#define SEGLEDGER_NODE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace segledger::node {

class Metrics {
 public:
  // Latency buckets (microseconds upper bounds) of append_latency.
  static constexpr std::array<uint64_t, 8> kBucketsUs = {
      250, 500, 1000, 2500, 5000, 10000, 50000, 250000};

  std::atomic<uint64_t> rpcs_total{0};
  std::atomic<uint64_t> rpc_errors_total{0};
  std::atomic<uint64_t> append_requests_total{0};
  std::atomic<uint64_t> appended_records_total{0};
  std::atomic<uint64_t> replayed_records_total{0};
  std::atomic<uint64_t> refused_records_total{0};
  std::atomic<uint64_t> permission_denied_total{0};
  std::atomic<uint64_t> active_streams{0};
  std::atomic<uint64_t> watch_streams{0};
  std::atomic<uint64_t> append_stream_read_holds_total{0};
  std::atomic<uint64_t> query_graph_builds_total{0};
  std::atomic<uint64_t> queries_pending{0};  // queued or running (gauge)

  void ObserveAppendLatencyUs(uint64_t us);

  // The exposition text; `log_size` is sampled by the caller.
  std::string Render(uint64_t log_size) const;

 private:
  std::array<std::atomic<uint64_t>, kBucketsUs.size() + 1> buckets_{};
  std::atomic<uint64_t> latency_sum_us_{0};
  std::atomic<uint64_t> latency_count_{0};
};

// Serves `render()` over HTTP/1.0 on `listen` (HOST:PORT, port 0 = any).
class MetricsServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, std::function<std::string()> render);
  ~MetricsServer();  // stops and joins
  int port() const { return port_; }

 private:
  MetricsServer(int fd, int port, std::function<std::string()> render);
  void Loop();

  int fd_;
  int port_;
  std::function<std::string()> render_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_METRICS_H_
