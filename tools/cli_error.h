// One stderr line for a CLI11 parse error that names what is wrong. CLI11
// says "A subcommand is required" both when the command is missing and
// when it is misspelt; this names the word it did not know and lists the
// commands. Shared by segctl and segaudit (header-only: CLI11 is).
#ifndef SEGLEDGER_TOOLS_CLI_ERROR_H_
#define SEGLEDGER_TOOLS_CLI_ERROR_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace segledger::tools {

// The message for `e`, thrown by `app.parse(argc, argv)`.
inline std::string CliErrorMessage(const CLI::App& app,
                                   const CLI::ParseError& e, int argc,
                                   const char* const* argv) {
  if (dynamic_cast<const CLI::RequiredError*>(&e) == nullptr ||
      !absl::StrContains(e.what(), "subcommand")) {
    return e.what();
  }
  // Walk the words: each known command descends into its subcommands; the
  // first word that is neither a known command, an option nor an option's
  // value is the unknown one.
  const CLI::App* at = &app;
  auto commands = [&at] {
    std::vector<std::string> names;
    for (const CLI::App* sub :
         at->get_subcommands([](const CLI::App*) { return true; })) {
      names.push_back(sub->get_name());
    }
    return absl::StrJoin(names, ", ");
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (absl::StartsWith(arg, "-")) {
      const CLI::Option* opt = at->get_option_no_throw(arg);
      if (opt != nullptr && !absl::StrContains(arg, "=") &&
          opt->get_items_expected_max() > 0) {
        ++i;  // its value
      }
      continue;
    }
    const CLI::App* sub = nullptr;
    for (const CLI::App* s :
         at->get_subcommands([](const CLI::App*) { return true; })) {
      if (s->check_name(arg)) sub = s;
    }
    if (sub == nullptr) {
      return absl::StrCat("unknown command \"", arg,
                          "\" (commands: ", commands(), ")");
    }
    at = sub;
  }
  return absl::StrCat("a command is required (commands: ", commands(), ")");
}

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_CLI_ERROR_H_
