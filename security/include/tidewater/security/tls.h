// TLS contexts for tidewaterd's listener and for its clients (ServiceClient, the S3 object
// store), built on OpenSSL through Boost.Asio, with one policy for both sides:
//   * TLS 1.2 and 1.3 only (SSLv3, TLS 1.0 and 1.1 are refused);
//   * TLS 1.2 cipher suites with forward secrecy and authenticated encryption only
//     (ECDHE with AES-GCM or CHACHA20-POLY1305); TLS 1.3 suites are OpenSSL's defaults
//     (all AEAD, all forward secret);
//   * no compression (CRIME), no renegotiation; a server prefers its own cipher order.
//
// Errors are Status values (IOError naming the file and OpenSSL's reason); nothing throws.
// Thread safety: a context may be shared by any number of connections and threads once
// built; configuring a connection (SetTlsPeerName) touches only that connection.
#pragma once

#include <memory>
#include <string>

#include "tidewater/core/status.h"

namespace boost::asio::ssl {
class context;
}
typedef struct ssl_st SSL;

namespace tidewater::security {

// What a TLS client trusts and presents.
struct TlsClientOptions {
  // PEM file of the certificate authorities that sign servers' certificates; empty: the
  // system's store (Debian: /etc/ssl/certs).
  std::string ca_bundle_file;
  // A client certificate chain (PEM) and its key, for servers that ask for one (mutual
  // TLS); both or neither.
  std::string certificate_file;
  std::string private_key_file;
};

// A client context: the policy above, peer verification on. Each connection must also name
// the server it expects (SetTlsPeerName). Errors: an unreadable or malformed CA bundle,
// certificate or key, a key that does not match the certificate.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsClientContext(
    const TlsClientOptions& options);

// Before a client handshake on `ssl`: sends `host` as SNI (names only, as RFC 6066 asks)
// and makes the handshake fail unless the server's certificate is for `host` (a DNS name,
// or an IP address matched against the certificate's IP subjectAltNames).
Status SetTlsPeerName(SSL* ssl, const std::string& host);

// What a TLS server presents and whom it accepts.
struct TlsServerOptions {
  std::string certificate_file;  // PEM: the server's certificate, then its chain
  std::string private_key_file;  // PEM: the certificate's private key
  // PEM file of the certificate authorities whose client certificates are accepted; set:
  // every client must present one (mutual TLS); empty: clients are not asked.
  std::string client_ca_file;
};

// A server context: the policy above. Errors: a certificate or key that cannot be read or
// parsed, a key that does not match the certificate, an unreadable client CA file.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsServerContext(
    const TlsServerOptions& options);

}  // namespace tidewater::security
