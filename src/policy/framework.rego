# Confidant's ACI security-policy framework (package `framework`).
#
# A user policy (`package policy`) produced by `az confcom` delegates each
# enforcement point to a rule of this package (`mount_device :=
# data.framework.mount_device`). Each point rule is an object with a boolean
# `allowed`, the extra outputs the guest needs (`env_list`, `caps_list`,
# `allow_stdio_access`, ...) and `metadata`: the state operations the enforcer
# applies when, and only when, the call is allowed.
#
# Written for Confidant from the behaviour described in
# shared/reference/aci-execution-policy.md (hcsshim API 0.12.0, framework
# 0.5.0). Inputs come from the guest, the policy from the host: every check is
# written so that a missing field, a wrong type or an unexpected value leaves
# the point at its default `{"allowed": false}`.
#
# Evaluation context provided by the enforcer (src/policy/aci_dialect.cc):
#   data.policy        the user policy
#   data.metadata      the state (devices, matches, started, ...), per call
#   data.defaultMounts, data.privilegedMounts, data.sandboxPrefix,
#   data.hugePagesPrefix, data.plan9Prefix, data.defaultUnprivilegedCapabilities,
#   data.defaultPrivilegedCapabilities   static data
# Rules marked "static" depend on data.policy and static data only; the
# enforcer evaluates them once per loaded policy and supplies their values to
# later calls, so they must never read `input` or `data.metadata`.
package framework

version := "0.5.0"

# ---------------------------------------------------------------- versions

default policy_framework_version := null

policy_framework_version := v if {
	v := data.policy.framework_version
} else := v if {
	v := data.policy.framework_svn
}

default policy_api_version := null

policy_api_version := v if {
	v := data.policy.api_version
} else := v if {
	v := data.policy.api_svn
}

# True when `v` is a semantic version older than this framework. Missing,
# malformed or newer versions are neither current nor older, so no container
# of such a policy is ever a candidate.
version_older(v) if semver.compare(v, version) < 0

version_current(v) if semver.compare(v, version) == 0

version_below(v, threshold) if semver.compare(v, threshold) < 0

# ---------------------------------------------------------------- metadata

# A metadata collection, empty until the first operation creates it.
md(name) := m if {
	m := data.metadata[name]
} else := {}

md_has(name, key) if {
	_ = data.metadata[name][key]
}

# ---------------------------------------------------------------- normalisation

default_user := {
	"user_idname": {"pattern": "", "strategy": "any"},
	"group_idnames": [{"pattern": "", "strategy": "any"}],
	"umask": "0022",
}

# A container as this framework version expects it: policies written for an
# older framework get the defaults of the fields introduced since.
check_container(c, v) := c if version_current(v)

check_container(c, v) := {
	"command": c.command,
	"env_rules": c.env_rules,
	"layers": c.layers,
	"mounts": c.mounts,
	"allow_elevated": c.allow_elevated,
	"working_dir": c.working_dir,
	"exec_processes": c.exec_processes,
	"signals": compat_signals(c, v),
	"allow_stdio_access": c.allow_stdio_access,
	"no_new_privileges": compat_field(c, v, "no_new_privileges", "0.2.0", false),
	"user": compat_field(c, v, "user", "0.2.1", default_user),
	"capabilities": compat_field(c, v, "capabilities", "0.2.2", null),
	"seccomp_profile_sha256": compat_field(c, v, "seccomp_profile_sha256", "0.2.3", ""),
} if version_older(v)

compat_field(c, v, name, since, fallback) := fallback if {
	version_below(v, since)
} else := c[name]

# Before 0.4.1 SIGKILL and SIGTERM could always be sent to the init process.
compat_signals(c, v) := array.concat(c.signals, [9, 15]) if {
	version_below(v, "0.4.1")
} else := c.signals

check_external_process(p, v) := p if version_current(v)

check_external_process(p, v) := {
	"command": p.command,
	"env_rules": p.env_rules,
	"working_dir": p.working_dir,
	"allow_stdio_access": p.allow_stdio_access,
} if version_older(v)

check_fragment(f, v) := f if version_current(v)

check_fragment(f, v) := {
	"issuer": f.issuer,
	"feed": f.feed,
	"minimum_svn": f.minimum_svn,
	"includes": f.includes,
	"required_receipts": object.get(f, "required_receipts", []),
	"parameters": object.get(f, "parameters", {}),
} if version_older(v)

policy_list(name) := l if {
	l := data.policy[name]
	is_array(l)
} else := []

# static
policy_containers := [check_container(c, policy_framework_version) | some c in policy_list("containers")]

# static
policy_external_processes := [check_external_process(p, policy_framework_version) |
	some p in policy_list("external_processes")
]

# static
policy_fragments := [check_fragment(f, policy_framework_version) | some f in policy_list("fragments")]

# static: platform rules and trust lists exist from framework 0.5.0 on.
policy_platform_rules := policy_list("platform_rules") if {
	not version_older(policy_framework_version)
} else := []

# static
policy_trust_lists := policy_list("transparency_trust_lists") if {
	not version_older(policy_framework_version)
} else := []

# static: every layer hash of the policy's containers, for mount_device.
policy_layers := {layer | some c in policy_containers; some layer in c.layers}

# static
allow_env_dropping := true if {
	data.policy.allow_environment_variable_dropping == true
} else := false

# static: capability dropping is honoured from framework 0.2.2 on.
allow_caps_dropping := true if {
	data.policy.allow_capability_dropping == true
	not version_below(policy_framework_version, "0.2.2")
} else := false

