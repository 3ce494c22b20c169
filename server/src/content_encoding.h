// Request bodies sent with a Content-Encoding. DynamoDB accepts bodies compressed with
// "gzip" (what the AWS SDKs' request compression sends; several concatenated gzip members
// are one body) and "deflate" (zlib format), and answers HTTP 500 InternalServerError to a
// body it cannot decode or an encoding it does not know. The signature covers the encoded
// bytes, so a body is decoded after authentication. Pure functions: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater::server {

// Replaces `body`, sent with Content-Encoding `encoding`, by its decoded bytes (empty or
// "identity": left as is; names are case-insensitive), at most `max_decoded_bytes` of them.
// Errors: kInternal for an unknown encoding or input that is not valid for it (also
// trailing bytes after the last gzip member), kValidation when the decoded body would be
// longer than max_decoded_bytes (the caller answers that like an oversized body).
Status DecodeBody(std::string_view encoding, size_t max_decoded_bytes, std::string& body);

}  // namespace tidewater::server
