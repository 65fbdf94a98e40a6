#include "tools/fetcher.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ledger/status_macros.h"
#include "tools/bundle_layout.h"
#include "tools/file_util.h"

namespace segledger::tools {
namespace {

class DirFetcher final : public Fetcher {
 public:
  explicit DirFetcher(std::string root) : root_(std::move(root)) {}
  absl::StatusOr<std::string> Fetch(absl::string_view rel) const override {
    if (!IsSafeRelativePath(rel)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsafe path '", rel, "'"));
    }
    return ReadFileToString(absl::StrCat(root_, "/", rel));
  }
  std::string Describe() const override { return root_; }
  absl::StatusOr<std::vector<std::string>> ListRoot() const override {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_, ec)) {
      if (e.is_directory()) out.push_back(e.path().filename().string());
    }
    if (ec) return absl::InternalError(absl::StrCat(root_, ": ", ec.message()));
    return out;
  }
  absl::StatusOr<std::vector<std::string>> ListFiles(
      absl::string_view rel) const override {
    if (!IsSafeRelativePath(rel)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsafe path '", rel, "'"));
    }
    namespace fs = std::filesystem;
    const fs::path root(root_);
    const fs::path dir = root / std::string(rel);
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return out;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec)) {
        out.push_back(it->path().lexically_relative(root).generic_string());
      }
    }
    if (ec) {
      return absl::InternalError(
          absl::StrCat(dir.string(), ": ", ec.message()));
    }
    return out;
  }

 private:
  std::string root_;
};

// Every byte outside RFC 3986 unreserved characters and '/' as %XX: log
// directory names contain '%', which must reach the server as "%25".
std::string EscapePath(absl::string_view rel) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : rel) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

class HttpFetcher final : public Fetcher {
 public:
  explicit HttpFetcher(std::string base) : base_(std::move(base)) {
    if (!absl::EndsWith(base_, "/")) base_ += "/";
  }
  absl::StatusOr<std::string> Fetch(absl::string_view rel) const override {
    if (!IsSafeRelativePath(rel)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsafe path '", rel, "'"));
    }
    return HttpGet(absl::StrCat(base_, EscapePath(rel)));
  }
  std::string Describe() const override { return base_; }
  absl::StatusOr<std::vector<std::string>> ListRoot() const override {
    return absl::UnimplementedError("HTTP bundles cannot be listed");
  }
  absl::StatusOr<std::vector<std::string>> ListFiles(
      absl::string_view) const override {
    return absl::UnimplementedError("HTTP bundles cannot be listed");
  }

 private:
  std::string base_;
};

struct Url {
  std::string host, port = "80", path = "/";
};

absl::StatusOr<Url> ParseUrl(absl::string_view url) {
  if (!absl::ConsumePrefix(&url, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("only http:// URLs are supported: '", url, "'"));
  }
  Url u;
  size_t slash = url.find('/');
  absl::string_view hostport = url.substr(0, slash);
  if (slash != absl::string_view::npos) u.path = std::string(url.substr(slash));
  size_t colon = hostport.rfind(':');
  if (colon != absl::string_view::npos) {
    u.port = std::string(hostport.substr(colon + 1));
    hostport = hostport.substr(0, colon);
  }
  u.host = std::string(hostport);
  if (u.host.empty()) return absl::InvalidArgumentError("URL without host");
  return u;
}

struct FdCloser {
  void operator()(int* fd) const {
    if (*fd >= 0) ::close(*fd);
    delete fd;
  }
};

absl::StatusOr<std::unique_ptr<int, FdCloser>> Connect(const Url& u) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("resolve ", u.host, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, ::freeaddrinfo);
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    std::unique_ptr<int, FdCloser> fd(
        new int(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0)));
    if (*fd < 0) continue;
    timeval tv{30, 0};
    ::setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(*fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(*fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
  }
  return absl::UnavailableError(absl::StrCat("connect ", u.host, ":", u.port,
                                             ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> Dechunk(absl::string_view body) {
  std::string out;
  for (int guard = 0; guard < (1 << 24); ++guard) {
    size_t nl = body.find("\r\n");
    if (nl == absl::string_view::npos) break;
    std::string size_hex(body.substr(0, nl));
    size_hex = std::string(absl::StripAsciiWhitespace(
        absl::string_view(size_hex).substr(0, size_hex.find(';'))));
    uint64_t n = 0;
    if (!absl::SimpleHexAtoi(size_hex, &n) || nl + 2 + n > body.size()) {
      return absl::DataLossError("HTTP: malformed chunked body");
    }
    if (n == 0) return out;
    out.append(body.substr(nl + 2, n).data(), n);
    body.remove_prefix(nl + 2 + n);
    absl::ConsumePrefix(&body, "\r\n");
  }
  return absl::DataLossError("HTTP: truncated chunked body");
}

absl::StatusOr<std::string> ParseResponse(absl::string_view resp,
                                          absl::string_view url) {
  size_t end = resp.find("\r\n\r\n");
  if (end == absl::string_view::npos) {
    return absl::DataLossError(absl::StrCat("HTTP ", url, ": no header end"));
  }
  std::vector<absl::string_view> lines =
      absl::StrSplit(resp.substr(0, end), "\r\n");
  absl::string_view body = resp.substr(end + 4);
  std::vector<absl::string_view> status = absl::StrSplit(lines[0], ' ');
  int code = 0;
  if (status.size() < 2 || !absl::SimpleAtoi(status[1], &code)) {
    return absl::DataLossError(absl::StrCat("HTTP ", url, ": bad status line"));
  }
  if (code == 404 || code == 410) {
    return absl::NotFoundError(absl::StrCat("HTTP ", code, " for ", url));
  }
  if (code != 200) {
    return absl::InternalError(absl::StrCat("HTTP ", lines[0], " for ", url));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string h = absl::AsciiStrToLower(lines[i]);
    absl::string_view v(h);
    if (absl::ConsumePrefix(&v, "content-length:")) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &n) ||
          n > body.size()) {
        return absl::DataLossError(absl::StrCat(
            "HTTP ", url, ": body shorter than Content-Length ", n));
      }
      return std::string(body.substr(0, n));
    }
    if (absl::StartsWith(v, "transfer-encoding:") &&
        absl::StrContains(v, "chunked")) {
      return Dechunk(body);
    }
  }
  return std::string(body);
}

}  // namespace

absl::StatusOr<std::string> HttpGet(absl::string_view url) {
  SEG_ASSIGN_OR_RETURN(Url u, ParseUrl(url));
  SEG_ASSIGN_OR_RETURN(auto fd, Connect(u));
  std::string req =
      absl::StrCat("GET ", u.path, " HTTP/1.1\r\nHost: ", u.host, ":", u.port,
                   "\r\nUser-Agent: segaudit\r\n"
                   "Connection: close\r\n\r\n");
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(*fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(
          absl::StrCat("send to ", url, ": ", std::strerror(errno)));
    }
    off += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(*fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(
          absl::StrCat("recv from ", url, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  return ParseResponse(resp, url);
}

absl::StatusOr<std::unique_ptr<Fetcher>> OpenFetcher(absl::string_view where) {
  if (absl::StartsWith(where, "http://")) {
    SEG_RETURN_IF_ERROR(ParseUrl(where).status());
    return std::unique_ptr<Fetcher>(new HttpFetcher(std::string(where)));
  }
  if (absl::StrContains(where, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported URL scheme in '", where, "' (http:// only)"));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(std::string(where), ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", where, "' is not a directory"));
  }
  return std::unique_ptr<Fetcher>(new DirFetcher(std::string(where)));
}

}  // namespace segledger::tools