# static
allow_unencrypted_scratch := true if {
	data.policy.allow_unencrypted_scratch == true
} else := false

# ---------------------------------------------------------------- fragment-provided objects

# Objects that loaded fragments contributed, already normalised when loaded:
# metadata.issuers[issuer].feeds[feed] is a list of included-objects.
fragment_objects(kind) := [x |
	some issuer in md("issuers")
	some included in issuer.feeds[_]
	some x in included[kind]
]

fragment_containers := fragment_objects("containers")

platform_rules := array.concat(policy_platform_rules, fragment_objects("platform_rules"))

# Containers a new overlay may belong to. With platform rules every container
# appears once per rule, with the rule's env rules and mounts appended.
candidate_containers := containers if {
	containers := array.concat(policy_containers, fragment_containers)
	count(platform_rules) == 0
} else := [with_platform_rule(c, r) |
	some c in array.concat(policy_containers, fragment_containers)
	some r in platform_rules
]

with_platform_rule(c, r) := object.union(c, {
	"env_rules": array.concat(c.env_rules, object.get(r, "env_rules", [])),
	"mounts": array.concat(c.mounts, object.get(r, "mounts", [])),
})

candidate_external_processes := array.concat(policy_external_processes, fragment_objects("external_processes"))

candidate_fragments := array.concat(policy_fragments, fragment_objects("fragments"))

candidate_trust_lists := array.concat(policy_trust_lists, fragment_objects("transparency_trust_lists"))

# ---------------------------------------------------------------- helpers

# Policy regexes match whole strings.
anchored(p) := concat("", [anchor_start(p), p, anchor_end(p)])

anchor_start(p) := "" if {
	startswith(p, "^")
} else := "^"

anchor_end(p) := "" if {
	endswith(p, "$")
} else := "$"

full_match(pattern, s) if regex.match(anchored(pattern), s)

# Equal as multisets of distinct items: same length, every item of each in the other.
same_items(a, b) if {
	count(a) == count(b)
	every x in a {
		x in b
	}
	every x in b {
		x in a
	}
}

# Text before the first "=", the whole entry when there is none.
env_name(e) := substring(e, 0, i) if {
	i := indexof(e, "=")
	i >= 0
} else := e

# ---------------------------------------------------------------- devices

device_mounted(target) if md_has("devices", target)

device_mounted(target) if md_has("rw_devices", target)

device_hash_known(h) := true if {
	h in policy_layers
} else := true if {
	some c in fragment_containers
	h in c.layers
} else := false

default mount_device := {"allowed": false}

mount_device := {"metadata": [add_device], "allowed": true} if {
	is_string(input.target)
	not device_mounted(input.target)
	device_hash_known(input.deviceHash)
	full_match(input.mountPathRegex, input.target)
	add_device := {"name": "devices", "action": "add", "key": input.target, "value": input.deviceHash}
}

default rw_mount_device := {"allowed": false}

rw_mount_device := {"metadata": [add_device], "allowed": true} if {
	is_string(input.target)
	not device_mounted(input.target)
	scratch_encryption_ok(input.encrypted)
	input.ensureFilesystem == true
	input.filesystem in {"ext4", "xfs"}
	full_match(input.mountPathRegex, input.target)
	add_device := {"name": "rw_devices", "action": "add", "key": input.target, "value": true}
}

scratch_encryption_ok(encrypted) if encrypted == true

scratch_encryption_ok(_) if allow_unencrypted_scratch

default unmount_device := {"allowed": false}

unmount_device := {"metadata": [remove], "allowed": true} if {
	md_has("devices", input.unmountTarget)
	remove := {"name": "devices", "action": "remove", "key": input.unmountTarget}
}

default rw_unmount_device := {"allowed": false}

rw_unmount_device := {"metadata": [remove], "allowed": true} if {
	md_has("rw_devices", input.unmountTarget)
	remove := {"name": "rw_devices", "action": "remove", "key": input.unmountTarget}
}

# Block-device mounts are refused whatever the policy says.
default mount_blockdev := {"allowed": false}

default unmount_blockdev := {"allowed": false}

# ---------------------------------------------------------------- overlays

overlay_exists if md_has("matches", input.containerID)

overlay_exists if md_has("overlayTargets", input.target)

# layerPaths lists the top-most layer first, policies the base layer first.
layers_match(layers) if {
	is_array(input.layerPaths)
	n := count(layers)
	n == count(input.layerPaths)
	devices := md("devices")
	every i, path in input.layerPaths {
		layers[(n - 1) - i] == devices[path]
	}
}

overlay_containers := [c | some c in candidate_containers; layers_match(c.layers)]

default mount_overlay := {"allowed": false}

mount_overlay := {"metadata": [add_matches, add_target], "allowed": true} if {
	is_string(input.containerID)
	is_string(input.target)
	not overlay_exists
	count(overlay_containers) > 0
	add_matches := {"name": "matches", "action": "add", "key": input.containerID, "value": overlay_containers}
	add_target := {"name": "overlayTargets", "action": "add", "key": input.target, "value": true}
}

default unmount_overlay := {"allowed": false}

unmount_overlay := {"metadata": [remove], "allowed": true} if {
	md_has("overlayTargets", input.unmountTarget)
	remove := {"name": "overlayTargets", "action": "remove", "key": input.unmountTarget}
}

# Windows: CIM layers are matched by hash, not through mounted devices.
default mount_cims := {"allowed": false}

