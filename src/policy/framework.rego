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
#   input              the request, plus `__confidant` (set by the enforcer,
#                      never by the host): {"metadata": the state (devices,
#                      matches, started, ...), "static": policy_static}
#   data.defaultMounts, data.privilegedMounts, data.sandboxPrefix,
#   data.hugePagesPrefix, data.plan9Prefix, data.defaultUnprivilegedCapabilities,
#   data.defaultPrivilegedCapabilities   static data
# `policy_static` depends on data.policy and static data only (never on
# `input` or the metadata): the enforcer evaluates it once per loaded policy
# and supplies its value to later calls.
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

# The state as of this call. The guest keeps it outside the compiled policy
# and passes it with each request, so changing it never means recompiling or
# copying the policy.
metadata := input.__confidant.metadata

# A metadata collection, empty until the first operation creates it.
md(name) := m if {
	m := metadata[name]
} else := {}

md_has(name, key) if {
	_ = metadata[name][key]
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

# Everything that depends on the policy and static data only. The enforcer
# evaluates `policy_static` once per loaded policy and supplies the value to
# every later call, so a call does not normalise the policy's containers again.
policy_static := s if {
	s := input.__confidant.static
} else := computed_static

computed_static := {
	"containers": static_containers,
	"layers": {layer | some c in static_containers; some layer in c.layers},
	"external_processes": static_external_processes,
	"fragments": [check_fragment(f, policy_framework_version) | some f in policy_list("fragments")],
	"platform_rules": static_platform_rules,
	"trust_lists": static_trust_lists,
	"allow_env_dropping": static_allow_env_dropping,
	"allow_caps_dropping": static_allow_caps_dropping,
	"allow_unencrypted_scratch": static_allow_unencrypted_scratch,
	# The policy's overlay candidates grouped by layer list, for mount_overlay.
	"by_layers": {layers: [c | some c in static_candidates; c.layers == layers] |
		some x in static_candidates
		layers := x.layers
	},
	# The env rules of every candidate, prepared for matching (env_matcher).
	"env_matchers": {rules: env_matcher(rules) |
		some x in array.concat(static_candidates, static_external_processes)
		rules := x.env_rules
	},
}

policy_containers := policy_static.containers

policy_external_processes := policy_static.external_processes

policy_fragments := policy_static.fragments

policy_platform_rules := policy_static.platform_rules

policy_trust_lists := policy_static.trust_lists

allow_env_dropping := policy_static.allow_env_dropping

allow_caps_dropping := policy_static.allow_caps_dropping

allow_unencrypted_scratch := policy_static.allow_unencrypted_scratch

# Every layer hash of the policy's containers, for mount_device.
policy_layers := policy_static.layers

static_containers := [check_container(c, policy_framework_version) | some c in policy_list("containers")]

static_candidates := with_platform_rules(static_containers, static_platform_rules)

static_external_processes := [check_external_process(p, policy_framework_version) |
	some p in policy_list("external_processes")
]

# Platform rules and trust lists exist from framework 0.5.0 on.
static_platform_rules := policy_list("platform_rules") if {
	not version_older(policy_framework_version)
} else := []

static_trust_lists := policy_list("transparency_trust_lists") if {
	not version_older(policy_framework_version)
} else := []

static_allow_env_dropping := true if {
	data.policy.allow_environment_variable_dropping == true
} else := false

# Capability dropping is honoured from framework 0.2.2 on.
static_allow_caps_dropping := true if {
	data.policy.allow_capability_dropping == true
	not version_below(policy_framework_version, "0.2.2")
} else := false

static_allow_unencrypted_scratch := true if {
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
candidate_containers := with_platform_rules(array.concat(policy_containers, fragment_containers), platform_rules)

with_platform_rules(containers, rules) := containers if {
	count(rules) == 0
} else := [with_platform_rule(c, r) | some c in containers; some r in rules]

with_platform_rule(c, r) := object.union(c, {
	"env_rules": array.concat(c.env_rules, object.get(r, "env_rules", [])),
	"mounts": array.concat(c.mounts, object.get(r, "mounts", [])),
})

candidate_external_processes := array.concat(policy_external_processes, fragment_objects("external_processes"))

candidate_fragments := array.concat(policy_fragments, fragment_objects("fragments"))

candidate_trust_lists := array.concat(policy_trust_lists, fragment_objects("transparency_trust_lists"))

# ---------------------------------------------------------------- helpers

# Policy regexes match whole strings: "^" is added unless the pattern starts
# with one, "$" unless it ends with one.
anchored(p) := concat("", ["^", trim_suffix(trim_prefix(p, "^"), "$"), "$"])

full_match(pattern, s) if regex.match(concat("", ["^", trim_suffix(trim_prefix(pattern, "^"), "$"), "$"]), s)

# Equal as multisets of distinct items: same length, every item of each in the other.
same_items(a, b) := true if {
	a == b
} else := true if {
	count(a) == count(b)
	every x in a {
		x in b
	}
	every x in b {
		x in a
	}
} else := false

# Text before the first "=", the whole entry when there is none.
env_name(e) := substring(e, 0, i) if {
	i := indexof(e, "=")
	i >= 0
} else := e

# ---------------------------------------------------------------- devices

device_mounted(target) if md_has("devices", target)

device_mounted(target) if md_has("rw_devices", target)

# The request's device hash is a layer of some candidate container. (Hot
# paths use else chains: the evaluator stops at the first clause that holds,
# where separate rule bodies would all be evaluated.)
device_hash_known := true if {
	policy_static.layers[input.deviceHash]
} else := true if {
	some c in fragment_containers
	input.deviceHash in c.layers
} else := false

default mount_device := {"allowed": false}

# mount_device runs for every layer of every container, so its checks are
# plain lookups rather than calls of device_mounted (a call costs more than
# the lookup it wraps). Metadata values are never false, so a lookup that
# succeeds means the key exists.
mount_device := {"metadata": [add_device], "allowed": true} if {
	is_string(input.target)
	not metadata.devices[input.target]
	not metadata.rw_devices[input.target]
	device_hash_known
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

overlay_exists := true if {
	md_has("matches", input.containerID)
} else := true if {
	md_has("overlayTargets", input.target)
} else := false

# The overlay's layers as device hashes, base layer first (layerPaths lists
# the top-most first); undefined unless every path is a mounted device.
overlay_layers := layers if {
	is_array(input.layerPaths)
	devices := md("devices")
	n := count(input.layerPaths)
	layers := [devices[input.layerPaths[(n - 1) - i]] | some i, _ in input.layerPaths]
	count(layers) == n
}

# (object.get would read an array key as a path.)
policy_overlay_candidates := c if {
	c := policy_static.by_layers[overlay_layers]
} else := []

# Candidates with exactly these layers. The policy's own are looked up in
# policy_static; only fragment containers are compared one by one (all of
# them when fragments brought platform rules, which change every candidate),
# and only once a fragment is loaded.
default overlay_containers := []

overlay_containers := policy_overlay_candidates if {
	count(md("issuers")) == 0
} else := array.concat(
	policy_overlay_candidates,
	[c | some c in with_platform_rules(fragment_containers, policy_platform_rules); c.layers == overlay_layers],
) if {
	count(fragment_objects("platform_rules")) == 0
} else := [c | some c in candidate_containers; c.layers == overlay_layers]

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
	m := metadata.matches[input.containerID]
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
	groups_ok(user.group_idnames)
}

# Every requested group passes some rule; an `any` rule passes them all.
groups_ok(rules) := true if {
	some rule in rules
	rule.strategy == "any"
} else := true if {
	every group in input.groups {
		group_ok(rules, group)
	}
} else := false

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

# The first two clauses are the usual cases written out (a constraint with
# the very same options, from the container or the CRI defaults); the rest is
# the general rule. The destination is compared first: most constraints
# differ there.
mount_ok(constraints, allow_elevated, m) := true if {
	some c in constraints
	c.destination == m.destination
	c.type == m.type
	c.options == m.options
	c.destination != ""
	mount_source_ok(c.source, m.source)
} else := true if {
	some c in data.defaultMounts
	c.destination == m.destination
	c.type == m.type
	c.options == m.options
	mount_source_ok(c.source, m.source)
} else := true if {
	some c in constraints
	c.destination == m.destination
	mount_constraint_ok(c, m)
} else := true if {
	some c in data.defaultMounts
	c.destination == m.destination
	mount_constraint_ok(c, m)
} else := true if {
	allow_elevated == true
	some c in data.privilegedMounts
	c.destination == m.destination
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

# sandbox:// and hugepages:// stand for the request's sandbox directories,
# plan9:// for the container's plan9 shares; other sources must be equal.
mount_source_ok(policy_source, source) := true if {
	policy_source == source
	not startswith(policy_source, data.sandboxPrefix)
	not startswith(policy_source, data.hugePagesPrefix)
	not startswith(policy_source, data.plan9Prefix)
} else := true if {
	startswith(policy_source, data.sandboxPrefix)
	full_match(concat("", [input.sandboxDir, substring(policy_source, count(data.sandboxPrefix), -1)]), source)
} else := true if {
	startswith(policy_source, data.hugePagesPrefix)
	full_match(concat("", [input.hugePagesDir, substring(policy_source, count(data.hugePagesPrefix), -1)]), source)
} else := true if {
	startswith(policy_source, data.plan9Prefix)
	metadata.p9mounts[source] == input.containerID
} else := false

# ---------------------------------------------------------------- environment

# One env rule against one entry "NAME=VALUE".
env_rule_ok(rule, e) := true if {
	rule.strategy == "string"
	rule.pattern == e
} else := true if {
	rule.strategy == "re2"
	full_match(rule.pattern, e)
} else := true if {
	name_value_ok(rule, e)
} else := false

# The name/value form splits the entry at its first "=".
name_value_ok(rule, e) if {
	is_string(rule.name)
	i := indexof(e, "=")
	i >= 0
	env_part_ok(rule.name_strategy, rule.name, substring(e, 0, i))
	env_part_ok(rule.value_strategy, rule.value, substring(e, i + 1, -1))
}

env_part_ok(strategy, pattern, s) if {
	strategy == "string"
	pattern == s
}

env_part_ok(strategy, pattern, s) if {
	strategy == "re2"
	full_match(pattern, s)
}

# A candidate's env rules prepared for matching many entries: exact-string
# rules as a set, regex rules as one alternation of the anchored patterns, so
# an entry costs a set lookup and one regex match instead of a walk over the
# rules. Patterns with \Q quoting (which would swallow the alternation) and
# the name/value form are matched one by one. Equivalent to env_rule_ok over
# the rules.
env_matcher(rules) := {
	"strings": {r.pattern | some r in rules; r.strategy == "string"},
	"regex": concat("|", [alternative |
		some r in rules
		r.strategy == "re2"
		not contains(r.pattern, "\\Q")
		alternative := concat("", ["(?:", anchored(r.pattern), ")"])
		regex.is_valid(alternative)
	]),
	"others": [r |
		some r in rules
		not r.strategy == "string"
		not simple_re2(r)
	],
	"required": [r | some r in rules; object.get(r, "required", false) != false],
}

simple_re2(r) if {
	r.strategy == "re2"
	not contains(r.pattern, "\\Q")
}

# The prepared matcher of a candidate's rules: from policy_static for the
# policy's own candidates, built on the spot for fragment-provided ones.
matcher_for(rules) := m if {
	m := policy_static.env_matchers[rules]
} else := env_matcher(rules)

env_entry_ok(m, e) := true if {
	e in m.strings
} else := true if {
	m.regex != ""
	regex.match(m.regex, e)
} else := true if {
	some r in m.others
	env_rule_ok(r, e)
} else := false

# The entries of the request a candidate's rules allow (as env_entry_ok,
# with the exact-string part done as one set intersection).
env_kept(m) := kept if {
	exact := input_env_set & m.strings
	rest := input_env_set - exact
	by_regex := {e | m.regex != ""; some e in rest; regex.match(m.regex, e)}
	by_others := {e | count(m.others) > 0; some e in rest; some r in m.others; env_rule_ok(r, e)}
	kept := (exact | by_regex) | by_others
}

input_env_set := {e | some e in input.envList}

# Every entry of `envs` is allowed (`kept` holds the request entries allowed).
env_covered(kept, envs) := true if {
	is_set(envs)
	count(envs - kept) == 0
} else := true if {
	is_array(envs)
	kept == input_env_set
} else := false

# Every required rule matches some entry.
required_envs_ok(m, envs) if {
	every rule in m.required {
		rule.required == true
		required_env_present(rule, envs)
	}
}

required_env_present(rule, envs) := true if {
	rule.strategy == "string"
	rule.pattern in envs
} else := true if {
	some e in envs
	env_rule_ok(rule, e)
} else := false

# The environment the candidates are judged against. Without dropping it is
# the request's. With dropping each candidate keeps the entries its rules
# allow; the largest such sets must all be the same set (otherwise the request
# does not say which candidate it is, and the result is undefined).
env_list_for(kept) := input.envList if {
	not allow_env_dropping
} else := envs if {
	largest := max([count(s) | some s in kept])
	choices := {s | some s in kept; count(s) == largest}
	count(choices) == 1
	some envs in choices
}

# Candidates whose rules allow `envs` and whose required rules it satisfies.
env_survivors(candidates, matchers, kept, envs) := [c |
	some i, c in candidates
	env_covered(kept[i], envs)
	required_envs_ok(matchers[i], envs)
]

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

caps_ok(allowed, requested) := true if {
	allowed == requested
} else := true if {
	every name in cap_sets {
		is_collection(requested[name])
		same_items(allowed[name], requested[name])
	}
} else := false

is_collection(x) if is_array(x)

is_collection(x) if is_set(x)

caps_kept(allowed) := {name: kept |
	some name in cap_sets
	kept := {cap | some cap in input.capabilities[name]; cap in allowed[name]}
}

caps_score(kept) := sum([count(kept[name]) | some name in cap_sets])

# The capabilities granted. With dropping each candidate keeps the requested
# capabilities it allows; the candidates keeping the most must agree. When
# every candidate allows exactly the requested sets, that is the answer
# without intersecting anything.
caps_list_for(candidates, privileged) := input.capabilities if {
	not allow_caps_dropping
} else := input.capabilities if {
	every c in candidates {
		container_caps(c, privileged) == input.capabilities
	}
} else := caps if {
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
started_privileged := metadata.started[input.containerID].privileged

stdio_access(candidates) := v if {
	values := {c.allow_stdio_access | some c in candidates}
	count(values) == 1
	some v in values
	is_boolean(v)
}

# ---------------------------------------------------------------- create_container

# The narrowing checks, cheapest first and written out where a call would
# cost more than the comparison (they mean no_new_privileges_ok, privileged_ok,
# working_dir_ok, command_ok and seccomp_ok).
create_initial := [c |
	devices_ok
	some c in matches
	c.command == input.argList
	c.working_dir == input.workingDir
	c.seccomp_profile_sha256 == input.seccompProfileSHA256
	c.no_new_privileges in no_new_privileges_allowed
	true in [input.privileged == false, c.allow_elevated == true]
	user_ok(c.user)
	mount_list_ok(c.mounts, c.allow_elevated)
]

# The container settings of no_new_privileges a request is compatible with.
no_new_privileges_allowed := {false, true} if {
	input.noNewPrivileges == true
} else := {false}

create_matchers := [matcher_for(c.env_rules) | some c in create_initial]

create_env_kept := [env_kept(m) | some m in create_matchers]

create_env_list := env_list_for(create_env_kept)

create_after_env := env_survivors(create_initial, create_matchers, create_env_kept, create_env_list)

# Usually every candidate lists exactly the requested capabilities: then they
# are granted as requested and nothing needs intersecting (the same outcome
# as caps_list_for and caps_ok give, without the per-set work).
create_caps_exact if {
	every c in create_after_env {
		c.capabilities == input.capabilities
	}
}

create_caps_list := input.capabilities if {
	create_caps_exact
} else := caps_list_for(create_after_env, input.privileged)

create_after_caps := create_after_env if {
	create_caps_exact
} else := [c |
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
	not metadata.started[input.containerID]
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
	c.working_dir == input.workingDir
	c.no_new_privileges in no_new_privileges_allowed
	exec_command_ok(c)
	user_ok(c.user)
]

exec_matchers := [matcher_for(c.env_rules) | some c in exec_initial]

exec_env_kept := [env_kept(m) | some m in exec_matchers]

exec_env_list := env_list_for(exec_env_kept)

exec_after_env := env_survivors(exec_initial, exec_matchers, exec_env_kept, exec_env_list)

exec_caps_exact if {
	every c in exec_after_env {
		c.capabilities == input.capabilities
	}
}

exec_caps_list := input.capabilities if {
	exec_caps_exact
} else := caps_list_for(exec_after_env, started_privileged)

exec_after_caps := exec_after_env if {
	exec_caps_exact
} else := [c |
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

external_matchers := [matcher_for(p.env_rules) | some p in external_initial]

external_env_kept := [env_kept(m) | some m in external_matchers]

external_env_list := env_list_for(external_env_kept)

external_after_env := env_survivors(external_initial, external_matchers, external_env_kept, external_env_list)

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

signal_ok(c) := true if {
	input.isInitProcess == true
	input.signal in c.signals
} else := true if {
	input.isInitProcess == false
	some p in c.exec_processes
	p.command == input.argList
	input.signal in p.signals
} else := false

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
	not device_hash_known
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

env_candidate_matchers := [matcher_for(c.env_rules) | some c in env_candidates]

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
	some m in env_candidate_matchers
	env_entry_ok(m, e)
}

env_initial := create_initial if input.rule == "create_container"

env_initial := exec_initial if input.rule == "exec_in_container"

env_initial := external_initial if input.rule == "exec_external"

env_initial_matchers := create_matchers if input.rule == "create_container"

env_initial_matchers := exec_matchers if input.rule == "exec_in_container"

env_initial_matchers := external_matchers if input.rule == "exec_external"

env_list_used := create_env_list if input.rule == "create_container"

env_list_used := exec_env_list if input.rule == "exec_in_container"

env_list_used := external_env_list if input.rule == "exec_external"

# Every candidate that passed the other checks refuses some requested variable.
errors contains "invalid env list" if {
	input.rule == "create_container"
	not allow_env_dropping
	count(create_initial) > 0
	every kept in create_env_kept {
		kept != input_env_set
	}
}

errors contains "missing required environment variable" if {
	input.rule in container_points
	count(env_initial) > 0
	envs := env_list_used
	every m in env_initial_matchers {
		not required_envs_ok(m, envs)
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
