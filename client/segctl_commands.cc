#include "client/segctl_commands.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "client/export_source.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/base64.h"
#include "ledger/hash.h"
#include "ledger/json_string.h"
#include "ledger/status_macros.h"
#include "tools/bundle_writer.h"
#include "tools/proof_file.h"

namespace segledger::client {
namespace {

std::string B64(absl::string_view bytes) { return Base64Encode(bytes); }

std::string ProofArray(
    const google::protobuf::RepeatedPtrField<std::string>& p) {
  std::vector<std::string> items;
  for (const std::string& h : p) items.push_back(JsonQuote(B64(h)));
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

// One line, whatever the message holds (DESIGN.md: one line on stderr).
std::string OneLine(absl::string_view msg) {
  std::string s(msg);
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return std::string(absl::StripTrailingAsciiWhitespace(s));
}

int InputError(const CommandEnv& env, absl::string_view msg) {
  *env.err << "segctl: " << OneLine(msg) << "\n";
  return kExitUsage;
}

// Draws a progress bar on stderr when it is a terminal.
void Progress(uint64_t done, uint64_t total) {
  static const bool tty = isatty(STDERR_FILENO);
  if (!tty || total < 1000 || (done % 256 != 0 && done != total)) return;
  int width = 40;
  int filled = static_cast<int>(width * done / total);
  std::fprintf(stderr, "\r[%s%s] %llu/%llu", std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(),
               static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total));
  if (done == total) std::fprintf(stderr, "\n");
}

}  // namespace

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    // What was asked is wrong or not there: the caller fixes the input.
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
      return kExitUsage;
    // Unreachable or refused (UNAVAILABLE, DEADLINE_EXCEEDED,
    // UNAUTHENTICATED, PERMISSION_DENIED), or the node could not do it
    // (RESOURCE_EXHAUSTED such as a full disk, UNKNOWN such as a write
    // that may be durable, INTERNAL, DATA_LOSS, ...): not the input's
    // fault, so a script retries with the same request ids.
    default:
      return kExitUnreachable;
  }
}

int ReportError(const CommandEnv& env, const absl::Status& status) {
  *env.err << "segctl: " << absl::StatusCodeToString(status.code()) << ": "
           << OneLine(status.message()) << "\n";
  return ExitCodeFor(status);
}

namespace {

// Sends `records` on one append stream (sequence = position) and returns
// the acks by sequence with the stream's final status. The node checks and
// appends each record on its own, so a refused one does not stop the rest.
absl::Status SendRecords(const CommandEnv& env,
                         const std::vector<v1::AppendRecordRequest>& records,
                         std::map<uint64_t, v1::StreamAck>* acks) {
  absl::Mutex mu;
  auto stream = env.client->OpenAppendStream([&](const v1::StreamAck& a) {
    absl::MutexLock lock(&mu);
    (*acks)[a.sequence()] = a;
  });
  if (!stream.ok()) return stream.status();
  constexpr size_t kPerMessage = 64;
  for (size_t i = 0; i < records.size(); i += kPerMessage) {
    v1::AppendStreamRequest req;
    for (size_t j = i; j < std::min(records.size(), i + kPerMessage); ++j) {
      v1::StreamRecord* r = req.add_records();
      r->set_sequence(j);
      *r->mutable_record() = records[j];
    }
    if (!(*stream)->Write(req)) break;
    Progress(std::min(records.size(), i + kPerMessage), records.size());
  }
  // Joins the reader thread: `acks` holds every ack the node sent.
  return (*stream)->Finish();
}

// Why records have no ack: the stream's error, or (a node that closed the
// stream OK without answering them) UNAVAILABLE.
absl::Status UnackedStatus(const absl::Status& finished) {
  return finished.ok() ? absl::UnavailableError("stream ended") : finished;
}

void PrintAck(const CommandEnv& env, const v1::AppendAck& a) {
  if (env.format == Format::kJson) {
    *env.out << "{\"index\":" << a.index()
             << ",\"leaf_hash\":" << JsonQuote(B64(a.leaf_hash())) << "}\n";
  } else {
    *env.out << "appended " << a.index() << " " << B64(a.leaf_hash())
             << (a.replayed() ? " (replayed)" : "") << "\n";
  }
}

}  // namespace

