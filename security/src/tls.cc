#include "tidewater/security/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>

namespace tidewater::security {
namespace {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

// TLS 1.2 suites: key exchange ECDHE (forward secrecy), AEAD ciphers only. No RSA key
// exchange, no CBC, no SHA-1 MACs, no DHE (slow, and weak groups in the wild).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Distinguishes this server's sessions in OpenSSL's session cache (needed for resumption
// when client certificates are verified).
constexpr unsigned char kSessionIdContext[] = "tidewaterd";

// Ok when `path` can be opened for reading; else IOError "<what> <path>: <reason>".
Status CheckReadable(std::string_view what, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::IOError(std::string(what) + " " + path +
                           ": cannot read it: " + std::strerror(errno));
  }
  return Status::Ok();
}

Status Failed(std::string_view what, const std::string& path, const error_code& error) {
  return Status::IOError(std::string(what) + " " + path + ": " + error.message());
}

// The policy both sides share (see tls.h). Returns the context or the reason it failed.
Result<std::shared_ptr<ssl::context>> NewContext(ssl::context::method method) {
  try {
    auto context = std::make_shared<ssl::context>(method);
    SSL_CTX* native = context->native_handle();
    error_code error;
    context->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                             SSL_OP_NO_RENEGOTIATION,
                         error);
    if (error) return Status::IOError("TLS setup failed: " + error.message());
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
      return Status::IOError("TLS setup failed: the cipher policy was refused by OpenSSL");
    }
    return context;
  } catch (const std::exception& e) {
    return Status::IOError(std::string("TLS setup failed: ") + e.what());
  }
}

// Loads a certificate chain and its key into `context` and checks that they match.
Status UseCertificate(ssl::context& context, const std::string& certificate_file,
                      const std::string& private_key_file) {
  TW_RETURN_IF_ERROR(CheckReadable("TLS certificate", certificate_file));
  TW_RETURN_IF_ERROR(CheckReadable("TLS private key", private_key_file));
  error_code error;
  context.use_certificate_chain_file(certificate_file, error);
  if (error) return Failed("TLS certificate", certificate_file, error);
  context.use_private_key_file(private_key_file, ssl::context::pem, error);
  if (error) {
    return Status::IOError("TLS private key " + private_key_file + ": " + error.message() +
                           " (it must be the key of the certificate " + certificate_file + ")");
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return Status::IOError("TLS private key " + private_key_file +
                           " does not match the certificate " + certificate_file);
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeTlsClientContext(const TlsClientOptions& options) {
  if (options.certificate_file.empty() != options.private_key_file.empty()) {
    return Status::Validation("a TLS client certificate needs its private key, and the reverse");
  }
  TW_ASSIGN_OR_RETURN(std::shared_ptr<ssl::context> context, NewContext(ssl::context::tls_client));
  error_code error;
  if (options.ca_bundle_file.empty()) {
    context->set_default_verify_paths(error);
    if (error) return Status::IOError("TLS: the system's CA store: " + error.message());
  } else {
    TW_RETURN_IF_ERROR(CheckReadable("CA bundle", options.ca_bundle_file));
    context->load_verify_file(options.ca_bundle_file, error);
    if (error) return Failed("CA bundle", options.ca_bundle_file, error);
  }
  context->set_verify_mode(ssl::verify_peer, error);
  if (error) return Status::IOError("TLS setup failed: " + error.message());
  if (!options.certificate_file.empty()) {
    TW_RETURN_IF_ERROR(
        UseCertificate(*context, options.certificate_file, options.private_key_file));
  }
  return context;
}

Status SetTlsPeerName(SSL* ssl, const std::string& host) {
  error_code not_ip;
  boost::asio::ip::make_address(host, not_ip);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!not_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      return Status::IOError("TLS: cannot verify the server as " + host);
    }
    return Status::Ok();
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1) {
    return Status::IOError("TLS: cannot verify the server as " + host);
  }
  return Status::Ok();
}

Result<std::shared_ptr<ssl::context>> MakeTlsServerContext(const TlsServerOptions& options) {
  if (options.certificate_file.empty() || options.private_key_file.empty()) {
    return Status::Validation("TLS needs both a certificate and its private key");
  }
  TW_ASSIGN_OR_RETURN(std::shared_ptr<ssl::context> context, NewContext(ssl::context::tls_server));
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  TW_RETURN_IF_ERROR(UseCertificate(*context, options.certificate_file, options.private_key_file));
  if (SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof(kSessionIdContext) - 1) !=
      1) {
    return Status::IOError("TLS setup failed: session id context");
  }
  if (!options.client_ca_file.empty()) {
    TW_RETURN_IF_ERROR(CheckReadable("TLS client CA file", options.client_ca_file));
    error_code error;
    context->load_verify_file(options.client_ca_file, error);
    if (error) return Failed("TLS client CA file", options.client_ca_file, error);
    // The names a client is told to choose its certificate by.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names == nullptr) {
      return Status::IOError("TLS client CA file " + options.client_ca_file +
                             ": no certificate in it");
    }
    SSL_CTX_set_client_CA_list(native, names);
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, error);
    if (error) return Status::IOError("TLS setup failed: " + error.message());
  }
  return context;
}

}  // namespace tidewater::security
