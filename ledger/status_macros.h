// Status propagation macros.
//
// Debian 12's Abseil (20220623) ships no RETURN_IF_ERROR / ASSIGN_OR_RETURN.
// These are named so that a later Abseil (absl/status/status_macros.h) is a
// rename: SEG_RETURN_IF_ERROR -> RETURN_IF_ERROR, SEG_ASSIGN_OR_RETURN ->
// ASSIGN_OR_RETURN. Thread-safe: they are expressions over locals only.
#ifndef SEGLEDGER_LEDGER_STATUS_MACROS_H_
#define SEGLEDGER_LEDGER_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define SEG_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status seg_status_ = (expr);       \
    if (!seg_status_.ok()) return seg_status_; \
  } while (0)

#define SEG_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define SEG_STATUS_MACROS_CONCAT_(x, y) SEG_STATUS_MACROS_CONCAT_INNER_(x, y)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise move-assigns the value to `lhs`, which
// may be a declaration: SEG_ASSIGN_OR_RETURN(auto x, MakeX());
#define SEG_ASSIGN_OR_RETURN(lhs, rexpr) \
  SEG_ASSIGN_OR_RETURN_IMPL_(            \
      SEG_STATUS_MACROS_CONCAT_(seg_statusor_, __LINE__), lhs, rexpr)

#define SEG_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)   \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // SEGLEDGER_LEDGER_STATUS_MACROS_H_
