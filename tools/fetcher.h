// Reads bundle files by bundle-relative path from a directory or over plain
// HTTP (http:// only: a regulator's static mirror, nginx, an object store).
//
// The HTTP client is a minimal HTTP/1.1 GET over a POSIX socket (one
// connection per request, Content-Length or read-to-close bodies, no
// redirects, no TLS): Debian's libcurl headers are not installed on the
// project's machines, and a bundle needs nothing more. Fetchers are
// thread-safe (no shared mutable state).
#ifndef SEGLEDGER_TOOLS_FETCHER_H_
#define SEGLEDGER_TOOLS_FETCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace segledger::tools {

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // The whole file at `rel` (a safe relative path). NOT_FOUND when absent
  // (HTTP 404/410), UNAVAILABLE when the server cannot be reached,
  // INVALID_ARGUMENT for an unsafe path; other errors name path and cause.
  virtual absl::StatusOr<std::string> Fetch(absl::string_view rel) const = 0;
  // The directory or URL, for messages.
  virtual std::string Describe() const = 0;
  // Bundle-relative names of the directories directly under the root when
  // the fetcher can list (directories), else UNIMPLEMENTED.
  virtual absl::StatusOr<std::vector<std::string>> ListRoot() const = 0;
  // Bundle-relative paths of the regular files under the directory `rel`,
  // at any depth (none when it is absent), when the fetcher can list,
  // else UNIMPLEMENTED.
  virtual absl::StatusOr<std::vector<std::string>> ListFiles(
      absl::string_view rel) const = 0;
};

// "http://host[:port]/path" -> HttpFetcher; anything else is a directory
// (INVALID_ARGUMENT if it is not one, or for other URL schemes).
absl::StatusOr<std::unique_ptr<Fetcher>> OpenFetcher(absl::string_view where);

// Minimal HTTP GET of an absolute http:// URL; exposed for tests.
// Returns the body for 200, NOT_FOUND for 404/410, UNAVAILABLE on connect
// errors, INTERNAL for other statuses (naming the status line).
absl::StatusOr<std::string> HttpGet(absl::string_view url);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_FETCHER_H_
