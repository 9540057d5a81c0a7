// The ACI policy state ("metadata"): named collections the framework reads
// under data.metadata and changes through operations in its results.
//
//   {"name": "devices", "action": "add", "key": "/run/mounts/scsi/m1", "value": "<hash>"}
//   {"name": "fragment_parameters", "type": "set", "action": "add", "value": {...}}
//
// Maps are objects keyed by string, sets are arrays without deep-equal
// duplicates (in insertion order). Values are immutable and shared, so an
// operation copies only the collection it touches (one pointer per entry)
// and the document root; snapshots for rollback are free.
#pragma once

#include <string>

#include "rego/value.h"

namespace confidant::policy {

// The state a freshly installed policy starts from.
rego::Value initial_metadata();

// `object` with `key` set to `value`, or removed when `value` is undefined;
// copies one pointer per member and keeps the members sorted.
rego::Value with_member(const rego::Value& object, const rego::Value& key, const rego::Value& value);

// Applies `ops` (an array of operations) in order to `metadata`. On error
// `metadata` is left unchanged: a list is applied completely or not at all.
bool apply_metadata_ops(const rego::Value& ops, rego::Value& metadata, std::string& error);

}  // namespace confidant::policy
