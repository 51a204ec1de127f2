// tally-contracts: prints the JSON Schemas of what the server sends, derived
// from the described types it encodes (base/json_schema.h): the answers'
// types for docs/openapi.json and every event's data for
// docs/asyncapi.json. scripts/contracts.py puts them into the documents
// (--write) and checks that they are there (ctest: contracts.*).

#include "base/json_schema.h"
#include "domain/events.h"
#include "domain/views.h"
#include "projections/analytics.h"
#include "webhooks/dispatcher.h"

#include <iostream>

int main() {
  using namespace tally;
  json::schema_registry api("#/components/schemas/");
  // Names the documents have used since before they were generated.
  api.name<active_session_entry>("ActiveSession");
  api.name<line_answer>("LineAdded");
  api.name<session_cost>("Cost");
  api.name<projections::customer_stats_view>("CustomerStats");
  api.name<webhooks::delivery_view>("Delivery");
  (void)api.schema<session_view>();
  (void)api.schema<line_answer>();
  (void)api.schema<active_session_entry>();
  (void)api.schema<pick_session_view>();
  (void)api.schema<customer_view>();
  (void)api.schema<resource_view>();
  (void)api.schema<item_view>();
  (void)api.schema<webhook_view>();
  (void)api.schema<invoice_view>();
  (void)api.schema<settings_view>();
  (void)api.schema<session_cost>();
  (void)api.schema<projections::customer_stats_view>();
  (void)api.schema<projections::analytics_summary>();
  (void)api.schema<projections::picking_summary>();
  (void)api.schema<webhooks::delivery_view>();

  json::schema_registry events("#/components/schemas/");
  boost::json::object types;  // event type -> the schema of its data
  [&]<class... A>(std::variant<A...>*) {
    (
        [&] {
          const std::string type(type_of(event_data{A{}}));
          events.name<A>(type);
          types[type] = events.schema<A>();
        }(),
        ...);
  }(static_cast<event_data*>(nullptr));

  boost::json::object out;
  boost::json::object a, e;
  for (const auto& [k, v] : api.definitions()) a[k] = v;
  for (const auto& [k, v] : events.definitions()) e[k] = v;
  out["openapi"] = std::move(a);
  out["asyncapi"] = std::move(e);
  out["event_types"] = std::move(types);
  std::cout << boost::json::serialize(out) << "\n";
  return 0;
}
