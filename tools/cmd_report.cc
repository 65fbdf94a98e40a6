// segaudit epcis and report: placeholders until the domain records land.
#include <cstdio>

#include "tools/commands.h"

namespace segledger::tools {

int RunReport(const ReportFlags&) {
  std::fprintf(stderr, "segaudit: report is not implemented yet\n");
  return kExitUsage;
}

}  // namespace segledger::tools
