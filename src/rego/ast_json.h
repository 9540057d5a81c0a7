// OPA's JSON form of a parsed module, as rego.parse_module returns it: what
// json.Marshal(*ast.Module) gives with OPA's default JSON options (no locations),
// read back as a Rego value.
//
//   {"package": {"path": [{"type": "var", "value": "data"}, {"type": "string", "value": "a"}]},
//    "imports": [{"path": <term>, "alias": "x"}],
//    "rules": [{"head": {"name": "p", "ref": [...], "value": <term>, "assign": true},
//               "body": [{"index": 0, "terms": <term or [operator, args...]>}], "else": {...}}],
//    "comments": [{"Text": "<base64>", "Location": {"file": ..., "row": ..., "col": ...}}]}
//
// Terms are {"type": ..., "value": ...}; sets and object keys come sorted, as
// OPA marshals them. Rule heads and bodies take the shape OPA's parser gives
// them (generated `true` values and bodies, `name`/`key` only where OPA sets
// them), and wildcards `_` are numbered `$0`, `$1`, ... in source order.
#pragma once

#include "rego/ast.h"
#include "rego/value.h"

namespace confidant::rego {

// `m` is modified: its wildcards are renamed as OPA's parser names them.
Value module_to_json(Module& m);

}  // namespace confidant::rego
