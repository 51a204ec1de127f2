#pragma once

// JSON Schema (draft 2020-12, as OpenAPI 3.1 and AsyncAPI 3 read it) for
// every type base/json.h writes, derived from the same descriptions, so
// that the documents (docs/openapi.json, docs/asyncapi.json) state what the
// server sends and cannot drift from it (tools/contracts.cc prints them,
// scripts/contracts.py puts them in the documents and checks them).
//
// What json::write does, the schema says: every member is present (an
// empty std::optional is written as null); enums are their names;
// timestamps are RFC 3339 strings; strong ids strings, strong integers
// integers; a variant is any of its alternatives.
//
// A described struct becomes a named schema in the registry and a $ref
// where it is used. Its name is the type's own in CamelCase, without a
// trailing _view or _entry (session_view: Session), unless the caller
// names it first.

#include "base/json.h"

#include <boost/core/type_name.hpp>

#include <map>
#include <string>

namespace tally::json {

class schema_registry {
 public:
  explicit schema_registry(std::string ref_prefix) : prefix_(std::move(ref_prefix)) {}

  // The schema of T: inline for scalars and containers, a $ref for a
  // described struct (whose definition is added to definitions()).
  template <class T>
  boost::json::value schema();

  // Names T's schema (before it is first used).
  template <class T>
  void name(std::string n) {
    names_[std::string(boost::core::type_name<T>())] = std::move(n);
  }
  template <class T>
  std::string name_of() const {
    const std::string full = boost::core::type_name<T>();
    if (auto it = names_.find(full); it != names_.end()) return it->second;
    return default_name(full);
  }

  [[nodiscard]] const std::map<std::string, boost::json::value>& definitions() const {
    return defs_;
  }

  static std::string default_name(std::string_view full_type_name);

 private:
  std::string prefix_;
  std::map<std::string, std::string> names_;
  std::map<std::string, boost::json::value> defs_;
};

template <class T>
boost::json::value schema_registry::schema() {
  using boost::json::array;
  using boost::json::object;
  if constexpr (is_optional<T>::value) {
    return object{{"oneOf", array{schema<typename T::value_type>(), object{{"type", "null"}}}}};
  } else if constexpr (is_patch<T>::value) {
    using V = typename decltype(T{}.value)::value_type;
    return object{{"oneOf", array{schema<V>(), object{{"type", "null"}}}}};
  } else if constexpr (std::is_same_v<T, raw>) {
    return object{};
  } else if constexpr (std::is_same_v<T, bool>) {
    return object{{"type", "boolean"}};
  } else if constexpr (std::is_integral_v<T> || int_wrapper<T>) {
    return object{{"type", "integer"}};
  } else if constexpr (std::is_same_v<T, std::string> || string_wrapper<T>) {
    return object{{"type", "string"}};
  } else if constexpr (std::is_same_v<T, timestamp>) {
    return object{{"type", "string"}, {"format", "date-time"}};
  } else if constexpr (std::is_enum_v<T>) {
    array names;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>(
        [&](auto d) { names.emplace_back(d.name); });
    return object{{"type", "string"}, {"enum", std::move(names)}};
  } else if constexpr (is_vector<T>::value) {
    return object{{"type", "array"}, {"items", schema<typename T::value_type>()}};
  } else if constexpr (is_variant<T>::value) {
    array alts;
    [&]<class... A>(std::variant<A...>*) {
      (alts.push_back(schema<A>()), ...);
    }(static_cast<T*>(nullptr));
    return object{{"oneOf", std::move(alts)}};
  } else if constexpr (is_string_map<T>::value) {
    return object{{"type", "object"}, {"additionalProperties", schema<typename T::mapped_type>()}};
  } else {
    static_assert(boost::describe::has_describe_members<T>::value,
                  "tally::json has no schema for this type: describe it");
    const std::string n = name_of<T>();
    if (!defs_.contains(n)) {
      defs_[n] = object{};  // a placeholder: recursion ends here
      object props;
      array required;
      boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
          [&](auto d) {
            using member_t = std::remove_cvref_t<decltype(std::declval<T>().*d.pointer)>;
            const std::string field(field_name(d.name));
            props[field] = schema<member_t>();
            required.emplace_back(field);
          });
      defs_[n] = object{
          {"type", "object"}, {"required", std::move(required)}, {"properties", std::move(props)}};
    }
    return object{{"$ref", prefix_ + n}};
  }
}

}  // namespace tally::json
