package agent_policy

# Confidant's Kata agent policy rules. `confidant policy gen --kata` appends
# `policy_data := {...}` (the pod's containers, storages and settings) to this
# module; the Kata agent evaluates data.agent_policy.<RequestName> for every
# request of the host (shared/reference/kata-agent-policy.md sections 1-7).
#
# Conventions used throughout:
#   * Policy strings may hold placeholders resolved from the request:
#     $(cpath), $(spath), $(sfprefix), $(bundle-id), $(sandbox-id) in paths;
#     a path that starts with "^" after substitution is a regular expression,
#     anything else must be equal.
#   * Args and Env values are templates: "$$" is a literal "$", "$(name)" a
#     value known only at run time (sandbox-name, sandbox-namespace, pod-ip,
#     host-ip, node-name, host-name, pod-uid, resource-field, todo-annotation).
#   * Image layers (AKS tarfs lineage): the overlay storage of a container
#     lists its layer names and dm-verity root hashes, top layer first; each
#     layer storage says "$(hashN)"/"$(layerN)" and must carry exactly that
#     root hash and mount point.
#   * State lives in data.pstate, changed through JSON Patch operations the
#     rules return ({"allowed": true, "ops": [...]}): the sandbox name, id,
#     namespace and network namespace are pinned by the first request that
#     names them, and every created container maps to its policy container.
#   * print() is used only on the paths that deny, to say why.

import future.keywords.contains
import future.keywords.every
import future.keywords.if
import future.keywords.in

# ---------------------------------------------------------------------------
# Defaults: every request message of the agent API, plus the legacy tracing
# requests and AllowRequestsFailingPolicy.

default AddARPNeighborsRequest := false

default AddSwapPathRequest := false

default AddSwapRequest := false

default AllowRequestsFailingPolicy := false

default CloseStdinRequest := false

default CopyFileRequest := false

default CreateContainerRequest := {"allowed": false}

default CreateSandboxRequest := false

default DestroySandboxRequest := true

default ExecProcessRequest := false

default GetDiagnosticDataRequest := false

default GetIPTablesRequest := false

default GetMetricsRequest := false

default GetOOMEventRequest := true

default GuestDetailsRequest := true

default ListInterfacesRequest := false

default ListRoutesRequest := false

default MemAgentCompactConfig := false

default MemAgentMemcgConfig := false

default MemHotplugByProbeRequest := false

default OnlineCPUMemRequest := true

default PauseContainerRequest := false

default ReadStreamRequest := false

default RemoveContainerRequest := true

default RemoveStaleVirtiofsShareMountsRequest := true

default ReseedRandomDevRequest := false

default ResizeVolumeRequest := false

default ResumeContainerRequest := false

default SetGuestDateTimeRequest := false

default SetIPTablesRequest := false

default SetPolicyRequest := false

default SignalProcessRequest := true

default StartContainerRequest := true

default StartTracingRequest := false

default StatsContainerRequest := true

default StopTracingRequest := false

default TtyWinResizeRequest := true

default UpdateContainerRequest := false

default UpdateEphemeralMountsRequest := false

default UpdateInterfaceRequest := false

default UpdateRoutesRequest := false

default VolumeStatsRequest := false

default WaitProcessRequest := true

default WriteStreamRequest := false

# Requests switched on or off by the settings the policy was generated with.

CloseStdinRequest if policy_data.request_defaults.CloseStdinRequest == true

GetDiagnosticDataRequest if policy_data.request_defaults.GetDiagnosticDataRequest == true

ReadStreamRequest if policy_data.request_defaults.ReadStreamRequest == true

UpdateEphemeralMountsRequest if policy_data.request_defaults.UpdateEphemeralMountsRequest == true

WriteStreamRequest if policy_data.request_defaults.WriteStreamRequest == true

# ---------------------------------------------------------------------------
# State helpers.

pstate_has(key) if {
	_ = data.pstate[key]
}

# The operation that records key = value, null when already recorded, and
# undefined (deny) when another value is recorded.
state_op(key, value) := {"op": "add", "path": concat("/", ["", "pstate", key]), "value": value} if {
	not pstate_has(key)
}

state_op(key, value) := null if {
	data.pstate[key] == value
}

# Container ids are JSON Pointer segments of the state: 64 lowercase
# characters, which can never collide with the pinned keys.
container_id_ok(id) if regex.match("^[a-z0-9]{64}$", id)

# ---------------------------------------------------------------------------
# Small helpers.

array_or_empty(x) := x if is_array(x)

else := []

object_or_empty(x) := x if is_object(x)

else := {}

# A literal as a regular expression.
quote(s) := strings.replace_n({
	"\\": "\\\\", ".": "\\.", "+": "\\+", "*": "\\*", "?": "\\?", "(": "\\(", ")": "\\)",
	"|": "\\|", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}", "^": "\\^", "$": "\\$",
}, s)

