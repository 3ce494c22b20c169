// Which listen addresses are loopback ones (tidewaterd allows --auth off only on those).
#include <gtest/gtest.h>

#include <string_view>

#include "listen_address.h"

namespace tidewater::server {
namespace {

bool LoopbackListen(std::string_view text) {
  auto endpoint = ParseListenAddress(text);
  EXPECT_TRUE(endpoint.ok()) << text << ": " << endpoint.status().ToString();
  return endpoint.ok() && IsLoopback(*endpoint);
}

TEST(LoopbackAddressTest, LoopbackAddresses) {
  EXPECT_TRUE(LoopbackListen("127.0.0.1:8000"));
  EXPECT_TRUE(LoopbackListen("127.1.2.3:0"));
  EXPECT_TRUE(LoopbackListen("[::1]:8000"));
  EXPECT_TRUE(LoopbackListen("[::ffff:127.0.0.1]:8000"));
  EXPECT_TRUE(LoopbackListen("localhost:8000"));
}

TEST(LoopbackAddressTest, EveryOtherAddressIsNot) {
  EXPECT_FALSE(LoopbackListen("0.0.0.0:8000"));
  EXPECT_FALSE(LoopbackListen("[::]:8000"));
  EXPECT_FALSE(LoopbackListen("10.0.0.1:8000"));
  EXPECT_FALSE(LoopbackListen("[::ffff:10.0.0.1]:8000"));
  EXPECT_FALSE(LoopbackListen("[2001:db8::1]:8000"));
}

}  // namespace
}  // namespace tidewater::server
