#include "domain/decide.h"

#include "base/zone.h"
#include "domain/pricing.h"

#include <fmt/format.h>

#include <algorithm>

namespace tally {

namespace {

error not_found(std::string_view what, std::string_view id) {
  return make_error(errc::not_found, fmt::format("{} {} does not exist", what, id));
}

error bad_state(std::string detail) { return make_error(errc::invalid_state, std::move(detail)); }

error nothing_due(const session_state& ss) {
  return make_error(
      errc::nothing_due,
      fmt::format("the session ended ({}) and owes nothing",
                  ss.outcome ? boost::describe::enum_to_string(*ss.outcome, "") : ""));
}

std::vector<released_line> released(const session_state& s) {
  std::vector<released_line> out;
  for (const auto& l : s.lines)
    if (l.effect == stock_effect::reserved)
      out.push_back({l.line_id, l.item_id, l.name, l.quantity});
  return out;
}

std::string money_reason(charge_reason r) {
  switch (r) {
    case charge_reason::time_and_items:
      return "Time and items";
    case charge_reason::booked_price:
      return "Booked price";
    case charge_reason::no_show_fee:
      return "No-show fee";
    case charge_reason::manual:
      return "Manual charge";
  }
  return "Charge";
}

struct decider {
  const state_reader& s;
  const decide_context& ctx;

  charge_processed charge(const session_state& ss, cents amount, charge_reason reason,
                          std::optional<std::string> note = {}) const {
    return charge_processed{ss.session_id,
                            ss.customer.customer_id,
                            ids::charge{ctx.new_id()},
                            amount,
                            reason,
                            split_charge(amount, s.tenant().settings.platform_fee_percent),
                            std::move(note)};
  }
  session_ended ending(const session_state& ss, session_outcome outcome, timestamp at, cents total,
                       std::optional<std::string> reason = {}) const {
    session_ended e;
    e.session_id = ss.session_id;
    e.kind = ss.kind;
    e.outcome = outcome;
    e.ended_at = at;
    e.reason = std::move(reason);
    e.customer_id = ss.customer.customer_id;
    if (ss.resource) e.resource_id = ss.resource->resource_id;
    e.total_cents = total;
    return e;
  }
  result<const session_state*> appointment(const ids::session& id) const {
    const auto* ss = s.session(id);
    if (!ss) return not_found("session", id.value);
    if (ss->kind != session_kind::appointment) return bad_state("only appointments can do this");
    return ss;
  }
  // Appointments that reach their end: charged the full price, unless the
  // recorded attendance shows that only one party came (DOMAIN.md).
  decision assumed_completion(const session_state& ss) const {
    decision d{{}, keys::session(ss.session_id), {}};
    auto joined = [&](attendee who) {
      return std::any_of(ss.attendance.begin(), ss.attendance.end(),
                         [&](const attendance_entry& a) {
                           return a.party == who && a.action == attendance_change::joined;
                         });
    };
    const bool customer = joined(attendee::customer), host = joined(attendee::host);
    if (customer != host)
      return no_show(ss, host ? attendee::customer : attendee::host, *ss.scheduled_end(),
                     "at its scheduled end");
    const cents price = ss.price_cents.value_or(0);
    d.events.push_back(ending(ss, session_outcome::completed_assumed, *ss.scheduled_end(), price,
                              std::string("reached its scheduled end")));
    if (price > 0) d.events.push_back(charge(ss, price, charge_reason::booked_price));
    return d;
  }

  // A no-show of `absent`: the fee when the customer did not come, nothing
  // when the host did not.
  decision no_show(const session_state& ss, attendee absent, timestamp at,
                   std::string_view when = {}) const {
    const cents fee =
        absent == attendee::customer
            ? percent_half_up(ss.price_cents.value_or(0), s.tenant().settings.no_show_fee_percent)
            : 0;
    std::string reason = absent == attendee::customer ? "customer absent" : "host absent";
    if (!when.empty())
      reason += fmt::format(" ({}: attendance shows only the {} joined)", when,
                            absent == attendee::customer ? "host" : "customer");
    session_ended ended = ending(ss, session_outcome::no_show, at, fee, std::move(reason));
    ended.absent_party = absent;
    decision d{{std::move(ended)}, keys::session(ss.session_id), {}};
    if (fee > 0) d.events.push_back(charge(ss, fee, charge_reason::no_show_fee));
    return d;
  }

  // A line of `line` cents in place of one of `replaced` cents: the line and
  // the session's items within the money bound (DOMAIN.md, Rules).
  std::optional<error> line_within_bound(const session_state& ss, cents line, cents replaced,
                                         const char* field) const {
    if (!within_money_bound(line)) return amount_too_large(field, "the line's total", line);
    const cents others = items_total(ss) - replaced;
    if (!within_money_bound(others, line))
      return amount_too_large(field, "the session's items total", others + line);
    return std::nullopt;
  }
  // A payment of `amount` within the customer's lifetime bound: what they
  // paid, less refunds, stays within the money bound.
  std::optional<error> lifetime_within_bound(const ids::customer& id, cents amount) const {
    const auto* c = s.customer(id);
    const cents lifetime = c ? c->total_paid_cents : 0;
    if (!within_money_bound(std::max<cents>(lifetime, 0), amount))
      return amount_too_large("amount_cents", "the customer's lifetime payments",
                              lifetime + amount);
    return std::nullopt;
  }

  result<const customer_state*> active_customer(const ids::customer& id) const {
    const auto* c = s.customer(id);
    if (!c) return not_found("customer", id.value);
    return c;
  }
  result<const session_state*> active_session(const ids::session& id,
                                              std::string_view action) const {
    const auto* ss = s.session(id);
    if (!ss) return not_found("session", id.value);
    if (ss->status != session_status::active)
      return bad_state(fmt::format("cannot {}: the session is {}", action,
                                   ss->status == session_status::ended ? "ended" : "not active"));
    return ss;
  }