# Path placeholders. $(sfprefix) expands into text holding the others.
subst(s, ctx) := strings.replace_n({
	"$(cpath)": policy_data.common.cpath,
	"$(spath)": policy_data.common.spath,
	"$(bundle-id)": ctx.bundle_id,
	"$(sandbox-id)": ctx.sandbox_id,
}, replace(s, "$(sfprefix)", policy_data.common.sfprefix))

# A policy path or value: a regular expression when it starts with "^".
value_ok(p, i, _) if {
	not contains(p, "$(")
	value_matches(p, i)
}

value_ok(p, i, ctx) if {
	contains(p, "$(")
	value_matches(subst(p, ctx), i)
}

value_matches(s, i) if {
	not startswith(s, "^")
	s == i
}

value_matches(s, i) if {
	startswith(s, "^")
	regex.match(s, i)
}

# ---------------------------------------------------------------------------
# Templates (Args and Env values).

template_ok(t, v, _) if {
	not contains(t, "$")
	t == v
}

template_ok(t, v, ctx) if {
	contains(t, "$")
	regex.match(template_regex(t, ctx), v)
}

template_regex(t, ctx) := concat("", ["^", concat("\\$", [template_part(part, ctx) | some part in split(t, "$$")]), "$"])

# A part without "$$": literal text and $(name) placeholders.
template_part(part, ctx) := concat("", pieces) if {
	raw := split(part, "$(")
	pieces := [template_piece(i, piece, ctx) | some i, piece in raw]
	count(pieces) == count(raw)
}

template_piece(0, piece, _) := quote(piece)

template_piece(i, piece, ctx) := concat("", [placeholder_regex(substring(piece, 0, end), ctx), quote(substring(piece, end + 1, -1))]) if {
	i > 0
	end := indexof(piece, ")")
	end >= 0
}

placeholder_regex("sandbox-name", ctx) := quote(ctx.sandbox_name)

placeholder_regex("sandbox-namespace", ctx) := quote(ctx.namespace)

placeholder_regex(name, _) := concat("", ["(?:", policy_data.common.ipv4_a, ")"]) if name in {"pod-ip", "host-ip"}

placeholder_regex(name, _) := "(?s:.*)" if name in {"node-name", "host-name", "pod-uid", "resource-field", "todo-annotation"}

# ---------------------------------------------------------------------------
# Process checks shared by CreateContainerRequest and ExecProcessRequest.

args_ok(p_args, i_args, ctx) if {
	count(p_args) == count(i_args)
	every i, p_arg in p_args {
		template_ok(p_arg, i_args[i], ctx)
	}
}

env_name(v) := substring(v, 0, i) if {
	i := indexof(v, "=")
	i > 0
}

# The request defaults' variable patterns with the common building blocks in,
# as one alternation (one match per variable).
env_allow_regex := concat("|", [concat("", ["(?:", re, ")"]) | some re in env_allow_regexes])

env_allow_regexes := [strings.replace_n({
	"$(ipv4_a)": policy_data.common.ipv4_a,
	"$(ip_p)": policy_data.common.ip_p,
	"$(svc_name_downward_env)": policy_data.common.svc_name_downward_env,
	"$(dns_label)": policy_data.common.dns_label,
}, re) |
	some re in policy_data.request_defaults.CreateContainerRequest.allow_env_regex
]

# A variable of the request that is not one of the policy's literally: a
# template of the same name matches it, or a pattern of the request defaults
# (service links, HOSTNAME, ...) does, for a name the policy does not set (a
# second definition of a policy variable is not let in through a pattern).
env_var_ok(v, p_templates, p_names, ctx) if {
	prefix := concat("", [env_name(v), "="])
	some t in p_templates
	startswith(t, prefix)
	template_ok(substring(t, count(prefix), -1), substring(v, count(prefix), -1), ctx)
}

else := true if {
	count(env_allow_regexes) > 0
	not env_name(v) in p_names
	regex.match(env_allow_regex, v)
}

template_var_present(t, i_env, ctx) if {
	prefix := concat("", [env_name(t), "="])
	some v in i_env
	startswith(v, prefix)
	template_ok(substring(t, count(prefix), -1), substring(v, count(prefix), -1), ctx)
}

user_ok(p_user, i_user) if {
	p_user.UID == i_user.UID
	p_user.GID == i_user.GID
	{g | some g in p_user.AdditionalGids} == {g | some g in i_user.AdditionalGids}
}

expand_caps(caps) := policy_data.common.default_caps if caps == ["$(default_caps)"]

else := policy_data.common.privileged_caps if caps == ["$(privileged_caps)"]

