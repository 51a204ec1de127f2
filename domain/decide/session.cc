// A session's life: metered and shopping starts, lines, prices, picks, notes, details and
// feedback, and every end (staff, cancel, timeout).

#include "domain/decide/decider.h"

#include <algorithm>

namespace tally::deciding {

result<decision> decider::operator()(const start_session& x) const {
  auto c = active_customer(x.customer_id);
  if (!c) return std::move(c).take_error();
  if (!(*c)->active) return bad_state("the customer is deactivated");
  if (x.kind == session_kind::shopping &&
      !live_shopping_allows(s.tenant().settings, ctx.actor.value))
    return make_error(
        errc::feature_disabled,
        "live shopping is not enabled for " + ctx.actor.value + " (tenant setting live_shopping)");
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

result<decision> decider::operator()(const add_item& x) const {
  auto ss = active_session(x.session_id, "add an item");
  if (!ss) return std::move(ss).take_error();
  if ((*ss)->kind == session_kind::appointment)
    return make_error(errc::wrong_kind,
                      "appointments take no items: sell them in a shopping or metered session");
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

result<decision> decider::operator()(const remove_item& x) const {
  if (const auto* ended = s.session(x.session_id);
      ended && ended->kind == session_kind::appointment && ended->status == session_status::ended) {
    // An appointment that ended before its lines were released at the end
    // (an older history): removing a line gives its stock back.
    const auto* l = ended->find_line(x.line_id);
    if (!l || l->effect != stock_effect::reserved) return not_found("line", x.line_id.value);
    return decision{{item_removed{x.session_id, x.line_id, l->item_id, l->name, l->quantity,
                                  removal_reason::not_billable, stock_effect::released}},
                    keys::session(x.session_id),
                    {}};
  }
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

result<decision> decider::operator()(const adjust_price& x) const {
  auto ss = active_session(x.session_id, "adjust a price");
  if (!ss) return std::move(ss).take_error();
  const auto* l = (*ss)->find_line(x.line_id);
  if (!l) return not_found("line", x.line_id.value);
  if (auto e = line_within_bound(**ss, l->quantity * x.unit_price_cents, line_total(*l),
                                 "unit_price_cents"))
    return *e;
  return decision{
      {price_adjusted{x.session_id, x.line_id, l->item_id, l->name, l->quantity, x.unit_price_cents,
                      l->unit_price_cents, l->list_price_cents, l->quantity * x.unit_price_cents,
                      x.reason, ctx.actor, ctx.actor_name}},
      keys::session(x.session_id),
      {}};
}

result<decision> decider::operator()(const pick_item& x) const {
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
  return decision{
      {item_picked{x.session_id, x.line_id, l->item_id, l->name, l->location, q, l->quantity,
                   l->picked_quantity + q, remaining - q, ctx.actor, ctx.actor_name, l->added_at}},
      keys::session(x.session_id),
      {}};
}

result<decision> decider::operator()(const cancel_session& x) const {
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
  // An appointment's lines (an older history's) are released by events of
  // their own; a shopping session's holds go with its end.
  decision d = closing(cur);
  if (cur.kind != session_kind::appointment) ended.released_lines = released(cur);
  d.events.push_back(std::move(ended));
  return d;
}

result<decision> decider::operator()(const expire_session& x) const {
  const auto* ss = s.session(x.session_id);
  if (!ss) return not_found("session", x.session_id.value);
  decision d{{}, keys::session(x.session_id), {}};
  if (ss->kind == session_kind::appointment) {
    const bool open = ss->status == session_status::booked || ss->status == session_status::active;
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

result<decision> decider::operator()(const add_note& x) const {
  auto ss = active_session(x.session_id, "add a note");
  if (!ss) return std::move(ss).take_error();
  return decision{{note_added{x.session_id, ids::note{ctx.new_id()}, x.text,
                              x.private_.value_or(false), ctx.actor, ctx.actor_name}},
                  keys::session(x.session_id),
                  {}};
}

result<decision> decider::operator()(const end_session& x) const {
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
    decision d = closing(cur);
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

result<decision> decider::operator()(const change_session_details& x) const {
  const auto* cur = s.session(x.session_id);
  if (!cur) return not_found("session", x.session_id.value);
  if (ctx.host_scoped && cur->host_id != ctx.actor)
    return make_error(errc::forbidden, "only the session's host or an admin may change it");
  if (cur->status == session_status::ended)
    return bad_state("cannot change it: the session is ended");
  const bool appointment = cur->kind == session_kind::appointment;
  if (x.meeting_url.sets() && !appointment)
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
  const auto* own = cur->own_note();
  const std::optional<std::string> own_text =
      own ? std::optional<std::string>(own->text) : std::nullopt;
  // A text field set to another value, or cleared while it has one.
  auto text = [&](const char* name, const json::patch<std::string>& to,
                  const std::optional<std::string>& now, std::optional<std::string>& out) {
    if (to.sets() && to.value != now) {
      out = to.value;
      ev.changed.emplace_back(name);
    } else if (to.clears() && now) {
      ev.changed.emplace_back(name);
      ev.cleared.emplace_back(name);
    }
  };
  text("title", x.title, cur->title, ev.title);
  text("notes", x.notes, own_text, ev.notes);
  text("meeting_url", x.meeting_url, cur->meeting_url, ev.meeting_url);
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

result<decision> decider::operator()(const give_feedback& x) const {
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
  return decision{
      {feedback_given{cur->session_id, cur->customer.customer_id, cur->kind, x.rating, x.comment}},
      keys::session(cur->session_id),
      {}};
}

}  // namespace tally::deciding
