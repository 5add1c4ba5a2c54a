// The only Beast translation unit of the benchmarks: one coroutine per keep-alive connection,
// all on one thread, so the shared state needs no locks.
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "load.hpp"
#include "synthetic.hpp"

namespace xj::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct AgentState {
  std::int64_t next_seq = 1;
  std::uint64_t round = 0;  // rounds acknowledged
  bool busy = false;        // a batch of this agent is in flight
};

struct Shared {
  const LoadOptions& o;
  tcp::endpoint endpoint;
  std::vector<AgentState> agents;
  std::size_t cursor = 0;        // round robin over the agents
  std::size_t agents_seen = 0;   // agents with at least one acknowledged batch
  bool window_open = false, stopping = false;
  std::uint64_t progress_results = 0;
  LoadStats stats;
};

std::string reason_of(const std::string& what) { return what.substr(0, 60); }

void fail(Shared& s, const std::string& reason) {
  ++s.stats.failed_requests;
  ++s.stats.failures[reason_of(reason)];
}

awaitable<void> worker(Shared& s) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  beast::flat_buffer buffer;
  std::string body;
  const std::size_t n = s.agents.size();
  while (!s.stopping) {
    // The next idle agent; with more agents than connections that is simply the next one.
    std::size_t agent = s.cursor++ % n;
    for (std::size_t tries = 0; s.agents[agent].busy && tries < n; ++tries) agent = s.cursor++ % n;
    AgentState& a = s.agents[agent];
    if (a.busy) {
      asio::steady_timer t(ex, std::chrono::milliseconds(1));
      co_await t.async_wait(asio::use_awaitable);
      continue;
    }
    a.busy = true;
    // One batch = one round of every check, as an agent ships after each scheduler tick.
    const std::int64_t first_seq = a.next_seq;
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    body.clear();
    body += "{\"agent\":";
    append_wire_agent(body, agent);
    body += ",\"results\":[";
    for (std::size_t c = 0; c < s.o.checks; ++c) {
      if (c > 0) body.push_back(',');
      // Checks of one tick start a few ms apart; ts stays increasing per check across rounds.
      Result r = make_result(agent, c, a.round, now_ms - static_cast<std::int64_t>(s.o.checks - c));
      append_wire_result(body, r, first_seq + static_cast<std::int64_t>(c));
    }
    body += "]}";
    const std::int64_t last_seq = first_seq + static_cast<std::int64_t>(s.o.checks) - 1;
    a.next_seq = last_seq + 1;

    http::request<http::string_body> req{http::verb::post, "/api/v1/results", 11};
    req.set(http::field::host, s.endpoint.address().to_string());
    req.set(http::field::authorization, "Bearer " + s.o.tokens[agent]);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "xunjian-bench-ingest");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();

    http::response<http::string_body> res;
    beast::error_code ec;
    Clock::time_point started;
    // A transport error means the batch may or may not be stored: send the same seqs again
    // on a new connection, as the agent's shipper does; the collector drops duplicates.
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt > 0) ++s.stats.retries;
      ec = {};
      if (!stream.socket().is_open()) {
        stream.expires_after(std::chrono::seconds(30));
        co_await stream.async_connect(s.endpoint, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) continue;
        stream.socket().set_option(tcp::no_delay(true));
      }
      started = Clock::now();
      stream.expires_after(std::chrono::seconds(60));
      co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        res = {};
        co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
      }
      if (!ec) break;
      beast::error_code ignored;
      stream.socket().close(ignored);
      buffer.clear();
    }
    const double latency_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    a.busy = false;
    ++s.stats.requests;
    s.stats.sent_results += s.o.checks;
    s.stats.body_bytes += body.size();
    if (ec) {
      fail(s, "transport: " + ec.message());
      continue;
    }
    if (!res.keep_alive()) {
      beast::error_code ignored;
      stream.socket().close(ignored);
    }
    if (res.result_int() != 200) {
      fail(s, "HTTP " + std::to_string(res.result_int()) + ": " + res.body());
      continue;
    }
    auto j = nlohmann::json::parse(res.body(), nullptr, false);
    if (j.is_discarded() || !j.contains("accepted") || !j.contains("ack_seq")) {
      fail(s, "bad answer: " + res.body());
      continue;
    }
    const auto accepted = j["accepted"].get<std::uint64_t>();
    s.stats.accepted += accepted;
    s.stats.duplicates += j.value("duplicates", std::uint64_t{0});
    s.progress_results += accepted;
    if (j["ack_seq"].get<std::int64_t>() != last_seq || accepted != s.o.checks) ++s.stats.bad_acks;
    if (a.round++ == 0) ++s.agents_seen;
    if (s.window_open) {
      ++s.stats.window_requests;
      s.stats.window_results += accepted;
      s.stats.window_body_bytes += body.size();
      s.stats.latencies_ms.push_back(latency_ms);
    }
  }
}

awaitable<void> sleep_for(double seconds) {
  asio::steady_timer t(co_await asio::this_coro::executor,
                       std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
  co_await t.async_wait(asio::use_awaitable);
}

// Warm-up until every agent has posted once (its hosts, checks and series rows exist, as on
// a collector that has been running), then the measured window, then stop.
awaitable<void> controller(Shared& s) {
  const auto begin = Clock::now();
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  auto last_print = Clock::now();
  std::uint64_t last_results = 0;
  auto progress = [&](const char* phase) {
    if (since(last_print) < 5) return;
    const double rate = static_cast<double>(s.progress_results - last_results) / since(last_print);
    std::cerr << "ingest_load: " << phase << " t=" << static_cast<int>(since(begin))
              << "s agents_seen=" << s.agents_seen << " results/s=" << static_cast<long>(rate)
              << " failed=" << s.stats.failed_requests << "\n";
    last_print = Clock::now();
    last_results = s.progress_results;
  };
  while (since(begin) < s.o.warmup_s || s.agents_seen < s.agents.size()) {
    if (since(begin) > s.o.warmup_max_s) {
      s.stats.warmup_timed_out = true;
      break;
    }
    co_await sleep_for(0.1);
    progress("warm-up");
  }
  s.stats.warmup_s = since(begin);
  if (s.o.on_window_start) s.o.on_window_start();
  const auto window_begin = Clock::now();
  s.window_open = true;
  while (since(window_begin) < s.o.duration_s) {
    co_await sleep_for(std::min(0.1, s.o.duration_s - since(window_begin)));
    progress("measure");
  }
  s.window_open = false;
  s.stats.window_s = since(window_begin);
  if (s.o.on_window_end) s.o.on_window_end();
  s.stopping = true;
}

}  // namespace

LoadStats run_load(const LoadOptions& o) {
  asio::io_context io(1);
  Shared s{o, tcp::endpoint(asio::ip::make_address(o.host), o.port), {}, 0, 0, false, false, 0, {}};
  s.agents.resize(o.tokens.size());
  for (std::size_t i = 0; i < o.concurrency; ++i) asio::co_spawn(io, worker(s), asio::detached);
  asio::co_spawn(io, controller(s), asio::detached);
  io.run();
  return std::move(s.stats);
}

}  // namespace xj::bench