else := caps

cap_names(caps) := {trim_prefix(c, "CAP_") | some c in caps}

caps_ok(p_caps, i_caps) if {
	every set in ["Ambient", "Bounding", "Effective", "Inheritable", "Permitted"] {
		caps_set_ok(p_caps[set], i_caps[set])
	}
}

# The request lists the capabilities in the policy's order, as a rule.
caps_set_ok(p, i) if {
	p == ["$(default_caps)"]
	i == policy_data.common.default_caps
}

else := true if {
	p == ["$(privileged_caps)"]
	i == policy_data.common.privileged_caps
}

else := true if {
	cap_names(expand_caps(p)) == cap_names(i)
}

# What differs between a policy process and a request's: each check is
# negated, so that a field missing from the request is a difference too.
process_problems(p, i, ctx) := ((((({"Terminal differs" | not p.Terminal == i.Terminal} | {"Cwd differs" |
	not p.Cwd == i.Cwd
}) | {"NoNewPrivileges differs" |
	not p.NoNewPrivileges == i.NoNewPrivileges
}) | {sprintf("User %v differs from the policy's %v", [object.get(i, "User", null), p.User]) |
	not user_ok(p.User, i.User)
}) | {sprintf("Args %v differ from the policy's %v", [object.get(i, "Args", null), p.Args]) |
	not args_ok(p.Args, i.Args, ctx)
}) | {"Capabilities differ" |
	not caps_ok(p.Capabilities, i.Capabilities)
}) | env_problems(p.Env, i.Env, ctx)

# Every variable of the request is allowed, and every variable of the policy
# is there: the host may neither add nor drop one. Literal variables are
# compared as sets; only the rest goes through templates and patterns.
env_problems(p_env, i_env, ctx) := (({sprintf("environment variable %q is not allowed", [v]) |
	some v in i_set - p_plain
	not env_var_ok(v, p_templates, p_names, ctx)
} | {sprintf("environment variable %q of the policy is missing", [t]) |
	some t in p_plain - i_set
}) | {sprintf("environment variable %q of the policy is missing", [t]) |
	some t in p_templates
	not template_var_present(t, i_list, ctx)
}) if {
	i_list := array_or_empty(i_env)
	i_set := {v | some v in i_list}
	p_plain := {t | some t in p_env; not contains(t, "$")}
	p_templates := [t | some t in p_env; contains(t, "$")]
	p_names := {env_name(t) | some t in p_env}
}

# ---------------------------------------------------------------------------
# CreateContainerRequest

CreateContainerRequest := {"allowed": true, "ops": ops} if {
	count(create_input_problems) == 0
	idx := create_match_index
	ctx := create_ctx

	# An array literal, not a comprehension: a pin the request contradicts
	# makes it undefined, and so the rule.
	pins := [
		state_op("sandbox_name", ctx.sandbox_name),
		state_op("sandbox_id", ctx.sandbox_id),
		state_op("namespace", ctx.namespace),
		state_op("network_namespace", ctx.network_namespace),
		state_op(input.container_id, idx),
	]
	ops := [op | some op in pins; op != null]
} else := {"allowed": false} if {
	print("CreateContainerRequest:", concat("; ", sort(create_denial_reasons)))
}

create_annotation(key) := input.OCI.Annotations[key]

# Values of the request that policy strings are resolved with.
create_ctx := {
	"bundle_id": input.container_id,
	"sandbox_id": create_annotation("io.kubernetes.cri.sandbox-id"),
	"sandbox_name": create_annotation("io.kubernetes.cri.sandbox-name"),
	"namespace": create_annotation("io.kubernetes.cri.sandbox-namespace"),
	"network_namespace": create_network_namespace,
}

create_network_namespaces := [ns.Path | some ns in array_or_empty(input.OCI.Linux.Namespaces); ns.Type == "network"]

create_network_namespace := "" if count(create_network_namespaces) == 0

create_network_namespace := create_network_namespaces[0] if count(create_network_namespaces) == 1

# Fields no pod of ours sets: a request that does is refused before any
# policy container is tried.
create_input_problems contains "container_id is not 64 lowercase characters" if not container_id_ok(input.container_id)

create_input_problems contains "shared_mounts is not empty" if count(array_or_empty(input.shared_mounts)) != 0

create_input_problems contains "string_user is set" if object.get(input, "string_user", null) != null

create_input_problems contains sprintf("OCI.%s is set", [k]) if {
	some k in ["Hooks", "Solaris", "Windows"]
	object.get(input.OCI, k, null) != null
}

create_input_problems contains sprintf("OCI.Linux.%s is set", [k]) if {
	some k in ["Seccomp", "IntelRdt"]
	object.get(input.OCI.Linux, k, null) != null
}

