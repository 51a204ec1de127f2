#pragma once

// What clients ask of Tally. The described members are the JSON body of the
// command (API.md, "Commands"), read strictly by the gateway; ids from the
// path are plain members the gateway fills in.

#include "base/patch.h"
#include "base/time.h"
#include "domain/events.h"
#include "domain/ids.h"

#include <boost/describe.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tally {

// name: the display name; without it, given_name and family_name joined.
struct register_customer {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<bool> subscribed;
  std::optional<std::string> given_name;
  std::optional<std::string> family_name;
  std::optional<postal_address> address;
};
BOOST_DESCRIBE_STRUCT(register_customer, (),
                      (name, email, phone, subscribed, given_name, family_name, address))

// Absent fields stay; an address replaces the whole address. A new given or
// family name without a name makes the display name both joined.
struct update_customer {
  ids::customer customer_id;  // path
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> given_name;
  std::optional<std::string> family_name;
  std::optional<postal_address> address;
};
BOOST_DESCRIBE_STRUCT(update_customer, (), (name, email, phone, given_name, family_name, address))

struct deactivate_customer {
  ids::customer customer_id;  // path
};
BOOST_DESCRIBE_STRUCT(deactivate_customer, (), ())

struct change_subscription {
  ids::customer customer_id;  // path
  bool subscribed = false;
};
BOOST_DESCRIBE_STRUCT(change_subscription, (), (subscribed))

struct register_resource {
  std::string name;
  cents hourly_rate_cents = 0;
};
BOOST_DESCRIBE_STRUCT(register_resource, (), (name, hourly_rate_cents))

struct change_resource_rate {
  ids::resource resource_id;  // path
  cents hourly_rate_cents = 0;
};
BOOST_DESCRIBE_STRUCT(change_resource_rate, (), (hourly_rate_cents))

struct put_item {
  ids::item item_id;  // path, chosen by the client
  std::string name;
  std::optional<std::string> unit;
  cents unit_price_cents = 0;
  std::optional<std::string> location;
};
BOOST_DESCRIBE_STRUCT(put_item, (), (name, unit, unit_price_cents, location))

struct receive_stock {
  ids::item item_id;  // path
  std::int64_t quantity = 0;
};
BOOST_DESCRIBE_STRUCT(receive_stock, (), (quantity))

