// Appointments: requests, quotes, bookings, reschedules, starts, attendance, no-shows, the
// automatic end and resolutions.

#include "domain/decide/decider.h"

#include "domain/appointment.h"

#include <algorithm>

namespace tally::deciding {

result<const session_state*> decider::appointment(const ids::session& id) const {
  const auto* ss = s.session(id);
  if (!ss) return not_found("session", id.value);
  if (ss->kind != session_kind::appointment) return bad_state("only appointments can do this");
  return ss;
}

decision decider::closing(const session_state& ss) const {
  decision d{{}, keys::session(ss.session_id), {}};
  if (ss.kind != session_kind::appointment) return d;
  for (const auto& l : ss.lines)
    if (l.effect == stock_effect::reserved)
      d.events.push_back(item_removed{ss.session_id, l.line_id, l.item_id, l.name, l.quantity,
                                      removal_reason::not_billable, stock_effect::released});
  return d;
}

decision decider::assumed_completion(const session_state& ss) const {
  decision d = closing(ss);
  const bool customer = joined(ss, attendee::customer), host = joined(ss, attendee::host);
  if (customer != host)
    return no_show(ss, host ? attendee::customer : attendee::host, *ss.scheduled_end(),
                   "at its scheduled end");
  const cents price = ss.price_cents.value_or(0);
  d.events.push_back(ending(ss, session_outcome::completed_assumed, *ss.scheduled_end(), price,
                            std::string("reached its scheduled end")));
  if (price > 0) d.events.push_back(charge(ss, price, charge_reason::booked_price));
  return d;
}

decision decider::no_show(const session_state& ss, attendee absent, timestamp at,
                          std::string_view when) const {
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
  decision d = closing(ss);
  d.events.push_back(std::move(ended));
  if (fee > 0) d.events.push_back(charge(ss, fee, charge_reason::no_show_fee));
  return d;
}

result<decision> decider::operator()(const request_booking& x) const {
  if (x.requested_via != "staff") {
    // What a booking costs, who hosts it and where it meets are staff's to say.
    error e{errc::forbidden, "", {}};
    if (x.host_id) e.fields.push_back({"host_id", "is set by staff"});
    if (x.host_name) e.fields.push_back({"host_name", "is set by staff"});
    if (x.meeting_url) e.fields.push_back({"meeting_url", "is set by staff"});
    if (x.price_cents) e.fields.push_back({"price_cents", "is set by staff"});
    if (x.payment) e.fields.push_back({"payment", "is recorded by staff"});
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
      return error{errc::not_found, "customer does not exist", {{"customer_id", "does not exist"}}};
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
  if (x.payment) {
    // In advance, up to the price (DOMAIN.md, Credit notes and overpayment).
    const cents price = x.price_cents.value_or(0);
    if (x.payment->amount_cents > price)
      return error{errc::overpayment,
                   price > 0
                       ? fmt::format("only {} is left to pay on the booking", price)
                       : std::string("nothing is left to pay: the booking has no price_cents"),
                   {{"payment.amount_cents", "is more than is left to pay"}}};
    if (auto e = lifetime_within_bound(who.customer_id, x.payment->amount_cents)) return *e;
    d.events.push_back(payment_recorded{id,
                                        {},
                                        who.customer_id,
                                        ids::payment{ctx.new_id()},
                                        x.payment->amount_cents,
                                        x.payment->method,
                                        x.payment->amount_cents,
                                        payment_status_of(price, 0, x.payment->amount_cents, 0)});
  }
  return d;
}

result<decision> decider::operator()(const quote_session& x) const {
  auto ss = appointment(x.session_id);
  if (!ss) return std::move(ss).take_error();
  const auto st = (*ss)->status;
  if (st != session_status::requested && st != session_status::quoted)
    return bad_state("only requested or quoted appointments can be quoted");
  return decision{{session_quoted{x.session_id, x.price_cents, (*ss)->price_cents}},
                  keys::session(x.session_id),
                  {}};
}

result<decision> decider::operator()(const book_session& x) const {
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

result<decision> decider::operator()(const reschedule_session& x) const {
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

result<decision> decider::operator()(const start_appointment& x) const {
  auto ss = appointment(x.session_id);
  if (!ss) return std::move(ss).take_error();
  const session_state& cur = **ss;
  if (cur.status != session_status::booked)
    return bad_state("only booked appointments can be started");
  const auto window = std::chrono::minutes(s.tenant().settings.join_window_minutes);
  if (ctx.now < *cur.scheduled_start - window)
    return make_error(errc::too_early, fmt::format("the appointment can be started from {}",
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

result<decision> decider::operator()(const record_attendance& x) const {
  auto ss = appointment(x.session_id);
  if (!ss) return std::move(ss).take_error();
  const session_state& cur = **ss;
  if (cur.status != session_status::booked && cur.status != session_status::active)
    return bad_state("attendance is recorded for booked or active appointments");
  // Bounded (DOMAIN.md): not after now, not before the request.
  const timestamp at = x.at.value_or(ctx.now);
  if (at > ctx.now)
    return invalid_field("at", "must not lie after now (" + format_rfc3339(ctx.now) + ")");
  if (at < cur.listed_at)
    return invalid_field("at", "must not lie before the session was requested (" +
                                   format_rfc3339(cur.listed_at) + ")");
  return decision{{attendance_recorded{cur.session_id, x.party, x.action, at, x.source, ctx.actor}},
                  keys::session(cur.session_id),
                  {}};
}

result<decision> decider::operator()(const mark_no_show& x) const {
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
  if (joined(cur, absent))
    return make_error(errc::attended,
                      fmt::format("the {}'s attendance shows a join: not a no-show",
                                  who == absent_party::customer ? "customer" : "host"));
  return no_show(cur, absent, ctx.now);
}

result<decision> decider::operator()(const resolve_session& x) const {
  auto ss = appointment(x.session_id);
  if (!ss) return std::move(ss).take_error();
  const session_state& cur = **ss;
  if (cur.outcome != session_outcome::early_end_short || !cur.charges.empty())
    return bad_state("only an unresolved early_end_short appointment can be resolved");
  return decision{{charge(cur, x.charge_cents, charge_reason::manual, x.reason)},
                  keys::session(cur.session_id),
                  {}};
}

}  // namespace tally::deciding