create_input_problems contains sprintf("OCI.Linux.Resources.%s is set", [k]) if {
	some k in ["BlockIO", "Network", "Pids"]
	object.get(object_or_empty(input.OCI.Linux.Resources), k, null) != null
}

create_input_problems contains sprintf("OCI.Linux.%s is not empty", [k]) if {
	some k in ["GIDMappings", "UIDMappings"]
	count(array_or_empty(object.get(input.OCI.Linux, k, []))) != 0
}

create_input_problems contains "OCI.Linux.Resources.Devices is not empty" if {
	count(array_or_empty(object.get(object_or_empty(input.OCI.Linux.Resources), "Devices", []))) != 0
}

create_input_problems contains sprintf("OCI.Linux.%s is set", [k]) if {
	some k in ["MountLabel", "RootfsPropagation"]
	object.get(input.OCI.Linux, k, "") != ""
}

create_input_problems contains "OCI.Process.SelinuxLabel is set" if object.get(input.OCI.Process, "SelinuxLabel", "") != ""

create_input_problems contains "OCI.Process.User.Username is set" if object.get(input.OCI.Process.User, "Username", "") != ""

create_input_problems contains sprintf("annotation %s is missing", [k]) if {
	some k in [
		"io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-id",
		"io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace",
	]
	not is_string(object.get(object_or_empty(input.OCI.Annotations), k, null))
}

create_input_problems contains "more than one network namespace" if count(create_network_namespaces) > 1

# The first policy container that allows the request.
create_matching_indexes := {idx |
	some idx, p in policy_data.containers
	container_allows(p, create_ctx)
}

create_match_index := min(create_matching_indexes) if count(create_matching_indexes) > 0

container_allows(p, ctx) if {
	p_oci := p.OCI
	i_oci := input.OCI
	identity_ok(p_oci, i_oci, ctx)
	p.sandbox_pidns == input.sandbox_pidns
	p_oci.Version == i_oci.Version
	p_oci.Root.Readonly == i_oci.Root.Readonly
	value_ok(p_oci.Root.Path, i_oci.Root.Path, ctx)
	annotations_ok(p, i_oci.Annotations, ctx)
	count(process_problems(p_oci.Process, i_oci.Process, ctx)) == 0
	mounts_ok(p_oci.Mounts, i_oci.Mounts, ctx)
	storages_ok(p.storages, input.storages, ctx)
	devices_ok(p, input.devices)
	linux_ok(p_oci.Linux, i_oci.Linux)
}

# Which policy container the request claims to be: container type, name,
# sandbox name and namespace.
identity_ok(p_oci, i_oci, ctx) if {
	p_annos := p_oci.Annotations
	i_annos := i_oci.Annotations
	p_type := p_annos["io.kubernetes.cri.container-type"]
	p_type == i_annos["io.kubernetes.cri.container-type"]
	p_annos["io.katacontainers.pkg.oci.container_type"] == i_annos["io.katacontainers.pkg.oci.container_type"]
	kata_type_ok(p_type, p_annos, i_annos)
	regex.match(p_annos["io.kubernetes.cri.sandbox-name"], ctx.sandbox_name)
	regex.match(p_annos["io.kubernetes.cri.sandbox-id"], ctx.sandbox_id)
	namespace_ok(p_annos["io.kubernetes.cri.sandbox-namespace"], ctx.namespace)
}

kata_type_ok("sandbox", p_annos, _) if {
	p_annos["io.katacontainers.pkg.oci.container_type"] == "pod_sandbox"
	input.container_id == create_ctx.sandbox_id
}

kata_type_ok("container", p_annos, i_annos) if {
	p_annos["io.katacontainers.pkg.oci.container_type"] == "pod_container"
	p_annos["io.kubernetes.cri.container-name"] == i_annos["io.kubernetes.cri.container-name"]
}

namespace_ok("", _) := true

namespace_ok(p_ns, i_ns) if {
	p_ns != ""
	p_ns == i_ns
}

annotations_ok(p, i_annos, ctx) if {
	count(annotation_problems(p, i_annos, ctx)) == 0
}

annotation_problems(p, i_annos, ctx) := {msg |
	some key, value in i_annos
	not annotation_ok(key, value, p, ctx)
	msg := sprintf("annotation %s=%q is not allowed", [key, value])
} | {msg |
	p.OCI.Annotations["io.kubernetes.cri.container-type"] == "sandbox"
	not log_directory_ok(p.OCI.Annotations, i_annos, ctx)
	msg := "the sandbox log directory does not match"
}

annotation_ok(key, value, p, ctx) if startswith(key, "io.kubernetes.cri.")

else := true if {
	value_ok(p.OCI.Annotations[key], value, ctx)
}

