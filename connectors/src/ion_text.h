// Private: Amazon Ion text for DynamoDB values, as DynamoDB writes them in ION exports
// (S3DataExport.Output, "DynamoDB to ion datatype conversion"):
//   S -> string, N -> decimal, B -> blob, BOOL -> bool, NULL -> null, M -> struct,
//   L -> list, SS / NS / BS -> list annotated $dynamodb_SS / $dynamodb_NS / $dynamodb_BS.
// Output is compact (no spaces), written the way Amazon's Ion writer (ion-java) writes
// text: decimals as in its printDecimal (103 -> "103.", 600 -> "6d2", 1.5 -> "1.5",
// 0.001 -> "0.001", 1E-7 -> "1d-7"), strings and quoted symbols with its escapes
// (non-ASCII UTF-8 kept as is except the C1 controls U+0080..U+009F), field names
// unquoted when they are identifiers and not keywords.
//
// Functions of their arguments only; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/number.h"
#include "tidewater/core/status.h"

namespace tidewater::connectors::ion {

// A double-quoted Ion string. Validation when `utf8` is not valid UTF-8.
Status AppendString(std::string_view utf8, std::string* out);
// A symbol (field name, annotation): bare when it is an identifier that is not a keyword
// (null, true, false, nan, $<digits>), else single-quoted. Validation for bad UTF-8.
Status AppendSymbol(std::string_view utf8, std::string* out);
// An Ion decimal (never an Ion int: always a '.' or a 'd' exponent).
void AppendDecimal(const Number& number, std::string* out);
// {{<base64>}}.
void AppendBlob(std::string_view bytes, std::string* out);
// A value by the mapping above.
Status AppendValue(const AttributeValue& value, std::string* out);
// A struct of attribute name -> value (an item, a key, an image, an M).
Status AppendStruct(const AttributeMap& map, std::string* out);

}  // namespace tidewater::connectors::ion
