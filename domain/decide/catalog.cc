// Customers, resources, items and their stock (receipts, write-downs that spare picked units).

#include "domain/decide/decider.h"

#include "base/zone.h"

#include <algorithm>

namespace tally::deciding {

namespace {

// The display name a customer's given and family names make.
std::string joined_name(const std::optional<std::string>& given,
                        const std::optional<std::string>& family) {
  if (given && family) return *given + " " + *family;
  return given ? *given : family.value_or("");
}

}  // namespace

result<decision> decider::operator()(const register_customer& x) const {
  if (x.subscribed && !ctx.actor_is_admin)
    return make_error(errc::forbidden, "only an admin may set subscribed");
  if (x.email && s.find(keys::email(*x.email)))
    return error{errc::already_exists,
                 "a customer with this e-mail already exists",
                 {{"email", "is already registered"}}};
  ids::customer id{ctx.new_id()};
  return decision{
      {customer_registered{id, x.name.value_or(joined_name(x.given_name, x.family_name)), x.email,
                           x.phone, x.subscribed.value_or(false), x.given_name, x.family_name,
                           x.address}},
      keys::customer(id),
      {}};
}

result<decision> decider::operator()(const update_customer& x) const {
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
  customer_updated ev{cur.customer_id,
                      x.name.value_or(cur.name),
                      x.email ? x.email : cur.email,
                      x.phone ? x.phone : cur.phone,
                      cur.email,
                      x.given_name ? x.given_name : cur.given_name,
                      x.family_name ? x.family_name : cur.family_name,
                      x.address ? x.address : cur.address};
  if (!x.name && (x.given_name || x.family_name))
    ev.name = joined_name(ev.given_name, ev.family_name);
  decision d{{}, keys::customer(cur.customer_id), {}};
  if (ev.name != cur.name || ev.email != cur.email || ev.phone != cur.phone ||
      ev.given_name != cur.given_name || ev.family_name != cur.family_name ||
      ev.address != cur.address)
    d.events.push_back(std::move(ev));
  return d;
}

result<decision> decider::operator()(const deactivate_customer& x) const {
  auto c = active_customer(x.customer_id);
  if (!c) return std::move(c).take_error();
  if (!(*c)->active) return bad_state("the customer is already deactivated");
  return decision{
      {customer_deactivated{x.customer_id, (*c)->name}}, keys::customer(x.customer_id), {}};
}

result<decision> decider::operator()(const change_subscription& x) const {
  auto c = active_customer(x.customer_id);
  if (!c) return std::move(c).take_error();
  decision d{{}, keys::customer(x.customer_id), {}};
  if ((*c)->subscribed != x.subscribed)
    d.events.push_back(customer_subscription_changed{x.customer_id, (*c)->name, x.subscribed});
  return d;
}

result<decision> decider::operator()(const register_resource& x) const {
  ids::resource id{ctx.new_id()};
  return decision{{resource_registered{id, x.name, x.hourly_rate_cents}}, keys::resource(id), {}};
}

result<decision> decider::operator()(const change_resource_rate& x) const {
  const auto* r = s.resource(x.resource_id);
  if (!r) return not_found("resource", x.resource_id.value);
  decision d{{}, keys::resource(x.resource_id), {}};
  if (r->hourly_rate_cents != x.hourly_rate_cents)
    d.events.push_back(
        resource_rate_changed{x.resource_id, r->name, x.hourly_rate_cents, r->hourly_rate_cents});
  return d;
}

result<decision> decider::operator()(const put_item& x) const {
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

result<decision> decider::operator()(const receive_stock& x) const {
  const auto* i = s.item(x.item_id);
  if (!i) return not_found("item", x.item_id.value);
  if (i->on_hand + x.quantity > max_quantity * 1000)
    return invalid_field("quantity", "would take stock on hand beyond the limit");
  return decision{{stock_received{x.item_id, i->name, x.quantity, i->on_hand + x.quantity}},
                  keys::item(x.item_id),
                  {}};
}

result<decision> decider::operator()(const adjust_stock& x) const {
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
  decision d{
      {stock_adjusted{x.item_id, i->name, x.delta, x.reason, on_hand}}, keys::item(x.item_id), {}};
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
    line = r->older;
    // An ended session is never touched (an older history's appointment
    // may still hold stock: DOMAIN.md).
    if (const auto* holder = s.session(r->session_id);
        holder && holder->status == session_status::ended)
      continue;
    const std::int64_t take = std::min(r->quantity - r->picked, short_by);
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
    item_reduced reduced{r->session_id,
                         r->line_id,
                         x.item_id,
                         i->name,
                         take,
                         left,
                         l ? l->picked_quantity : r->picked,
                         price,
                         left * price,
                         removal_reason::sold_out,
                         stock_effect::released};
    reduced.location = l ? l->location : i->location;
    reduced.unit = l ? l->unit : i->unit;
    if (l) {
      reduced.added_at = l->added_at;
      reduced.picked_at = l->picked_at;
      reduced.picked_by = l->picked_by;
      reduced.picked_by_name = l->picked_by_name;
    }
    d.events.push_back(std::move(reduced));
  }
  return d;
}

}  // namespace tally::deciding
