// POST /v1/sessions/bulk: one command per session, decided as one request
// (commands::command_request::bulk), so that one Idempotency-Key covers the
// whole list like any other command's (API.md).

#include "gateway/api_impl.h"

#include <boost/json.hpp>

namespace tally::gateway {

void api::impl::bulk(const call_ptr& c, bulk_request body) {
  commands::command_request req;
  for (const auto& sid : body.session_ids) {
    const ids::session id{sid};
    command cmd;
    switch (body.action) {
      case bulk_action::end:
        cmd = end_session{id};
        break;
      case bulk_action::cancel:
        cmd = cancel_session{id, std::string("bulk cancel")};
        break;
      case bulk_action::mark_paid:
        cmd = mark_paid{id, "bulk"};
        break;
    }
    std::optional<error> refused;
    if (!valid_path_id(sid)) refused = make_error(errc::not_found, "session does not exist");
    req.bulk.push_back({sid, std::move(cmd), std::move(refused)});
  }
  // Each item's result as problem details, with its HTTP status; an id that
  // cannot be a session is one that does not exist.
  submit_request(c, std::move(req), 200, [](const std::string& decided) {
    commands::bulk_answer answer;
    if (!json::parse(decided, answer, json::mode::lenient).empty())
      return std::string(R"({"results":[]})");
    std::string out = R"({"results":[)";
    for (std::size_t k = 0; k < answer.results.size(); ++k) {
      const auto& r = answer.results[k];
      out += k ? "," : "";
      out += R"({"session_id":)" + boost::json::serialize(boost::json::string(r.id));
      if (!r.code) {
        out += R"(,"status":200})";
        continue;
      }
      error e{code_named(*r.code).value_or(errc::internal), r.detail, {}};
      for (const auto& f : r.fields) e.fields.push_back({f.field, f.message});
      const auto p = problem_response(e);
      out += R"(,"status":)" + std::to_string(p.status) + R"(,"problem":)" + p.body + "}";
    }
    return out + "]}";
  });
}

}  // namespace tally::gateway
