#include "s3_xml.h"

#include <charconv>
#include <cstdint>
#include <system_error>
#include <utility>

namespace tidewater::connectors {
namespace {

constexpr std::string_view kSpace = " \t\r\n";

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// The text an entity or character reference `name` (between '&' and ';') stands for;
// false when it is not one this parser knows.
bool DecodeReference(std::string_view name, std::string& out) {
  if (name == "amp") {
    out += '&';
  } else if (name == "lt") {
    out += '<';
  } else if (name == "gt") {
    out += '>';
  } else if (name == "quot") {
    out += '"';
  } else if (name == "apos") {
    out += '\'';
  } else if (name.size() >= 2 && name[0] == '#') {
    std::string_view digits = name.substr(1);
    int base = 10;
    if (digits[0] == 'x' || digits[0] == 'X') {
      digits.remove_prefix(1);
      base = 16;
    }
    if (digits.empty()) return false;
    uint32_t code_point = 0;
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), code_point, base);
    if (error != std::errc() || end != digits.data() + digits.size()) return false;
    if (code_point == 0 || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    AppendUtf8(code_point, out);
  } else {
    return false;
  }
  return true;
}

// "s3:Key" -> "Key".
std::string LocalName(std::string_view name) {
  const size_t colon = name.rfind(':');
  return std::string(colon == std::string_view::npos ? name : name.substr(colon + 1));
}

Status Malformed(const std::string& why) { return Status::IOError("malformed XML: " + why); }

// The open elements while walking a document.
class ElementStack {
 public:
  bool empty() const { return names_.empty(); }
  const std::string& name() const { return names_.back(); }
  const std::string& path() const { return path_; }
  std::string& text() { return texts_.back(); }

  void Push(std::string name) {
    lengths_.push_back(path_.size());
    if (!path_.empty()) path_ += '/';
    path_ += name;
    names_.push_back(std::move(name));
    texts_.emplace_back();
  }
  void Pop() {
    path_.resize(lengths_.back());
    lengths_.pop_back();
    names_.pop_back();
    texts_.pop_back();
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> texts_;
  std::vector<size_t> lengths_;  // path_'s length before each element was pushed
  std::string path_;
};

}  // namespace

std::string XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t amp = text.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, amp - i));
    const size_t semicolon = text.find(';', amp + 1);
    // The longest reference known here is "&#x10FFFF;".
    if (semicolon != std::string_view::npos && semicolon - amp <= 12 &&
        DecodeReference(text.substr(amp + 1, semicolon - amp - 1), out)) {
      i = semicolon + 1;
    } else {
      out += '&';
      i = amp + 1;
    }
  }
  return out;
}

