#include "node/node.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "ledger/status_macros.h"
#include "ledger/store/rocksdb_kv.h"
#include "node/admin_service.h"
#include "node/append_service.h"
#include "node/data_dir.h"
#include "node/domain_parts.h"
#include "node/grpc_log.h"
#include "node/json_log.h"
#include "node/peer_layer.h"
#include "node/peer_service.h"
#include "node/read_service.h"
#include "node/watch.h"

namespace segledger::node {

namespace {

// "HOST:PORT" with a port in 0..65535 (0: any free port), checked before
// anything is opened, so a mistyped address is an input error (exit 2)
// rather than a failure to bind (exit 3).
absl::Status CheckListen(absl::string_view field, absl::string_view listen) {
  if (listen.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
  }
  const size_t colon = listen.rfind(':');
  absl::string_view host =
      colon == absl::string_view::npos ? "" : listen.substr(0, colon);
  absl::string_view port =
      colon == absl::string_view::npos ? "" : listen.substr(colon + 1);
  uint32_t number = 0;
  if (host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port, &number) || number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", listen, "\" is not HOST:PORT (port 0-65535)"));
  }
  return absl::OkStatus();
}

// Insecure mode (plaintext, every caller an operator) is for development
// on one machine: it serves only on a loopback address.
absl::Status CheckInsecureListen(absl::string_view listen) {
  absl::string_view host = listen.substr(0, listen.rfind(':'));
  if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
  in_addr v4{};
  const bool loopback =
      host == "localhost" || host == "::1" ||
      (inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1 &&
       (ntohl(v4.s_addr) >> 24) == 127);
  if (!loopback) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen: \"", listen,
        "\": insecure mode serves only on a loopback address (127.0.0.0/8, "
        "[::1] or localhost)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const v1::NodeConfig& config) {
  if (config.insecure()) {
    return grpc::InsecureServerCredentials();  // warned once serving
  }
  if (config.tls_cert().empty() || config.tls_key().empty() ||
      config.tls_ca().empty()) {
    return absl::InvalidArgumentError(
        "tls_cert, tls_key, tls_ca: all required unless --insecure");
  }
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  SEG_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                       ReadTextFile("tls_ca", config.tls_ca()));
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  SEG_ASSIGN_OR_RETURN(pair.private_key,
                       ReadTextFile("tls_key", config.tls_key()));
  SEG_ASSIGN_OR_RETURN(pair.cert_chain,
                       ReadTextFile("tls_cert", config.tls_cert()));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

Node::Node() = default;

Node::~Node() { Shutdown().IgnoreError(); }

int Node::metrics_port() const {
  return metrics_server_ ? metrics_server_->port() : 0;
}

absl::StatusOr<std::unique_ptr<Node>> Node::Start(const v1::NodeConfig& config,
                                                  NodeOptions options) {
  std::unique_ptr<Node> node(new Node());
  absl::Status s = node->Open(config, options);
  if (!s.ok()) {
    node->Shutdown().IgnoreError();
    return s;
  }
  return node;
}

absl::Status Node::Open(const v1::NodeConfig& in, NodeOptions options) {
  options_ = options;
  v1::NodeConfig config = in;
  if (config.data_dir().empty()) {
    return absl::InvalidArgumentError("data_dir: empty");
  }
  SEG_RETURN_IF_ERROR(CheckListen("listen", config.listen()));
  if (config.insecure())
    SEG_RETURN_IF_ERROR(CheckInsecureListen(config.listen()));
  if (!config.metrics_listen().empty()) {
    SEG_RETURN_IF_ERROR(CheckListen("metrics_listen", config.metrics_listen()));
  }
  absl::StatusOr<v1::NodeConfig> file =
      ReadConfigFile(NodeFile(config.data_dir()));
  if (!file.ok()) {
    // No node there: the flag is wrong (exit 2). A node.textproto that is
    // there but unreadable is a damaged data directory (exit 3).
    std::string msg = absl::StrCat("data_dir: ", file.status().message(),
                                   " (run segledgerd init first)");
    return absl::IsNotFound(file.status()) ? absl::InvalidArgumentError(msg)
                                           : absl::FailedPreconditionError(msg);
  }
  if (config.origin().empty()) config.set_origin(file->origin());
  if (config.party().empty()) config.set_party(config.origin());
  SEG_ASSIGN_OR_RETURN(auto signers, LoadSigners(config.data_dir()));
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv,
                       store::RocksDbKv::Open(DbDir(config.data_dir())));
  if (options.wrap_kv) kv = options.wrap_kv(std::move(kv));
  store::LogStoreOptions so;
  so.origin = config.origin();
  if (config.checkpoint_every() > 0)
    so.checkpoint_every = config.checkpoint_every();
  if (config.checkpoint_interval_ms() > 0) {
    so.checkpoint_interval =
        absl::Milliseconds(config.checkpoint_interval_ms());
  }
  SEG_ASSIGN_OR_RETURN(peers_, PeerLayer::Create(config));
  SEG_ASSIGN_OR_RETURN(domain_,
                       MakeDomainParts(config, options.evidence != nullptr
                                                   ? options.evidence
                                                   : peers_->evidence()));
  so.hook = peers_->Wrap(domain_ != nullptr ? domain_->hook() : nullptr);
  SEG_ASSIGN_OR_RETURN(
      store_, store::LogStore::Open(std::move(kv), std::move(signers), so));
  SEG_RETURN_IF_ERROR(peers_->Attach(store_.get()));
  std::vector<v1::Principal> principals(config.principals().begin(),
                                        config.principals().end());
  SEG_ASSIGN_OR_RETURN(
      Authorizer authz,
      Authorizer::New(config.party(), config.insecure(), principals));
  authz_ = std::make_unique<Authorizer>(std::move(authz));
  constexpr uint32_t kDefaultMaxWatchStreams = 64;
  hub_ = std::make_unique<WatchHub>(options.watch_poll,
                                    config.max_watch_streams() > 0
                                        ? config.max_watch_streams()
                                        : kDefaultMaxWatchStreams,
                                    &metrics_.watch_streams);
  blocking_ = std::make_unique<ThreadPool>(1, "seg-admin");
  queries_ = std::make_unique<ThreadPool>(options.query_threads, "seg-query");
  ctx_.store = store_.get();
  ctx_.authz = authz_.get();
  ctx_.metrics = &metrics_;
  ctx_.hub = hub_.get();
  ctx_.peers = peers_.get();
  ctx_.blocking = blocking_.get();
  ctx_.queries = queries_.get();
  ctx_.max_queries = options.max_queries;
  ctx_.data_dir = config.data_dir();
  ctx_.key_dir = KeyDir(config.data_dir());
  // Default window: room for the next commit group to queue while one is
  // built and one waits for its synced write (the store pipelines two
  // groups), so it holds several groups (ServiceContext's 1024 is for
  // contexts made without a node).
  constexpr uint32_t kDefaultStreamWindow = 4096;
  ctx_.stream_window = config.stream_window() > 0 ? config.stream_window()
                                                  : kDefaultStreamWindow;
  ctx_.checkpoints_per_read = options.checkpoints_per_read;
  SEG_RETURN_IF_ERROR(BuildServer(config));
  if (!config.metrics_listen().empty()) {
    store::LogStore* st = store_.get();
    Metrics* m = &metrics_;
    SEG_ASSIGN_OR_RETURN(metrics_server_,
                         MetricsServer::Start(config.metrics_listen(), [st, m] {
                           return m->Render(st->Size());
                         }));
  }
  serving_ = true;
  LogJson("info", "serving",
          {{"address", address_},
           {"origin", store_->origin()},
           {"party", config.party()},
           {"size", absl::StrCat(store_->Size())},
           {"metrics_port", absl::StrCat(metrics_port())}});
  if (config.insecure()) {
    LogJson("warn", "INSECURE mode: plaintext, every caller is an operator",
            {{"party", config.party()}});
  }
  return absl::OkStatus();
}