int RunAppend(const CommandEnv& env, std::istream& in) {
  std::vector<v1::AppendRecordRequest> records;
  std::vector<size_t> line_of;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty()) continue;
    v1::AppendRecordRequest req;
    auto s =
        google::protobuf::util::JsonStringToMessage(std::string(trimmed), &req);
    if (!s.ok()) {
      return InputError(env, absl::StrCat("line ", n, ": ", s.ToString()));
    }
    records.push_back(std::move(req));
    line_of.push_back(n);
  }
  if (records.empty()) return InputError(env, "append: no records in input");

  std::map<uint64_t, v1::StreamAck> acks;
  absl::Status finished = SendRecords(env, records, &acks);
  // Every record's outcome in input order: appended ones on stdout, one
  // stderr line per refused one, one line for all unacknowledged ones (the
  // stream broke). The exit code is that of the first record not appended.
  int rc = kExitOk;
  size_t unacked = 0, first_unacked = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    auto it = acks.find(i);
    if (it == acks.end()) {
      if (unacked++ == 0) first_unacked = i;
      if (rc == kExitOk) rc = ExitCodeFor(UnackedStatus(finished));
    } else if (it->second.error_code() != 0) {
      absl::Status s(
          static_cast<absl::StatusCode>(it->second.error_code()),
          absl::StrCat("line ", line_of[i], ": ", it->second.error_message()));
      int code = ReportError(env, s);
      if (rc == kExitOk) rc = code;
    } else {
      PrintAck(env, it->second.ack());
    }
  }
  if (unacked > 0) {
    absl::Status s = UnackedStatus(finished);
    ReportError(env,
                absl::Status(s.code(), absl::StrCat(unacked,
                                                    " records not acknowledged "
                                                    "(first at line ",
                                                    line_of[first_unacked],
                                                    "): ", s.message())));
  }
  return rc;
}

int RunCheckpoint(const CommandEnv& env, int64_t size) {
  auto cp = env.client->GetCheckpoint(size < 0 ? std::nullopt
                                               : std::optional<uint64_t>(size));
  if (!cp.ok()) return ReportError(env, cp.status());
  *env.out << cp->note();  // byte for byte, in either format
  return kExitOk;
}

int RunEntries(const CommandEnv& env, uint64_t from, uint64_t to) {
  if (to < from) {
    return InputError(env, absl::StrCat("--to: ", to, " below --from ", from));
  }
  if (to == from) return kExitOk;
  google::protobuf::util::JsonPrintOptions opts;
  std::string error;
  absl::Status s = env.client->GetEntries(from, to, [&](v1::EntryResponse& e) {
    v1::EntryBody body;
    std::string json = "null";
    if (body.ParseFromString(e.entry().body())) {
      json.clear();
      google::protobuf::util::MessageToJsonString(body, &json, opts).ok();
    }
    if (env.format == Format::kJson) {
      *env.out << "{\"index\":" << e.index()
               << ",\"leaf_hash\":" << JsonQuote(B64(e.leaf_hash()))
               << ",\"body\":" << JsonQuote(B64(e.entry().body()))
               << ",\"signature\":" << JsonQuote(B64(e.entry().signature()))
               << ",\"entry\":" << json << "}\n";
    } else {
      *env.out << e.index() << " " << B64(e.leaf_hash()) << " " << json << "\n";
    }
    Progress(e.index() + 1 - from, to - from);
    return true;
  });
  if (!s.ok()) return ReportError(env, s);
  return kExitOk;
}