else := true if {
	some key_re, value_re in object.get(p, "runtime_anno_patterns", {})
	regex.match(key_re, key)
	regex.match(value_re, value)
}

log_directory_ok(p_annos, i_annos, ctx) if {
	re := strings.replace_n(
		{"$(sandbox-name)": quote(ctx.sandbox_name), "$(sandbox-namespace)": quote(ctx.namespace)},
		p_annos["io.kubernetes.cri.sandbox-log-directory"],
	)
	regex.match(re, i_annos["io.kubernetes.cri.sandbox-log-directory"])
}

# Every mount of the request is one the policy lists (destinations are unique).
mounts_ok(p_mounts, i_mounts, ctx) if {
	count({m.destination | some m in i_mounts}) == count(i_mounts)
	every m in i_mounts {
		mount_ok(m, p_mounts, ctx)
	}
}

# A mount the policy lists as it is (no placeholder or pattern involved).
mount_ok(m, p_mounts, ctx) if {
	m in p_mounts
	not contains(m.source, "$(")
	not startswith(m.source, "^")
}

else := true if {
	some p in p_mounts
	p.destination == m.destination
	p.type_ == m.type_
	mount_options_ok(p, m)
	value_ok(p.source, m.source, ctx)
}

mount_options_ok(p, m) if p.options == m.options

else := true if {
	# cgroup mounts may carry the extra options the cluster's kernel adds.
	p.type_ == "cgroup"
	extras := {o | some o in policy_data.cluster_config.cgroup_mount_extras_allowed}
	[o | some o in m.options; not o in extras] == p.options
}

# Storages pair off one to one: every request storage matches a policy
# storage and every policy storage is matched.
storages_ok(p_storages, i_storages, ctx) if {
	count(p_storages) == count(i_storages)
	layers := policy_layers(p_storages)
	pairs := {[i, j] |
		some i, s in i_storages
		some j, p in p_storages
		storage_ok(p, s, layers, ctx)
	}
	count({pair[0] | some pair in pairs}) == count(i_storages)
	count({pair[1] | some pair in pairs}) == count(p_storages)
}

# Layer names and root hashes, top layer first, from the overlay storage.
policy_layers(p_storages) := {"names": split(o.options[0], ":"), "hashes": split(o.options[1], ":")} if {
	some o in p_storages
	o.driver == "overlayfs"
	count(o.options) == 2
}

else := {"names": [], "hashes": []}

storage_ok(p, s, layers, ctx) if {
	p.driver == s.driver
	p.driver_options == s.driver_options
	p.fs_group == s.fs_group
	p.fstype == s.fstype
	storage_details_ok(p, s, layers, ctx)
}

layer_index(options) := to_number(trim_suffix(trim_prefix(options[0], "$(hash"), ")")) if {
	count(options) == 1
	startswith(options[0], "$(hash")
	endswith(options[0], ")")
}

# An image layer: a tar with its tarfs index, verified by dm-verity.
storage_details_ok(p, s, layers, ctx) if {
	p.driver == "blk"
	n := layer_index(p.options)
	p.mount_point == sprintf("$(layer%d)", [n])
	s.options == [
		"ro",
		"io.katacontainers.fs-opt.block_device=file",
		"io.katacontainers.fs-opt.is-layer",
		concat("=", ["io.katacontainers.fs-opt.root-hash", layers.hashes[n]]),
	]
	s.mount_point == concat("/", [policy_data.common.layers_path, layers.names[n]])
	value_ok(p.source, s.source, ctx)
}

# The container's root: the overlay of its layers, in the policy's order.
storage_details_ok(p, s, layers, ctx) if {
	p.driver == "overlayfs"
	n := count(layers.names)
	n == count(layers.hashes)
	count(s.options) == n + 3
	s.options[0] == concat("=", ["io.katacontainers.fs-opt.layer-src-prefix", policy_data.common.layer_src_prefix])
	every i, name in layers.names {
		s.options[i + 1] == concat("=", ["io.katacontainers.fs-opt.layer", base64.encode(concat("", [
			name,
			",tar,ro,io.katacontainers.fs-opt.block_device=file,io.katacontainers.fs-opt.is-layer,io.katacontainers.fs-opt.root-hash=",
			layers.hashes[i],
		]))])
	}
	s.options[n + 1] == "io.katacontainers.fs-opt.overlay-rw"
	s.options[n + 2] == concat("=", ["lowerdir", concat(":", layers.names)])
	value_ok(p.source, s.source, ctx)
	value_ok(p.mount_point, s.mount_point, ctx)
}

# Volumes (emptyDir on local storage or tmpfs).
storage_details_ok(p, s, _, ctx) if {
	not p.driver in {"blk", "overlayfs"}
	p.options == s.options
	value_ok(p.source, s.source, ctx)
	value_ok(p.mount_point, s.mount_point, ctx)
}