mount_cims := {"metadata": [add_matches], "allowed": true} if {
	is_string(input.containerID)
	not md_has("matches", input.containerID)
	is_array(input.layerHashes)
	containers := [c |
		some c in candidate_containers
		c.mounted_cim == input.mountedCim
		cim_layers_match(c.layers)
	]
	count(containers) > 0
	add_matches := {"name": "matches", "action": "add", "key": input.containerID, "value": containers}
}

cim_layers_match(layers) if {
	n := count(layers)
	n == count(input.layerHashes)
	every i, h in input.layerHashes {
		layers[(n - 1) - i] == h
	}
}

# ---------------------------------------------------------------- containers: checks

container_started if md_has("started", input.containerID)

matches := m if {
	m := data.metadata.matches[input.containerID]
	is_array(m)
} else := []

command_ok(command) if command == input.argList

working_dir_ok(dir) if dir == input.workingDir

no_new_privileges_ok(required) if required == false

no_new_privileges_ok(required) if {
	required == true
	input.noNewPrivileges == true
}

privileged_ok(_) if input.privileged == false

privileged_ok(allow_elevated) if {
	input.privileged == true
	allow_elevated == true
}

seccomp_ok(profile) if profile == input.seccompProfileSHA256

devices_ok if input.devices == []

idname_ok(rule, value) := true if {
	rule.strategy == "any"
} else := true if {
	rule.strategy == "id"
	rule.pattern == value.id
} else := true if {
	rule.strategy == "name"
	rule.pattern == value.name
} else := true if {
	rule.strategy == "re2"
	full_match(rule.pattern, value.name)
} else := false

user_ok(user) if {
	user.umask == input.umask
	idname_ok(user.user_idname, input.user)
	is_array(input.groups)
	every group in input.groups {
		group_ok(user.group_idnames, group)
	}
}

group_ok(rules, group) := true if {
	some rule in rules
	idname_ok(rule, group)
} else := false

# ---------------------------------------------------------------- mounts

mount_list_ok(constraints, allow_elevated) if {
	is_array(input.mounts)
	every m in input.mounts {
		mount_ok(constraints, allow_elevated, m)
	}
}

mount_ok(constraints, allow_elevated, m) := true if {
	some c in constraints
	mount_constraint_ok(c, m)
} else := true if {
	some c in data.defaultMounts
	mount_constraint_ok(c, m)
} else := true if {
	allow_elevated == true
	some c in data.privilegedMounts
	mount_constraint_ok(c, m)
} else := true if {
	input.isSandboxContainer == true
	sandbox_sysfs(m)
} else := false

mount_constraint_ok(c, m) if {
	c.type == m.type
	c.destination != ""
	c.destination == m.destination
	is_array(m.options)
	same_items(c.options, m.options)
	mount_source_ok(c.source, m.source)
}

# containerd mounts /sys read-write into privileged pod sandboxes.
sandbox_sysfs(m) if {
	m.type == "sysfs"
	m.source == "sysfs"
	m.destination == "/sys"
	is_array(m.options)
	same_items(m.options, ["nosuid", "noexec", "nodev", "rw"])
}

mount_source_ok(policy_source, source) := true if {
	startswith(policy_source, data.sandboxPrefix)
	full_match(replace_prefix(policy_source, data.sandboxPrefix, input.sandboxDir), source)
} else := true if {
	startswith(policy_source, data.hugePagesPrefix)
	full_match(replace_prefix(policy_source, data.hugePagesPrefix, input.hugePagesDir), source)
} else := true if {
	startswith(policy_source, data.plan9Prefix)
	data.metadata.p9mounts[source] == input.containerID
} else := true if {
	not startswith(policy_source, data.sandboxPrefix)
	not startswith(policy_source, data.hugePagesPrefix)
	not startswith(policy_source, data.plan9Prefix)
	policy_source == source
} else := false

replace_prefix(s, prefix, replacement) := concat("", [replacement, substring(s, count(prefix), -1)])

# ---------------------------------------------------------------- environment

env_rule_ok(rule, e) := true if {
	rule.strategy == "string"
	rule.pattern == e
} else := true if {
	rule.strategy == "re2"
	full_match(rule.pattern, e)
} else := true if {
	is_string(rule.name)
	i := indexof(e, "=")
	i >= 0
	env_part_ok(rule.name_strategy, rule.name, substring(e, 0, i))
	env_part_ok(rule.value_strategy, rule.value, substring(e, i + 1, -1))
} else := false

env_part_ok(strategy, pattern, s) if {
	strategy == "string"
	pattern == s
}

env_part_ok(strategy, pattern, s) if {
	strategy == "re2"
	full_match(pattern, s)
}

env_matched(rules, e) := true if {
	some rule in rules
	env_rule_ok(rule, e)
} else := false

# Every entry matches some rule and every required rule matches some entry.
env_list_ok(rules, envs) if {
	every e in envs {
		env_matched(rules, e)
	}
	every rule in rules {
		required_rule_ok(rule, envs)
	}
}

required_rule_ok(rule, _) if object.get(rule, "required", false) == false

required_rule_ok(rule, envs) if {
	rule.required == true
	some e in envs
	env_rule_ok(rule, e)
}

# The environment the remaining candidates are judged against. With dropping,
# each candidate keeps the entries its rules match; the largest such sets must
# all be the same set (otherwise the request does not say which candidate it
# is, and the result is undefined).
env_list_for(candidates) := input.envList if {
	not allow_env_dropping
	is_array(input.envList)
} else := envs if {
	allow_env_dropping
	is_array(input.envList)
	kept := [{e | some e in input.envList; env_matched(c.env_rules, e)} | some c in candidates]
	largest := max([count(s) | some s in kept])
	choices := {s | some s in kept; count(s) == largest}
	count(choices) == 1
	some envs in choices
}

