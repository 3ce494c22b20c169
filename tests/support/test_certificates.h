// Certificates for TLS tests, made at run time with the `openssl` command (Debian package
// openssl): a test CA, a server certificate for 127.0.0.1 and localhost (subjectAltName
// IP:127.0.0.1, DNS:localhost) and a client certificate, both signed by the CA; ECDSA P-256
// keys. Files live in `dir` (the caller's temporary directory).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

namespace tidewater::testing {

struct TestCertificates {
  std::string ca;  // ca.pem: what clients (and the server, for client certificates) trust
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  // Empty when all were made, else the failed command.
  std::string error;

  explicit TestCertificates(const std::string& dir)
      : ca(dir + "/ca.pem"),
        server_cert(dir + "/server.pem"),
        server_key(dir + "/server.key"),
        client_cert(dir + "/client.pem"),
        client_key(dir + "/client.key") {
    const std::string ca_key = dir + "/ca.key";
    const std::string extensions = dir + "/server.ext";
    std::ofstream(extensions) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                              << "extendedKeyUsage=serverAuth\n";
    const std::string quiet = " 2>" + dir + "/openssl.log";
    const std::string key = "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    const std::string sign = " -CA " + ca + " -CAkey " + ca_key + " -CAcreateserial -days 2";
    for (const std::string& command :
         {key + "-x509 -days 2 -subj /CN=tidewater-test-ca -keyout " + ca_key + " -out " + ca,
          key + "-subj /CN=localhost -keyout " + server_key + " -out " + dir + "/server.csr",
          "openssl x509 -req -in " + dir + "/server.csr" + sign + " -extfile " + extensions +
              " -out " + server_cert,
          key + "-subj /CN=tidewater-test-client -keyout " + client_key + " -out " + dir +
              "/client.csr",
          "openssl x509 -req -in " + dir + "/client.csr" + sign + " -out " + client_cert}) {
      if (std::system((command + quiet).c_str()) != 0) {
        error = command;
        return;
      }
    }
  }
};

}  // namespace tidewater::testing
