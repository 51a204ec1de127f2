#include "commands/write_model.h"

#include "domain/state_codec.h"

namespace tally::commands {

std::string aggregate_store_key(const ids::tenant& tenant, std::string_view key) {
  std::string out = "a/";
  out += tenant.value;
  out += '/';
  out += key;
  return out;
}

namespace {
std::string_view local_key(std::string_view full_key) {
  // "a/<tenant>/<key>"
  const auto slash = full_key.find('/', 2);
  return slash == std::string_view::npos ? full_key : full_key.substr(slash + 1);
}
}  // namespace

write_model::write_model(ports::kv_store& store, std::size_t cache_capacity)
    : store_(store), capacity_(std::max<std::size_t>(cache_capacity, 16)) {}

write_model::slot& write_model::working(const std::string& full_key) {
  auto it = working_.find(full_key);
  if (it != working_.end()) return it->second;
  slot s;
  if (auto c = cache_.find(full_key); c != cache_.end()) {
    s.value = c->second.first;
    lru_.splice(lru_.begin(), lru_, c->second.second);
  } else if (auto stored = store_.get(full_key)) {
    s.value = decode_aggregate(local_key(full_key), *stored);
    if (!s.value) throw std::runtime_error("unreadable state under " + full_key);
  }
  return working_.emplace(full_key, std::move(s)).first->second;
}

const aggregate* write_model::tenant_state::find(std::string_view key) const {
  auto& s = model_.working(aggregate_store_key(tenant_, key));
  return s.value ? &*s.value : nullptr;
}

aggregate* write_model::tenant_state::find_mut(std::string_view key) {
  auto& s = model_.working(aggregate_store_key(tenant_, key));
  if (!s.value) return nullptr;
  s.dirty = true;
  return &*s.value;
}

aggregate& write_model::tenant_state::put(std::string_view key, aggregate value) {
  auto& s = model_.working(aggregate_store_key(tenant_, key));
  s.value = std::move(value);
  s.dirty = true;
  return *s.value;
}

void write_model::tenant_state::erase(std::string_view key) {
  auto& s = model_.working(aggregate_store_key(tenant_, key));
  s.value.reset();
  s.dirty = true;
}

void write_model::stage(ports::kv_batch& batch) const {
  for (const auto& [key, s] : working_) {
    if (!s.dirty) continue;
    if (s.value)
      batch.put(key, encode_aggregate(*s.value));
    else
      batch.erase(key);
  }
}

void write_model::commit() {
  for (auto& [key, s] : working_) {
    auto c = cache_.find(key);
    if (!s.value) {
      if (c != cache_.end()) {
        lru_.erase(c->second.second);
        cache_.erase(c);
      }
      continue;
    }
    if (c != cache_.end()) {
      c->second.first = std::move(*s.value);
      lru_.splice(lru_.begin(), lru_, c->second.second);
    } else {
      lru_.push_front(key);
      cache_.emplace(key, std::make_pair(std::move(*s.value), lru_.begin()));
    }
  }
  working_.clear();
  while (lru_.size() > capacity_) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
}

void write_model::discard() { working_.clear(); }

void write_model::clear() {
  working_.clear();
  cache_.clear();
  lru_.clear();
}

std::string write_model::checkpoint_key(std::int32_t partition) {
  return "m/checkpoint/" + std::to_string(partition);
}

std::optional<std::int64_t> write_model::checkpoint(std::int32_t partition) const {
  auto v = store_.get(checkpoint_key(partition));
  if (!v) return std::nullopt;
  return std::stoll(*v);
}

}  // namespace tally::commands