# ---------------------------------------------------------------- capabilities

cap_sets := ["ambient", "bounding", "effective", "inheritable", "permitted"]

privileged_caps := {
	"ambient": [],
	"bounding": data.defaultPrivilegedCapabilities,
	"effective": data.defaultPrivilegedCapabilities,
	"inheritable": data.defaultPrivilegedCapabilities,
	"permitted": data.defaultPrivilegedCapabilities,
}

unprivileged_caps := {
	"ambient": [],
	"bounding": data.defaultUnprivilegedCapabilities,
	"effective": data.defaultUnprivilegedCapabilities,
	"inheritable": [],
	"permitted": data.defaultUnprivilegedCapabilities,
}

# The capabilities a container may have: its own sets, or the defaults for
# its privilege when the policy leaves them open (null).
container_caps(c, privileged) := caps if {
	caps := c.capabilities
	caps != null
} else := privileged_caps if {
	c.allow_elevated == true
	privileged == true
} else := unprivileged_caps

caps_ok(allowed, requested) if {
	every name in cap_sets {
		is_collection(requested[name])
		same_items(allowed[name], requested[name])
	}
}

is_collection(x) if is_array(x)

is_collection(x) if is_set(x)

caps_kept(allowed) := {name: kept |
	some name in cap_sets
	kept := {cap | some cap in input.capabilities[name]; cap in allowed[name]}
}

caps_score(kept) := sum([count(kept[name]) | some name in cap_sets])

# The capabilities granted. With dropping each candidate keeps the requested
# capabilities it allows; the candidates keeping the most must agree.
caps_list_for(candidates, privileged) := input.capabilities if {
	not allow_caps_dropping
} else := caps if {
	allow_caps_dropping
	every name in cap_sets {
		is_array(input.capabilities[name])
	}
	kept := [caps_kept(container_caps(c, privileged)) | some c in candidates]
	best := max([caps_score(k) | some k in kept])
	choices := {k | some k in kept; caps_score(k) == best}
	count(choices) == 1
	some caps in choices
}

# The privilege of the container's init process decides the default capabilities.
started_privileged := data.metadata.started[input.containerID].privileged

stdio_access(candidates) := v if {
	values := {c.allow_stdio_access | some c in candidates}
	count(values) == 1
	some v in values
	is_boolean(v)
}

# ---------------------------------------------------------------- create_container

create_initial := [c |
	some c in matches
	no_new_privileges_ok(c.no_new_privileges)
	user_ok(c.user)
	privileged_ok(c.allow_elevated)
	working_dir_ok(c.working_dir)
	command_ok(c.command)
	mount_list_ok(c.mounts, c.allow_elevated)
	seccomp_ok(c.seccomp_profile_sha256)
	devices_ok
]

create_env_list := env_list_for(create_initial)

create_after_env := [c | some c in create_initial; env_list_ok(c.env_rules, create_env_list)]

create_caps_list := caps_list_for(create_after_env, input.privileged)

create_after_caps := [c |
	some c in create_after_env
	caps_ok(container_caps(c, input.privileged), create_caps_list)
]

default create_container := {"allowed": false}

create_container := {
	"metadata": [update_matches, add_started],
	"env_list": create_env_list,
	"caps_list": create_caps_list,
	"allow_stdio_access": stdio,
	"allowed": true,
} if {
	is_string(input.containerID)
	is_boolean(input.privileged)
	not container_started
	count(create_after_caps) > 0
	stdio := stdio_access(create_after_caps)
	update_matches := {"name": "matches", "action": "update", "key": input.containerID, "value": create_after_caps}
	add_started := {"name": "started", "action": "add", "key": input.containerID, "value": {"privileged": input.privileged}}
}

# ---------------------------------------------------------------- exec_in_container

exec_command_ok(c) := true if {
	some p in c.exec_processes
	command_ok(p.command)
} else := false

exec_initial := [c |
	some c in matches
	working_dir_ok(c.working_dir)
	no_new_privileges_ok(c.no_new_privileges)
	user_ok(c.user)
	exec_command_ok(c)
]

exec_env_list := env_list_for(exec_initial)

exec_after_env := [c | some c in exec_initial; env_list_ok(c.env_rules, exec_env_list)]

exec_caps_list := caps_list_for(exec_after_env, started_privileged)

exec_after_caps := [c |
	some c in exec_after_env
	caps_ok(container_caps(c, started_privileged), exec_caps_list)
]

default exec_in_container := {"allowed": false}

exec_in_container := {
	"metadata": [update_matches],
	"env_list": exec_env_list,
	"caps_list": exec_caps_list,
	"allowed": true,
} if {
	container_started
	count(exec_after_caps) > 0
	update_matches := {"name": "matches", "action": "update", "key": input.containerID, "value": exec_after_caps}
}

# ---------------------------------------------------------------- exec_external

external_initial := [p |
	some p in candidate_external_processes
	working_dir_ok(p.working_dir)
	command_ok(p.command)
]

external_env_list := env_list_for(external_initial)

external_after_env := [p | some p in external_initial; env_list_ok(p.env_rules, external_env_list)]

default exec_external := {"allowed": false}

exec_external := {"env_list": external_env_list, "allow_stdio_access": stdio, "allowed": true} if {
	count(external_after_env) > 0
	stdio := stdio_access(external_after_env)
}

