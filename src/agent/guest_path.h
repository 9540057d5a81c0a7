// Logical guest paths and identifiers from the host: syntax checks before
// anything touches the file system.
#pragma once

#include <string>
#include <string_view>

namespace confidant::agent {

// Absolute, normalised ("/a/b": no "//", ".", "..", trailing "/"), at most
// 512 bytes, characters [A-Za-z0-9._-/] only (overlayfs options and runc
// configs need no quoting then).
bool valid_guest_path(std::string_view path, std::string& error, std::string_view what);

// Container and exec ids: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}.
bool valid_id(std::string_view id, std::string& error, std::string_view what);

}  // namespace confidant::agent
