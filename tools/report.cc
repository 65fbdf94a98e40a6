#include "tools/report.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "ledger/domain/links.h"
#include "ledger/domain/validate.h"
#include "ledger/tiles.h"
#include "tools/file_util.h"

namespace segledger::tools {
namespace {

std::string H(absl::string_view s) {
  return absl::StrReplaceAll(
      s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

std::string Anchor(absl::string_view origin, int64_t index) {
  return absl::StrCat("rec-", LogDirName(origin), "-", index);
}

std::string DotQ(absl::string_view s) {
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\\\""}}), "\"");
}

template <typename Fn>
void ForEachEntry(const BundleContents& c, const domain::DomainGraph& g,
                  Fn fn) {
  for (const LogEntries& log : c.logs) {
    for (size_t i = 0; i < log.bodies.size(); ++i) {
      if (const domain::GraphEntry* e = g.Find(log.origin, i)) fn(*e);
    }
  }
}

std::string Summary(const AuditReport& r) {
  std::string out = absl::StrCat(
      "<h2>Verification summary</h2><p>Bundle <code>", H(r.source),
      "</code>: ", r.findings.size(), " findings, ",
      r.CountAtLeast(Severity::kMajor),
      " major or critical.</p><table><tr><th>log</th><th>size</th>"
      "<th>root (recomputed)</th><th>checkpoint SHA-256</th><th>checkpoints"
      "</th><th>cosigned by</th></tr>");
  for (const LogSummary& l : r.logs) {
    absl::StrAppend(&out, "<tr><td>", H(l.origin), "</td><td>", l.size,
                    "</td><td><code>", l.root_hex, "</code></td><td><code>",
                    l.checkpoint_sha256, "</code></td><td>",
                    l.checkpoint_sizes.size(), "</td><td>",
                    H(absl::StrJoin(l.cosigners, ", ")), "</td></tr>");
  }
  absl::StrAppend(&out,
                  "</table><h3>Keys</h3><table><tr><th>name</th><th>"
                  "public key SHA-256</th></tr>");
  for (const KeySummary& k : r.keys) {
    absl::StrAppend(&out, "<tr><td>", H(k.name), "</td><td><code>",
                    k.fingerprint, "</code></td></tr>");
  }
  return out + "</table>";
}

std::string FindingsHtml(const AuditReport& r) {
  std::string out =
      "<h2>Findings</h2><table id=\"findings\"><tr><th>severity"
      "</th><th>check</th><th>record</th><th>detail</th></tr>";
  for (const AuditFinding& f : r.findings) {
    std::string rec =
        f.index >= 0 && !f.origin.empty()
            ? absl::StrCat("<a href=\"#", Anchor(f.origin, f.index), "\">",
                           H(f.origin), " #", f.index, "</a>")
            : H(f.path);
    for (size_t i = 1; i < f.records.size(); ++i) {
      const AuditFinding::Record& r = f.records[i];
      absl::StrAppend(&rec, "<br><a href=\"#", Anchor(r.origin, r.index), "\">",
                      H(r.origin), " #", r.index, "</a>");
    }
    absl::StrAppend(&out, "<tr class=\"", SeverityName(f.severity), "\"><td>",
                    SeverityName(f.severity), "</td><td>", H(f.check),
                    "</td><td>", rec, "</td><td>", H(f.detail), "</td></tr>");
  }
  if (r.findings.empty()) out += "<tr><td colspan=4>none</td></tr>";
  return out + "</table>";
}

std::string Timelines(const BundleContents& c, const domain::DomainGraph& g) {
  std::set<std::string> lots;
  ForEachEntry(c, g, [&](const domain::GraphEntry& e) {
    for (const std::string& l : domain::LinksOf(e.body.record()).lots) {
      lots.insert(l);
    }
  });
  std::string out = "<h2>Lot timelines</h2>";
  for (const std::string& lot : lots) {
    absl::StrAppend(&out, "<h3 class=\"lot\" id=\"lot-", H(lot), "\">Lot ",
                    H(lot),
                    "</h3><table><tr><th>event time (UTC)</th><th>"
                    "record</th><th>bizStep</th><th>site</th><th>signatures "
                    "(name / meaning / time)</th></tr>");
    for (const domain::TimelineItem& t : g.Timeline(lot)) {
      absl::StrAppend(
          &out, "<tr><td>",
          absl::FormatTime("%Y-%m-%d %H:%M:%S", t.event_time,
                           absl::UTCTimeZone()),
          "</td><td><a href=\"#", Anchor(t.ref.origin(), t.ref.index()), "\">",
          H(t.kind), "</a>",
          t.via_transfer.empty()
              ? std::string()
              : absl::StrCat(" (transfer ", H(t.via_transfer), ")"),
          "</td><td>", H(t.biz_step), "</td><td>", H(t.site_id), "</td><td>",
          H(absl::StrJoin(t.signatures, "; ")), "</td></tr>");
    }
    out += "</table>";
  }
  return out;
}

