#include "domain/views.h"

namespace tally {

session_view render(const session_state& s, timestamp now, view_options opts) {
  session_view v;
  v.session_id = s.session_id;
  v.kind = s.kind;
  v.status = s.status;
  v.outcome = s.outcome;
  v.payment_status = payment_status_of(s);
  v.customer = s.customer;
  v.host_id = s.host_id;
  v.host_name = s.host_name;
  v.resource = s.resource;
  v.title = s.title;
  v.meeting_url = s.meeting_url;
  v.started_at = s.started_at;
  v.ended_at = s.ended_at;
  v.scheduled_start = s.scheduled_start;
  v.duration_minutes = s.duration_minutes;
  v.price_cents = s.price_cents;
  for (const auto& l : s.lines) v.lines.push_back(render(l));
  v.items_total_cents = items_total(s);
  for (const auto& n : s.notes) {
    if (n.private_ && !opts.include_private_notes) continue;
    v.notes.push_back(
        note_view{n.note_id, n.text, n.private_, n.author_id, n.author_name, n.added_at});
  }
  for (const auto& a : s.attendance)
    v.attendance.push_back(attendance_view{a.party, a.action, a.at, a.source});
  for (const auto& c : s.charges)
    v.charges.push_back(charge_view{c.charge_id, c.amount_cents, c.reason, c.splits, c.charged_at});
  v.paid_cents = s.paid_cents();
  v.amount_due_cents = amount_due(s);
  v.credited_cents = s.credited_cents;
  v.version = s.version;
  v.cost = cost_of(s, now);
  v.invoice_id = s.invoice_id;
  v.order_id = s.order_id;
  v.refund_due_cents = refund_due(s);
  v.paid_at = s.paid_at;
  if (s.feedback)
    v.feedback = feedback_view{s.feedback->rating, s.feedback->comment, s.feedback->given_at};
  if (s.kind == session_kind::appointment) {
    static const tenant_settings defaults;
    const tenant_settings& st = opts.settings ? *opts.settings : defaults;
    v.absent_party = s.absent_party;
    const auto end = s.scheduled_end();
    if (s.scheduled_start && s.duration_minutes) {
      v.join_opens_at = *s.scheduled_start - std::chrono::minutes(st.join_window_minutes);
      v.no_show_allowed_from =
          *s.scheduled_start +
          std::chrono::minutes(*s.duration_minutes * st.no_show_wait_percent / 100);
    }
    if (s.started_at && s.duration_minutes)
      v.min_payable_until =
          *s.started_at + std::chrono::minutes(*s.duration_minutes * st.min_payable_percent / 100);
    const bool open = s.status == session_status::booked || s.status == session_status::active;
    v.joinable = open && v.join_opens_at && end && now >= *v.join_opens_at && now <= *end;
  }
  return v;
}

timestamp list_time(const session_state& s) {
  if (s.kind == session_kind::appointment && s.scheduled_start) return *s.scheduled_start;
  return s.listed_at;
}

line_view render(const line_state& l) {
  line_view v{l.line_id,
              l.item_id,
              l.name,
              l.unit,
              l.location,
              l.quantity,
              l.unit_price_cents,
              l.list_price_cents,
              l.picked_quantity,
              line_total(l),
              l.added_at,
              l.picked_at,
              std::nullopt};
  if (l.picked_by) v.picked_by = user_ref{*l.picked_by, l.picked_by_name};
  return v;
}

active_session_entry render_entry(const session_state& s) {
  active_session_entry e{s.session_id, s.kind, s.customer, s.host_id, s.resource,
                         s.started_at, 0,      0,          0};
  e.line_count = static_cast<std::int64_t>(s.lines.size());
  for (const auto& l : s.lines) {
    e.item_count += l.quantity;
    e.lines.push_back(render(l));
  }
  e.items_total_cents = items_total(s);
  e.host_name = s.host_name;
  e.title = s.title;
  return e;
}

pick_line_view render_pick(const session_state& s, const line_state& l) {
  pick_line_view v{s.session_id, l.line_id,   l.item_id,         l.name,
                   l.location,   l.quantity,  l.picked_quantity, l.quantity - l.picked_quantity,
                   l.added_at,   l.picked_at, std::nullopt};
  if (l.picked_by) v.picked_by = user_ref{*l.picked_by, l.picked_by_name};
  return v;
}

std::optional<pick_session_view> render_picks(const session_state& s, bool include_picked) {
  if (s.kind != session_kind::shopping) return std::nullopt;
  if (s.status == session_status::ended && s.outcome != session_outcome::completed)
    return std::nullopt;
  // Fully picked lines stay (on request) until their session ends.
  const bool keep_picked = include_picked && s.status == session_status::active;
  pick_session_view v{s.session_id, s.customer.name, s.host_id, s.host_name, s.status, {}};
  for (const auto& l : s.lines) {
    if (l.quantity - l.picked_quantity <= 0 && !keep_picked) continue;
    v.lines.push_back(render_pick(s, l));
  }
  if (v.lines.empty()) return std::nullopt;
  return v;
}

customer_view render(const customer_state& c) {
  return customer_view{c.customer_id,   c.name,    c.email,          c.phone,
                       c.subscribed,    c.active,  c.total_sessions, c.total_paid_cents,
                       c.registered_at, c.version, c.given_name,     c.family_name,
                       c.address};
}

resource_view render(const resource_state& r) {
  return resource_view{r.resource_id, r.name, r.hourly_rate_cents, r.occupied_by, r.version};
}

item_view render(const item_state& i) {
  return item_view{i.item_id, i.name,     i.unit,        i.unit_price_cents, i.location,
                   i.on_hand, i.reserved, i.available(), i.version};
}

webhook_view render(const webhook_state& w) {
  return webhook_view{w.webhook_id, w.url,        w.event_types, w.description,
                      w.active,     w.created_at, w.removed_at,  w.version};
}

invoice_view render(const invoice_state& i) {
  invoice_view v;
  v.invoice_id = i.invoice_id;
  v.number = i.number;
  v.kind = i.kind;
  v.session_id = i.session_id;
  v.customer_id = i.customer_id;
  v.customer_name = i.customer_name;
  v.credits = i.credits;
  v.lines = i.lines;
  v.total_cents = i.total_cents;
  v.paid_cents = i.paid_cents;
  v.currency = i.currency;
  v.issued_at = i.issued_at;
  v.version = i.version;
  if (i.kind == invoice_kind::invoice) {
    v.credited_cents = i.credited_cents;
    v.amount_due_cents = amount_due(i);
    v.refund_due_cents = refund_due(i);
    v.payment_status = i.payment_status;
  }
  return v;
}

settings_view render(const tenant_state& t) {
  const auto& s = t.settings;
  return settings_view{s.currency,
                       s.join_window_minutes,
                       s.no_show_wait_percent,
                       s.no_show_fee_percent,
                       s.min_payable_percent,
                       s.platform_fee_percent,
                       s.shopping_timeout_minutes,
                       s.timezone,
                       s.live_shopping,
                       t.version};
}

}  // namespace tally
