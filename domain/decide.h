#pragma once

#include "domain/commands.h"
#include "domain/error.h"
#include "domain/events.h"
#include "domain/limits.h"
#include "domain/state.h"

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace tally {

// Everything decide needs besides the state: who asks, when, and where new
// ids come from (injected, so tests are deterministic).
struct decide_context {
  ids::tenant tenant;
  ids::user actor;
  std::optional<std::string> actor_name;
  bool actor_is_admin = false;
  timestamp now;
  std::function<std::string()> new_id;
  // A host without the admin role: sees and acts on only the appointments
  // whose host_id is theirs (DOMAIN.md); others are "not found".
  bool host_scoped = false;
  // A customer without a staff role: the actor is the customer.
  bool customer_scoped = false;
};

struct decision {
  std::vector<event_data> events;
  // The aggregate the command is about: its version is the ETag, its view the
  // answer.
  std::string target;
  // For add_item: the new line.
  std::optional<ids::line> line_id;
};

// Checks the command against the state and says which events it causes, or
// why it is refused. Pure: reads only `state` and `ctx`.
result<decision> decide(const command& cmd, const state_reader& state, const decide_context& ctx);

// What the answer to a command shows, from the command's events alone, so
// that a replay of the log renders the answers of idempotent commands as
// they were given: the aggregate (the stream of the first event, except
// that a booking that registers its customer on the way is about the
// session that follows) and, for an added item, its line. Agrees with
// decide's `target` and `line_id` (the decider checks).
struct answer_subject {
  std::string target;
  std::optional<ids::line> line_id;
};
answer_subject answer_subject_of(std::span<const event> command_events);

// The session a command is about, if it names one.
std::optional<ids::session> session_of(const command& cmd);
// Whether the caller may see the session: a host-scoped caller sees every
// metered and shopping session and only the appointments they host.
bool visible_to(const session_state& s, const decide_context& ctx);

// Field checks that need no state (domain/validate.cc); decide runs them
// first: 400 invalid_request naming each bad field, else 422
// amount_too_large naming each amount past the money bound.
std::optional<error> check_fields(const command& cmd);
// The same problems as one list (tests, the fuzzer).
std::vector<field_problem> validate(const command& cmd);
// 1 to 255 bytes with no control characters: a token's sub, a host id.
bool valid_user_id(std::string_view id);

}  // namespace tally