Status WalkXml(std::string_view xml, const XmlElementFn& on_element) {
  ElementStack open;
  bool seen_root = false;
  size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] != '<') {
      size_t end = xml.find('<', i);
      if (end == std::string_view::npos) end = xml.size();
      const std::string_view text = xml.substr(i, end - i);
      if (!open.empty()) {
        open.text() += XmlUnescape(text);
      } else if (!Trim(text).empty()) {
        return Malformed("text outside the root element");
      }
      i = end;
      continue;
    }
    const std::string_view rest = xml.substr(i);
    if (rest.starts_with("<?")) {  // the XML declaration or a processing instruction
      const size_t end = xml.find("?>", i + 2);
      if (end == std::string_view::npos) return Malformed("unterminated processing instruction");
      i = end + 2;
    } else if (rest.starts_with("<!--")) {
      const size_t end = xml.find("-->", i + 4);
      if (end == std::string_view::npos) return Malformed("unterminated comment");
      i = end + 3;
    } else if (rest.starts_with("<![CDATA[")) {
      const size_t begin = i + 9;
      const size_t end = xml.find("]]>", begin);
      if (end == std::string_view::npos) return Malformed("unterminated CDATA section");
      if (open.empty()) return Malformed("CDATA outside the root element");
      open.text().append(xml.substr(begin, end - begin));
      i = end + 3;
    } else if (rest.starts_with("<!")) {  // <!DOCTYPE ...> without an internal subset
      const size_t end = xml.find('>', i + 2);
      if (end == std::string_view::npos) return Malformed("unterminated declaration");
      i = end + 1;
    } else if (rest.starts_with("</")) {
      const size_t end = xml.find('>', i + 2);
      if (end == std::string_view::npos) return Malformed("unterminated end tag");
      const std::string name = LocalName(Trim(xml.substr(i + 2, end - i - 2)));
      if (open.empty() || open.name() != name) {
        return Malformed("end tag </" + name + "> does not close " +
                         (open.empty() ? std::string("any element") : "<" + open.name() + ">"));
      }
      on_element(open.path(), open.text());
      open.Pop();
      i = end + 1;
    } else {
      // A start tag: its name, then attributes (whose quoted values may hold '>') up to '>'.
      size_t end = i + 1;
      char quote = 0;
      while (end < xml.size() && (quote != 0 || xml[end] != '>')) {
        if (quote != 0) {
          if (xml[end] == quote) quote = 0;
        } else if (xml[end] == '"' || xml[end] == '\'') {
          quote = xml[end];
        }
        ++end;
      }
      if (end >= xml.size()) return Malformed("unterminated start tag");
      std::string_view inside = xml.substr(i + 1, end - i - 1);
      const bool self_closing = !inside.empty() && inside.back() == '/';
      if (self_closing) inside.remove_suffix(1);
      const std::string name = LocalName(inside.substr(0, inside.find_first_of(kSpace)));
      if (name.empty()) return Malformed("a start tag without a name");
      if (open.empty() && seen_root) return Malformed("a second root element <" + name + ">");
      seen_root = true;
      open.Push(name);
      if (self_closing) {
        on_element(open.path(), open.text());
        open.Pop();
      }
      i = end + 1;
    }
  }
  if (!open.empty()) return Malformed("unterminated element <" + open.name() + ">");
  if (!seen_root) return Malformed("no element");
  return Status::Ok();
}

Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml) {
  ListObjectsPage page;
  ObjectInfo current;
  bool has_key = false;
  bool is_list = false;
  std::string problem;
  const Status walked = WalkXml(xml, [&](const std::string& path, const std::string& text) {
    if (!problem.empty()) return;
    if (path == "ListBucketResult") {
      is_list = true;
    } else if (path == "ListBucketResult/IsTruncated") {
      page.truncated = Trim(text) == "true";
    } else if (path == "ListBucketResult/NextContinuationToken") {
      page.next_continuation_token = std::string(Trim(text));
    } else if (path == "ListBucketResult/Contents/Key") {
      current.key = text;
      has_key = true;
    } else if (path == "ListBucketResult/Contents/Size") {
      const std::string_view digits = Trim(text);
      uint64_t size = 0;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
        problem = "a Size that is not a number: '" + text + "'";
        return;
      }
      current.size = size;
    } else if (path == "ListBucketResult/Contents/ETag") {
      std::string_view etag = Trim(text);
      if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
        etag = etag.substr(1, etag.size() - 2);
      }
      current.etag = std::string(etag);
    } else if (path == "ListBucketResult/Contents") {
      if (!has_key) {
        problem = "a Contents element without a Key";
        return;
      }
      page.objects.push_back(std::move(current));
      current = ObjectInfo();
      has_key = false;
    }
  });
  if (!walked.ok()) return walked;
  if (!problem.empty()) return Status::IOError("ListBucketResult with " + problem);
  if (!is_list) return Status::IOError("not a ListBucketResult document");
  return page;
}

std::optional<S3ErrorBody> ParseS3Error(std::string_view xml) {
  S3ErrorBody error;
  bool is_error = false;
  const Status walked = WalkXml(xml, [&](const std::string& path, const std::string& text) {
    if (path == "Error") {
      is_error = true;
    } else if (path == "Error/Code") {
      error.code = std::string(Trim(text));
    } else if (path == "Error/Message") {
      error.message = std::string(Trim(text));
    }
  });
  if (!walked.ok() || !is_error) return std::nullopt;
  return error;
}

}  // namespace tidewater::connectors
