#include "tools/epcis.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ledger/domain/links.h"
#include "ledger/domain/validate.h"
#include "tools/audit_finding.h"

namespace segledger::tools {
namespace {

std::string Q(absl::string_view s) {
  return absl::StrCat("\"", JsonEscape(s), "\"");
}

// urn:segledger:<kind>:<id> with id bytes outside [A-Za-z0-9._-] as %XX.
std::string Urn(absl::string_view kind, absl::string_view id) {
  std::string out = absl::StrCat("urn:segledger:", kind, ":");
  for (unsigned char c : id) {
    if (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string Offset(int minutes) {
  char sign = minutes < 0 ? '-' : '+';
  int m = minutes < 0 ? -minutes : minutes;
  return absl::StrFormat("%c%02d:%02d", sign, m / 60, m % 60);
}

bool IsDecimal(absl::string_view v) {
  return !v.empty() && v.find_first_not_of("0123456789.-") == v.npos &&
         v.find_first_of("0123456789") != v.npos && v.back() != '.' &&
         v.front() != '.';
}

std::string QuantityElement(absl::string_view lot, const v1::Quantity& q) {
  std::string out = absl::StrCat("{\"epcClass\":", Q(Urn("lot", lot)));
  if (IsDecimal(q.value())) absl::StrAppend(&out, ",\"quantity\":", q.value());
  bool uom = q.unit().size() >= 2 && q.unit().size() <= 3;
  for (char c : q.unit())
    uom = uom && (absl::ascii_isupper(c) || absl::ascii_isdigit(c));
  if (uom) absl::StrAppend(&out, ",\"uom\":", Q(q.unit()));
  return out + "}";
}

// Members common to every event (without braces).
std::string Common(absl::string_view type, const domain::GraphEntry& e) {
  const v1::RecordHeader* h = domain::HeaderOf(e.body.record());
  int offset = h != nullptr ? h->event_time().utc_offset_minutes() : 0;
  std::string out = absl::StrCat(
      "\"type\":", Q(type), ",\"eventID\":",
      Q(absl::StrCat("ni:///sha-256;", HashHex(e.leaf_hash), "?ver=CBV2.0")),
      ",\"eventTime\":", Q(Time(e.EventTime())),
      ",\"eventTimeZoneOffset\":", Q(Offset(offset)));
  if (h != nullptr && !h->site_id().empty()) {
    std::string site = Q(Urn("site", h->site_id()));
    absl::StrAppend(&out, ",\"readPoint\":{\"id\":", site,
                    "},\"bizLocation\":{\"id\":", site, "}");
  }
  absl::string_view step = domain::CbvBizStep(e.body.record());
  if (!step.empty()) absl::StrAppend(&out, ",\"bizStep\":", Q(step));
  absl::string_view disp =
      domain::CbvDisposition(domain::DispositionOf(e.body.record()));
  if (!disp.empty()) absl::StrAppend(&out, ",\"disposition\":", Q(disp));
  absl::StrAppend(&out, ",\"sl:entry\":{\"sl:origin\":", Q(e.origin),
                  ",\"sl:index\":", e.index,
                  ",\"sl:leafHash\":", Q(HashBase64(e.leaf_hash)), "}");
  return out;
}

std::string Party(absl::string_view type, absl::string_view kind,
                  absl::string_view id, bool source) {
  return absl::StrCat("{\"type\":", Q(type), ",\"",
                      source ? "source" : "destination",
                      "\":", Q(Urn(kind, id)), "}");
}

std::string DispatchEvent(const domain::GraphEntry& e, const v1::Dispatch& d) {
  std::vector<std::string> q;
  for (const auto& c : d.containers())
    q.push_back(QuantityElement(c.lot_id(), c.quantity()));
  return absl::StrCat(
      "{", Common("ObjectEvent", e),
      ",\"action\":\"OBSERVE\",\"quantityList\":[", absl::StrJoin(q, ","),
      "],\"sourceList\":[",
      Party("owning_party", "party", d.owner_party_id(), true), ",",
      Party("possessing_party", "party", d.header().party_id(), true), ",",
      Party("location", "site", d.header().site_id(), true),
      "],\"destinationList\":[",
      Party("owning_party", "party", d.owner_party_id(), false), ",",
      Party("possessing_party", "party", d.to_party_id(), false), ",",
      Party("location", "site", d.to_site_id(), false), "]}");
}

std::string ReceiptEvent(const domain::GraphEntry& e, const v1::Receipt& r,
                         const domain::DomainGraph& g) {
  std::vector<std::string> q;
  for (const auto& c : r.containers())
    q.push_back(QuantityElement(c.lot_id(), c.received_quantity()));
  std::string out = absl::StrCat("{", Common("ObjectEvent", e),
                                 ",\"action\":\"OBSERVE\",\"quantityList\":[",
                                 absl::StrJoin(q, ","), "]");
  const domain::GraphEntry* d =
      g.Find(r.dispatch().origin(), r.dispatch().index());
  if (d != nullptr && d->body.record().has_dispatch()) {
    const v1::Dispatch& dd = d->body.record().dispatch();
    absl::StrAppend(
        &out, ",\"sourceList\":[",
        Party("possessing_party", "party", dd.header().party_id(), true), ",",
        Party("location", "site", dd.header().site_id(), true), "]");
  }
  absl::StrAppend(
      &out, ",\"destinationList\":[",
      Party("possessing_party", "party", r.header().party_id(), false), ",",
      Party("location", "site", r.header().site_id(), false), "]}");
  return out;
}

std::string TransformationEvent(const domain::GraphEntry& e,
                                const v1::Transformation& t) {
  std::vector<std::string> in, out;
  for (const auto& i : t.inputs())
    in.push_back(QuantityElement(i.lot_id(), i.quantity()));
  for (const auto& o : t.outputs())
    out.push_back(QuantityElement(o.lot_id(), o.quantity()));
  return absl::StrCat(
      "{", Common("TransformationEvent", e),
      ",\"transformationID\":", Q(Urn("transformation", t.transformation_id())),
      ",\"inputQuantityList\":[", absl::StrJoin(in, ","),
      "],\"outputQuantityList\":[", absl::StrJoin(out, ","), "]}");
}

void Events(const domain::GraphEntry& e, const domain::DomainGraph& g,
            std::vector<std::string>& out) {
  const v1::Record& r = e.body.record();
  if (r.has_dispatch()) return out.push_back(DispatchEvent(e, r.dispatch()));
  if (r.has_receipt()) return out.push_back(ReceiptEvent(e, r.receipt(), g));
  if (r.has_transformation())
    return out.push_back(TransformationEvent(e, r.transformation()));
  if (r.has_lot_produced()) {
    const v1::LotProduced& p = r.lot_produced();
    return out.push_back(absl::StrCat(
        "{", Common("ObjectEvent", e), ",\"action\":\"ADD\",\"quantityList\":[",
        QuantityElement(p.lot_id(), p.quantity()), "]}"));
  }
  if (r.has_trace_code_link()) {
    for (const v1::Aggregation& a : r.trace_code_link().aggregations()) {
      std::vector<std::string> kids;
      for (const std::string& c : a.child_codes())
        kids.push_back(Q(Urn("code", c)));
      out.push_back(absl::StrCat(
          "{", Common("AggregationEvent", e),
          ",\"action\":\"ADD\",\"parentID\":", Q(Urn("code", a.parent_code())),
          ",\"childEPCs\":[", absl::StrJoin(kids, ","), "]}"));
    }
    return;
  }
  domain::RecordLinks links = domain::LinksOf(r);
  if (links.lots.empty() || domain::HeaderOf(r) == nullptr) return;
  std::vector<std::string> q;
  for (const std::string& lot : links.lots) {
    q.push_back(absl::StrCat("{\"epcClass\":", Q(Urn("lot", lot)), "}"));
  }
  out.push_back(absl::StrCat("{", Common("ObjectEvent", e),
                             ",\"action\":\"OBSERVE\",\"quantityList\":[",
                             absl::StrJoin(q, ","), "]}"));
}

}  // namespace

std::string EpcisDocument(const BundleContents& contents,
                          const domain::DomainGraph& graph,
                          absl::Time created) {
  std::vector<std::string> events;
  for (const LogEntries& log : contents.logs) {
    for (size_t i = 0; i < log.bodies.size(); ++i) {
      const domain::GraphEntry* e = graph.Find(log.origin, i);
      if (e != nullptr) Events(*e, graph, events);
    }
  }
  return absl::StrCat(
      "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/"
      "epcis-context.jsonld\",{\"sl\":",
      Q(kSegledgerEpcisNamespace),
      "}],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\","
      "\"creationDate\":",
      Q(Time(created)), ",\"epcisBody\":{\"eventList\":[\n",
      absl::StrJoin(events, ",\n"), "\n]}}\n");
}

}  // namespace segledger::tools
