#include "admin_request.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

#include "tidewater/streams/service_client.h"

namespace tidewater::cli {
namespace {

constexpr std::string_view kTargetPrefix = "TidewaterAdmin_20261205.";

}  // namespace

Result<std::string> CallAdmin(std::string_view command, const std::string& endpoint,
                              const SigningFlags& signing, std::string_view operation,
                              std::string_view body) {
  auto client = CreateClient(endpoint, signing);
  if (!client.ok()) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 client.status().ToString().c_str());
    return client.status();
  }
  auto answer = (*client)->CallJson(std::string(kTargetPrefix) + std::string(operation), body);
  if (!answer.ok()) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 answer.status().ToString().c_str());
  }
  return answer;
}

bool ParseAnswer(std::string_view command, const std::string& answer, const char* member,
                 rapidjson::Type type, rapidjson::Document* document) {
  document->Parse(answer.c_str());
  if (!document->HasParseError() && document->IsObject()) {
    const rapidjson::Document& parsed = *document;
    const auto found = parsed.FindMember(member);
    if (found != parsed.MemberEnd() && found->value.GetType() == type) return true;
  }
  std::fprintf(stderr, "%.*s: unexpected answer from the server\n",
               static_cast<int>(command.size()), command.data());
  return false;
}

std::string JsonObjectOfStrings(
    std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  rapidjson::StringBuffer body;
  rapidjson::Writer<rapidjson::StringBuffer> writer(body);
  writer.StartObject();
  for (const auto& [name, value] : members) {
    writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  writer.EndObject();
  return {body.GetString(), body.GetSize()};
}

}  // namespace tidewater::cli