devices_ok(p, i_devices) if {
	every d in array_or_empty(i_devices) {
		some pd in object.get(p, "devices", [])
		pd.container_path == d.container_path
	}
}

normalized_namespace(ns) := {"Type": "mnt", "Path": ns.Path} if ns.Type == "mount"

else := {"Type": ns.Type, "Path": ns.Path}

linux_problems(p, i) := (((({"Linux namespaces differ" | not namespaces_ok(p, i)} | {"a masked path of the policy is not masked" |
	not all_in(p.MaskedPaths, array_or_empty(i.MaskedPaths), [])
}) | {"a read-only path of the policy is neither read-only nor masked" |
	not all_in(p.ReadonlyPaths, array_or_empty(i.ReadonlyPaths), array_or_empty(i.MaskedPaths))
}) | {"a device is not allowed" |
	not device_paths_ok(p, i)
}) | {"a sysctl is not allowed" |
	not sysctls_ok(p, i)
})

linux_ok(p, i) if count(linux_problems(p, i)) == 0

namespaces_ok(p, i) if {
	[normalized_namespace(ns) | some ns in p.Namespaces] == [normalized_namespace(ns) |
		some ns in array_or_empty(i.Namespaces)
		not ns.Type in {"network", "cgroup"}
	]
}

# Every element of `want` is in `a` or `b`.
all_in(want, a, b) if {
	every x in array_or_empty(want) {
		in_either(x, a, b)
	}
}

in_either(x, a, b) if x in a

else := true if x in b

device_paths_ok(p, i) if {
	allowed := {d.Path | some d in array_or_empty(object.get(p, "Devices", []))}
	every d in array_or_empty(object.get(i, "Devices", [])) {
		d.Path in allowed
	}
}

sysctls_ok(p, i) if {
	allowed := object_or_empty(object.get(p, "Sysctl", {}))
	every k, v in object_or_empty(object.get(i, "Sysctl", {})) {
		allowed[k] == v
	}
}

# Why a CreateContainerRequest is denied: the input checks, a pinned value
# the request contradicts, or what differs from the policy containers the
# request claims to be.
create_denial_reasons contains msg if {
	some msg in create_input_problems
}

create_denial_reasons contains msg if {
	count(create_input_problems) == 0
	some key in ["sandbox_name", "sandbox_id", "namespace", "network_namespace"]
	pstate_has(key)
	data.pstate[key] != create_ctx[key]
	msg := sprintf("%s %q differs from %q pinned by an earlier request", [key, create_ctx[key], data.pstate[key]])
}

create_denial_reasons contains msg if {
	count(create_input_problems) == 0
	idx := create_match_index
	pstate_has(input.container_id)
	data.pstate[input.container_id] != idx
	msg := sprintf("container %s was created as policy container %v before", [input.container_id, data.pstate[input.container_id]])
}

create_denial_reasons contains msg if {
	count(create_input_problems) == 0
	count(create_matching_indexes) == 0
	count(create_candidates) == 0
	msg := sprintf("no policy container of type %q named %q in sandbox %q (namespace %q)", [
		input.OCI.Annotations["io.kubernetes.cri.container-type"],
		object.get(input.OCI.Annotations, "io.kubernetes.cri.container-name", ""),
		create_ctx.sandbox_name, create_ctx.namespace,
	])
}

create_denial_reasons contains msg if {
	count(create_input_problems) == 0
	count(create_matching_indexes) == 0
	some idx in create_candidates
	some problem in container_problems(policy_data.containers[idx], create_ctx)
	msg := sprintf("policy container %d: %s", [idx, problem])
}

create_candidates := {idx |
	some idx, p in policy_data.containers
	identity_ok(p.OCI, input.OCI, create_ctx)
}

container_problems(p, ctx) := ((((((((({"sandbox_pidns differs" |
	not p.sandbox_pidns == input.sandbox_pidns
} | {"OCI.Version differs" |
	not p.OCI.Version == input.OCI.Version
}) | {"OCI.Root.Readonly differs" |
	not p.OCI.Root.Readonly == input.OCI.Root.Readonly
}) | {"OCI.Root.Path differs" |
	not value_ok(p.OCI.Root.Path, input.OCI.Root.Path, ctx)
}) | {"a device is not allowed" |
	not devices_ok(p, input.devices)
}) | annotation_problems(p, input.OCI.Annotations, ctx)) | process_problems(p.OCI.Process, input.OCI.Process, ctx)) | {msg |
	some m in array_or_empty(input.OCI.Mounts)
	not mount_ok(m, p.OCI.Mounts, ctx)
	msg := sprintf("mount of %s (%s from %s) is not allowed", [m.destination, m.type_, m.source])
}) | {"two mounts have the same destination" |
	count({m.destination | some m in array_or_empty(input.OCI.Mounts)}) != count(array_or_empty(input.OCI.Mounts))
}) | storage_problems(p.storages, input.storages, ctx)) | linux_problems(p.OCI.Linux, input.OCI.Linux)

