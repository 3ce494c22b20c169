// The lease table's item shape (see lease_store.h), shared by the engine and remote stores.
#pragma once

#include <string>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {

inline constexpr char kLeaseKeyAttribute[] = "leaseKey";

Item LeaseToItem(const Lease& lease);
// Serialization error when the item is not a well-formed lease.
Result<Lease> LeaseFromItem(const Item& item);

// Whether a stored lease (nullptr: none) still has `expected`'s owner and counter.
bool LeaseMatches(const Item* stored, const Lease& expected);

}  // namespace tidewater::streams
