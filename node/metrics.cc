#include "node/metrics.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace segledger::node {

void Metrics::ObserveAppendLatencyUs(uint64_t us) {
  size_t i = 0;
  while (i < kBucketsUs.size() && us > kBucketsUs[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us_.fetch_add(us, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::Render(uint64_t log_size) const {
  std::string out;
  auto counter = [&out](absl::string_view name, absl::string_view help,
                        uint64_t v, absl::string_view type = "counter") {
    absl::StrAppend(&out, "# HELP segledger_", name, " ", help, "\n",
                    "# TYPE segledger_", name, " ", type, "\n", "segledger_",
                    name, " ", v, "\n");
  };
  counter("log_size", "Entries in the log.", log_size, "gauge");
  counter("rpcs_total", "RPCs started.", rpcs_total.load());
  counter("rpc_errors_total", "RPCs that ended with an error.",
          rpc_errors_total.load());
  counter("append_requests_total", "Append requests (unary or streamed).",
          append_requests_total.load());
  counter("appended_records_total", "Records appended.",
          appended_records_total.load());
  counter("replayed_records_total", "Idempotent retries answered.",
          replayed_records_total.load());
  counter("refused_records_total", "Records refused (invalid or by rule).",
          refused_records_total.load());
  counter("permission_denied_total", "Calls refused by authorisation.",
          permission_denied_total.load());
  counter("active_streams", "Open append and watch streams.",
          active_streams.load(), "gauge");
  counter("watch_streams", "Open watch streams (max_watch_streams caps them).",
          watch_streams.load(), "gauge");
  counter("append_stream_read_holds_total",
          "Times an append stream stopped reading until its client read the "
          "acks written to it.",
          append_stream_read_holds_total.load());
  counter("query_graph_builds_total",
          "Graphs of every verified log built for queries (reused while no "
          "log grew).",
          query_graph_builds_total.load());
  counter("queries_pending",
          "QueryService calls queued or running on the query threads "
          "(NodeOptions.max_queries caps them).",
          queries_pending.load(), "gauge");
  absl::StrAppend(&out,
                  "# HELP segledger_append_latency_seconds Append request "
                  "latency to durable ack.\n"
                  "# TYPE segledger_append_latency_seconds histogram\n");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBucketsUs.size(); ++i) {
    cumulative += buckets_[i].load();
    std::string le = i < kBucketsUs.size() ? absl::StrCat(kBucketsUs[i] / 1e6)
                                           : std::string("+Inf");
    absl::StrAppend(&out, "segledger_append_latency_seconds_bucket{le=\"", le,
                    "\"} ", cumulative, "\n");
  }
  absl::StrAppend(&out, "segledger_append_latency_seconds_sum ",
                  latency_sum_us_.load() / 1e6, "\n",
                  "segledger_append_latency_seconds_count ",
                  latency_count_.load(), "\n");
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, std::function<std::string()> render) {
  size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_listen: \"", listen, "\" is not HOST:PORT"));
  }
  std::string host = listen.substr(0, colon);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_listen: host \"", host, "\" is not IPv4"));
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string err = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::UnavailableError(
        absl::StrCat("metrics_listen ", listen, ": ", err));
  }
  return std::unique_ptr<MetricsServer>(
      new MetricsServer(fd, ntohs(addr.sin_port), std::move(render)));
}

MetricsServer::MetricsServer(int fd, int port,
                             std::function<std::string()> render)
    : fd_(fd), port_(port), render_(std::move(render)) {
  thread_ = std::thread([this] { Loop(); });
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

void MetricsServer::Loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;  // wakes to see stop_
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    // Read the request head (bounded; the path does not matter).
    char buf[2048];
    pollfd cp{c, POLLIN, 0};
    if (poll(&cp, 1, 1000) > 0) (void)!read(c, buf, sizeof(buf));
    std::string body = render_();
    std::string resp = absl::StrCat(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
        "Content-Length: ",
        body.size(), "\r\nConnection: close\r\n\r\n", body);
    size_t off = 0;
    while (off < resp.size()) {
      ssize_t n = send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(c);
  }
}

}  // namespace segledger::node
