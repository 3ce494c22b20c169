#include "listen_address.h"

#include <boost/asio/io_context.hpp>
#include <charconv>
#include <string>

namespace tidewater::server {

Result<boost::asio::ip::tcp::endpoint> ParseListenAddress(std::string_view text) {
  const Status invalid =
      Status::Validation("--listen must be HOST:PORT, got '" + std::string(text) + "'");
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return invalid;
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return invalid;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code error;
  auto address = boost::asio::ip::make_address(std::string(host), error);
  if (error) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    auto results = resolver.resolve(std::string(host), std::to_string(port), error);
    if (error || results.empty()) {
      return Status::Validation("--listen host '" + std::string(host) +
                                "' does not resolve: " + error.message());
    }
    return results.begin()->endpoint();
  }
  return boost::asio::ip::tcp::endpoint(address, static_cast<uint16_t>(port));
}

bool IsLoopback(const boost::asio::ip::tcp::endpoint& endpoint) {
  const boost::asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .is_loopback();
  }
  return address.is_loopback();
}

}  // namespace tidewater::server
