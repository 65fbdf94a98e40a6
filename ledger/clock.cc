#include "ledger/clock.h"

namespace segledger {

const Clock* SystemClock::Get() {
  static const SystemClock* const clock = new SystemClock();
  return clock;
}

}  // namespace segledger
