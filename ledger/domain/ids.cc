#include "ledger/domain/ids.h"

#include <array>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace segledger::domain {
namespace {

constexpr size_t kMaxIdLength = 512;

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// GS1 AI 82 character set, with %XX escapes as URN encoding requires.
bool Ai82Ok(absl::string_view s) {
  if (s.empty() || s.size() > 60) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !absl::ascii_isxdigit(s[i + 1]) ||
          !absl::ascii_isxdigit(s[i + 2])) {
        return false;
      }
      i += 2;
      continue;
    }
    if (absl::ascii_isalnum(c)) continue;
    if (!absl::StrContains("!'()*+,-.:;=_", static_cast<char>(c))) return false;
  }
  return true;
}

absl::Status Bad(absl::string_view id, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("'", id, "' is not a valid identifier: ", why));
}

// The first N pieces of `s` split at `sep` and how many there are, from
// absl::StrSplit's lazy range: no vector (every record names several ids,
// each validated in Precheck).
template <size_t N>
struct Split {
  Split(absl::string_view s, char sep) {
    for (absl::string_view p : absl::StrSplit(s, sep)) {
      if (size < N) piece[size] = p;
      ++size;
    }
  }
  const absl::string_view& operator[](size_t i) const { return piece[i]; }
  std::array<absl::string_view, N> piece;
  size_t size = 0;
};

absl::Status ValidateEpcUrn(absl::string_view id) {
  const Split<5> parts(id, ':');
  // urn:epc:{id|class}:<scheme>:<body>
  if (parts.size != 5)
    return Bad(id, "EPC URN needs urn:epc:<type>:<scheme>:<value>");
  // Fields beyond the third need only the AI 82 check, done below.
  const Split<3> fields(parts[4], '.');
  if (parts[2] == "class" && parts[3] == "lgtin") {
    if (fields.size != 3 || !AllDigits(fields[0]) || !AllDigits(fields[1]) ||
        fields[0].size() < 6 || fields[0].size() > 12 ||
        fields[0].size() + fields[1].size() != 13 || !Ai82Ok(fields[2]) ||
        fields[2].size() > 20) {
      return Bad(id,
                 "LGTIN must be <company prefix>.<item ref>.<lot>, 13 "
                 "digits and a lot of 1-20 GS1 characters");
    }
    return absl::OkStatus();
  }
  if (parts[2] != "id") return Bad(id, "EPC URN type must be 'id' or 'class'");
  static constexpr absl::string_view kSchemes[] = {
      "sgtin", "sgln", "pgln", "sscc", "giai", "grai", "gdti", "gsrn"};
  bool known = false;
  for (absl::string_view s : kSchemes) known = known || s == parts[3];
  if (!known)
    return Bad(id, absl::StrCat("unknown EPC scheme '", parts[3], "'"));
  if (fields.size < 2 || !AllDigits(fields[0]) || fields[0].size() < 6 ||
      fields[0].size() > 12) {
    return Bad(id, "EPC value must start with a 6-12 digit company prefix");
  }
  // Every field after the company prefix, the ones Split did not keep too.
  bool company_prefix = true;
  for (absl::string_view field : absl::StrSplit(parts[4], '.')) {
    if (!company_prefix && !field.empty() && !Ai82Ok(field)) {
      return Bad(id, "EPC value has characters outside GS1 AI 82");
    }
    company_prefix = false;
  }
  return absl::OkStatus();
}

absl::Status ValidateHttps(absl::string_view id) {
  absl::string_view rest = id.substr(8);
  size_t slash = rest.find('/');
  absl::string_view host = rest.substr(0, slash);
  absl::string_view path =
      slash == absl::string_view::npos ? "" : rest.substr(slash);
  if (host.empty() || host.find('.') == absl::string_view::npos) {
    return Bad(id, "https URI needs a host name with a domain");
  }
  for (char c : host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != ':') {
      return Bad(id, "invalid character in host");
    }
  }
  for (char c : path) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c)) || c == '"' ||
        c == '<' || c == '>' || c == '\\' || c == '`' || c == '{' || c == '}') {
      return Bad(id, "invalid character in path");
    }
  }
  // GS1 Digital Link: a path segment "01" followed by a GTIN-14.
  std::vector<absl::string_view> segs =
      absl::StrSplit(path, '/', absl::SkipEmpty());
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (segs[i] == "01" && (host == "id.gs1.org" || AllDigits(segs[i + 1]))) {
      if (segs[i + 1].size() != 14 || !Gs1CheckDigitOk(segs[i + 1])) {
        return Bad(id,
                   "GS1 Digital Link GTIN must be 14 digits with a valid "
                   "check digit");
      }
    }
  }
  return absl::OkStatus();
}

constexpr absl::string_view kUsccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";

}  // namespace

bool Gs1CheckDigitOk(absl::string_view digits) {
  if (digits.size() < 2 || !AllDigits(digits)) return false;
  int sum = 0;
  // Weights 3,1,3,... from the digit left of the check digit.
  for (size_t i = 0; i + 1 < digits.size(); ++i) {
    size_t from_right = digits.size() - 2 - i;
    sum += (digits[i] - '0') * (from_right % 2 == 0 ? 3 : 1);
  }
  return (10 - sum % 10) % 10 == digits.back() - '0';
}

absl::Status ValidateIdentifier(absl::string_view id) {
  if (id.empty()) return Bad(id, "empty");
  if (id.size() > kMaxIdLength) return Bad(id, "longer than 512 bytes");
  if (absl::StartsWith(id, "urn:epc:")) return ValidateEpcUrn(id);
  if (absl::StartsWith(id, "https://")) return ValidateHttps(id);
  return Bad(id,
             "expected an EPC URN (urn:epc:...), a GS1 Digital Link or "
             "an https:// URI");
}

char UsccCheckChar(absl::string_view first17) {
  static constexpr int kWeights[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                       29, 25, 13, 8,  24, 10, 30, 28};
  int sum = 0;
  for (size_t i = 0; i < 17 && i < first17.size(); ++i) {
    size_t v = kUsccChars.find(first17[i]);
    if (v == absl::string_view::npos) return '?';
    sum += static_cast<int>(v) * kWeights[i];
  }
  return kUsccChars[(31 - sum % 31) % 31];
}

absl::Status ValidateUnifiedSocialCreditCode(absl::string_view code) {
  if (code.size() != 18) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unified social credit code '", code, "' must have 18 characters"));
  }
  for (char c : code) {
    if (kUsccChars.find(c) == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unified social credit code '", code,
                       "' has invalid character '", std::string(1, c), "'"));
    }
  }
  if (UsccCheckChar(code.substr(0, 17)) != code[17]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unified social credit code '", code, "' has a wrong check character"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTraceCode(absl::string_view code) {
  if (code.size() != 20 || !AllDigits(code)) {
    return absl::InvalidArgumentError(
        absl::StrCat("traceability code '", code, "' must be 20 digits"));
  }
  return absl::OkStatus();
}

absl::Status ValidateProvince(absl::string_view code) {
  bool ok = code.size() >= 4 && code.size() <= 6 && code[2] == '-' &&
            absl::ascii_isupper(code[0]) && absl::ascii_isupper(code[1]);
  for (size_t i = 3; ok && i < code.size(); ++i) {
    ok = absl::ascii_isupper(code[i]) || absl::ascii_isdigit(code[i]);
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", code, "' is not an ISO 3166-2 subdivision code (e.g. CN-SH)"));
  }
  return absl::OkStatus();
}

}  // namespace segledger::domain