  result<decision> operator()(const register_customer& x) const {
    if (x.subscribed && !ctx.actor_is_admin)
      return make_error(errc::forbidden, "only an admin may set subscribed");
    if (x.email && s.find(keys::email(*x.email)))
      return error{errc::already_exists,
                   "a customer with this e-mail already exists",
                   {{"email", "is already registered"}}};
    ids::customer id{ctx.new_id()};
    return decision{
        {customer_registered{id, x.name, x.email, x.phone, x.subscribed.value_or(false)}},
        keys::customer(id),
        {}};
  }
  result<decision> operator()(const update_customer& x) const {
    auto c = active_customer(x.customer_id);
    if (!c) return std::move(c).take_error();
    const customer_state& cur = **c;
    if (!cur.active) return bad_state("the customer is deactivated");
    if (x.email) {
      const auto* holder = s.find_as<email_index_state>(keys::email(*x.email));
      if (holder && holder->customer_id != cur.customer_id)
        return error{errc::already_exists,
                     "another customer has this e-mail",
                     {{"email", "is already registered"}}};
    }
    customer_updated ev{cur.customer_id, x.name.value_or(cur.name), x.email ? x.email : cur.email,
                        x.phone ? x.phone : cur.phone, cur.email};
    decision d{{}, keys::customer(cur.customer_id), {}};
    if (ev.name != cur.name || ev.email != cur.email || ev.phone != cur.phone)
      d.events.push_back(std::move(ev));
    return d;
  }
  result<decision> operator()(const deactivate_customer& x) const {
    auto c = active_customer(x.customer_id);
    if (!c) return std::move(c).take_error();
    if (!(*c)->active) return bad_state("the customer is already deactivated");
    return decision{
        {customer_deactivated{x.customer_id, (*c)->name}}, keys::customer(x.customer_id), {}};
  }
  result<decision> operator()(const change_subscription& x) const {
    auto c = active_customer(x.customer_id);
    if (!c) return std::move(c).take_error();
    decision d{{}, keys::customer(x.customer_id), {}};
    if ((*c)->subscribed != x.subscribed)
      d.events.push_back(customer_subscription_changed{x.customer_id, (*c)->name, x.subscribed});
    return d;
  }
  result<decision> operator()(const register_resource& x) const {
    ids::resource id{ctx.new_id()};
    return decision{{resource_registered{id, x.name, x.hourly_rate_cents}}, keys::resource(id), {}};
  }
  result<decision> operator()(const change_resource_rate& x) const {
    const auto* r = s.resource(x.resource_id);
    if (!r) return not_found("resource", x.resource_id.value);
    decision d{{}, keys::resource(x.resource_id), {}};
    if (r->hourly_rate_cents != x.hourly_rate_cents)
      d.events.push_back(
          resource_rate_changed{x.resource_id, r->name, x.hourly_rate_cents, r->hourly_rate_cents});
    return d;
  }
  result<decision> operator()(const put_item& x) const {
    const auto* i = s.item(x.item_id);
    decision d{{}, keys::item(x.item_id), {}};
    if (!i) {
      d.events.push_back(item_registered{x.item_id, x.name, x.unit.value_or("unit"),
                                         x.unit_price_cents, x.location.value_or("")});
      return d;
    }
    item_updated upd{x.item_id, x.name, x.unit.value_or(i->unit), x.location.value_or(i->location)};
    if (upd.name != i->name || upd.unit != i->unit || upd.location != i->location)
      d.events.push_back(std::move(upd));
    if (x.unit_price_cents != i->unit_price_cents)
      d.events.push_back(
          item_price_changed{x.item_id, x.name, x.unit_price_cents, i->unit_price_cents});
    return d;
  }
  result<decision> operator()(const receive_stock& x) const {
    const auto* i = s.item(x.item_id);
    if (!i) return not_found("item", x.item_id.value);
    if (i->on_hand + x.quantity > max_quantity * 1000)
      return invalid_field("quantity", "would take stock on hand beyond the limit");
    return decision{{stock_received{x.item_id, i->name, x.quantity, i->on_hand + x.quantity}},
                    keys::item(x.item_id),
                    {}};
  }
  result<decision> operator()(const adjust_stock& x) const {
    const auto* i = s.item(x.item_id);
    if (!i) return not_found("item", x.item_id.value);
    if (i->on_hand + x.delta < 0)
      return error{errc::insufficient_stock,
                   fmt::format("on hand is {}; it cannot go below 0", i->on_hand),
                   {{"delta", "is more than is on hand"}}};
    const std::int64_t on_hand = i->on_hand + x.delta;
    // Picked units are in a bag: no write-down takes them (DOMAIN.md).
    if (on_hand < i->picked)
      return error{errc::stock_picked,
                   fmt::format("{} of {} are picked into bags; on hand cannot go below that",
                               i->picked, i->name),
                   {{"delta", fmt::format("would leave on hand below the {} picked", i->picked)}}};
    decision d{{stock_adjusted{x.item_id, i->name, x.delta, x.reason, on_hand}},
               keys::item(x.item_id),
               {}};
    // Written down below what is reserved: the newest holds give back their
    // unpicked units, each exactly as many as are still short, until the rest
    // fits; older ones keep their stock. A line left with nothing is removed
    // (sold out); one that keeps picked units or part of its hold is reduced.
    // Metered lines were consumed, not reserved, and are never taken back.
    // Walks from the newest hold only as far as it must.
    std::int64_t short_by = i->reserved - on_hand;
    for (auto line = i->newest_reservation; line && short_by > 0;) {
      const auto* r = s.reservation(x.item_id, *line);
      if (!r) break;
      const std::int64_t take = std::min(r->quantity - r->picked, short_by);
      line = r->older;
      if (take <= 0) continue;
      short_by -= take;
      if (take == r->quantity) {
        d.events.push_back(item_removed{r->session_id, r->line_id, x.item_id, i->name, take,
                                        removal_reason::sold_out, stock_effect::released});
        continue;
      }
      const auto* ss = s.session(r->session_id);
      const auto* l = ss ? ss->find_line(r->line_id) : nullptr;
      const std::int64_t left = (l ? l->quantity : r->quantity) - take;
      const cents price = l ? l->unit_price_cents : 0;
      d.events.push_back(item_reduced{r->session_id, r->line_id, x.item_id, i->name, take, left,
                                      l ? l->picked_quantity : r->picked, price, left * price,
                                      removal_reason::sold_out, stock_effect::released});
    }
    return d;
  }
  result<decision> operator()(const start_session& x) const {
    auto c = active_customer(x.customer_id);
    if (!c) return std::move(c).take_error();
    if (!(*c)->active) return bad_state("the customer is deactivated");
    if (x.kind == session_kind::shopping &&
        !live_shopping_allows(s.tenant().settings, ctx.actor.value))
      return make_error(errc::feature_disabled, "live shopping is not enabled for " +
                                                    ctx.actor.value +
                                                    " (tenant setting live_shopping)");
    session_started ev;
    ev.session_id = ids::session{ctx.new_id()};
    ev.kind = x.kind;
    ev.customer = customer_ref{(*c)->customer_id, (*c)->name, (*c)->subscribed};
    ev.host_id = ctx.actor;
    ev.host_name = ctx.actor_name;
    ev.started_at = ctx.now;
    ev.notes = x.notes;
    if (x.kind == session_kind::metered) {
      const auto* r = s.resource(*x.resource_id);
      if (!r) return not_found("resource", x.resource_id->value);
      if (r->occupied_by)
        return make_error(
            errc::resource_occupied,
            fmt::format("resource {} is occupied by session {}", r->name, r->occupied_by->value));
      ev.resource = resource_ref{r->resource_id, r->name, r->hourly_rate_cents};
    }
    std::string target = keys::session(ev.session_id);
    return decision{{std::move(ev)}, std::move(target), {}};
  }
  result<decision> operator()(const add_item& x) const {
    auto ss = active_session(x.session_id, "add an item");
    if (!ss) return std::move(ss).take_error();
    const auto* i = s.item(x.item_id);
    if (!i)
      return error{errc::not_found,
                   fmt::format("item {} does not exist", x.item_id.value),
                   {{"item_id", "does not exist"}}};
    if (i->available() < x.quantity)
      return error{errc::insufficient_stock,
                   fmt::format("{} available of {}, {} asked", i->available(), i->name, x.quantity),
                   {{"quantity", fmt::format("is more than the {} available", i->available())}}};
    const session_state& cur = **ss;
    const cents unit_price = x.unit_price_cents.value_or(i->unit_price_cents);
    if (auto e = line_within_bound(cur, x.quantity * unit_price, 0, "quantity")) return *e;
    item_added ev;
    ev.session_id = cur.session_id;
    ev.line_id = ids::line{ctx.new_id()};
    ev.item_id = i->item_id;
    ev.name = i->name;
    ev.unit = i->unit;
    ev.location = i->location;
    ev.quantity = x.quantity;
    ev.list_price_cents = i->unit_price_cents;
    ev.unit_price_cents = x.unit_price_cents.value_or(i->unit_price_cents);
    ev.line_total_cents = ev.quantity * ev.unit_price_cents;
    ev.effect = cur.kind == session_kind::metered ? stock_effect::consumed : stock_effect::reserved;
    auto line = ev.line_id;
    return decision{{std::move(ev)}, keys::session(cur.session_id), line};
  }
  result<decision> operator()(const remove_item& x) const {
    auto ss = active_session(x.session_id, "remove an item");
    if (!ss) return std::move(ss).take_error();
    const auto* l = (*ss)->find_line(x.line_id);
    if (!l) return not_found("line", x.line_id.value);
    const stock_effect back =
        l->effect == stock_effect::consumed ? stock_effect::returned : stock_effect::released;
    return decision{{item_removed{x.session_id, x.line_id, l->item_id, l->name, l->quantity,
                                  removal_reason::removed, back}},
                    keys::session(x.session_id),
                    {}};
  }
  result<decision> operator()(const adjust_price& x) const {
    auto ss = active_session(x.session_id, "adjust a price");
    if (!ss) return std::move(ss).take_error();
    const auto* l = (*ss)->find_line(x.line_id);
    if (!l) return not_found("line", x.line_id.value);
    if (auto e = line_within_bound(**ss, l->quantity * x.unit_price_cents, line_total(*l),
                                   "unit_price_cents"))
      return *e;
    return decision{
        {price_adjusted{x.session_id, x.line_id, l->item_id, l->name, l->quantity,
                        x.unit_price_cents, l->unit_price_cents, l->list_price_cents,
                        l->quantity * x.unit_price_cents, x.reason, ctx.actor, ctx.actor_name}},
        keys::session(x.session_id),
        {}};
  }
  result<decision> operator()(const pick_item& x) const {
    const auto* ss = s.session(x.session_id);
    if (!ss) return not_found("session", x.session_id.value);
    const auto* l = ss->find_line(x.line_id);
    if (!l) return not_found("line", x.line_id.value);
    if (ss->kind != session_kind::shopping)
      return bad_state("only the lines of shopping sessions are picked");
    if (ss->status == session_status::ended && ss->outcome != session_outcome::completed)
      return bad_state("the session was cancelled or timed out: its lines are not to be picked");
    const std::int64_t remaining = l->quantity - l->picked_quantity;
    if (remaining <= 0) return bad_state("the line is picked in full");
    const std::int64_t q = x.quantity.value_or(remaining);
    if (q > remaining)
      return error{errc::invalid_state,
                   fmt::format("only {} of the line are still to pick", remaining),
                   {{"quantity", fmt::format("is more than the {} still to pick", remaining)}}};
    return decision{{item_picked{x.session_id, x.line_id, l->item_id, l->name, l->location, q,
                                 l->quantity, l->picked_quantity + q, remaining - q, ctx.actor,
                                 ctx.actor_name, l->added_at}},
                    keys::session(x.session_id),
                    {}};
  }
  result<decision> operator()(const cancel_session& x) const {
    const auto* found = s.session(x.session_id);
    if (!found) return not_found("session", x.session_id.value);
    if (found->status == session_status::ended)
      return bad_state("cannot cancel it: the session is ended");
    const session_state& cur = *found;
    session_ended ended;
    ended.session_id = cur.session_id;
    ended.kind = cur.kind;
    ended.outcome = session_outcome::cancelled;
    ended.ended_at = ctx.now;
    ended.reason = x.reason;
    ended.customer_id = cur.customer.customer_id;
    if (cur.resource) ended.resource_id = cur.resource->resource_id;
    ended.released_lines = released(cur);
    return decision{{std::move(ended)}, keys::session(cur.session_id), {}};
  }
  result<decision> operator()(const expire_session& x) const {
    const auto* ss = s.session(x.session_id);
    if (!ss) return not_found("session", x.session_id.value);
    decision d{{}, keys::session(x.session_id), {}};
    if (ss->kind == session_kind::appointment) {
      const bool open =
          ss->status == session_status::booked || ss->status == session_status::active;
      if (open && ss->scheduled_end() && ctx.now >= *ss->scheduled_end())
        return assumed_completion(*ss);
      return d;
    }
    const auto minutes = s.tenant().settings.shopping_timeout_minutes;
    if (ss->kind != session_kind::shopping || ss->status != session_status::active || minutes <= 0)
      return d;
    const timestamp due = ss->last_activity + std::chrono::minutes(minutes);
    if (ctx.now < due) return d;
    session_ended ended;
    ended.session_id = ss->session_id;
    ended.kind = ss->kind;
    ended.outcome = session_outcome::timed_out;
    ended.ended_at = due;
    ended.reason = fmt::format("no activity for {} minutes", minutes);
    ended.customer_id = ss->customer.customer_id;
    ended.released_lines = released(*ss);
    d.events.push_back(std::move(ended));
    return d;
  }
  result<decision> operator()(const add_note& x) const {
    auto ss = active_session(x.session_id, "add a note");
    if (!ss) return std::move(ss).take_error();
    return decision{{note_added{x.session_id, ids::note{ctx.new_id()}, x.text,
                                x.private_.value_or(false), ctx.actor, ctx.actor_name}},
                    keys::session(x.session_id),
                    {}};
  }
  result<decision> operator()(const end_session& x) const {
    auto ss = active_session(x.session_id, "end it");
    if (!ss) return std::move(ss).take_error();
    const session_state& cur = **ss;
    if (cur.kind == session_kind::shopping && cur.lines.empty())
      return make_error(errc::empty_cart,
                        "a shopping session with an empty cart cannot be completed");
    if (cur.kind == session_kind::appointment) {
      const auto& st = s.tenant().settings;
      const auto min_payable =
          std::chrono::minutes(*cur.duration_minutes * st.min_payable_percent / 100);
      decision d{{}, keys::session(cur.session_id), {}};
      if (ctx.now - *cur.started_at >= min_payable) {
        const cents price = cur.price_cents.value_or(0);
        d.events.push_back(ending(cur, session_outcome::completed, ctx.now, price));
        if (price > 0) d.events.push_back(charge(cur, price, charge_reason::booked_price));
      } else {
        d.events.push_back(ending(cur, session_outcome::early_end_short, ctx.now, 0,
                                  std::string("ended before the minimum payable duration")));
      }
      return d;
    }
    const session_cost cost = cost_of(cur, ctx.now);
    if (!within_money_bound(cost.total_cents))
      return amount_too_large("total_cents", "the session's total", cost.total_cents);
    decision d{{}, keys::session(cur.session_id), {}};
    session_ended ended;
    ended.session_id = cur.session_id;
    ended.kind = cur.kind;
    ended.outcome = session_outcome::completed;
    ended.ended_at = ctx.now;
    ended.customer_id = cur.customer.customer_id;
    if (cur.resource) ended.resource_id = cur.resource->resource_id;
    ended.billed_minutes = cost.billed_minutes;
    ended.time_charge_cents = cost.time_charge_cents;
    ended.items_total_cents = cost.items_total_cents;
    ended.total_cents = cost.total_cents;
    d.events.push_back(std::move(ended));
    if (cost.total_cents > 0) {
      d.events.push_back(
          charge_processed{cur.session_id,
                           cur.customer.customer_id,
                           ids::charge{ctx.new_id()},
                           cost.total_cents,
                           charge_reason::time_and_items,
                           {split{party::host, 0}, split{party::platform, cost.total_cents}},
                           {}});
      invoice_issued inv;
      inv.invoice_id = ids::invoice{ctx.new_id()};
      inv.sequence = s.tenant().invoice_sequence + 1;
      inv.number = fmt::format("INV-{:06}", inv.sequence);
      inv.session_id = cur.session_id;
      inv.customer_id = cur.customer.customer_id;
      inv.customer_name = cur.customer.name;
      inv.currency = s.tenant().settings.currency;
      inv.issued_at = ctx.now;
      if (cur.kind == session_kind::metered && cur.resource) {
        inv.lines.push_back(
            invoice_line{fmt::format("{}: {} min at {} per hour{}", cur.resource->name,
                                     cost.billed_minutes, cur.resource->hourly_rate_cents,
                                     cur.customer.subscribed ? " (subscribed)" : ""),
                         1, cost.time_charge_cents, cost.time_charge_cents});
      }
      for (const auto& l : cur.lines) {
        inv.lines.push_back(invoice_line{l.name, l.quantity, l.unit_price_cents, line_total(l)});
      }
      inv.total_cents = cost.total_cents;
      d.events.push_back(std::move(inv));
    }
    return d;
  }
  result<decision> operator()(const record_payment& x) const {
    if (x.session_id) {
      const auto* ss = s.session(*x.session_id);
      if (!ss) return not_found("session", x.session_id->value);
      return session_payment(*ss, x, {}, keys::session(*x.session_id));
    }
    const auto* inv = x.invoice_id ? s.invoice(*x.invoice_id) : nullptr;
    if (!inv) return not_found("invoice", x.invoice_id ? x.invoice_id->value : "");
    if (inv->session_id) {
      // A session's invoice shows the session's payments: a payment sent to
      // the invoice is recorded on its session.
      const auto* ss = s.session(*inv->session_id);
      if (!ss) return not_found("session", inv->session_id->value);
      return session_payment(*ss, x, inv->invoice_id, keys::invoice(inv->invoice_id));
    }
    if (!within_money_bound(inv->paid_cents, x.amount_cents))
      return amount_too_large("amount_cents", "the invoice's payments",
                              inv->paid_cents + x.amount_cents);
    if (auto e = lifetime_within_bound(inv->customer_id, x.amount_cents)) return *e;
    const cents paid = inv->paid_cents + x.amount_cents;
    return decision{{payment_recorded{{},
                                      x.invoice_id,
                                      inv->customer_id,
                                      ids::payment{ctx.new_id()},
                                      x.amount_cents,
                                      x.method,
                                      paid,
                                      payment_status_of(inv->total_cents, paid, 0)}},
                    keys::invoice(*x.invoice_id),
                    {}};
  }
  result<decision> session_payment(const session_state& ss, const record_payment& x,
                                   std::optional<ids::invoice> via, std::string target) const {
    if (owes_nothing(ss)) return nothing_due(ss);
    if (!within_money_bound(ss.payments_cents, x.amount_cents))
      return amount_too_large("amount_cents", "the session's payments",
                              ss.payments_cents + x.amount_cents);
    if (auto e = lifetime_within_bound(ss.customer.customer_id, x.amount_cents)) return *e;
    const cents payments = ss.payments_cents + x.amount_cents;
    return decision{
        {payment_recorded{ss.session_id, std::move(via), ss.customer.customer_id,
                          ids::payment{ctx.new_id()}, x.amount_cents, x.method,
                          payments - ss.refunds_cents,
                          payment_status_of(amount_due(ss), payments, ss.refunds_cents)}},
        std::move(target),
        {}};
  }
  result<decision> operator()(const mark_paid& x) const {
    const auto* ss = s.session(x.session_id);
    if (!ss) return not_found("session", x.session_id.value);
    if (owes_nothing(*ss)) return nothing_due(*ss);
    const cents left = amount_due(*ss) - ss->paid_cents();
    if (left <= 0) return make_error(errc::nothing_due, "nothing is left to pay on this session");
    return (*this)(record_payment{x.session_id, {}, left, x.method});
  }
  result<decision> operator()(const refund_payment& x) const {
    const auto* ss = s.session(x.session_id);
    if (!ss) return not_found("session", x.session_id.value);
    if (x.amount_cents > ss->paid_cents())
      return error{errc::invalid_state,
                   fmt::format("only {} is paid and not refunded", ss->paid_cents()),
                   {{"amount_cents", "is more than what is paid"}}};
    const cents refunds = ss->refunds_cents + x.amount_cents;
    return decision{
        {payment_refunded{x.session_id, ss->customer.customer_id, ids::payment{ctx.new_id()},
                          x.amount_cents, x.reason, ss->payments_cents - refunds,
                          payment_status_of(amount_due(*ss), ss->payments_cents, refunds)}},
        keys::session(x.session_id),
        {}};
  }
  result<decision> operator()(const issue_invoice& x) const {
    const auto* c = s.customer(x.customer_id);
    if (!c)
      return error{errc::not_found, "customer does not exist", {{"customer_id", "does not exist"}}};
    invoice_issued inv;
    inv.invoice_id = ids::invoice{ctx.new_id()};
    inv.sequence = s.tenant().invoice_sequence + 1;
    inv.number = fmt::format("INV-{:06}", inv.sequence);
    inv.customer_id = c->customer_id;
    inv.customer_name = c->name;
    inv.currency = s.tenant().settings.currency;
    inv.issued_at = ctx.now;
    for (const auto& l : x.lines) {
      inv.lines.push_back(invoice_line{l.description, l.quantity, l.unit_price_cents,
                                       l.quantity * l.unit_price_cents});
      inv.total_cents += l.quantity * l.unit_price_cents;
    }
    std::string target = keys::invoice(inv.invoice_id);
    return decision{{std::move(inv)}, std::move(target), {}};
  }
  result<decision> operator()(const request_booking& x) const {
    if (x.requested_via != "staff") {
      // What a booking costs, who hosts it and where it meets are staff's to say.
      error e{errc::forbidden, "", {}};
      if (x.host_id) e.fields.push_back({"host_id", "is set by staff"});
      if (x.host_name) e.fields.push_back({"host_name", "is set by staff"});
      if (x.meeting_url) e.fields.push_back({"meeting_url", "is set by staff"});
      if (x.price_cents) e.fields.push_back({"price_cents", "is set by staff"});
      if (!e.fields.empty()) {
        e.detail = e.fields.front().field + " " + e.fields.front().message;
        return e;
      }
    }
    auto host = x.host_id;
    if (ctx.host_scoped) {
      // A host's appointments are their own: another host's would vanish
      // from their view the moment it was made.
      if (host && *host != ctx.actor)
        return error{errc::forbidden,
                     "a host books appointments for themself",
                     {{"host_id", "must be your own id, or left out"}}};
      host = ctx.actor;
    }
    auto host_name = x.host_name;
    if (!host_name && host && *host == ctx.actor) host_name = ctx.actor_name;
    decision d;
    customer_ref who;
    if (x.customer_id) {
      const auto* c = s.customer(*x.customer_id);
      if (!c)
        return error{
            errc::not_found, "customer does not exist", {{"customer_id", "does not exist"}}};
      if (!c->active) return bad_state("the customer is deactivated");
      who = customer_ref{c->customer_id, c->name, c->subscribed};
    } else {
      const auto* holder = s.find_as<email_index_state>(keys::email(x.customer->email));
      if (const auto* c = holder ? s.customer(holder->customer_id) : nullptr) {
        if (!c->active) return bad_state("the customer is deactivated");
        who = customer_ref{c->customer_id, c->name, c->subscribed};
      } else {
        ids::customer id{ctx.new_id()};
        d.events.push_back(
            customer_registered{id, x.customer->name, x.customer->email, x.customer->phone, false});
        who = customer_ref{id, x.customer->name, false};
      }
    }
    session_requested r{ids::session{ctx.new_id()},
                        session_kind::appointment,
                        who,
                        x.title,
                        x.duration_minutes,
                        x.scheduled_start,
                        host,
                        x.meeting_url,
                        x.notes,
                        x.requested_via,
                        host_name};
    const ids::session id = r.session_id;
    d.target = keys::session(id);
    d.events.push_back(std::move(r));
    // Staff may make it quoted, or booked, in the same command.
    if (x.price_cents) {
      d.events.push_back(session_quoted{id, *x.price_cents, std::nullopt});
      if (x.scheduled_start && host)
        d.events.push_back(
            session_booked{id, who.customer_id, *x.scheduled_start, x.duration_minutes,
                           *x.scheduled_start + std::chrono::minutes(x.duration_minutes),
                           *x.price_cents, *host, x.meeting_url, host_name});
    }
    return d;
  }
  result<decision> operator()(const quote_session& x) const {
    auto ss = appointment(x.session_id);
    if (!ss) return std::move(ss).take_error();
    const auto st = (*ss)->status;
    if (st != session_status::requested && st != session_status::quoted)
      return bad_state("only requested or quoted appointments can be quoted");
    return decision{{session_quoted{x.session_id, x.price_cents, (*ss)->price_cents}},
                    keys::session(x.session_id),
                    {}};
  }
  result<decision> operator()(const book_session& x) const {
    auto ss = appointment(x.session_id);
    if (!ss) return std::move(ss).take_error();
    const session_state& cur = **ss;
    if (cur.status != session_status::requested && cur.status != session_status::quoted)
      return bad_state(cur.status == session_status::booked
                           ? "the appointment is booked already: reschedule it"
                           : "only requested or quoted appointments can be booked");
    const auto start = x.scheduled_start ? x.scheduled_start : cur.scheduled_start;
    const auto duration = x.duration_minutes ? x.duration_minutes : cur.duration_minutes;
    const auto price = x.price_cents ? x.price_cents : cur.price_cents;
    const auto host = x.host_id ? *x.host_id : cur.host_id;
    error missing{errc::invalid_request, "", {}};
    if (!start) missing.fields.push_back({"scheduled_start", "is required to book"});
    if (!duration) missing.fields.push_back({"duration_minutes", "is required to book"});
    if (!price) missing.fields.push_back({"price_cents", "is required to book (or quote first)"});
    if (host.empty()) missing.fields.push_back({"host_id", "is required to book"});
    if (!missing.fields.empty()) {
      missing.detail = missing.fields.front().field + " " + missing.fields.front().message;
      return missing;
    }
    auto host_name = x.host_name;
    if (!host_name && host == ctx.actor) host_name = ctx.actor_name;
    return decision{{session_booked{cur.session_id, cur.customer.customer_id, *start, *duration,
                                    *start + std::chrono::minutes(*duration), *price, host,
                                    cur.meeting_url, host_name}},
                    keys::session(cur.session_id),
                    {}};
  }
  result<decision> operator()(const reschedule_session& x) const {
    auto ss = appointment(x.session_id);
    if (!ss) return std::move(ss).take_error();
    const session_state& cur = **ss;
    if (cur.status != session_status::booked)
      return bad_state("only booked appointments can be rescheduled");
    const auto duration = x.duration_minutes.value_or(*cur.duration_minutes);
    return decision{{session_rescheduled{cur.session_id, x.scheduled_start, duration,
                                         x.scheduled_start + std::chrono::minutes(duration),
                                         *cur.scheduled_start, *cur.duration_minutes}},
                    keys::session(cur.session_id),
                    {}};
  }
  result<decision> operator()(const start_appointment& x) const {
    auto ss = appointment(x.session_id);
    if (!ss) return std::move(ss).take_error();
    const session_state& cur = **ss;
    if (cur.status != session_status::booked)
      return bad_state("only booked appointments can be started");
    const auto window = std::chrono::minutes(s.tenant().settings.join_window_minutes);
    if (ctx.now < *cur.scheduled_start - window)
      return make_error(errc::too_early,
                        fmt::format("the appointment can be started from {}",
                                    format_rfc3339(*cur.scheduled_start - window)));
    if (ctx.now > *cur.scheduled_end())
      return make_error(errc::too_late, fmt::format("the appointment ended at {}",
                                                    format_rfc3339(*cur.scheduled_end())));
    session_started ev;
    ev.session_id = cur.session_id;
    ev.kind = session_kind::appointment;
    ev.customer = cur.customer;
    ev.host_id = cur.host_id;
    ev.host_name = ctx.actor == cur.host_id ? ctx.actor_name : cur.host_name;
    ev.started_at = ctx.now;
    return decision{{std::move(ev)}, keys::session(cur.session_id), {}};
  }
  result<decision> operator()(const record_attendance& x) const {
    auto ss = appointment(x.session_id);
    if (!ss) return std::move(ss).take_error();
    const session_state& cur = **ss;
    if (cur.status != session_status::booked && cur.status != session_status::active)
      return bad_state("attendance is recorded for booked or active appointments");
    return decision{{attendance_recorded{cur.session_id, x.party, x.action, x.at.value_or(ctx.now),
                                         x.source, ctx.actor}},
                    keys::session(cur.session_id),
                    {}};
  }
  result<decision> operator()(const mark_no_show& x) const {
    auto ss = appointment(x.session_id);
    if (!ss) return std::move(ss).take_error();
    const session_state& cur = **ss;
    if (cur.status != session_status::booked && cur.status != session_status::active)
      return bad_state("only booked or active appointments can be marked as a no-show");
    const auto& st = s.tenant().settings;
    const auto wait = std::chrono::minutes(*cur.duration_minutes * st.no_show_wait_percent / 100);
    if (ctx.now < *cur.scheduled_start + wait)
      return make_error(errc::too_early, fmt::format("a no-show can be marked from {}",
                                                     format_rfc3339(*cur.scheduled_start + wait)));
    const auto who = x.party.value_or(absent_party::customer);
    const attendee absent = who == absent_party::customer ? attendee::customer : attendee::host;
    if (std::any_of(cur.attendance.begin(), cur.attendance.end(), [&](const attendance_entry& a) {
          return a.party == absent && a.action == attendance_change::joined;
        }))
      return make_error(errc::attended,
                        fmt::format("the {}'s attendance shows a join: not a no-show",
                                    who == absent_party::customer ? "customer" : "host"));
    return no_show(cur, absent, ctx.now);
  }
  result<decision> operator()(const resolve_session& x) const {
    auto ss = appointment(x.session_id);
    if (!ss) return std::move(ss).take_error();
    const session_state& cur = **ss;
    if (cur.outcome != session_outcome::early_end_short || !cur.charges.empty())
      return bad_state("only an unresolved early_end_short appointment can be resolved");
    return decision{{charge(cur, x.charge_cents, charge_reason::manual, x.reason)},
                    keys::session(cur.session_id),
                    {}};
  }
  result<decision> operator()(const invoice_session& x) const {
    const auto* cur = s.session(x.session_id);
    if (!cur) return not_found("session", x.session_id.value);
    if (cur->invoice_id)
      return make_error(errc::already_invoiced,
                        fmt::format("the session is invoiced ({})", cur->invoice_id->value));
    if (cur->kind != session_kind::appointment)
      return bad_state("metered and shopping sessions are invoiced when they end");
    invoice_issued inv;
    inv.invoice_id = ids::invoice{ctx.new_id()};
    inv.sequence = s.tenant().invoice_sequence + 1;
    inv.number = fmt::format("INV-{:06}", inv.sequence);
    inv.session_id = cur->session_id;
    inv.customer_id = cur->customer.customer_id;
    inv.customer_name = cur->customer.name;
    inv.currency = s.tenant().settings.currency;
    inv.issued_at = ctx.now;
    const std::string title = cur->title.value_or("Appointment");
    if (cur->status == session_status::booked || cur->status == session_status::active) {
      const cents price = cur->price_cents.value_or(0);
      inv.lines.push_back(invoice_line{title, 1, price, price});
    } else if (cur->status == session_status::ended && !cur->charges.empty()) {
      for (const auto& c : cur->charges)
        inv.lines.push_back(
            invoice_line{title + ": " + money_reason(c.reason), 1, c.amount_cents, c.amount_cents});
    } else {
      return bad_state("only booked, active, or ended-and-charged appointments can be invoiced");
    }
    for (const auto& l : inv.lines) inv.total_cents += l.amount_cents;
    std::string target = keys::invoice(inv.invoice_id);
    return decision{{std::move(inv)}, std::move(target), {}};
  }
  result<decision> operator()(const issue_credit_note& x) const {
    const auto* inv = s.invoice(x.invoice_id);
    if (!inv) return not_found("invoice", x.invoice_id.value);
    if (inv->kind != invoice_kind::invoice) return bad_state("a credit note cannot be credited");
    const cents left = inv->total_cents - inv->credited_cents;
    credit_note_issued cn;
    if (x.lines) {
      for (const auto& l : *x.lines)
        cn.lines.push_back(invoice_line{l.description, l.quantity, l.unit_price_cents,
                                        l.quantity * l.unit_price_cents});
    } else if (inv->credited_cents == 0) {
      cn.lines = inv->lines;
    } else {
      cn.lines.push_back(invoice_line{"Credit for " + inv->number, 1, left, left});
    }
    for (const auto& l : cn.lines) cn.total_cents += l.amount_cents;
    if (left <= 0 || cn.total_cents > left)
      return error{
          errc::credit_exceeds_invoice,
          fmt::format("{} is left to credit on {}, {} asked", left, inv->number, cn.total_cents),
          {{"lines", "credit more than is left"}}};
    cn.invoice_id = ids::invoice{ctx.new_id()};
    cn.sequence = s.tenant().credit_note_sequence + 1;
    cn.number = fmt::format("CN-{:06}", cn.sequence);
    cn.credits = inv->invoice_id;
    cn.credits_number = inv->number;
    cn.session_id = inv->session_id;
    cn.customer_id = inv->customer_id;
    cn.customer_name = inv->customer_name;
    cn.full = cn.total_cents == left;
    cn.reason = x.reason;
    cn.currency = inv->currency;
    cn.issued_at = ctx.now;
    std::string target = keys::invoice(cn.invoice_id);
    return decision{{std::move(cn)}, std::move(target), {}};
  }
  result<decision> operator()(const change_session_details& x) const {
    const auto* cur = s.session(x.session_id);
    if (!cur) return not_found("session", x.session_id.value);
    if (ctx.host_scoped && cur->host_id != ctx.actor)
      return make_error(errc::forbidden, "only the session's host or an admin may change it");
    if (cur->status == session_status::ended)
      return bad_state("cannot change it: the session is ended");
    const bool appointment = cur->kind == session_kind::appointment;
    if (x.meeting_url && !appointment)
      return invalid_field("meeting_url", "is for appointments only");
    if (x.price_cents && !appointment)
      return invalid_field("price_cents", "is for appointments only (lines have their prices)");
    if (x.price_cents && *x.price_cents != cur->price_cents) {
      if (!cur->charges.empty()) return bad_state("the price cannot change once it is charged");
      if (cur->invoice_id)
        return make_error(errc::already_invoiced,
                          fmt::format("the session is invoiced ({}) at its price: credit the "
                                      "invoice first",
                                      cur->invoice_id->value));
    }
    session_details_changed ev;
    ev.session_id = cur->session_id;
    auto own_note = [&]() -> std::optional<std::string> {
      for (const auto& n : cur->notes)
        for (const char* suffix : {"-request", "-start", "-details"})
          if (n.note_id.value == cur->session_id.value + suffix) return n.text;
      return std::nullopt;
    };
    if (x.title && x.title != cur->title) {
      ev.title = x.title;
      ev.changed.emplace_back("title");
    }
    if (x.notes && x.notes != own_note()) {
      ev.notes = x.notes;
      ev.changed.emplace_back("notes");
    }
    if (x.meeting_url && x.meeting_url != cur->meeting_url) {
      ev.meeting_url = x.meeting_url;
      ev.changed.emplace_back("meeting_url");
    }
    if (x.price_cents && x.price_cents != cur->price_cents) {
      ev.price_cents = x.price_cents;
      ev.previous_price_cents = cur->price_cents;
      ev.changed.emplace_back("price_cents");
    }
    decision d{{}, keys::session(cur->session_id), {}};
    if (ev.changed.empty()) return d;
    ev.changed_by = ctx.actor;
    ev.changed_by_name = ctx.actor_name;
    d.events.push_back(std::move(ev));
    return d;
  }
  result<decision> operator()(const give_feedback& x) const {
    const auto* cur = s.session(x.session_id);
    if (!cur || (ctx.customer_scoped && cur->customer.customer_id.value != ctx.actor.value))
      return not_found("session", x.session_id.value);
    if (!ctx.customer_scoped)
      return make_error(errc::forbidden, "feedback is the session's customer's to give");
    if (cur->status != session_status::ended)
      return bad_state("feedback is given once the session has ended");
    if (cur->feedback)
      return error{errc::already_exists,
                   "feedback was given for this session already",
                   {{"rating", "was given already"}}};
    return decision{{feedback_given{cur->session_id, cur->customer.customer_id, cur->kind, x.rating,
                                    x.comment}},
                    keys::session(cur->session_id),
                    {}};
  }
  result<decision> operator()(const register_webhook& x) const {
    webhook_registered ev{ids::webhook{ctx.new_id()}, x.url,
                          x.event_types.value_or(std::vector<std::string>{}), x.description};
    const std::string target = keys::webhook(ev.webhook_id);
    return decision{{std::move(ev)}, target, {}};
  }
  result<decision> operator()(const remove_webhook& x) const {
    const auto* w = s.find_as<webhook_state>(keys::webhook(x.webhook_id));
    if (!w || !w->active) return not_found("webhook", x.webhook_id.value);
    return decision{{webhook_removed{w->webhook_id, w->url}}, keys::webhook(x.webhook_id), {}};
  }
  result<decision> operator()(const change_settings& x) const {
    tenant_settings next = s.tenant().settings;
    std::vector<std::string> changed;
    auto set = [&](const char* name, auto& field, const auto& value) {
      if (value && field != *value) {
        field = *value;
        changed.emplace_back(name);
      }
    };
    set("currency", next.currency, x.currency);
    set("join_window_minutes", next.join_window_minutes, x.join_window_minutes);
    set("no_show_wait_percent", next.no_show_wait_percent, x.no_show_wait_percent);
    set("no_show_fee_percent", next.no_show_fee_percent, x.no_show_fee_percent);
    set("min_payable_percent", next.min_payable_percent, x.min_payable_percent);
    set("platform_fee_percent", next.platform_fee_percent, x.platform_fee_percent);
    set("shopping_timeout_minutes", next.shopping_timeout_minutes, x.shopping_timeout_minutes);
    set("timezone", next.timezone, x.timezone);
    set("live_shopping", next.live_shopping, x.live_shopping);
    decision d{{}, std::string(keys::tenant), {}};
    if (!changed.empty()) d.events.push_back(tenant_settings_changed{next, std::move(changed)});
    return d;
  }
};

}  // namespace

answer_subject answer_subject_of(std::span<const event> events) {
  answer_subject out;
  if (events.empty()) return out;
  const event* about = &events.front();
  if (std::holds_alternative<customer_registered>(about->data) && events.size() > 1)
    about = &events[1];
  out.target = about->stream.aggregate_key();
  // A payment sent to a session's invoice is recorded on the session; the
  // answer is about the invoice.
  if (const auto* p = std::get_if<payment_recorded>(&about->data);
      p && p->session_id && p->invoice_id)
    out.target = keys::invoice(*p->invoice_id);
  if (const auto* a = std::get_if<item_added>(&about->data)) out.line_id = a->line_id;
  return out;
}

std::optional<ids::session> session_of(const command& cmd) {
  return std::visit(
      [](const auto& c) -> std::optional<ids::session> {
        if constexpr (requires { c.session_id; }) {
          return c.session_id;  // (optional on a payment: a session's, or an invoice's)
        } else {
          return std::nullopt;
        }
      },
      cmd);
}

bool visible_to(const session_state& s, const decide_context& ctx) {
  return !ctx.host_scoped || s.kind != session_kind::appointment || s.host_id == ctx.actor;
}

result<decision> decide(const command& cmd, const state_reader& state, const decide_context& ctx) {
  if (auto problem = check_fields(cmd)) return std::move(*problem);
  // Another host's appointment does not exist for a host (DOMAIN.md).
  if (const auto id = session_of(cmd); id && ctx.host_scoped) {
    if (const auto* ss = state.session(*id); ss && !visible_to(*ss, ctx))
      return not_found("session", id->value);
  }
  return std::visit(decider{state, ctx}, cmd);
}

}  // namespace tally
