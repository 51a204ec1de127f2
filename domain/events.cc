#include "domain/events.h"

#include <boost/mp11/algorithm.hpp>

#include <type_traits>

namespace tally {

std::string_view type_of(const event_data& e) {
  return std::visit([](const auto& d) { return std::decay_t<decltype(d)>::type; }, e);
}

bool is_event_type(std::string_view type) {
  bool found = false;
  boost::mp11::mp_for_each<boost::mp11::mp_transform<std::type_identity, event_data>>(
      [&](auto t) { found = found || decltype(t)::type::type == type; });
  return found;
}

namespace {
struct stream_name {
  const ids::tenant& tenant;
  stream_id operator()(const tenant_settings_changed&) const { return stream_id::of(tenant); }
  stream_id operator()(const customer_registered& d) const { return stream_id::of(d.customer_id); }
  stream_id operator()(const customer_updated& d) const { return stream_id::of(d.customer_id); }
  stream_id operator()(const customer_deactivated& d) const { return stream_id::of(d.customer_id); }
  stream_id operator()(const customer_subscription_changed& d) const {
    return stream_id::of(d.customer_id);
  }
  stream_id operator()(const resource_registered& d) const { return stream_id::of(d.resource_id); }
  stream_id operator()(const resource_rate_changed& d) const {
    return stream_id::of(d.resource_id);
  }
  stream_id operator()(const item_registered& d) const { return stream_id::of(d.item_id); }
  stream_id operator()(const item_updated& d) const { return stream_id::of(d.item_id); }
  stream_id operator()(const item_price_changed& d) const { return stream_id::of(d.item_id); }
  stream_id operator()(const stock_received& d) const { return stream_id::of(d.item_id); }
  stream_id operator()(const stock_adjusted& d) const { return stream_id::of(d.item_id); }
  stream_id operator()(const session_requested& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const session_quoted& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const session_booked& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const session_rescheduled& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const credit_note_issued& d) const { return stream_id::of(d.invoice_id); }
  stream_id operator()(const session_started& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const item_added& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const item_removed& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const item_reduced& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const session_details_changed& d) const {
    return stream_id::of(d.session_id);
  }
  stream_id operator()(const feedback_given& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const price_adjusted& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const item_picked& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const note_added& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const attendance_recorded& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const session_ended& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const charge_processed& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const payment_recorded& d) const {
    return d.session_id ? stream_id::of(*d.session_id)
                        : stream_id::of(d.invoice_id.value_or(ids::invoice{}));
  }
  stream_id operator()(const payment_refunded& d) const { return stream_id::of(d.session_id); }
  stream_id operator()(const invoice_issued& d) const { return stream_id::of(d.invoice_id); }
  stream_id operator()(const webhook_registered& d) const { return stream_id::of(d.webhook_id); }
  stream_id operator()(const webhook_removed& d) const { return stream_id::of(d.webhook_id); }
};
}  // namespace

stream_id stream_of(const ids::tenant& tenant, const event_data& e) {
  return std::visit(stream_name{tenant}, e);
}

std::string subject_of(const ids::tenant& tenant, const event_data& e) {
  return stream_of(tenant, e).subject();
}

}  // namespace tally
