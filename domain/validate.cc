// The field checks of every command that need no state (decide runs them
// first): required text, lengths in characters, ranges, ids, the times a
// client gives and the money bound on amounts and on an invoice's lines
// (domain/limits.h).

#include "domain/countries.h"
#include "domain/decide.h"
#include "domain/limits.h"

#include "base/zone.h"

#include <fmt/format.h>

#include <algorithm>

namespace tally {

namespace {

// An absolute http(s) URL with a host: the scheme in any case, then a host
// before any path, and no byte a browser would drop or read otherwise.
bool web_url(std::string_view u, std::size_t max) {
  if (u.empty() || u.size() > max) return false;
  auto lower_starts = [&](std::string_view prefix) {
    if (u.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(u[i])) != prefix[i]) return false;
    return true;
  };
  const std::size_t scheme = lower_starts("https://") ? 8 : lower_starts("http://") ? 7 : 0;
  if (scheme == 0) return false;
  const auto host_end = u.find_first_of("/?#", scheme);
  const auto host =
      u.substr(scheme, host_end == std::string_view::npos ? u.npos : host_end - scheme);
  if (host.empty() || host.front() == ':' || host.front() == '@') return false;
  return std::none_of(u.begin(), u.end(), [](char ch) {
    const auto b = static_cast<unsigned char>(ch);
    return b <= ' ' || b == 0x7f || ch == '\\' || ch == '"' || ch == '<' || ch == '>';
  });
}

struct checker {
  std::vector<field_problem> problems;   // 400 invalid_request
  std::vector<field_problem> too_large;  // 422 amount_too_large

  void text(std::string_view field, const std::string& v, std::size_t max, bool required = true) {
    if (required && v.find_first_not_of(" \t\r\n") == std::string::npos)
      problems.push_back({std::string(field), "must not be empty"});
    else if (characters(v) > max)
      problems.push_back({std::string(field), fmt::format("must be at most {} characters", max)});
  }
  void opt_text(std::string_view field, const std::optional<std::string>& v, std::size_t max) {
    if (v) text(field, *v, max, false);
  }
  void email(std::string_view field, const std::optional<std::string>& v) {
    if (!v) return;
    const auto at = v->find('@');
    if (v->size() > 254 || at == std::string::npos || at == 0 || at + 1 == v->size() ||
        v->find_first_of(" \t\r\n") != std::string::npos)
      problems.push_back({std::string(field), "must be an e-mail address"});
  }
  void range(std::string_view field, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi)
      problems.push_back({std::string(field), fmt::format("must be between {} and {}", lo, hi)});
  }
  // An amount of money: never negative (400), at most the money bound (422).
  void amount(std::string_view field, cents v, cents lo = 0) {
    if (v < lo)
      problems.push_back({std::string(field), lo == 0 ? std::string("must not be negative")
                                                      : fmt::format("must be at least {}", lo)});
    else if (v > max_amount_cents)
      too_large.push_back({std::string(field), fmt::format("is {} cents, more than the {} an "
                                                           "amount may be",
                                                           v, max_amount_cents)});
  }
  void id(std::string_view field, const std::string& v) {
    if (v.empty() || v.size() > 100 || !std::all_of(v.begin(), v.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        }))
      problems.push_back({std::string(field), "must be 1 to 100 letters, digits, '-', '_' or '.'"});
  }
  // A user's id, as a token's sub carries it (auth.cc checks the same).
  void user_id(std::string_view field, const std::optional<ids::user>& v) {
    if (v && !valid_user_id(v->value))
      problems.push_back(
          {std::string(field),
           fmt::format("must be 1 to {} bytes with no control characters", max_user_id)});
  }
  // A link a frontend renders (a meeting's): an absolute http or https URL
  // of at most 2 048 characters, with a host and no spaces or control
  // characters; never javascript: or data:.
  void url(std::string_view field, const std::optional<std::string>& v) {
    if (!v) return;
    if (!web_url(*v, 2048))
      problems.push_back({std::string(field),
                          "must be an absolute https:// or http:// URL of at most 2048 "
                          "characters"});
  }
  void time(std::string_view field, const std::optional<timestamp>& t) {
    if (t && !client_time_in_range(*t))
      problems.push_back({std::string(field), fmt::format("must lie {}", client_time_range)});
  }
  // Invoice or credit note lines: each line's amount and their total within
  // the money bound.
  void lines(std::string_view field, const std::vector<new_invoice_line>& ls) {
    if (ls.empty()) problems.push_back({std::string(field), "must hold at least one line"});
    if (ls.size() > max_invoice_lines)
      problems.push_back(
          {std::string(field), fmt::format("must hold at most {} lines", max_invoice_lines)});
    cents total = 0;  // of the lines in bounds: at most 500 × 10^12, no overflow
    bool lines_fit = true;
    for (std::size_t i = 0; i < ls.size() && i < max_invoice_lines; ++i) {
      const std::string p = fmt::format("{}[{}].", field, i);
      text(p + "description", ls[i].description, max_name);
      range(p + "quantity", ls[i].quantity, 1, max_quantity);
      amount(p + "unit_price_cents", ls[i].unit_price_cents);
      if (ls[i].quantity < 1 || ls[i].quantity > max_quantity || ls[i].unit_price_cents < 0 ||
          ls[i].unit_price_cents > max_amount_cents) {
        lines_fit = false;
        continue;
      }
      const cents line = ls[i].quantity * ls[i].unit_price_cents;  // ≤ 10^18: no overflow
      if (line > max_amount_cents) {
        too_large.push_back({p + "quantity", fmt::format("times unit_price_cents is {} cents, "
                                                         "more than the {} a line may be",
                                                         line, max_amount_cents)});
        lines_fit = false;
      }
      total += line;
    }
    if (lines_fit && total > max_amount_cents)
      too_large.push_back({std::string(field), fmt::format("total {} cents, more than the {} an "
                                                           "invoice may be",
                                                           total, max_amount_cents)});
  }
};