std::string Records(const BundleContents& c, const domain::DomainGraph& g) {
  std::string out =
      "<h2>Records</h2><table><tr><th>log</th><th>#</th><th>"
      "record</th><th>site</th><th>recorded</th><th>leaf hash"
      "</th></tr>";
  ForEachEntry(c, g, [&](const domain::GraphEntry& e) {
    const v1::RecordHeader* h = domain::HeaderOf(e.body.record());
    absl::StrAppend(
        &out, "<tr id=\"", Anchor(e.origin, e.index), "\"><td>", H(e.origin),
        "</td><td>", e.index, "</td><td>",
        H(domain::RecordKindName(e.body.record())), "</td><td>",
        H(h != nullptr ? h->site_id() : ""), "</td><td>",
        absl::FormatTime("%Y-%m-%d %H:%M:%S",
                         absl::FromUnixSeconds(e.body.recorded_at().seconds()),
                         absl::UTCTimeZone()),
        "</td><td><code>", HashHex(e.leaf_hash).substr(0, 16),
        "…</code></td></tr>");
  });
  return out + "</table>";
}

}  // namespace

std::string CustodyDot(const BundleContents& c, const domain::DomainGraph& g) {
  std::set<std::string> received;
  ForEachEntry(c, g, [&](const domain::GraphEntry& e) {
    if (e.body.record().has_receipt()) {
      received.insert(e.body.record().receipt().transfer_id());
    }
  });
  std::string out = "digraph custody {\n rankdir=LR;\n node [shape=box];\n";
  ForEachEntry(c, g, [&](const domain::GraphEntry& e) {
    const v1::Record& r = e.body.record();
    if (r.has_lot_produced()) {
      absl::StrAppend(&out, " ", DotQ(r.lot_produced().header().site_id()),
                      ";\n");
    }
    if (!r.has_dispatch()) return;
    const v1::Dispatch& d = r.dispatch();
    for (const v1::ShipmentContainer& sc : d.containers()) {
      absl::StrAppend(
          &out, " ", DotQ(d.header().site_id()), " -> ", DotQ(d.to_site_id()),
          " [label=",
          DotQ(absl::StrCat(sc.lot_id(), " ", sc.quantity().value(), " ",
                            sc.quantity().unit(), " (", d.transfer_id(), ")")),
          received.count(d.transfer_id()) ? "" : ", style=dashed", "];\n");
    }
  });
  return out + "}\n";
}

absl::StatusOr<std::string> RenderSvg(const std::string& dot) {
  char dir[] = "/tmp/segaudit-dot-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return absl::InternalError("mkdtemp failed");
  std::string in = absl::StrCat(dir, "/g.dot"),
              out = absl::StrCat(dir, "/g.svg");
  absl::Status s = WriteStringToFile(in, dot, false);
  std::string cmd = absl::StrCat("dot -Tsvg -o ", out, " ", in, " 2>/dev/null");
  int rc = s.ok() ? std::system(cmd.c_str()) : -1;
  absl::StatusOr<std::string> svg =
      rc == 0 ? ReadFileToString(out)
              : absl::StatusOr<std::string>(
                    absl::UnavailableError("graphviz dot failed"));
  std::remove(in.c_str());
  std::remove(out.c_str());
  ::rmdir(dir);
  if (!svg.ok()) return svg;
  size_t start = svg->find("<svg");  // drop the XML prolog and DOCTYPE
  return start == std::string::npos ? *svg : svg->substr(start);
}

std::string HtmlReport(const AuditReport& report, const BundleContents& c,
                       const domain::DomainGraph& g) {
  std::string dot = CustodyDot(c, g);
  absl::StatusOr<std::string> svg = RenderSvg(dot);
  std::string graph = svg.ok() ? *svg : absl::StrCat("<pre>", H(dot), "</pre>");
  return absl::StrCat(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>segledger audit report</title><style>"
      "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
      "margin-bottom:1em}td,th{border:1px solid #999;padding:2px 6px;"
      "font-size:13px;text-align:left}tr.critical,tr.major{background:#fdd}"
      "tr.warning{background:#ffd}code{font-size:12px}</style></head><body>"
      "<h1>segledger audit report</h1>",
      Summary(report), FindingsHtml(report),
      "<h2>Custody graph</h2><div id=\"custody\">", graph, "</div>",
      Timelines(c, g), Records(c, g),
      "<script>document.body.setAttribute('data-rendered',"
      "document.querySelectorAll('h3.lot').length);</script>"
      "</body></html>\n");
}

}  // namespace segledger::tools
