// A real PostgreSQL server for tests and benchmarks: initdb in a temporary directory, the
// server on a free loopback port with its unix socket in that directory, trust
// authentication for the user "tidewater", stopped and removed with the object.
//
// PostgreSQL refuses to run as root. When the test runs as root, every PostgreSQL program
// (initdb, pg_ctl, postgres) runs as the unprivileged user `nobody` through
// `setpriv --reuid=nobody --regid=nogroup --clear-groups`, and the server directory is
// chowned to nobody. If the server cannot start, Start returns the reason (initdb or
// server log included): callers FAIL with it, they do not skip.
//
// The binaries come from TW_PG_BIN_DIR (set by tests/CMakeLists.txt to the Debian
// package's /usr/lib/postgresql/<version>/bin).
#pragma once

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace tidewater::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  ~PostgresServer() { Stop(); }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb and start. Returns "" on success, else why it failed.
  std::string Start() {
    const std::string bin = TW_PG_BIN_DIR;
    if (bin.empty() || !std::filesystem::exists(bin + "/initdb")) {
      return "PostgreSQL server binaries not found (TW_PG_BIN_DIR=\"" + bin +
             "\"): install the Debian package postgresql";
    }
    bin_ = bin;
    if (geteuid() == 0) {
      // nobody must reach its directories: the temp dir is 0700 root by default.
      chmod(dir_.path().c_str(), 0755);
      as_user_ = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";
    }
    std::filesystem::create_directories(data_dir());
    std::filesystem::create_directories(socket_dir());
    if (!as_user_.empty()) {
      const std::string chown = "chown -R nobody:nogroup " + dir_.path();
      if (std::system(chown.c_str()) != 0) return "cannot chown " + dir_.path() + " to nobody";
    }
    const std::string initdb = as_user_ + bin_ + "/initdb -D " + data_dir() +
                               " -U tidewater --auth=trust -E UTF8 --no-sync > " +
                               dir_.Sub("initdb.log") + " 2>&1";
    if (std::system(initdb.c_str()) != 0) {
      return "initdb failed: " + ReadFile(dir_.Sub("initdb.log"));
    }
    port_ = FreePort();
    return StartServer();
  }

  // Starts the server again after StopServer (same port and data).
  std::string StartServer() {
    const std::string options = "-p " + std::to_string(port_) + " -k " + socket_dir() +
                                " -c listen_addresses=127.0.0.1 -c fsync=off -c "
                                "max_connections=50";
    const std::string command = as_user_ + bin_ + "/pg_ctl -D " + data_dir() + " -l " +
                                server_log() + " -w -t 60 -o \"" + options + "\" start > " +
                                dir_.Sub("pg_ctl.log") + " 2>&1";
    if (std::system(command.c_str()) != 0) {
      return "PostgreSQL did not start: " + ReadFile(dir_.Sub("pg_ctl.log")) + "\nserver log:\n" +
             ReadFile(server_log());
    }
    running_ = true;
    return "";
  }

  // Stops the server: "immediate" drops every connection at once, as a crash would (the
  // next start recovers from the WAL); "fast" rolls back open transactions and exits.
  bool StopServer(const std::string& mode = "fast") {
    if (!running_) return true;
    const std::string command =
        as_user_ + bin_ + "/pg_ctl -D " + data_dir() + " -m " + mode + " -w stop > /dev/null 2>&1";
    running_ = std::system(command.c_str()) != 0;
    return !running_;
  }

  void Stop() { StopServer("immediate"); }

  int port() const { return port_; }
  // libpq connection string over the loopback TCP port.
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=tidewater";
  }
  std::string server_log() const { return dir_.Sub("server.log"); }

 private:
  std::string data_dir() const { return dir_.Sub("pgdata"); }
  std::string socket_dir() const { return dir_.Sub("socket"); }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t size = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    close(fd);
    return ntohs(address.sin_port);
  }

  TempDir dir_;
  std::string bin_;
  std::string as_user_;
  int port_ = 0;
  bool running_ = false;
};

// Runs one statement on `conninfo` (a new connection) and returns its rows as text (NULL
// as "<null>"); on an error, one row holding "ERROR: <message>".
using PgRows = std::vector<std::vector<std::string>>;
inline PgRows PgQuery(const std::string& conninfo, const std::string& sql,
                      const std::vector<std::string>& params = {}) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  PgRows rows;
  if (PQstatus(conn) != CONNECTION_OK) {
    rows.push_back({std::string("ERROR: ") + PQerrorMessage(conn)});
    PQfinish(conn);
    return rows;
  }
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* result = PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    rows.push_back({std::string("ERROR: ") + PQerrorMessage(conn)});
  } else {
    for (int r = 0; r < PQntuples(result); ++r) {
      std::vector<std::string> row;
      for (int c = 0; c < PQnfields(result); ++c) {
        row.push_back(PQgetisnull(result, r, c) ? "<null>" : PQgetvalue(result, r, c));
      }
      rows.push_back(std::move(row));
    }
  }
  PQclear(result);
  PQfinish(conn);
  return rows;
}

// The single value of a one-row, one-column query ("ERROR: ..." on an error).
inline std::string PgValue(const std::string& conninfo, const std::string& sql,
                           const std::vector<std::string>& params = {}) {
  PgRows rows = PgQuery(conninfo, sql, params);
  if (rows.empty() || rows[0].empty()) return "<no rows>";
  return rows[0][0];
}

}  // namespace tidewater::testing