storage_problems(p_storages, i_storages, ctx) := {msg |
	layers := policy_layers(p_storages)
	some s in i_storages
	not storage_matches_some(p_storages, s, layers, ctx)
	msg := sprintf("storage %s at %s (%s) matches no policy storage: layer names and root hashes are pinned", [s.driver, s.mount_point, concat(",", s.options)])
} | {msg |
	count(p_storages) != count(i_storages)
	msg := sprintf("%d storages, the policy has %d", [count(i_storages), count(p_storages)])
}

storage_matches_some(p_storages, s, layers, ctx) if {
	some p in p_storages
	storage_ok(p, s, layers, ctx)
}

# ---------------------------------------------------------------------------
# CreateSandboxRequest

CreateSandboxRequest := {"allowed": true, "ops": ops} if {
	count(sandbox_problems) == 0
	pin := state_op("sandbox_id", input.sandbox_id)
	ops := [op | some op in [pin]; op != null]
} else := false if {
	print("CreateSandboxRequest:", concat("; ", sort(sandbox_problems)))
}

sandbox_problems contains "guest_hook_path is set" if input.guest_hook_path != ""

sandbox_problems contains "kernel_modules is not empty" if count(array_or_empty(input.kernel_modules)) != 0

sandbox_problems contains "sandbox_pidns is set" if input.sandbox_pidns != false

sandbox_problems contains msg if {
	some s in array_or_empty(input.storages)
	not s in policy_data.sandbox.storages
	msg := sprintf("storage %s at %s is not allowed", [s.driver, s.mount_point])
}

sandbox_problems contains msg if {
	pstate_has("sandbox_id")
	data.pstate.sandbox_id != input.sandbox_id
	msg := sprintf("sandbox_id %q differs from %q pinned by an earlier request", [input.sandbox_id, data.pstate.sandbox_id])
}

# ---------------------------------------------------------------------------
# ExecProcessRequest: only in containers created under this policy, only the
# commands the pod's probes and hooks run (or the settings allow), with the
# container's own user, environment and working directory.

ExecProcessRequest if {
	count(exec_problems) == 0
} else := false if {
	print("ExecProcessRequest:", concat("; ", sort(exec_problems)))
}

exec_ctx := {
	"sandbox_name": object.get(data.pstate, "sandbox_name", ""),
	"namespace": object.get(data.pstate, "namespace", ""),
}

exec_container := policy_data.containers[data.pstate[input.container_id]] if container_id_ok(input.container_id)

exec_problems contains "string_user is set" if object.get(input, "string_user", null) != null

exec_problems contains sprintf("process.%s is set", [k]) if {
	some k in ["SelinuxLabel", "ApparmorProfile"]
	object.get(input.process, k, "") != ""
}

exec_problems contains "process.Capabilities is set" if object.get(input.process, "Capabilities", null) != null

exec_problems contains sprintf("container %v was not created under this policy", [input.container_id]) if not exec_container

exec_problems contains msg if {
	p := exec_container
	not exec_command_allowed(p)
	msg := sprintf("command %v is not allowed", [input.process.Args])
}

exec_problems contains "Cwd differs" if {
	p := exec_container
	not p.OCI.Process.Cwd == input.process.Cwd
}

exec_problems contains "NoNewPrivileges differs" if {
	p := exec_container
	not p.OCI.Process.NoNewPrivileges == input.process.NoNewPrivileges
}

exec_problems contains "User differs" if {
	p := exec_container
	not user_ok(p.OCI.Process.User, input.process.User)
}

exec_problems contains msg if {
	p := exec_container
	some msg in env_problems(p.OCI.Process.Env, input.process.Env, exec_ctx)
}

# A command of the pod's probes and hooks runs as they do, without a terminal;
# the commands the settings allow may be interactive.
exec_command_allowed(p) if {
	input.process.Args in object.get(p, "exec_commands", [])
	input.process.Terminal == p.OCI.Process.Terminal
}

else := true if {
	input.process.Args in policy_data.request_defaults.ExecProcessRequest.allowed_commands
}

else := true if {
	some re in policy_data.request_defaults.ExecProcessRequest.regex
	regex.match(re, concat(" ", input.process.Args))
}

# ---------------------------------------------------------------------------
# RemoveContainerRequest: forget the container (always allowed).

RemoveContainerRequest := {"allowed": true, "ops": [{"op": "remove", "path": concat("/", ["", "pstate", input.container_id])}]} if {
	container_id_ok(input.container_id)
	is_number(data.pstate[input.container_id])
}

