// Parsing --listen HOST:PORT (IPv4 address, [IPv6] address, or a host name that resolves),
// and telling loopback addresses apart (authentication may be off only on those).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater::server {

// Validation error for text that is not HOST:PORT with PORT in 0..65535.
Result<boost::asio::ip::tcp::endpoint> ParseListenAddress(std::string_view text);

// Whether a listener on `endpoint` is reachable from this host only: 127.0.0.0/8, ::1, or
// an IPv4-mapped 127.x address. 0.0.0.0 and :: (every interface) are not.
bool IsLoopback(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace tidewater::server
