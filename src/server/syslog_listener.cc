#include "server/syslog_listener.h"

#include <boost/asio.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "engine/log_pipeline.h"
#include "ingest/syslog.h"

namespace vigil {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

Result<std::pair<std::string, uint16_t>> HostPort(const std::string& s) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("syslog address \"" + s + "\" must be host:port");
  std::string host = s.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  int port = -1;
  try {
    port = std::stoi(s.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535) return Status::InvalidArgument("syslog address \"" + s + "\" has an invalid port");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace

struct SyslogListener::Impl : std::enable_shared_from_this<SyslogListener::Impl> {
  Engine* engine;
  asio::io_context io;
  std::unique_ptr<udp::socket> udp_socket;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<char> datagram = std::vector<char>(65536);
  udp::endpoint sender;
  std::thread thread;
  Counters counters;
  std::atomic<bool> stopping{false};

  void Deliver(const std::vector<std::string>& messages, const char* transport, bool may_wait) {
    LogBatch batch;
    for (const std::string& m : messages) {
      auto r = ParseSyslogMessage(m, engine->NowMs());
      counters.messages.fetch_add(1);
      if (!r.ok()) {
        if (counters.rejected.fetch_add(1) < 10) spdlog::warn("syslog/{}: message refused: {}", transport, r.status().message());
        continue;
      }
      std::vector<Label> ls = r->labels.items();
      ls.push_back({"transport", transport});
      std::sort(ls.begin(), ls.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
      r->labels = Labels::FromSorted(std::move(ls));
      batch.records.push_back(std::move(*r));
    }
    if (batch.records.empty()) return;
    for (int attempt = 0;; ++attempt) {
      size_t n = batch.records.size();
      auto out = engine->logs()->Ingest(&batch);
      if (out.ok()) return;
      if (!may_wait || attempt >= 100 || stopping.load()) {
        counters.dropped_full.fetch_add(n);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void ReceiveUdp() {
    udp_socket->async_receive_from(asio::buffer(datagram), sender, [this](boost::system::error_code ec, size_t n) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
      } else {
        Deliver({std::string(datagram.data(), n)}, "udp", false);
      }
      ReceiveUdp();
    });
  }

  struct Connection : std::enable_shared_from_this<Connection> {
    Impl* owner;
    tcp::socket socket;
    SyslogFramer framer;
    std::vector<char> buf = std::vector<char>(16384);
    Connection(Impl* o, tcp::socket s) : owner(o), socket(std::move(s)) {}
    void Read() {
      auto self = shared_from_this();
      socket.async_read_some(asio::buffer(buf), [self](boost::system::error_code ec, size_t n) {
        std::vector<std::string> messages;
        if (ec) {
          self->framer.Finish(&messages);
          self->owner->Deliver(messages, "tcp", true);
          return;
        }
        Status st = self->framer.Feed(std::string_view(self->buf.data(), n), &messages);
        self->owner->Deliver(messages, "tcp", true);
        if (!st.ok()) {
          spdlog::warn("syslog/tcp: closing a connection: {}", st.message());
          boost::system::error_code ignored;
          self->socket.close(ignored);
          return;
        }
        self->Read();
      });
    }
  };

  void Accept() {
    acceptor->async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        counters.connections.fetch_add(1);
        std::make_shared<Connection>(this, std::move(s))->Read();
      }
      Accept();
    });
  }
};

SyslogListener::SyslogListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyslogListener::~SyslogListener() { Stop(); }

Result<std::unique_ptr<SyslogListener>> SyslogListener::Start(Engine* engine, const std::string& udp_addr,
                                                              const std::string& tcp_addr) {
  auto impl = std::make_unique<Impl>();
  impl->engine = engine;
  try {
    if (!udp_addr.empty()) {
      auto hp = HostPort(udp_addr);
      if (!hp.ok()) return hp.status();
      udp::endpoint ep(asio::ip::make_address(hp->first), hp->second);
      impl->udp_socket = std::make_unique<udp::socket>(impl->io, ep);
      impl->udp_socket->set_option(asio::socket_base::receive_buffer_size(4 << 20));
      impl->ReceiveUdp();
    }
    if (!tcp_addr.empty()) {
      auto hp = HostPort(tcp_addr);
      if (!hp.ok()) return hp.status();
      tcp::endpoint ep(asio::ip::make_address(hp->first), hp->second);
      impl->acceptor = std::make_unique<tcp::acceptor>(impl->io, ep, /*reuse_address=*/true);
      impl->Accept();
    }
  } catch (const std::exception& e) {
    return Status::IOError(std::string("syslog listener: cannot bind: ") + e.what());
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<SyslogListener>(new SyslogListener(std::move(impl)));
}

void SyslogListener::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t SyslogListener::udp_port() const { return impl_->udp_socket ? impl_->udp_socket->local_endpoint().port() : 0; }
uint16_t SyslogListener::tcp_port() const { return impl_->acceptor ? impl_->acceptor->local_endpoint().port() : 0; }
const SyslogListener::Counters& SyslogListener::counters() const { return impl_->counters; }

}  // namespace vigil