absl::Status Node::BuildServer(const v1::NodeConfig& config) {
  SEG_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds,
                       Credentials(config));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  append_ = std::make_unique<AppendServiceImpl>(&ctx_);
  read_ = std::make_unique<ReadServiceImpl>(&ctx_);
  proof_ = std::make_unique<ProofServiceImpl>(&ctx_);
  watch_ = std::make_unique<WatchServiceImpl>(&ctx_);
  admin_ = std::make_unique<AdminServiceImpl>(&ctx_);
  peer_service_ = std::make_unique<PeerServiceImpl>(&ctx_, peers_.get());
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, so a second node (or any server
  // that also sets it) could bind the same port and take part of the
  // connections meant for this one. A node owns its port or fails to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // One connection cannot open calls without bound (each costs a reactor
  // and buffers); nor can all of them together take unbounded memory.
  if (options_.max_concurrent_streams > 0) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONCURRENT_STREAMS,
        static_cast<int>(options_.max_concurrent_streams));
  }
  if (options_.grpc_memory_bytes > 0) {
    grpc::ResourceQuota quota("segledgerd");
    quota.Resize(static_cast<size_t>(options_.grpc_memory_bytes));
    builder.SetResourceQuota(quota);
  }
  int port = 0;
  builder.AddListeningPort(config.listen(), creds, &port);
  builder.RegisterService(append_.get());
  builder.RegisterService(read_.get());
  builder.RegisterService(proof_.get());
  builder.RegisterService(watch_.get());
  builder.RegisterService(admin_.get());
  builder.RegisterService(peer_service_.get());
  if (domain_ != nullptr) domain_->RegisterServices(builder, &ctx_);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    // segledgerd holds gRPC's own log lines until it serves: its reason
    // ("Address already in use") belongs in this one error.
    std::string why = TakeHeldGrpcLog();
    return absl::UnavailableError(absl::StrCat("listen: cannot serve on \"",
                                               config.listen(), "\"",
                                               why.empty() ? "" : ": ", why));
  }
  std::string host = config.listen().substr(0, config.listen().rfind(':'));
  address_ = absl::StrCat(host, ":", port);
  return absl::OkStatus();
}

absl::Status Node::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return close_status_;
  shut_down_ = true;
  ctx_.draining = true;
  if (hub_) hub_->Stop();
  if (peers_) peers_->Stop();  // loops end before the store closes
  if (server_) {
    server_->Shutdown(
        absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
    server_->Wait();
  }
  blocking_.reset();  // runs queued admin calls to completion
  queries_.reset();   // idle: the server finished every query call
  if (store_) {
    close_status_ = store_->Close();
    // Pairs with "serving": a failed start is reported once, by its caller.
    if (serving_ || !close_status_.ok()) {
      LogJson(close_status_.ok() ? "info" : "error", "store closed",
              {{"size", absl::StrCat(store_->Size())},
               {"status", close_status_.ToString()}});
    }
    store_.reset();
  }
  metrics_server_.reset();
  return close_status_;
}

}  // namespace segledger::node
