#pragma once

#include "base/metrics.h"
#include "domain/commands.h"
#include "domain/error.h"
#include "domain/ids.h"
#include "infra/ports/event_log.h"
#include "infra/ports/tenant_stops.h"

#include <boost/describe.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tally::commands {

// If-Match: *
inline constexpr std::int64_t any_version = -1;
// If-Match: W/"…": a weak tag matches no version (strong comparison, RFC 9110
// 13.1.1), but only once the command is known to be valid and allowed, so
// that a bad body is 400 whatever its precondition.
inline constexpr std::int64_t weak_version = -2;

struct command_request {
  ids::tenant tenant;
  ids::user actor;
  std::optional<std::string> actor_name;
  bool actor_is_admin = false;
  bool host_scoped = false;      // decide_context's
  bool customer_scoped = false;  // decide_context's
  command cmd;
  std::optional<std::string> idempotency_key;
  // The hex SHA-256 of method, path and body: what makes a retry with the
  // same key "the same". Carried on the command's events.
  std::string request_digest;
  // If-Match: the version the target must have, any_version (any existing
  // one) or weak_version (none).
  std::optional<std::int64_t> if_match;
  std::string correlation_id;
  // A bulk action (POST /v1/sessions/bulk): `cmd` is not used; each item is
  // decided in order, as a command of its own, in one batch, under the one
  // Idempotency-Key, which then covers the whole list (API.md). The answer's
  // body is a bulk_answer.
  struct bulk_item {
    std::string id;  // what the item is about (a session id), named in its result
    command cmd;
    std::optional<error> refused;  // set: its result, without deciding it
  };
  std::vector<bulk_item> bulk;
};

// The answer to a bulk command, before the gateway renders each failure as
// problem details: per item, in order, its id and how it failed, if it did.
struct bulk_field {
  std::string field;
  std::string message;
};
BOOST_DESCRIBE_STRUCT(bulk_field, (), (field, message))
struct bulk_result {
  std::string id;
  std::optional<std::string> code;  // errc's code_name; none: done
  std::string detail;
  std::vector<bulk_field> fields;
};
BOOST_DESCRIBE_STRUCT(bulk_result, (), (id, code, detail, fields))
struct bulk_answer {
  std::vector<bulk_result> results;
};
BOOST_DESCRIBE_STRUCT(bulk_answer, (), (results))

struct command_reply {
  std::optional<error> failure;
  std::string body;  // the JSON answer, on success
  std::optional<ports::position> position;
  tally::version version;  // of the aggregate the command is about: the ETag
  bool replayed = false;   // an idempotent retry answered from its record
};

// What the gateway needs of the command side: submit a command and hear its
// answer once. Implementations: the in-process deciders (command_bus), a
// read replica that takes no commands (read_only_commands).
class command_port {
 public:
  using callback = std::function<void(command_reply)>;
  virtual ~command_port() = default;

  // `done` is called exactly once, possibly on another thread, and must not
  // block.
  virtual void submit(command_request request, callback done) = 0;

  // ok while commands can be carried out (for /readyz).
  [[nodiscard]] virtual status writable() const = 0;

  // The offset of the last event this side has seen appended to
  // `partition`; -1 if none or not known here (for /metrics).
  [[nodiscard]] virtual std::int64_t last_offset(std::int32_t partition) const = 0;

  // Whether this process decides `partition`'s commands now (for /metrics).
  [[nodiscard]] virtual bool decides(std::int32_t partition) const = 0;

  // Adds what this side measures to /metrics (nothing by default).
  virtual void write_metrics(metrics_text& /*out*/) const {}
  // The tenants whose commands are refused because their history holds a
  // record that cannot be read (for /readyz and /metrics).
  [[nodiscard]] virtual std::vector<ports::tenant_stop> stopped_tenants() const { return {}; }
};

// A process that serves reads only (tally projector): every command is
// refused with 503, naming where commands go.
class read_only_commands final : public command_port {
 public:
  void submit(command_request, callback done) override {
    done(command_reply{make_error(errc::unavailable,
                                  "this is a read replica (tally projector): send commands to a "
                                  "gateway"),
                       {},
                       {},
                       {},
                       false});
  }
  [[nodiscard]] status writable() const override { return ok(); }
  [[nodiscard]] std::int64_t last_offset(std::int32_t) const override { return -1; }
  [[nodiscard]] bool decides(std::int32_t) const override { return false; }
};

}  // namespace tally::commands