struct validator {
  checker& c;
  void operator()(const register_customer& x) {
    if (x.name)
      c.text("name", *x.name, max_name);
    else if (!x.given_name && !x.family_name)
      c.problems.push_back({"name", "is required (or given_name and family_name)"});
    c.email("email", x.email);
    c.opt_text("phone", x.phone, 50);
    names(x.given_name, x.family_name, x.address);
  }
  void operator()(const update_customer& x) {
    if (x.name) c.text("name", *x.name, max_name);
    c.email("email", x.email);
    c.opt_text("phone", x.phone, 50);
    names(x.given_name, x.family_name, x.address);
  }
  void names(const std::optional<std::string>& given, const std::optional<std::string>& family,
             const std::optional<postal_address>& a) {
    if (given) c.text("given_name", *given, max_name);
    if (family) c.text("family_name", *family, max_name);
    if (!a) return;
    c.opt_text("address.line1", a->line1, max_name);
    c.opt_text("address.line2", a->line2, max_name);
    c.opt_text("address.city", a->city, max_name);
    c.opt_text("address.region", a->region, max_name);
    c.opt_text("address.postal_code", a->postal_code, 20);
    if (a->country && !iso_country(*a->country))
      c.problems.push_back(
          {"address.country", "must be an ISO 3166-1 alpha-2 code in capitals (\"DE\", \"JP\")"});
  }
  void operator()(const deactivate_customer&) {}
  void operator()(const change_subscription&) {}
  void operator()(const register_resource& x) {
    c.text("name", x.name, max_name);
    c.amount("hourly_rate_cents", x.hourly_rate_cents);
  }
  void operator()(const change_resource_rate& x) {
    c.amount("hourly_rate_cents", x.hourly_rate_cents);
  }
  void operator()(const put_item& x) {
    c.id("item_id", x.item_id.value);
    c.text("name", x.name, max_name);
    c.opt_text("unit", x.unit, 50);
    c.opt_text("location", x.location, max_name);
    c.amount("unit_price_cents", x.unit_price_cents);
  }
  void operator()(const receive_stock& x) { c.range("quantity", x.quantity, 1, max_quantity); }
  void operator()(const adjust_stock& x) {
    if (x.delta == 0)
      c.problems.push_back({"delta", "must not be 0"});
    else
      c.range("delta", x.delta, -max_quantity, max_quantity);
    c.text("reason", x.reason, max_name);
  }
  void operator()(const start_session& x) {
    if (x.kind == session_kind::appointment)
      c.problems.push_back(
          {"kind", "must be metered or shopping (appointments are booked: POST /v1/bookings)"});
    if (x.kind == session_kind::metered && !x.resource_id)
      c.problems.push_back({"resource_id", "is required for a metered session"});
    if (x.kind != session_kind::metered && x.resource_id)
      c.problems.push_back({"resource_id", "is only for metered sessions"});
    c.opt_text("notes", x.notes, max_text);
  }
  void operator()(const add_item& x) {
    c.range("quantity", x.quantity, 1, max_quantity);
    if (x.unit_price_cents) c.amount("unit_price_cents", *x.unit_price_cents);
  }
  void operator()(const remove_item&) {}
  void operator()(const adjust_price& x) {
    c.amount("unit_price_cents", x.unit_price_cents);
    c.opt_text("reason", x.reason, max_name);
  }
  void operator()(const pick_item& x) {
    if (x.quantity) c.range("quantity", *x.quantity, 1, max_quantity);
  }
  void operator()(const cancel_session& x) { c.opt_text("reason", x.reason, max_name); }
  void operator()(const expire_session&) {}
  void operator()(const add_note& x) { c.text("text", x.text, max_text); }
  void operator()(const end_session&) {}
  void operator()(const record_payment& x) {
    c.amount("amount_cents", x.amount_cents, 1);
    c.text("method", x.method, 50);
  }
  void operator()(const refund_payment& x) {
    c.amount("amount_cents", x.amount_cents, 1);
    c.text("reason", x.reason, max_name);
  }
  void operator()(const issue_invoice& x) { c.lines("lines", x.lines); }
  void operator()(const request_booking& x) {
    if (x.customer_id && x.customer)
      c.problems.push_back({"customer", "give customer_id or customer, not both"});
    if (!x.customer_id && !x.customer)
      c.problems.push_back({"customer_id", "is required (or customer: {name, email})"});
    if (x.customer) {
      c.text("customer.name", x.customer->name, max_name);
      c.email("customer.email", x.customer->email);
      c.opt_text("customer.phone", x.customer->phone, 50);
    }
    c.text("title", x.title, max_name);
    c.range("duration_minutes", x.duration_minutes, 1, 7 * 24 * 60);
    c.time("scheduled_start", x.scheduled_start);
    c.user_id("host_id", x.host_id);
    c.url("meeting_url", x.meeting_url);
    c.opt_text("notes", x.notes, max_text);
    if (x.price_cents) c.amount("price_cents", *x.price_cents);
    if (x.host_name) c.text("host_name", *x.host_name, max_name);
    if (x.payment) {
      c.amount("payment.amount_cents", x.payment->amount_cents, 1);
      c.text("payment.method", x.payment->method, 50);
    }
  }
  void operator()(const change_session_details& x) {
    if (!x.title.present && !x.notes.present && !x.meeting_url.present && !x.price_cents)
      c.problems.push_back(
          {"body", "give at least one of title, notes, meeting_url (null clears it), price_cents"});
    if (x.title.sets()) c.text("title", *x.title.value, max_name);
    c.opt_text("notes", x.notes.value, max_text);
    c.url("meeting_url", x.meeting_url.value);
    if (x.price_cents) c.amount("price_cents", *x.price_cents);
  }
  void operator()(const give_feedback& x) {
    c.range("rating", x.rating, 1, 5);
    c.opt_text("comment", x.comment, max_text);
  }
  void operator()(const quote_session& x) { c.amount("price_cents", x.price_cents); }
  void operator()(const book_session& x) {
    c.time("scheduled_start", x.scheduled_start);
    c.user_id("host_id", x.host_id);
    if (x.duration_minutes) c.range("duration_minutes", *x.duration_minutes, 1, 7 * 24 * 60);
    if (x.price_cents) c.amount("price_cents", *x.price_cents);
    if (x.host_name) c.text("host_name", *x.host_name, max_name);
  }
  void operator()(const reschedule_session& x) {
    c.time("scheduled_start", x.scheduled_start);
    if (x.duration_minutes) c.range("duration_minutes", *x.duration_minutes, 1, 7 * 24 * 60);
  }
  void operator()(const start_appointment&) {}
  void operator()(const mark_no_show&) {}
  void operator()(const record_attendance& x) {
    c.time("at", x.at);
    c.opt_text("source", x.source, max_name);
  }
  void operator()(const register_webhook& x) {
    c.text("url", x.url, 2000);
    const bool https = x.url.starts_with("https://"), http = x.url.starts_with("http://");
    if (!https && !http)
      c.problems.push_back({"url", "must be an https:// URL (or http:// to an allowed host)"});
    else if (x.url.size() <= (https ? 8u : 7u) ||
             std::any_of(x.url.begin(), x.url.end(),
                         [](unsigned char ch) { return ch <= ' ' || ch == 0x7f; }))
      c.problems.push_back({"url", "must name a host and hold no spaces or control characters"});
    if (x.event_types) {
      if (x.event_types->size() > 100)
        c.problems.push_back({"event_types", "must list at most 100 types"});
      for (std::size_t i = 0; i < x.event_types->size() && i < 100; ++i)
        if (!is_event_type((*x.event_types)[i]))
          c.problems.push_back({fmt::format("event_types[{}]", i),
                                "must be an event type such as SessionEnded (DOMAIN.md)"});
    }
    c.opt_text("description", x.description, max_name);
  }
  void operator()(const remove_webhook&) {}
  void operator()(const resolve_session& x) {
    c.amount("charge_cents", x.charge_cents);
    c.text("reason", x.reason, max_name);
  }
  void operator()(const invoice_session&) {}
  void operator()(const mark_paid&) {}
  void operator()(const issue_credit_note& x) {
    c.text("reason", x.reason, max_name);
    if (x.lines) c.lines("lines", *x.lines);
  }
  void operator()(const change_settings& x) {
    if (x.currency &&
        (x.currency->size() != 3 || !std::all_of(x.currency->begin(), x.currency->end(),
                                                 [](char ch) { return ch >= 'A' && ch <= 'Z'; })))
      c.problems.push_back({"currency", "must be an ISO 4217 code such as USD"});
    auto pct = [&](const char* f, const std::optional<std::int64_t>& v) {
      if (v) c.range(f, *v, 0, 100);
    };
    auto minutes = [&](const char* f, const std::optional<std::int64_t>& v) {
      if (v) c.range(f, *v, 0, 525'600);
    };
    minutes("join_window_minutes", x.join_window_minutes);
    pct("no_show_wait_percent", x.no_show_wait_percent);
    pct("no_show_fee_percent", x.no_show_fee_percent);
    pct("min_payable_percent", x.min_payable_percent);
    pct("platform_fee_percent", x.platform_fee_percent);
    minutes("shopping_timeout_minutes", x.shopping_timeout_minutes);
    if (x.timezone && !zone::find(*x.timezone))
      c.problems.push_back({"timezone", "must be an IANA time zone name such as Europe/Berlin"});
    if (x.live_shopping) {
      if (const auto* mode = std::get_if<std::string>(&*x.live_shopping)) {
        if (*mode != "all" && *mode != "off")
          c.problems.push_back({"live_shopping", "must be \"all\", \"off\" or a list of host ids"});
      } else {
        const auto& hosts = std::get<std::vector<std::string>>(*x.live_shopping);
        if (hosts.size() > 1000)
          c.problems.push_back({"live_shopping", "must list at most 1000 host ids"});
        for (std::size_t i = 0; i < hosts.size() && i < 1000; ++i)
          c.text(fmt::format("live_shopping[{}]", i), hosts[i], max_name);
      }
    }
  }
};

}  // namespace

