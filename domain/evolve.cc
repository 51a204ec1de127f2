#include "domain/evolve.h"

#include "domain/pricing.h"

#include <algorithm>

namespace tally {

namespace {

template <class T>
T& get_or_create(state_access& s, std::string_view key) {
  if (T* existing = s.find_mut_as<T>(key)) return *existing;
  return std::get<T>(s.put(key, T{}));
}

// The fields invoices and credit notes share.
template <class Issued>
invoice_state& issue(state_access& s, const Issued& d, invoice_kind kind) {
  auto& inv = get_or_create<invoice_state>(s, keys::invoice(d.invoice_id));
  inv.invoice_id = d.invoice_id;
  inv.number = d.number;
  inv.kind = kind;
  inv.session_id = d.session_id;
  inv.customer_id = d.customer_id;
  inv.customer_name = d.customer_name;
  inv.lines = d.lines;
  inv.total_cents = d.total_cents;
  inv.currency = d.currency;
  inv.issued_at = d.issued_at;
  return inv;
}

struct applier {
  state_access& s;
  const event& e;

  // Appends a hold to the item's list: the new node, the old newest, the item.
  void reserve(item_state& i, const ids::session& session, const ids::line& line,
               std::int64_t quantity) {
    i.reserved += quantity;
    reservation_state node{session, line, quantity, i.newest_reservation, std::nullopt};
    if (i.newest_reservation) {
      if (auto* newest = hold(i.item_id, *i.newest_reservation)) newest->newer = line;
    } else {
      i.oldest_reservation = line;
    }
    i.newest_reservation = line;
    s.put(keys::reservation(i.item_id, line), std::move(node));
  }
  // Unlinks a hold: its neighbours (or the item's ends) point past it.
  void release(item_state& i, const ids::line& line, std::int64_t quantity) {
    i.reserved -= quantity;
    const auto* node = s.find_as<reservation_state>(keys::reservation(i.item_id, line));
    if (!node) return;
    i.picked -= node->picked;
    const auto older = node->older;
    const auto newer = node->newer;
    if (older) {
      if (auto* o = hold(i.item_id, *older)) o->newer = newer;
    } else {
      i.oldest_reservation = newer;
    }
    if (newer) {
      if (auto* n = hold(i.item_id, *newer)) n->older = older;
    } else {
      i.newest_reservation = older;
    }
    s.erase(keys::reservation(i.item_id, line));
  }
  reservation_state* hold(const ids::item& item, const ids::line& line) {
    return s.find_mut_as<reservation_state>(keys::reservation(item, line));
  }

  session_state* session(const ids::session& id) {
    return s.find_mut_as<session_state>(keys::session(id));
  }
  item_state* item(const ids::item& id) { return s.find_mut_as<item_state>(keys::item(id)); }
  customer_state* customer(const ids::customer& id) {
    return s.find_mut_as<customer_state>(keys::customer(id));
  }
  // After a change to what a session owes or was paid: when it became paid,
  // and its invoice, which shows the session's payments.
  void payments_changed(session_state& ss) {
    const auto status = payment_status_of(ss);
    if (status != payment_status::paid)
      ss.paid_at.reset();
    else if (!ss.paid_at)
      ss.paid_at = e.time;
    if (!ss.invoice_id) return;
    if (auto* inv = s.find_mut_as<invoice_state>(keys::invoice(*ss.invoice_id))) {
      inv->paid_cents = ss.paid_cents();
      inv->payment_status = status;
    }
  }

  void operator()(const tenant_settings_changed& d) {
    auto& t = get_or_create<tenant_state>(s, keys::tenant);
    t.settings = d.settings;
  }