# ---------------------------------------------------------------- shutdown and signals

default shutdown_container := {"allowed": false}

shutdown_container := {"metadata": [remove], "allowed": true} if {
	container_started
	remove := {"name": "matches", "action": "remove", "key": input.containerID}
}

signal_ok(c) if {
	input.isInitProcess == true
	input.signal in c.signals
}

signal_ok(c) if {
	input.isInitProcess == false
	some p in c.exec_processes
	command_ok(p.command)
	input.signal in p.signals
}

signal_containers := [c | some c in matches; signal_ok(c)]

default signal_container_process := {"allowed": false}

signal_container_process := {"metadata": [update_matches], "allowed": true} if {
	container_started
	count(signal_containers) > 0
	update_matches := {"name": "matches", "action": "update", "key": input.containerID, "value": signal_containers}
}

# ---------------------------------------------------------------- plan9 and scratch

# A plan9 share belongs to the container whose directory it is mounted under.
plan9_owner(target) := owner if {
	is_string(target)
	owners := {id |
		some id, _ in md("matches")
		prefix := concat("", [input.rootPrefix, "/", id])
		startswith(target, prefix)
		full_match(input.mountPathPrefix, substring(target, count(prefix), -1))
	}
	count(owners) == 1
	some owner in owners
}

default plan9_mount := {"allowed": false}

plan9_mount := {"metadata": [add], "allowed": true} if {
	not md_has("p9mounts", input.target)
	owner := plan9_owner(input.target)
	add := {"name": "p9mounts", "action": "add", "key": input.target, "value": owner}
}

default plan9_unmount := {"allowed": false}

plan9_unmount := {"metadata": [remove], "allowed": true} if {
	md_has("p9mounts", input.unmountTarget)
	remove := {"name": "p9mounts", "action": "remove", "key": input.unmountTarget}
}

default scratch_mount := {"allowed": false}

scratch_mount := {"metadata": [add], "allowed": true} if {
	is_string(input.target)
	not md_has("scratch_mounts", input.target)
	is_boolean(input.encrypted)
	scratch_encryption_ok(input.encrypted)
	add := {"name": "scratch_mounts", "action": "add", "key": input.target, "value": {"encrypted": input.encrypted}}
}

default scratch_unmount := {"allowed": false}

scratch_unmount := {"metadata": [remove], "allowed": true} if {
	md_has("scratch_mounts", input.unmountTarget)
	remove := {"name": "scratch_mounts", "action": "remove", "key": input.unmountTarget}
}

# ---------------------------------------------------------------- host-level switches

default get_properties := {"allowed": false}

get_properties := {"allowed": true} if data.policy.allow_properties_access == true

default dump_stacks := {"allowed": false}

dump_stacks := {"allowed": true} if data.policy.allow_dump_stacks == true

default runtime_logging := {"allowed": false}

runtime_logging := {"allowed": true} if data.policy.allow_runtime_logging == true

default host_network := {"allowed": false}

host_network := {"allowed": true} if data.policy.allow_host_network == true

# ---------------------------------------------------------------- Windows: registry, log providers

default registry_changes := {"allowed": false}

registry_changes := {"allowed": true} if {
	some c in matches
	c.registry_changes
	count(input.registryChanges.AddValues) > 0
}

allowed_log_providers := {lower(p) | some p in data.policy.allowed_log_providers}

log_provider_allowed(p) if lower(p) in allowed_log_providers

default log_provider := {"allowed": false}

log_provider := {"allowed": true, "providers_to_keep": null} if {
	not data.policy.allow_log_provider_dropping == true
	is_array(input.providers)
	every p in input.providers {
		log_provider_allowed(p)
	}
}

log_provider := {"allowed": true, "providers_to_keep": keep} if {
	data.policy.allow_log_provider_dropping == true
	is_array(input.providers)
	keep := [p | some p in input.providers; log_provider_allowed(p)]
}

# ---------------------------------------------------------------- fragments

# SVNs are compared as numbers; the deprecated semantic-version form is
# compared as such, and mixing the two forms is refused.
svn_kind(s) := "number" if is_number(s)

svn_kind(s) := "number" if {
	is_string(s)
	regex.match(`^[0-9]+$`, s)
}

svn_kind(s) := "semver" if {
	is_string(s)
	semver.is_valid(s)
}

svn_at_least(svn, minimum) if {
	svn_kind(svn) == "number"
	svn_kind(minimum) == "number"
	to_number(svn) >= to_number(minimum)
}

svn_at_least(svn, minimum) if {
	svn_kind(svn) == "semver"
	svn_kind(minimum) == "semver"
	semver.compare(svn, minimum) >= 0
}

svn_kinds_differ(svn, minimum) if svn_kind(svn) != svn_kind(minimum)

fragment_rego_svn := data[input.namespace].svn

header_svn_ok(f) if input.has_header_svn == false

header_svn_ok(f) if {
	input.has_header_svn == true
	svn_at_least(input.header_svn, f.minimum_svn)
}

# The SVN rules once the fragment's own text is loaded: the text's svn, the
# signed header's svn, or both (then equal), must reach the minimum.
fragment_svn_ok(f) if {
	input.has_header_svn == false
	svn_at_least(fragment_rego_svn, f.minimum_svn)
}

fragment_svn_ok(f) if {
	input.has_header_svn == true
	to_number(fragment_rego_svn) == input.header_svn
	svn_at_least(input.header_svn, f.minimum_svn)
}

