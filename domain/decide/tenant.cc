// Tenant settings and webhooks.

#include "domain/decide/decider.h"

#include "base/zone.h"

#include <algorithm>

namespace tally::deciding {

result<decision> decider::operator()(const register_webhook& x) const {
  webhook_registered ev{ids::webhook{ctx.new_id()}, x.url,
                        x.event_types.value_or(std::vector<std::string>{}), x.description};
  const std::string target = keys::webhook(ev.webhook_id);
  return decision{{std::move(ev)}, target, {}};
}

result<decision> decider::operator()(const remove_webhook& x) const {
  const auto* w = s.find_as<webhook_state>(keys::webhook(x.webhook_id));
  if (!w || !w->active) return not_found("webhook", x.webhook_id.value);
  return decision{{webhook_removed{w->webhook_id, w->url}}, keys::webhook(x.webhook_id), {}};
}

result<decision> decider::operator()(const change_settings& x) const {
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

}  // namespace tally::deciding