error amount_too_large(std::string field, std::string_view what, cents amount) {
  std::string message = fmt::format("would make {} {} cents, more than the {} it may be", what,
                                    amount, max_amount_cents);
  std::string detail = field + " " + message;
  return error{errc::amount_too_large, std::move(detail), {{std::move(field), std::move(message)}}};
}

bool valid_user_id(std::string_view id) {
  return !id.empty() && id.size() <= max_user_id && std::none_of(id.begin(), id.end(), [](char ch) {
    return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
  });
}

std::optional<error> check_fields(const command& cmd) {
  checker c;
  std::visit(validator{c}, cmd);
  if (!c.problems.empty()) {
    std::string detail = c.problems.front().field + " " + c.problems.front().message;
    return error{errc::invalid_request, std::move(detail), std::move(c.problems)};
  }
  if (!c.too_large.empty()) {
    std::string detail = c.too_large.front().field + " " + c.too_large.front().message;
    return error{errc::amount_too_large, std::move(detail), std::move(c.too_large)};
  }
  return std::nullopt;
}

std::vector<field_problem> validate(const command& cmd) {
  checker c;
  std::visit(validator{c}, cmd);
  c.problems.insert(c.problems.end(), c.too_large.begin(), c.too_large.end());
  return std::move(c.problems);
}

}  // namespace tally