fragment_svn_ok(f) if {
	input.has_header_svn == true
	not fragment_rego_svn
	svn_at_least(input.header_svn, f.minimum_svn)
}

receipt_ok(required) if {
	required == "*"
	count(input.receipts) > 0
}

receipt_ok(required) if {
	startswith(required, "TTL:")
	subject := substring(required, 4, -1)
	some r in input.receipts
	subject in r.ttl_subjects
}

receipt_ok(required) if {
	not required == "*"
	not startswith(required, "TTL:")
	some r in input.receipts
	r.issuer == required
}

receipts_ok(f) if {
	every required in object.get(f, "required_receipts", []) {
		receipt_ok(required)
	}
}

fragment_imports := [f |
	some f in candidate_fragments
	f.issuer == input.issuer
	f.feed == input.feed
]

# Parameter objects for this issuer and feed: nested imports first.
fragment_parameter_list := array.concat(
	[p.parameters | some p in md("fragment_parameters"); p.issuer == input.issuer; p.feed == input.feed],
	[p | some f in fragment_imports; p := f.parameters; is_object(p); count(p) > 0],
)

default load_fragment := {"allowed": false, "add_module": false}

load_fragment := {"allowed": true, "add_module": false, "parameters": fragment_parameter_list} if {
	input.fragment_loaded == false
	some f in fragment_imports
	header_svn_ok(f)
	receipts_ok(f)
}

fragment_framework_version := data[input.namespace].framework_version

fragment_version_ok if {
	not semver.compare(fragment_framework_version, version) > 0
	semver.is_valid(fragment_framework_version)
}

fragment_field(name) := l if {
	l := data[input.namespace][name]
	is_array(l)
} else := []

# What an accepted fragment contributes, normalised like the policy's own objects.
fragment_extract(includes) := {name: value |
	some name in includes
	value := fragment_extract_field(name)
}

fragment_extract_field("containers") := [check_container(c, fragment_framework_version) |
	some c in fragment_field("containers")
]

fragment_extract_field("external_processes") := [check_external_process(p, fragment_framework_version) |
	some p in fragment_field("external_processes")
]

fragment_extract_field("fragments") := [check_fragment(f, fragment_framework_version) |
	some f in fragment_field("fragments")
]

fragment_extract_field("platform_rules") := fragment_field("platform_rules") if {
	not version_older(fragment_framework_version)
} else := []

fragment_extract_field("transparency_trust_lists") := fragment_field("transparency_trust_lists") if {
	not version_older(fragment_framework_version)
} else := []

accepted_imports := [f | some f in fragment_imports; fragment_svn_ok(f); receipts_ok(f)]

load_fragment := {"metadata": array.concat([update_issuer], add_parameters), "add_module": add_module, "allowed": true} if {
	input.fragment_loaded == true
	fragment_version_ok
	count(accepted_imports) > 0
	includes := {i | some f in accepted_imports; some i in f.includes}
	extracted := fragment_extract(includes)
	issuer := object.get(md("issuers"), input.issuer, {"feeds": {}})
	feeds := object.get(issuer, "feeds", {})
	listed := array.concat([extracted], object.get(feeds, input.feed, []))
	update_issuer := {
		"name": "issuers",
		"action": "update",
		"key": input.issuer,
		"value": {"feeds": object.union(feeds, {input.feed: listed})},
	}
	add_parameters := [{"name": "fragment_parameters", "action": "add", "type": "set", "value": {
		"issuer": f.issuer,
		"feed": f.feed,
		"parameters": f.parameters,
	}} |
		some f in object.get(extracted, "fragments", [])
		is_object(f.parameters)
		count(f.parameters) > 0
	]
	add_module := "namespace" in includes
}

# ---------------------------------------------------------------- transparency trust lists

trust_list_matches := [t |
	some t in candidate_trust_lists
	t.issuer == input.issuer
	t.subject == input.subject
	svn_at_least(input.svn, t.minimum_svn)
]

trust_list_ledgers := ledgers if {
	allowed := {l | some t in trust_list_matches; some l in t.allowed_ledgers}
	"*" in allowed
	ledgers := [l | some l in input.ledgers]
} else := [l | some l in input.ledgers; l in {l | some t in trust_list_matches; some l in t.allowed_ledgers}]

default load_transparency_trust_list := {"allowed": false}

load_transparency_trust_list := {"allowed": true, "allowed_ledgers": trust_list_ledgers} if {
	is_array(input.ledgers)
	count(trust_list_matches) > 0
	count(trust_list_ledgers) > 0
}

# ---------------------------------------------------------------- reasons

reason := {"errors": errors, "error_objects": error_objects}

default error_objects := null

error_objects := matches if input.rule == "create_container"

error_objects := [p | some c in matches; some p in c.exec_processes] if input.rule == "exec_in_container"

error_objects := candidate_external_processes if input.rule == "exec_external"

error_objects := candidate_fragments if input.rule == "load_fragment"

container_points := {"create_container", "exec_in_container", "exec_external"}

# Each message restates one narrowing condition on its own, so one denial can
# list several.

errors contains "blockdev mounts are not supported" if input.rule in {"mount_blockdev", "unmount_blockdev"}

errors contains "deviceHash not found" if {
	input.rule == "mount_device"
	not device_hash_known(input.deviceHash)
}

errors contains "device already mounted at path" if {
	input.rule in {"mount_device", "rw_mount_device"}
	device_mounted(input.target)
}

errors contains "mountpoint invalid" if {
	input.rule in {"mount_device", "rw_mount_device"}
	not full_match(input.mountPathRegex, input.target)
}

