#pragma once

// The appointment rules that more than one decider reads (DOMAIN.md,
// Appointments), each written once.

#include "domain/state.h"

#include <algorithm>

namespace tally {

// Whether an attendance record is bounded: its `at` lies between the
// session's request and when it was recorded. Only bounded records decide
// anything: an older history may hold one dated in the future, which a
// record made now could not be (the decider refuses it).
[[nodiscard]] inline bool bounded(const session_state& s, const attendance_entry& a) {
  return a.at >= s.listed_at && (!a.recorded_at || a.at <= *a.recorded_at);
}

// Whether the session's bounded attendance shows that `who` joined.
[[nodiscard]] inline bool joined(const session_state& s, attendee who) {
  return std::any_of(s.attendance.begin(), s.attendance.end(), [&](const attendance_entry& a) {
    return a.party == who && a.action == attendance_change::joined && bounded(s, a);
  });
}

}  // namespace tally
