#include "actors/reply_cache.hpp"

namespace infermesh {

void reply_cache::forget_old(clock::time_point now) {
  while (!answered_order_.empty() &&
         (answered_order_.front().first <= now || answered_order_.size() > max_entries_)) {
    auto found = entries_.find(answered_order_.front().second);
    if (found != entries_.end() && found->second.answer && found->second.expires == answered_order_.front().first)
      entries_.erase(found);
    answered_order_.pop_front();
  }
}

reply_cache::seen reply_cache::admit(const std::string& id, const asker& who, clock::time_point now, reply* answer) {
  forget_old(now);
  auto [it, inserted] = entries_.try_emplace(id);
  if (inserted) return seen::new_id;
  if (!it->second.answer) {
    it->second.waiting.push_back(who);
    return seen::in_flight;
  }
  *answer = *it->second.answer;
  return seen::answered;
}

std::vector<reply_cache::asker> reply_cache::complete(const std::string& id, const reply& answer,
                                                      clock::time_point now, bool remember) {
  auto found = entries_.find(id);
  if (found == entries_.end()) return {};
  auto waiting = std::move(found->second.waiting);
  if (!remember || max_entries_ == 0 || ttl_.count() == 0) {
    entries_.erase(found);
    return waiting;
  }
  found->second.answer = answer;
  found->second.waiting.clear();
  found->second.expires = now + ttl_;
  answered_order_.emplace_back(found->second.expires, id);
  forget_old(now);
  return waiting;
}

}  // namespace infermesh