errors contains "no device at path to unmount" if {
	input.rule in {"unmount_device", "rw_unmount_device"}
	not md_has("devices", input.unmountTarget)
	not md_has("rw_devices", input.unmountTarget)
}

errors contains "received read-only unmount request, but device provided is read-write" if {
	input.rule == "unmount_device"
	md_has("rw_devices", input.unmountTarget)
}

errors contains "received read-write unmount request, but device provided is read-only" if {
	input.rule == "rw_unmount_device"
	md_has("devices", input.unmountTarget)
}

errors contains "unencrypted scratch not allowed, non-readonly mount request for SCSI disk must request encryption" if {
	input.rule == "rw_mount_device"
	not scratch_encryption_ok(input.encrypted)
}

errors contains "ensureFilesystem must be set on rw device mounts" if {
	input.rule == "rw_mount_device"
	not input.ensureFilesystem == true
}

errors contains "rw device mounts uses a filesystem that is not allowed" if {
	input.rule == "rw_mount_device"
	not input.filesystem in {"ext4", "xfs"}
}

errors contains "overlay has already been mounted" if {
	input.rule == "mount_overlay"
	overlay_exists
}

errors contains "no matching containers for overlay" if {
	input.rule == "mount_overlay"
	count(overlay_containers) == 0
}

errors contains "no overlay at path to unmount" if {
	input.rule == "unmount_overlay"
	not md_has("overlayTargets", input.unmountTarget)
}

errors contains "container already started" if {
	input.rule == "create_container"
	container_started
}

errors contains "container not started" if {
	input.rule in {"exec_in_container", "shutdown_container", "signal_container_process"}
	not container_started
}

errors contains "privileged escalation not allowed" if {
	input.rule == "create_container"
	not any_container_privileged_ok
}

any_container_privileged_ok if {
	some c in matches
	privileged_ok(c.allow_elevated)
}

errors contains "invalid command" if {
	input.rule in container_points
	not any_command_ok
}

any_command_ok if {
	input.rule == "create_container"
	some c in matches
	command_ok(c.command)
}

any_command_ok if {
	input.rule == "exec_in_container"
	some c in matches
	exec_command_ok(c)
}

any_command_ok if {
	input.rule == "exec_external"
	some p in candidate_external_processes
	command_ok(p.command)
}

errors contains "invalid working directory" if {
	input.rule in container_points
	not any_working_dir_ok
}

any_working_dir_ok if {
	input.rule in {"create_container", "exec_in_container"}
	some c in matches
	working_dir_ok(c.working_dir)
}

any_working_dir_ok if {
	input.rule == "exec_external"
	some p in candidate_external_processes
	working_dir_ok(p.working_dir)
}

# For exec, only containers that list the requested process count.
errors contains "invalid noNewPrivileges" if {
	input.rule in {"create_container", "exec_in_container"}
	not any_no_new_privileges_ok
}

any_no_new_privileges_ok if {
	input.rule == "create_container"
	some c in matches
	no_new_privileges_ok(c.no_new_privileges)
}

any_no_new_privileges_ok if {
	input.rule == "exec_in_container"
	some c in matches
	exec_command_ok(c)
	no_new_privileges_ok(c.no_new_privileges)
}

errors contains "invalid user" if {
	input.rule in {"create_container", "exec_in_container"}
	not any_user_ok
}

any_user_ok if {
	input.rule == "create_container"
	some c in matches
	user_ok(c.user)
}

any_user_ok if {
	input.rule == "exec_in_container"
	some c in matches
	exec_command_ok(c)
	user_ok(c.user)
}

errors contains msg if {
	input.rule == "create_container"
	rejected := [m.destination |
		some m in input.mounts
		not any_container_mount_ok(m)
	]
	count(rejected) > 0
	msg := concat("", ["invalid mount list: ", concat(",", rejected)])
}

any_container_mount_ok(m) if {
	some c in matches
	mount_ok(c.mounts, c.allow_elevated, m)
}

errors contains "invalid seccomp" if {
	input.rule == "create_container"
	not any_seccomp_ok
}

any_seccomp_ok if {
	some c in matches
	seccomp_ok(c.seccomp_profile_sha256)
}

errors contains "devices not supported" if {
	input.rule == "create_container"
	not devices_ok
}

# Environment variables no candidate allows (names only: values may be secret).
env_candidates := matches if input.rule in {"create_container", "exec_in_container"}

env_candidates := candidate_external_processes if input.rule == "exec_external"

errors contains msg if {
	input.rule in container_points
	names := [env_name(e) |
		some e in input.envList
		not any_env_rules_match(e)
	]
	count(names) > 0
	msg := concat("", ["invalid env list: ", concat(",", names)])
}

any_env_rules_match(e) if {
	some c in env_candidates
	env_matched(c.env_rules, e)
}

env_initial := create_initial if input.rule == "create_container"

env_initial := exec_initial if input.rule == "exec_in_container"

env_initial := external_initial if input.rule == "exec_external"

env_list_used := create_env_list if input.rule == "create_container"

env_list_used := exec_env_list if input.rule == "exec_in_container"

env_list_used := external_env_list if input.rule == "exec_external"

# Every candidate that passed the other checks refuses some requested variable.
errors contains "invalid env list" if {
	input.rule == "create_container"
	not allow_env_dropping
	count(create_initial) > 0
	every c in create_initial {
		some e in input.envList
		not env_matched(c.env_rules, e)
	}
}