namespace {
// Writes the tlog-proof file of entry `p.index()` at `p.tree_size()`.
absl::Status WriteProofFile(const CommandEnv& env,
                            const v1::InclusionProofResponse& p,
                            const std::string& path) {
  SEG_ASSIGN_OR_RETURN(v1::EntryResponse entry,
                       env.client->GetEntry(p.index()));
  SEG_ASSIGN_OR_RETURN(v1::CheckpointResponse cp,
                       env.client->GetCheckpoint(p.tree_size()));
  std::vector<Hash> proof;
  for (const std::string& h : p.proof()) {
    SEG_ASSIGN_OR_RETURN(Hash hash, HashFromBytes(h, "proof"));
    proof.push_back(hash);
  }
  const std::string text =
      tools::MakeEntryProofFile(entry.entry(), p.index(), proof, cp.note());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return absl::InvalidArgumentError(
        absl::StrCat("--proof-file: cannot write ", path));
  }
  return absl::OkStatus();
}
}  // namespace

int RunProveInclusion(const CommandEnv& env, uint64_t index, uint64_t size,
                      const std::string& proof_file) {
  auto p = env.client->InclusionProof(index, size);
  if (!p.ok()) return ReportError(env, p.status());
  if (!proof_file.empty()) {
    absl::Status s = WriteProofFile(env, *p, proof_file);
    if (!s.ok()) return ReportError(env, s);
  }
  if (env.format == Format::kJson) {
    *env.out << "{\"index\":" << p->index()
             << ",\"tree_size\":" << p->tree_size()
             << ",\"leaf_hash\":" << JsonQuote(B64(p->leaf_hash()))
             << ",\"proof\":" << ProofArray(p->proof()) << "}\n";
  } else {
    *env.out << "inclusion of " << p->index() << " in " << p->tree_size()
             << " (leaf " << B64(p->leaf_hash()) << ")\n";
    for (const std::string& h : p->proof()) *env.out << "  " << B64(h) << "\n";
  }
  return kExitOk;
}

int RunProveConsistency(const CommandEnv& env, uint64_t old_size,
                        uint64_t size) {
  auto p = env.client->ConsistencyProof(old_size, size);
  if (!p.ok()) return ReportError(env, p.status());
  if (env.format == Format::kJson) {
    *env.out << "{\"old_size\":" << p->old_size()
             << ",\"tree_size\":" << p->tree_size()
             << ",\"proof\":" << ProofArray(p->proof()) << "}\n";
  } else {
    *env.out << "consistency " << p->old_size() << " -> " << p->tree_size()
             << "\n";
    for (const std::string& h : p->proof()) *env.out << "  " << B64(h) << "\n";
  }
  return kExitOk;
}

namespace {
int PrintMessage(const CommandEnv& env, const google::protobuf::Message& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  // Zero counts and empty lists are printed, not left out (proto3 JSON's
  // default): a monitoring script reading status' outbox_pending or
  // equivocations, or a finding's index 0, gets 0 rather than nothing.
  opts.always_print_primitive_fields = true;
  opts.add_whitespace = env.format == Format::kText;
  google::protobuf::util::MessageToJsonString(m, &json, opts).ok();
  *env.out << json << (env.format == Format::kJson ? "\n" : "");
  return kExitOk;
}
}  // namespace

int RunStatus(const CommandEnv& env) {
  auto s = env.client->GetStatus();
  if (!s.ok()) return ReportError(env, s.status());
  return PrintMessage(env, *s);
}

int RunCheckpointNow(const CommandEnv& env) {
  auto s = env.client->CheckpointNow();
  if (!s.ok()) return ReportError(env, s.status());
  *env.out << s->note();
  return kExitOk;
}

int RunRotateKey(const CommandEnv& env, const v1::RotateKeyRequest& req) {
  auto s = env.client->RotateKey(req);
  if (!s.ok()) return ReportError(env, s.status());
  return PrintMessage(env, *s);
}

int RunBackup(const CommandEnv& env, const std::string& dir) {
  auto s = env.client->Backup(dir);
  if (!s.ok()) return ReportError(env, s.status());
  return PrintMessage(env, *s);
}

int RunQuery(const CommandEnv& env, const std::string& what,
             const std::string& lot_id) {
  if (what == "timeline") {
    auto r = env.client->Timeline(lot_id);
    if (!r.ok()) return ReportError(env, r.status());
    return PrintMessage(env, *r);
  }
  if (what == "balance") {
    auto r = env.client->MassBalance(lot_id);
    if (!r.ok()) return ReportError(env, r.status());
    return PrintMessage(env, *r);
  }
  auto r = env.client->Trace(lot_id, what == "trace-forward");
  if (!r.ok()) return ReportError(env, r.status());
  return PrintMessage(env, *r);
}

