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
  std::string operator()(const tenant_settings_changed&) const { return "tenant-" + tenant.value; }
  std::string operator()(const customer_registered& d) const {
    return "customer-" + d.customer_id.value;
  }
  std::string operator()(const customer_updated& d) const {
    return "customer-" + d.customer_id.value;
  }
  std::string operator()(const customer_deactivated& d) const {
    return "customer-" + d.customer_id.value;
  }
  std::string operator()(const customer_subscription_changed& d) const {
    return "customer-" + d.customer_id.value;
  }
  std::string operator()(const resource_registered& d) const {
    return "resource-" + d.resource_id.value;
  }
  std::string operator()(const resource_rate_changed& d) const {
    return "resource-" + d.resource_id.value;
  }
  std::string operator()(const item_registered& d) const { return "item-" + d.item_id.value; }
  std::string operator()(const item_updated& d) const { return "item-" + d.item_id.value; }
  std::string operator()(const item_price_changed& d) const { return "item-" + d.item_id.value; }
  std::string operator()(const stock_received& d) const { return "item-" + d.item_id.value; }
  std::string operator()(const stock_adjusted& d) const { return "item-" + d.item_id.value; }
  std::string operator()(const session_requested& d) const {
    return "session-" + d.session_id.value;
  }
  std::string operator()(const session_quoted& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const session_booked& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const session_rescheduled& d) const {
    return "session-" + d.session_id.value;
  }
  std::string operator()(const credit_note_issued& d) const {
    return "invoice-" + d.invoice_id.value;
  }
  std::string operator()(const session_started& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const item_added& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const item_removed& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const item_reduced& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const session_details_changed& d) const {
    return "session-" + d.session_id.value;
  }
  std::string operator()(const feedback_given& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const price_adjusted& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const item_picked& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const note_added& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const attendance_recorded& d) const {
    return "session-" + d.session_id.value;
  }
  std::string operator()(const session_ended& d) const { return "session-" + d.session_id.value; }
  std::string operator()(const charge_processed& d) const {
    return "session-" + d.session_id.value;
  }
  std::string operator()(const payment_recorded& d) const {
    return d.session_id ? "session-" + d.session_id->value
                        : "invoice-" + d.invoice_id.value_or(ids::invoice{}).value;
  }
  std::string operator()(const payment_refunded& d) const {
    return "session-" + d.session_id.value;
  }
  std::string operator()(const invoice_issued& d) const { return "invoice-" + d.invoice_id.value; }
  std::string operator()(const webhook_registered& d) const {
    return "webhook-" + d.webhook_id.value;
  }
  std::string operator()(const webhook_removed& d) const { return "webhook-" + d.webhook_id.value; }
};
}  // namespace

std::string stream_of(const ids::tenant& tenant, const event_data& e) {
  return std::visit(stream_name{tenant}, e);
}

std::string subject_of(const ids::tenant& tenant, const event_data& e) {
  std::string stream = stream_of(tenant, e);
  const auto dash = stream.find('-');
  std::string kind = stream.substr(0, dash);
  return kind + "s/" + stream.substr(dash + 1);
}

}  // namespace tally