struct adjust_stock {
  ids::item item_id;  // path
  std::int64_t delta = 0;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(adjust_stock, (), (delta, reason))

struct start_session {
  session_kind kind = session_kind::metered;
  ids::customer customer_id;
  std::optional<ids::resource> resource_id;
  std::optional<std::string> notes;
};
BOOST_DESCRIBE_STRUCT(start_session, (), (kind, customer_id, resource_id, notes))

struct new_customer {
  std::string name;
  std::string email;
  std::optional<std::string> phone;
};
BOOST_DESCRIBE_STRUCT(new_customer, (), (name, email, phone))

// A payment recorded with a booking (staff, seed 003's session form).
struct booking_payment {
  cents amount_cents = 0;
  std::string method;
};
BOOST_DESCRIBE_STRUCT(booking_payment, (), (amount_cents, method))

struct request_booking {
  std::optional<ids::customer> customer_id;
  std::optional<new_customer> customer;
  std::string title;
  std::int64_t duration_minutes = 0;
  std::optional<timestamp> scheduled_start;
  std::optional<ids::user> host_id;
  std::optional<std::string> meeting_url;
  std::optional<std::string> notes;
  std::string requested_via = "staff";  // set by the gateway from the role
  // Staff only: a booking already quoted (price), or booked (start, host and
  // price), in one command; the host's name, where the caller knows it.
  std::optional<cents> price_cents;
  std::optional<std::string> host_name;
  // Staff only: paid in advance, in the same command, up to price_cents.
  std::optional<booking_payment> payment;
};
BOOST_DESCRIBE_STRUCT(request_booking, (),
                      (customer_id, customer, title, duration_minutes, scheduled_start, host_id,
                       meeting_url, notes, price_cents, host_name, payment))

struct quote_session {
  ids::session session_id;  // path
  cents price_cents = 0;
};
BOOST_DESCRIBE_STRUCT(quote_session, (), (price_cents))

struct book_session {
  ids::session session_id;  // path
  std::optional<timestamp> scheduled_start;
  std::optional<std::int64_t> duration_minutes;
  std::optional<cents> price_cents;
  std::optional<ids::user> host_id;
  std::optional<std::string> host_name;
};
BOOST_DESCRIBE_STRUCT(book_session, (),
                      (scheduled_start, duration_minutes, price_cents, host_id, host_name))

struct reschedule_session {
  ids::session session_id;  // path
  timestamp scheduled_start;
  std::optional<std::int64_t> duration_minutes;
};
BOOST_DESCRIBE_STRUCT(reschedule_session, (), (scheduled_start, duration_minutes))

struct start_appointment {
  ids::session session_id;  // path
};
BOOST_DESCRIBE_STRUCT(start_appointment, (), ())

enum class absent_party { customer, host };
BOOST_DESCRIBE_ENUM(absent_party, customer, host)

// What a video provider (or staff) reports of who is in an appointment.
struct record_attendance {
  ids::session session_id;  // path
  attendee party = attendee::customer;
  attendance_change action = attendance_change::joined;
  std::optional<timestamp> at;  // default: now
  std::optional<std::string> source;
};
BOOST_DESCRIBE_STRUCT(record_attendance, (), (party, action, at, source))

struct register_webhook {
  std::string url;
  std::optional<std::vector<std::string>> event_types;  // default: every type
  std::optional<std::string> description;
};
BOOST_DESCRIBE_STRUCT(register_webhook, (), (url, event_types, description))

struct remove_webhook {
  ids::webhook webhook_id;  // path
};
BOOST_DESCRIBE_STRUCT(remove_webhook, (), ())

struct mark_no_show {
  ids::session session_id;  // path
  std::optional<absent_party> party;
};
BOOST_DESCRIBE_STRUCT(mark_no_show, (), (party))

struct resolve_session {
  ids::session session_id;  // path
  cents charge_cents = 0;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(resolve_session, (), (charge_cents, reason))

struct invoice_session {
  ids::session session_id;  // path
};
BOOST_DESCRIBE_STRUCT(invoice_session, (), ())

struct add_item {
  ids::session session_id;  // path
  ids::item item_id;
  std::int64_t quantity = 0;
  std::optional<cents> unit_price_cents;
};
BOOST_DESCRIBE_STRUCT(add_item, (), (item_id, quantity, unit_price_cents))

struct remove_item {
  ids::session session_id;  // path
  ids::line line_id;        // path
};
BOOST_DESCRIBE_STRUCT(remove_item, (), ())

struct add_note {
  ids::session session_id;  // path
  std::string text;
  std::optional<bool> private_;
};
BOOST_DESCRIBE_STRUCT(add_note, (), (text, private_))

struct adjust_price {
  ids::session session_id;  // path
  ids::line line_id;        // path
  cents unit_price_cents = 0;
  std::optional<std::string> reason;
};
BOOST_DESCRIBE_STRUCT(adjust_price, (), (unit_price_cents, reason))

struct pick_item {
  ids::session session_id;               // path
  ids::line line_id;                     // path
  std::optional<std::int64_t> quantity;  // default: the rest
};
BOOST_DESCRIBE_STRUCT(pick_item, (), (quantity))

struct cancel_session {
  ids::session session_id;  // path
  std::optional<std::string> reason;
};
BOOST_DESCRIBE_STRUCT(cancel_session, (), (reason))

// Issued by the scheduler when a shopping session may have timed out.
struct expire_session {
  ids::session session_id;
};
BOOST_DESCRIBE_STRUCT(expire_session, (), ())

// PATCH /v1/sessions/{id}: what an open session says about itself.
// Each text field: absent leaves it, null clears it, a value sets it.
struct change_session_details {
  ids::session session_id;  // path
  json::patch<std::string> title;
  json::patch<std::string> notes;
  json::patch<std::string> meeting_url;
  std::optional<cents> price_cents;  // appointments, while nothing is charged
};
BOOST_DESCRIBE_STRUCT(change_session_details, (), (title, notes, meeting_url, price_cents))

// The session's customer rates it, once, after it ended.
struct give_feedback {
  ids::session session_id;  // path
  std::int64_t rating = 0;
  std::optional<std::string> comment;
};
BOOST_DESCRIBE_STRUCT(give_feedback, (), (rating, comment))

struct end_session {
  ids::session session_id;  // path
};
BOOST_DESCRIBE_STRUCT(end_session, (), ())

struct record_payment {
  std::optional<ids::session> session_id;  // path: a session's payment
  std::optional<ids::invoice> invoice_id;  // path: a standalone invoice's payment
  cents amount_cents = 0;
  std::string method;
};
BOOST_DESCRIBE_STRUCT(record_payment, (), (amount_cents, method))

// Records a payment of everything still due (bulk action mark_paid).
struct mark_paid {
  ids::session session_id;
  std::string method = "bulk";
};
BOOST_DESCRIBE_STRUCT(mark_paid, (), ())

struct refund_payment {
  ids::session session_id;  // path
  cents amount_cents = 0;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(refund_payment, (), (amount_cents, reason))

struct new_invoice_line {
  std::string description;
  std::int64_t quantity = 0;
  cents unit_price_cents = 0;
};
BOOST_DESCRIBE_STRUCT(new_invoice_line, (), (description, quantity, unit_price_cents))

struct issue_invoice {
  ids::customer customer_id;
  std::vector<new_invoice_line> lines;
};
BOOST_DESCRIBE_STRUCT(issue_invoice, (), (customer_id, lines))

struct issue_credit_note {
  ids::invoice invoice_id;  // path
  std::string reason;
  std::optional<std::vector<new_invoice_line>> lines;  // default: all that is left
};
BOOST_DESCRIBE_STRUCT(issue_credit_note, (), (reason, lines))

struct change_settings {
  std::optional<std::string> currency;
  std::optional<std::int64_t> join_window_minutes;
  std::optional<std::int64_t> no_show_wait_percent;
  std::optional<std::int64_t> no_show_fee_percent;
  std::optional<std::int64_t> min_payable_percent;
  std::optional<std::int64_t> platform_fee_percent;
  std::optional<std::int64_t> shopping_timeout_minutes;
  std::optional<std::string> timezone;
  std::optional<std::variant<std::string, std::vector<std::string>>> live_shopping;
};
BOOST_DESCRIBE_STRUCT(change_settings, (),
                      (currency, join_window_minutes, no_show_wait_percent, no_show_fee_percent,
                       min_payable_percent, platform_fee_percent, shopping_timeout_minutes,
                       timezone, live_shopping))

using command =
    std::variant<register_customer, update_customer, deactivate_customer, change_subscription,
                 register_resource, change_resource_rate, put_item, receive_stock, adjust_stock,
                 start_session, add_item, remove_item, adjust_price, pick_item, add_note,
                 end_session, cancel_session, expire_session, record_payment, refund_payment,
                 issue_invoice, change_settings, request_booking, quote_session, book_session,
                 reschedule_session, start_appointment, mark_no_show, resolve_session,
                 invoice_session, issue_credit_note, mark_paid, record_attendance, register_webhook,
                 remove_webhook, change_session_details, give_feedback>;

}  // namespace tally
