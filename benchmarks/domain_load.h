// A generated single-site domain workload for benchmarks: the upstream CMO's
// log of the ADC chain (tests/ledger/domain/adc_scenario.h), as blocks of
// seven records around two new lots each, every record accepted by the
// DomainHook. Used by domain_benchmark (hook cost, rules vs plain append)
// and `segbench query` (lot queries on a real 1M-record store).
//
// Block k (tag T): cell bank A<T> produced, its QC and site release, the
// upstream culture consuming 5 vials into harvest H<T>, its QC and release,
// and a dispatch of 50 L of H<T> to the downstream CMO (in transit). So
// Backward(H<T>) has two lots, Forward(A<T>) two lots and one shipment.
//
// Thread-compatible: build a DomainLoad on one thread; afterwards the
// records may be read from many.
#ifndef SEGLEDGER_BENCHMARKS_DOMAIN_LOAD_H_
#define SEGLEDGER_BENCHMARKS_DOMAIN_LOAD_H_

#include <memory>
#include <string>
#include <vector>

#include "ledger/domain/hook.h"
#include "ledger/store/log_store.h"
#include "tests/ledger/domain/adc_scenario.h"

namespace segledger::bench {

inline constexpr size_t kRecordsPerBlock = 7;

// The records of block `k` with lot tag `tag` (see above).
std::vector<v1::Record> DomainBlock(domain::testing::AdcChain& chain,
                                    const std::string& tag, size_t k);
inline std::vector<v1::Record> DomainBlock(domain::testing::AdcChain& chain,
                                           size_t k) {
  return DomainBlock(chain, std::to_string(k), k);
}

// The lot ids of block `tag`: the vials (A) and the harvest made of them (H).
std::string VialLot(const std::string& tag);
std::string HarvestLot(const std::string& tag);

// A record as one appender sends it (an operator's signature manifestation).
store::AppendRecord ToAppendRecord(v1::Record r, std::string request_id);

// The chain (product, parties, evidence) and the upstream site's own
// registrations, which must precede every block in its log.
struct DomainSite {
  domain::testing::AdcChain chain;
  std::string origin;
  std::vector<store::AppendRecord> setup;  // party, site, two MAH staff

  // The DomainHook configuration of the upstream site. The evidence it
  // points to lives in `chain`: the DomainSite must outlive the hook.
  domain::DomainConfig HookConfig();
};

// Builds the chain; INTERNAL when the scenario does not build.
absl::StatusOr<std::unique_ptr<DomainSite>> MakeDomainSite();

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_DOMAIN_LOAD_H_