errors contains "missing required environment variable" if {
	input.rule in container_points
	count(env_initial) > 0
	envs := env_list_used
	every c in env_initial {
		some rule in c.env_rules
		not required_rule_ok(rule, envs)
	}
}

caps_after_env := create_after_env if input.rule == "create_container"

caps_after_env := exec_after_env if input.rule == "exec_in_container"

caps_list_used := create_caps_list if input.rule == "create_container"

caps_list_used := exec_caps_list if input.rule == "exec_in_container"

caps_after := create_after_caps if input.rule == "create_container"

caps_after := exec_after_caps if input.rule == "exec_in_container"

errors contains "capabilities don't match" if {
	input.rule in {"create_container", "exec_in_container"}
	count(caps_after_env) > 0
	_ = caps_list_used
	count(caps_after) == 0
}

# [sic]: the reference framework's spelling, which users match on.
errors contains "containers only distinguishable by capabilties" if {
	input.rule in {"create_container", "exec_in_container"}
	allow_caps_dropping
	count(caps_after_env) > 0
	not caps_list_used
}

errors contains "containers only distinguishable by allow_stdio_access" if {
	input.rule == "create_container"
	count(create_after_caps) > 0
	not stdio_access(create_after_caps)
}

errors contains "external processes only distinguishable by allow_stdio_access" if {
	input.rule == "exec_external"
	count(external_after_env) > 0
	not stdio_access(external_after_env)
}

errors contains "target isn't allowed to receive the signal" if {
	input.rule == "signal_container_process"
	container_started
	count(signal_containers) == 0
}

errors contains "device already mounted at path" if {
	input.rule == "plan9_mount"
	md_has("p9mounts", input.target)
}

errors contains "no device at path to unmount" if {
	input.rule == "plan9_unmount"
	not md_has("p9mounts", input.unmountTarget)
}

errors contains "scratch already mounted at path" if {
	input.rule == "scratch_mount"
	md_has("scratch_mounts", input.target)
}

errors contains "unencrypted scratch not allowed" if {
	input.rule == "scratch_mount"
	not scratch_encryption_ok(input.encrypted)
}

errors contains "no scratch at path to unmount" if {
	input.rule == "scratch_unmount"
	not md_has("scratch_mounts", input.unmountTarget)
}

errors contains "log provider not allowed by policy" if {
	input.rule == "log_provider"
	not data.policy.allow_log_provider_dropping == true
	some p in input.providers
	not log_provider_allowed(p)
}

errors contains "invalid fragment issuer" if {
	input.rule == "load_fragment"
	not any_fragment_issuer
}

any_fragment_issuer if {
	some f in candidate_fragments
	f.issuer == input.issuer
}

errors contains "invalid fragment feed" if {
	input.rule == "load_fragment"
	any_fragment_issuer
	count(fragment_imports) == 0
}

fragment_svn_used := input.header_svn if input.has_header_svn == true

fragment_svn_used := fragment_rego_svn if {
	input.fragment_loaded == true
	input.has_header_svn == false
}

errors contains "fragment svn is below the specified minimum" if {
	input.rule == "load_fragment"
	count(fragment_imports) > 0
	svn := fragment_svn_used
	every f in fragment_imports {
		not svn_at_least(svn, f.minimum_svn)
		not svn_kinds_differ(svn, f.minimum_svn)
	}
}

errors contains "fragment svn and the specified minimum are different types" if {
	input.rule == "load_fragment"
	svn := fragment_svn_used
	some f in fragment_imports
	svn_kinds_differ(svn, f.minimum_svn)
}

errors contains msg if {
	input.rule == "load_fragment"
	input.fragment_loaded == true
	input.has_header_svn == true
	rego_svn := fragment_rego_svn
	not to_number(rego_svn) == input.header_svn
	msg := sprintf("svn in header %v does not match svn in fragment rego %v", [input.header_svn, rego_svn])
}

errors contains "missing fragment svn in either header or rego payload" if {
	input.rule == "load_fragment"
	input.fragment_loaded == true
	input.has_header_svn == false
	not fragment_rego_svn
}

errors contains msg if {
	input.rule == "load_fragment"
	count(fragment_imports) > 0
	every f in fragment_imports {
		not receipts_ok(f)
	}
	some f in fragment_imports
	some required in object.get(f, "required_receipts", [])
	not receipt_ok(required)
	msg := concat("", ["missing receipt from ", required])
}

errors contains msg if {
	input.rule == "load_fragment"
	input.fragment_loaded == true
	not fragment_framework_version
	msg := concat("", ["fragment framework_version is missing. Current version: ", version])
}

errors contains msg if {
	input.rule == "load_fragment"
	input.fragment_loaded == true
	semver.compare(fragment_framework_version, version) > 0
	msg := sprintf("fragment framework_version is ahead of the current version: %s is greater than %s", [fragment_framework_version, version])
}

errors contains "no TTL candidate matches the provided TTL's issuer, subject and svn" if {
	input.rule == "load_transparency_trust_list"
	count(trust_list_matches) == 0
}

errors contains "The provided TTL does not contain any ledgers it is allowed to load" if {
	input.rule == "load_transparency_trust_list"
	count(trust_list_matches) > 0
	count(trust_list_ledgers) == 0
}

errors contains msg if {
	policy_framework_version == null
	msg := concat("", ["framework_version is missing. Current version: ", version])
}

errors contains msg if {
	semver.compare(policy_framework_version, version) > 0
	msg := sprintf("framework_version is ahead of the current version: %s is greater than %s", [policy_framework_version, version])
}
