#include "xj/alerts/group_message.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "xj/alerts/message_template.hpp"

namespace xj::alerts {
namespace {

std::string_view tpl_of(const MessageContext& ctx, std::string_view name) { return message_template(ctx.locale, name); }

std::string render(const MessageContext& ctx, std::string_view name, const TemplateVars& v) {
  return trim_newline(render_template(tpl_of(ctx, name), v));
}

// group_words: {{#key}}word{{/key}}, with n and count for "others".
std::string word(const MessageContext& ctx, const std::string& key, TemplateVars v = {}) {
  v[key] = "1";
  return render(ctx, "group_words", v);
}

std::string field(const OutboxMessage& m, const std::string& name) {
  auto it = m.fields.find(name);
  return it == m.fields.end() ? std::string() : it->second;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// 0 critical, 1 warning, 2 unknown, then the same for reminders and escalations (3..5), then
// recoveries (6): what needs a person most comes first.
int rank_of(const OutboxMessage& m) {
  const std::string sev = field(m, "severity");
  const int s = sev == "critical" ? 0 : sev == "warning" ? 1 : 2;
  if (m.transition == "resolved") return 6;
  if (m.transition == "firing") return s;
  return 3 + s;
}

std::string severity_word(const MessageContext& ctx, int rank) {
  if (rank == 6) return word(ctx, "resolved");
  const char* names[] = {"severity_critical", "severity_warning", "severity_unknown"};
  return trim_newline(tpl_of(ctx, names[rank % 3]));
}

std::string label_of(const MessageContext& ctx, const OutboxMessage& m, int rank) {
  std::string l = severity_word(ctx, rank);
  if (starts_with(m.transition, "repeat")) l += "·" + word(ctx, "repeat");
  if (starts_with(m.transition, "escalate")) l += "·" + word(ctx, "escalate");
  return l;
}

std::size_t chars_of(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// "db-01 12、web-02 10、其他 3 个共 7 条": the biggest first, at most `top`, the rest summed.
std::string tally(const MessageContext& ctx, const std::map<std::string, std::size_t>& counts, std::size_t top) {
  std::vector<std::pair<std::string, std::size_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  const std::string sep = word(ctx, "list_sep");
  std::string out;
  std::size_t rest_n = 0, rest_count = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i >= top) {
      ++rest_n;
      rest_count += v[i].second;
      continue;
    }
    out += (out.empty() ? "" : sep) + (v[i].first.empty() ? "-" : v[i].first) + " " + std::to_string(v[i].second);
  }
  if (rest_n > 0) {
    out += sep + word(ctx, "others", {{"n", std::to_string(rest_n)}, {"count", std::to_string(rest_count)}});
  }
  return out;
}

bool fits(std::string_view s, std::size_t max_bytes, std::size_t max_chars) {
  return s.size() <= max_bytes && (max_chars == 0 || chars_of(s) <= max_chars);
}

}  // namespace

std::vector<GroupMember> group_members(const std::vector<const OutboxMessage*>& rows) {
  std::vector<GroupMember> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const OutboxMessage* r : rows) {
    if (!seen.insert({r->fingerprint, r->transition}).second) continue;
    out.push_back({r, rank_of(*r)});
  }
  return out;
}