int RunExport(const CommandEnv& env, const std::string& out_dir) {
  if (out_dir.empty()) return InputError(env, "export: --out is empty");
  auto failed = [&](const absl::Status& s) {
    if (s.code() == absl::StatusCode::kDataLoss) {
      *env.err << "segctl: export: verification failed: "
               << OneLine(s.message()) << "\n";
      return kExitVerifyFailed;
    }
    return ReportError(env, s);
  };
  auto src = GrpcExportSource::Fetch(*env.client);
  if (!src.ok()) return failed(src.status());
  // Every log the node follows goes in too (the MAH's bundle holds the
  // whole product), and what it holds about other logs: cosigned
  // checkpoints and hand-off evidence (with the keys to check them).
  auto status = env.client->GetStatus();
  if (!status.ok()) return ReportError(env, status.status());
  std::vector<std::unique_ptr<GrpcExportSource>> followed;
  std::vector<std::string> extra_keys;
  for (const v1::PeerLogStatus& p : status->peers()) {
    if (p.followed_size() == 0) {
      extra_keys.insert(extra_keys.end(), p.verifier_keys().begin(),
                        p.verifier_keys().end());
      continue;
    }
    GrpcExportOptions o;
    o.origin = p.origin();
    auto f = GrpcExportSource::Fetch(*env.client, o);
    if (!f.ok()) return failed(f.status());
    followed.push_back(*std::move(f));
  }
  auto peer_data = env.client->GetPeerData("");
  if (absl::IsUnimplemented(peer_data.status())) {
    peer_data = v1::PeerDataResponse();  // a node without the peer service
  }
  if (!peer_data.ok()) return ReportError(env, peer_data.status());
  absl::Status added = (*src)->AddPeerData(*peer_data, extra_keys);
  if (!added.ok()) return failed(added);
  std::vector<tools::LogExportSource*> logs = {src->get()};
  for (const auto& f : followed) logs.push_back(f.get());
  absl::Status w = tools::WriteBundle(logs, out_dir);
  if (!w.ok()) return ReportError(env, w);
  if (env.format == Format::kJson) {
    *env.out << "{\"out\":" << JsonQuote(out_dir)
             << ",\"origin\":" << JsonQuote((*src)->Origin())
             << ",\"size\":" << (*src)->size() << ",\"followed\":[";
    for (size_t i = 0; i < followed.size(); ++i) {
      *env.out << (i ? "," : "")
               << "{\"origin\":" << JsonQuote(followed[i]->Origin())
               << ",\"size\":" << followed[i]->size() << "}";
    }
    *env.out << "],\"evidence\":" << peer_data->evidence_size()
             << ",\"cosigned\":"
             << peer_data->our_cosigned_size() +
                    peer_data->cosigned_by_us_size()
             << "}\n";
  } else {
    *env.out << "exported " << (*src)->Origin() << " size " << (*src)->size();
    for (const auto& f : followed) {
      *env.out << ", " << f->Origin() << " size " << f->size();
    }
    *env.out << "; " << peer_data->evidence_size() << " evidence, "
             << peer_data->our_cosigned_size() +
                    peer_data->cosigned_by_us_size()
             << " cosigned checkpoints; to " << out_dir << "\n";
  }
  return kExitOk;
}

int RunFindings(const CommandEnv& env, const std::string& min_severity) {
  auto r = env.client->Findings(min_severity);
  if (!r.ok()) return ReportError(env, r.status());
  for (const v1::QueryFinding& f : r->findings()) {
    if (env.format == Format::kJson) {
      PrintMessage(env, f);
    } else {
      *env.out << f.severity() << " " << f.kind() << ": " << f.message()
               << "\n";
    }
  }
  return r->findings().empty() ? kExitOk : kExitVerifyFailed;
}

}  // namespace segledger::client
