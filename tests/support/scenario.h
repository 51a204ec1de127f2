#pragma once

// Given events / when command / then events, over the pure domain.

#include "domain/decide.h"
#include "domain/evolve.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

namespace tally::testing {

inline timestamp t0() { return *parse_rfc3339("2026-11-22T10:00:00.000Z"); }

class scenario {
 public:
  ids::tenant tenant{"acme"};
  timestamp now = t0();
  bool admin = true;
  // Who asks (decide_context): a host-scoped host or a customer, when set.
  ids::user actor{"staff-1"};
  std::optional<std::string> actor_name = std::string("Sam");
  bool host_scoped = false;
  bool customer_scoped = false;

  // Applies events as if they had been appended.
  scenario& given(std::vector<event_data> events) {
    for (auto& d : events) apply(std::move(d));
    return *this;
  }

  result<decision> when(const command& cmd) {
    decide_context ctx{tenant,      actor,
                       actor_name,  admin,
                       now,         [this] { return fmt::format("id-{}", ++next_id_); },
                       host_scoped, customer_scoped};
    auto d = decide(cmd, state_, ctx);
    if (d) last_ = d->events;
    return d;
  }

  // Runs the command and applies its events; fails the test if refused.
  decision run(const command& cmd) {
    auto d = when(cmd);
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.err().detail);
    if (!d) return {};
    for (const auto& e : d->events) apply(e);
    return *d;
  }

  // Acts as `who` from now on: a host without admin (host-scoped), or staff.
  void as_host(std::string who, std::optional<std::string> name = {}) {
    actor = ids::user{std::move(who)};
    actor_name = std::move(name);
    admin = false;
    host_scoped = true;
    customer_scoped = false;
  }
  void as_customer(std::string who) {
    actor = ids::user{std::move(who)};
    actor_name.reset();
    admin = false;
    host_scoped = false;
    customer_scoped = true;
  }
  void as_admin() {
    actor = ids::user{"staff-1"};
    actor_name = std::string("Sam");
    admin = true;
    host_scoped = customer_scoped = false;
  }

  void advance(std::chrono::milliseconds by) { now += by; }
  const memory_state& state() const { return state_; }

  template <class E>
  static const E& only(const decision& d, std::size_t index = 0) {
    EXPECT_GT(d.events.size(), index);
    const E* e = std::get_if<E>(&d.events.at(index));
    EXPECT_NE(e, nullptr) << "event " << index << " is " << type_of(d.events.at(index));
    static E empty{};
    return e ? *e : empty;
  }

 private:
  void apply(event_data d) {
    event e;
    e.tenant = tenant;
    e.stream = stream_of(tenant, d);
    e.stream_version = version{++versions_[e.stream]};
    e.time = now;
    e.id = ids::event{fmt::format("ev-{}", ++next_event_)};
    e.actor = actor;
    e.actor_name = actor_name.value_or("");
    e.data = std::move(d);
    evolve(state_, e);
  }

  memory_state state_;
  std::map<stream_id, std::int64_t> versions_;
  std::vector<event_data> last_;
  int next_id_ = 0;
  int next_event_ = 0;
};

}  // namespace tally::testing