std::string render_combined(const std::vector<const OutboxMessage*>& rows, bool digest, const std::string& group,
                            const MessageContext& ctx, std::size_t max_bytes, std::size_t max_chars) {
  auto members = group_members(rows);
  std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.rank < b.rank; });
  // Every count is over all members, whatever the listing below has room for.
  std::size_t by_rank[7] = {};
  std::map<std::string, std::size_t> systems, hosts;
  for (const auto& m : members) {
    ++by_rank[m.rank];
    ++systems[field(*m.row, "system")];
    ++hosts[field(*m.row, "host")];
  }
  const std::string sep = word(ctx, "sep");
  std::string counts;
  auto add_count = [&](const std::string& w, std::size_t n) {
    if (n > 0) counts += (counts.empty() ? "" : sep) + w + " " + std::to_string(n);
  };
  for (int s = 0; s < 3; ++s) add_count(severity_word(ctx, s), by_rank[s]);
  add_count(word(ctx, "repeat") + "/" + word(ctx, "escalate"), by_rank[3] + by_rank[4] + by_rank[5]);
  add_count(word(ctx, "resolved"), by_rank[6]);

  TemplateVars v{{"count", std::to_string(members.size())},
                 {"counts", counts},
                 {"group", group},
                 {"systems", tally(ctx, systems, 5)},
                 {"hosts", tally(ctx, hosts, 5)},
                 {"host_count", std::to_string(hosts.size())}};
  // The title: the most severe member ("已恢复" when every member is a recovery).
  v["severity"] = members.empty() ? "" : severity_word(ctx, members.front().rank);
  if (!ctx.console_url.empty()) {
    std::string base = ctx.console_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    v["link"] = digest ? base : base + "/hosts/" + field(*members.front().row, "host");
  }
  std::vector<std::string> lines;
  lines.reserve(members.size());
  for (const auto& m : members) {
    TemplateVars iv{{"label", label_of(ctx, *m.row, m.rank)},
                    {"host", field(*m.row, "host")},
                    {"check", field(*m.row, "check")},
                    {"summary", truncate_utf8(field(*m.row, "summary"), 160, 60)}};
    lines.push_back(render(ctx, "group_item", iv));
  }
  const std::string name = std::string(ctx.style == TextStyle::kSms ? "sms_" : "") + (digest ? "digest" : "group");
  if (ctx.style == TextStyle::kSms) {
    // One line: the counts, and the most severe item when there is room.
    if (!members.empty()) {
      v["first"] = field(*members.front().row, "host") + " " + field(*members.front().row, "check");
    }
    std::string text = render(ctx, name, v);
    if (!fits(text, max_bytes, max_chars)) {
      v.erase("first");
      text = render(ctx, name, v);
    }
    return truncate_utf8(text, max_bytes, max_chars);
  }
  auto styled = [&](const TemplateVars& tv) {
    std::string md = render(ctx, name, tv);
    return ctx.style == TextStyle::kMarkdown ? md : plain_text(md);
  };
  // The frame with the longest "more" it can have, then as many items as the rest holds.
  TemplateVars frame = v;
  frame["more"] = std::to_string(members.size());
  const std::string base = styled(frame);
  std::size_t used_bytes = base.size(), used_chars = chars_of(base), listed = 0;
  for (; listed < lines.size(); ++listed) {
    const std::size_t b = lines[listed].size() + 1, c = chars_of(lines[listed]) + 1;
    if (used_bytes + b > max_bytes || (max_chars != 0 && used_chars + c > max_chars)) break;
    used_bytes += b;
    used_chars += c;
  }
  for (;;) {
    std::string items;
    for (std::size_t i = 0; i < listed; ++i) items += (i == 0 ? "" : "\n") + lines[i];
    v["items"] = items;
    if (listed < members.size()) {
      v["more"] = std::to_string(members.size() - listed);
    } else {
      v.erase("more");
    }
    std::string text = styled(v);
    if (fits(text, max_bytes, max_chars) || listed == 0) return truncate_utf8(text, max_bytes, max_chars);
    --listed;
  }
}

std::string combined_key(bool digest, const std::vector<const OutboxMessage*>& rows) {
  // FNV-1a over the member keys in row order (the outbox's id order, stable across restarts).
  std::uint64_t h = 1469598103934665603ULL;
  for (const OutboxMessage* r : rows) {
    for (unsigned char c : r->idempotency_key) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= '\n';
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(digest ? "digest-" : "group-") + std::to_string(rows.size()) + "-" + hex;
}

}  // namespace xj::alerts
