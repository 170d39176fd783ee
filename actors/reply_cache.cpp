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

reply_cache::admission reply_cache::admit(const key& k, const request_fingerprint& fp, const asker& who,
                                          clock::time_point now) {
  forget_old(now);
  admission out;
  auto [it, inserted] = entries_.try_emplace(k);
  if (inserted) {
    it->second.fingerprint = fp;
    return out;
  }
  out.differs_in = first_difference(it->second.fingerprint, fp);
  if (!out.differs_in.empty()) {
    out.verdict = seen::other_request;
    return out;
  }
  if (!it->second.answer) {
    if (it->second.waiting.size() >= max_waiters_) {
      out.verdict = seen::too_many_waiters;
      return out;
    }
    it->second.waiting.push_back(who);
    out.verdict = seen::in_flight;
    return out;
  }
  out.verdict = seen::answered;
  out.answer = *it->second.answer;
  return out;
}

std::vector<reply_cache::asker> reply_cache::complete(const key& k, const reply& answer, clock::time_point now,
                                                      bool remember) {
  auto found = entries_.find(k);
  if (found == entries_.end()) return {};
  auto waiting = std::move(found->second.waiting);
  if (!remember || max_entries_ == 0 || ttl_.count() == 0) {
    entries_.erase(found);
    return waiting;
  }
  found->second.answer = answer;
  found->second.waiting.clear();
  found->second.expires = now + ttl_;
  answered_order_.emplace_back(found->second.expires, k);
  forget_old(now);
  return waiting;
}

}  // namespace infermesh