# ---------------------------------------------------------------------------
# CopyFileRequest: files the runtime shares with the containers (hosts,
# resolv.conf, configMap and secret volumes, ...), below the shared
# directory, never through "..".

CopyFileRequest if {
	count(copy_problems) == 0
} else := false if {
	print("CopyFileRequest:", concat("; ", sort(copy_problems)))
}

dotdot := `(^|/)\.\.($|/)`

# The agent's converted request names the type; older agents send the mode.
copy_file_type := input.file_type if is_string(input.file_type)

else := "Regular" if bits.and(input.file_mode, 61440) == 32768

else := "Directory" if bits.and(input.file_mode, 61440) == 16384

else := "Symlink" if bits.and(input.file_mode, 61440) == 40960

else := "Unknown"

copy_symlink_target := input.symlink_target if is_string(input.symlink_target)

else := input.symlink_src if is_string(input.symlink_src)

copy_path_ok(suffix) if {
	some re in policy_data.request_defaults.CopyFileRequest
	full := strings.replace_n(
		{"$(cpath)": policy_data.common.cpath, "$(bundle-id)": "[a-z0-9]{64}"},
		replace(re, "$(sfprefix)", policy_data.common.sfprefix),
	)
	regex.match(concat("", [full, suffix]), input.path)
}

copy_problems contains "the path has a .. component" if regex.match(dotdot, input.path)

copy_problems contains sprintf("file type %s is not allowed", [copy_file_type]) if not copy_file_type in {"Regular", "Directory", "Symlink"}

copy_problems contains sprintf("%s is not below the shared directory", [input.path]) if {
	copy_file_type in {"Regular", "Directory"}
	not copy_path_ok("")
}

copy_problems contains sprintf("symlink %s is not inside a shared directory", [input.path]) if {
	copy_file_type == "Symlink"
	not copy_path_ok(".*/.+")
}

copy_problems contains "the symlink target is absolute, empty or has a .. component" if {
	copy_file_type == "Symlink"
	not copy_symlink_target_ok
}

copy_symlink_target_ok if {
	target := copy_symlink_target
	target != ""
	not startswith(target, "/")
	not regex.match(dotdot, target)
}

# ---------------------------------------------------------------------------
# Network configuration from the host.

UpdateRoutesRequest if {
	count(routes_problems) == 0
} else := false if {
	print("UpdateRoutesRequest:", concat("; ", sort(routes_problems)))
}

routes_problems contains sprintf("route via %s is not allowed", [r.device]) if {
	some r in array_or_empty(input.routes.Routes)
	r.device in policy_data.request_defaults.UpdateRoutesRequest.forbidden_device_names
}

routes_problems contains sprintf("route source %s is not allowed", [r.source]) if {
	some r in array_or_empty(input.routes.Routes)
	some re in policy_data.request_defaults.UpdateRoutesRequest.forbidden_source_regex
	regex.match(re, r.source)
}

UpdateInterfaceRequest if {
	count(interface_problems) == 0
} else := false if {
	print("UpdateInterfaceRequest:", concat("; ", sort(interface_problems)))
}

interface_problems contains "raw_flags are not allowed" if not raw_flags_ok

# Only the flags the settings allow (IFF_NOARP).
raw_flags_ok if {
	allowed := policy_data.request_defaults.UpdateInterfaceRequest.allow_raw_flags
	bits.and(input.interface.raw_flags, allowed) == input.interface.raw_flags
}

interface_problems contains sprintf("interface %s is not allowed", [input.interface.name]) if {
	input.interface.name in policy_data.request_defaults.UpdateInterfaceRequest.forbidden_names
}

interface_problems contains sprintf("hardware address %s is not allowed", [input.interface.hwAddr]) if {
	input.interface.hwAddr in policy_data.request_defaults.UpdateInterfaceRequest.forbidden_hw_addrs
}

AddARPNeighborsRequest if {
	count(arp_problems) == 0
} else := false if {
	print("AddARPNeighborsRequest:", concat("; ", sort(arp_problems)))
}

arp_problems contains sprintf("neighbour %v is not allowed", [n]) if {
	defaults := policy_data.request_defaults.AddARPNeighborsRequest
	some n in array_or_empty(input.neighbors.ARPNeighbors)
	not arp_neighbor_ok(n, defaults)
}

arp_neighbor_ok(n, defaults) if {
	not n.device in defaults.forbidden_device_names
	n.toIPAddress.mask == ""
	every re in defaults.forbidden_cidrs_regex {
		not regex.match(re, n.toIPAddress.address)
	}
	n.state in defaults.allowed_states
	bits.or(n.flags, 136) == 136
}