  void operator()(const customer_registered& d) {
    auto& c = get_or_create<customer_state>(s, keys::customer(d.customer_id));
    c.customer_id = d.customer_id;
    c.name = d.name;
    c.email = d.email;
    c.phone = d.phone;
    c.subscribed = d.subscribed;
    c.active = true;
    c.registered_at = e.time;
    c.given_name = d.given_name;
    c.family_name = d.family_name;
    c.address = d.address;
    if (d.email) s.put(keys::email(*d.email), email_index_state{d.customer_id});
  }
  void operator()(const customer_updated& d) {
    auto* c = customer(d.customer_id);
    if (!c) return;
    if (d.previous_email && d.previous_email != d.email) s.erase(keys::email(*d.previous_email));
    c->name = d.name;
    c->email = d.email;
    c->phone = d.phone;
    c->given_name = d.given_name;
    c->family_name = d.family_name;
    c->address = d.address;
    if (d.email) s.put(keys::email(*d.email), email_index_state{d.customer_id});
  }
  void operator()(const customer_deactivated& d) {
    if (auto* c = customer(d.customer_id)) c->active = false;
  }
  void operator()(const customer_subscription_changed& d) {
    if (auto* c = customer(d.customer_id)) c->subscribed = d.subscribed;
  }

  void operator()(const resource_registered& d) {
    auto& r = get_or_create<resource_state>(s, keys::resource(d.resource_id));
    r.resource_id = d.resource_id;
    r.name = d.name;
    r.hourly_rate_cents = d.hourly_rate_cents;
  }
  void operator()(const resource_rate_changed& d) {
    if (auto* r = s.find_mut_as<resource_state>(keys::resource(d.resource_id)))
      r->hourly_rate_cents = d.hourly_rate_cents;
  }

  void operator()(const item_registered& d) {
    auto& i = get_or_create<item_state>(s, keys::item(d.item_id));
    i.item_id = d.item_id;
    i.name = d.name;
    i.unit = d.unit;
    i.unit_price_cents = d.unit_price_cents;
    i.location = d.location;
  }
  void operator()(const item_updated& d) {
    if (auto* i = item(d.item_id)) {
      i->name = d.name;
      i->unit = d.unit;
      i->location = d.location;
    }
  }
  void operator()(const item_price_changed& d) {
    if (auto* i = item(d.item_id)) i->unit_price_cents = d.unit_price_cents;
  }
  void operator()(const stock_received& d) {
    if (auto* i = item(d.item_id)) i->on_hand += d.quantity;
  }
  void operator()(const stock_adjusted& d) {
    if (auto* i = item(d.item_id)) i->on_hand += d.delta;
  }

