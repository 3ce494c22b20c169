// Private: the few S3 XML answers the object store reads (ListObjectsV2's ListBucketResult
// and the Error document), with a small parser of the XML S3 writes: elements, character
// data with entity and character references, CDATA sections; comments, processing
// instructions and the XML declaration skipped; attributes ignored; namespace prefixes
// dropped. No DTD internal subsets (S3 sends none).
//
// Pure functions: thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/connectors/object_store.h"
#include "tidewater/core/status.h"

namespace tidewater::connectors {

// `text` with XML's predefined entities (&amp; &lt; &gt; &quot; &apos;) and character
// references (&#NN; &#xHH;, written out as UTF-8) replaced; any other '&' is kept as written.
std::string XmlUnescape(std::string_view text);

// Called as each element ends: `path` names the element and its ancestors from the root,
// joined by '/' ("ListBucketResult/Contents/Key"); `text` is the element's own character
// data, unescaped (that of its children not included).
using XmlElementFn = std::function<void(const std::string& path, const std::string& text)>;

// Walks the document `xml`. IOError for malformed XML: unbalanced or unterminated tags,
// an unterminated comment, CDATA section or processing instruction, text or a second
// element outside the root element, or no element at all.
Status WalkXml(std::string_view xml, const XmlElementFn& on_element);

// One answer of ListObjectsV2.
struct ListObjectsPage {
  std::vector<ObjectInfo> objects;  // in the answer's order
  bool truncated = false;
  std::string next_continuation_token;
};

// Parses a ListBucketResult: each Contents' Key (kept exactly, whitespace included), Size
// and ETag (surrounding quotes removed), IsTruncated and NextContinuationToken. IOError when
// the document is malformed, is not a ListBucketResult, or has a Contents without a Key or
// with a Size that is not a number.
Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml);

// S3's error document: <Error><Code>..</Code><Message>..</Message>...</Error>.
struct S3ErrorBody {
  std::string code;
  std::string message;
};

// The code and message of an Error document; nullopt when `xml` is not one (empty, not XML,
// or another root element).
std::optional<S3ErrorBody> ParseS3Error(std::string_view xml);

}  // namespace tidewater::connectors