  void operator()(const session_requested& d) {
    auto& ss = get_or_create<session_state>(s, keys::session(d.session_id));
    ss.session_id = d.session_id;
    ss.kind = session_kind::appointment;
    ss.status = session_status::requested;
    ss.customer = d.customer;
    ss.title = d.title;
    ss.duration_minutes = d.duration_minutes;
    ss.scheduled_start = d.scheduled_start;
    if (d.host_id) ss.host_id = *d.host_id;
    ss.meeting_url = d.meeting_url;
    ss.host_name = d.host_name;
    ss.requested_via = d.requested_via;
    ss.last_activity = e.time;
    ss.listed_at = e.time;
    if (d.notes && !d.notes->empty())
      ss.notes.push_back(
          note_state{ids::note{d.session_id.value + "-request"}, *d.notes, false, e.actor,
                     e.actor_name.empty() ? std::nullopt : std::optional(e.actor_name), e.time});
    if (auto* c = customer(d.customer.customer_id)) ++c->total_sessions;
  }
  void operator()(const session_quoted& d) {
    if (auto* ss = session(d.session_id)) {
      ss->price_cents = d.price_cents;
      if (ss->status == session_status::requested) ss->status = session_status::quoted;
    }
  }
  void operator()(const session_booked& d) {
    if (auto* ss = session(d.session_id)) {
      ss->scheduled_start = d.scheduled_start;
      ss->duration_minutes = d.duration_minutes;
      ss->price_cents = d.price_cents;
      if (ss->host_id != d.host_id) ss->host_name.reset();
      ss->host_id = d.host_id;
      if (d.host_name) ss->host_name = d.host_name;
      if (d.meeting_url) ss->meeting_url = d.meeting_url;
      ss->status = session_status::booked;
    }
  }
  void operator()(const session_rescheduled& d) {
    if (auto* ss = session(d.session_id)) {
      ss->scheduled_start = d.scheduled_start;
      ss->duration_minutes = d.duration_minutes;
    }
  }
  void operator()(const credit_note_issued& d) {
    auto& cn = issue(s, d, invoice_kind::credit_note);
    cn.credits = d.credits;
    cn.reason = d.reason;
    auto& t = get_or_create<tenant_state>(s, keys::tenant);
    t.credit_note_sequence = std::max(t.credit_note_sequence, d.sequence);
    const bool reduces = d.reduces_amount_due.value_or(false);
    if (auto* inv = s.find_mut_as<invoice_state>(keys::invoice(d.credits))) {
      inv->credited_cents += d.total_cents;
      if (reduces) {
        inv->credit_applied_cents += d.total_cents;
        if (!inv->session_id) inv->payment_status = payment_status_of(*inv);
      }
    }
    if (!d.session_id) return;
    auto* ss = session(*d.session_id);
    if (!ss || ss->invoice_id != d.credits) return;
    if (reduces) {
      ss->credited_cents += d.total_cents;
      payments_changed(*ss);
    }
    // A full credit note allows the session a new invoice.
    if (d.full) ss->invoice_id.reset();
  }
  void operator()(const session_started& d) {
    auto& ss = get_or_create<session_state>(s, keys::session(d.session_id));
    const bool new_session = ss.session_id.empty();
    ss.session_id = d.session_id;
    ss.kind = d.kind;
    ss.status = session_status::active;
    ss.customer = d.customer;
    ss.host_id = d.host_id;
    ss.host_name = d.host_name;
    ss.resource = d.resource;
    ss.started_at = d.started_at;
    ss.last_activity = d.started_at;
    if (d.notes && !d.notes->empty()) {
      ss.notes.push_back(note_state{ids::note{d.session_id.value + "-start"}, *d.notes, false,
                                    d.host_id, d.host_name, d.started_at});
    }
    if (d.resource) {
      if (auto* r = s.find_mut_as<resource_state>(keys::resource(d.resource->resource_id)))
        r->occupied_by = d.session_id;
    }
    if (new_session) {
      ss.listed_at = d.started_at;
      if (auto* c = customer(d.customer.customer_id)) ++c->total_sessions;
    }
  }
  void operator()(const item_added& d) {
    if (auto* ss = session(d.session_id)) {
      ss->lines.push_back(line_state{d.line_id, d.item_id, d.name, d.unit, d.location, d.quantity,
                                     d.unit_price_cents, d.list_price_cents, 0, d.effect, e.time});
      ++ss->line_sequence;
      ss->last_activity = e.time;
    }
    if (auto* i = item(d.item_id)) {
      if (d.effect == stock_effect::consumed) i->on_hand -= d.quantity;
      if (d.effect == stock_effect::reserved) reserve(*i, d.session_id, d.line_id, d.quantity);
    }
  }
  void operator()(const item_removed& d) {
    if (auto* ss = session(d.session_id)) {
      std::erase_if(ss->lines, [&](const line_state& l) { return l.line_id == d.line_id; });
      ss->last_activity = e.time;
    }
    if (auto* i = item(d.item_id)) {
      if (d.effect == stock_effect::returned) i->on_hand += d.quantity;
      if (d.effect == stock_effect::released) release(*i, d.line_id, d.quantity);
    }
  }
  void operator()(const item_reduced& d) {
    if (auto* ss = session(d.session_id)) {
      for (auto& l : ss->lines)
        if (l.line_id == d.line_id) l.quantity = d.line_quantity;
      ss->last_activity = e.time;
    }
    if (auto* i = item(d.item_id)) {
      i->reserved -= d.quantity;
      if (auto* node = hold(d.item_id, d.line_id)) node->quantity -= d.quantity;
    }
  }
  void operator()(const session_details_changed& d) {
    auto* ss = session(d.session_id);
    if (!ss) return;
    if (d.title) ss->title = d.title;
    if (d.meeting_url) ss->meeting_url = d.meeting_url;
    if (d.price_cents) ss->price_cents = d.price_cents;
    if (d.notes) {
      // The session's own note (from its booking or start), else a new one.
      if (auto* own = ss->own_note())
        own->text = *d.notes;
      else
        ss->notes.insert(ss->notes.begin(),
                         note_state{ids::note{d.session_id.value + "-details"}, *d.notes, false,
                                    d.changed_by, d.changed_by_name, e.time});
    }
    for (const auto& field : d.cleared) {
      if (field == "title") ss->title.reset();
      if (field == "meeting_url") ss->meeting_url.reset();
      if (field == "notes")
        if (const auto* own = ss->own_note())
          std::erase_if(ss->notes, [&](const note_state& n) { return &n == own; });
    }
    if (d.price_cents) payments_changed(*ss);
    ss->last_activity = e.time;
  }
  void operator()(const feedback_given& d) {
    if (auto* ss = session(d.session_id))
      ss->feedback = feedback_state{d.rating, d.comment, e.time};
  }
  void operator()(const price_adjusted& d) {
    if (auto* ss = session(d.session_id)) {
      for (auto& l : ss->lines)
        if (l.line_id == d.line_id) l.unit_price_cents = d.unit_price_cents;
      ss->last_activity = e.time;
    }
  }
  void operator()(const item_picked& d) {
    auto* ss = session(d.session_id);
    if (!ss) return;
    for (auto& l : ss->lines) {
      if (l.line_id != d.line_id) continue;
      l.picked_quantity = d.picked_quantity;
      l.picked_at = e.time;
      l.picked_by = d.picked_by;
      l.picked_by_name = d.picked_by_name;
      // Picked from a hold that is still open: in a bag, never taken back.
      if (l.effect == stock_effect::reserved && ss->status == session_status::active) {
        if (auto* node = hold(d.item_id, d.line_id)) {
          node->picked += d.quantity;
          if (auto* i = item(d.item_id)) i->picked += d.quantity;
        }
      }
    }
    ss->last_activity = e.time;
  }
  void operator()(const note_added& d) {
    if (auto* ss = session(d.session_id)) {
      ss->notes.push_back(
          note_state{d.note_id, d.text, d.private_, d.author_id, d.author_name, e.time});
      ss->last_activity = e.time;
    }
  }
  void operator()(const webhook_registered& d) {
    auto& w = get_or_create<webhook_state>(s, keys::webhook(d.webhook_id));
    w.webhook_id = d.webhook_id;
    w.url = d.url;
    w.event_types = d.event_types;
    w.description = d.description;
    w.active = true;
    w.created_at = e.time;
  }
  void operator()(const webhook_removed& d) {
    if (auto* w = s.find_mut_as<webhook_state>(keys::webhook(d.webhook_id))) {
      w->active = false;
      w->removed_at = e.time;
    }
  }
  void operator()(const attendance_recorded& d) {
    if (auto* ss = session(d.session_id))
      ss->attendance.push_back(attendance_entry{d.party, d.action, d.at, d.source, e.time});
  }
  void operator()(const session_ended& d) {
    auto* ss = session(d.session_id);
    if (!ss) return;
    ss->status = session_status::ended;
    ss->outcome = d.outcome;
    ss->ended_at = d.ended_at;
    ss->end_reason = d.reason;
    if (d.outcome == session_outcome::no_show)
      ss->absent_party = d.absent_party              ? *d.absent_party
                         : d.reason == "host absent" ? attendee::host
                                                     : attendee::customer;
    ss->final_cost =
        session_cost{d.billed_minutes, d.time_charge_cents, d.items_total_cents, d.total_cents};
    if (d.resource_id) {
      auto* r = s.find_mut_as<resource_state>(keys::resource(*d.resource_id));
      if (r && r->occupied_by == d.session_id) r->occupied_by.reset();
    }
    if (d.kind == session_kind::shopping) {
      const bool completed = d.outcome == session_outcome::completed;
      for (const auto& l : ss->lines) {
        if (l.effect != stock_effect::reserved) continue;
        if (auto* i = item(l.item_id)) {
          release(*i, l.line_id, l.quantity);
          if (completed) i->on_hand -= l.quantity;
        }
      }
      if (completed) ss->order_id = ss->session_id;
    }
    payments_changed(*ss);
  }
  void operator()(const charge_processed& d) {
    if (auto* ss = session(d.session_id)) {
      ss->charges.push_back(charge_state{d.charge_id, d.amount_cents, d.reason, d.splits, e.time});
      payments_changed(*ss);
    }
  }
  void operator()(const payment_recorded& d) {
    if (d.session_id) {
      if (auto* ss = session(*d.session_id)) {
        ss->payments_cents += d.amount_cents;
        payments_changed(*ss);
      }
    } else if (d.invoice_id) {
      if (auto* inv = s.find_mut_as<invoice_state>(keys::invoice(*d.invoice_id))) {
        inv->paid_cents += d.amount_cents;
        inv->payment_status = payment_status_of(*inv);
      }
    }
    if (auto* c = customer(d.customer_id)) c->total_paid_cents += d.amount_cents;
  }
  void operator()(const payment_refunded& d) {
    if (auto* ss = session(d.session_id)) {
      ss->refunds_cents += d.amount_cents;
      payments_changed(*ss);
    }
    if (auto* c = customer(d.customer_id)) c->total_paid_cents -= d.amount_cents;
  }
  void operator()(const invoice_issued& d) {
    issue(s, d, invoice_kind::invoice);
    auto& t = get_or_create<tenant_state>(s, keys::tenant);
    t.invoice_sequence = std::max(t.invoice_sequence, d.sequence);
    if (d.session_id) {
      if (auto* ss = session(*d.session_id)) {
        // A new invoice (after a full credit note) claims what is due again.
        ss->invoice_id = d.invoice_id;
        ss->credited_cents = 0;
        payments_changed(*ss);
      }
    }
  }
};

// The version of the aggregate whose stream the event is in.
void bump_version(state_access& s, const event& e) {
  if (aggregate* a = s.find_mut(e.stream.aggregate_key())) {
    std::visit(
        [&](auto& st) {
          if constexpr (requires { st.version; }) st.version = e.stream_version;
        },
        *a);
  }
}

// A session's host is named where one of their own events names them.
void learn_host_name(state_access& s, const event& e) {
  if (e.actor_name.empty() || !e.stream.is(stream_kind::session)) return;
  auto* ss = s.find_mut_as<session_state>(e.stream.str());
  if (ss && !ss->host_name && !ss->host_id.empty() && ss->host_id == e.actor)
    ss->host_name = e.actor_name;
}

}  // namespace

void evolve(state_access& state, const event& e) {
  std::visit(applier{state, e}, e.data);
  learn_host_name(state, e);
  bump_version(state, e);
  if (!e.hash.empty()) {
    // The tenant's chain head, in the tenant's aggregate (made if it has none
    // yet: its version stays 0, so the settings still "do not exist").
    aggregate* t = state.find_mut(keys::tenant);
    if (!t) t = &state.put(keys::tenant, tenant_state{});
    std::get<tenant_state>(*t).chain_head = e.hash;
  }
}

}  // namespace tally
