#!/usr/bin/env python3
"""The structural facts issue 14 asks of the rendered kustomize base (YAML on
stdin): one line per fact, "PASS<TAB>what" or "FAIL<TAB>what: why". With
--caps, prints the proxy container's added capabilities instead (for setpriv)."""
import json
import sys

import yaml

docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
ds = by_kind["DaemonSet"][0]
pod = ds["spec"]["template"]["spec"]
containers = {c["name"]: c for c in pod["containers"]}
proxy, metrics = containers.get("proxy", {}), containers.get("metrics", {})

inits = {c["name"]: c for c in pod.get("initContainers", [])}
helper_init = inits.get("pipe-helper", {})

if sys.argv[1:] == ["--caps"]:
    print(",".join("+" + c.lower() for c in proxy["securityContext"]["capabilities"]["add"]))
    sys.exit(0)
if sys.argv[1:] == ["--init-command"]:
    print(" ".join(helper_init.get("args", [])))
    sys.exit(0)

results = []


def fact(what, ok, why=""):
    results.append(("PASS" if ok else "FAIL") + "\t" + what + ("" if ok else ": " + why))


def walk(o, path=""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield path + "/" + k, k, v
            yield from walk(v, path + "/" + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from walk(v, "%s/%d" % (path, i))


ns = by_kind.get("Namespace", [{}])[0]
fact("a namespace at Pod Security level privileged",
     ns.get("metadata", {}).get("labels", {}).get("pod-security.kubernetes.io/enforce") == "privileged")
fact("everything in that namespace",
     all(d["metadata"].get("namespace") == ns["metadata"]["name"] for d in docs if d["kind"] != "Namespace"))
ru = ds["spec"].get("updateStrategy", {}).get("rollingUpdate", {})
fact("rolling update: maxSurge 1", ds["spec"]["updateStrategy"]["type"] == "RollingUpdate" and ru.get("maxSurge") == 1)
fact("rolling update: maxUnavailable 0", ru.get("maxUnavailable") == 0)
fact("hostPID", pod.get("hostPID") is True)
fact("not hostNetwork (the two pods of a rollout each have their exporter's port)", not pod.get("hostNetwork"))
fact("system-node-critical", pod.get("priorityClassName") == "system-node-critical")
fact("tolerates every taint", {"operator": "Exists"} in pod.get("tolerations", []))
hooks = [p for p, k, _ in walk(ds) if k in ("lifecycle", "postStart", "preStop")]
fact("no postStart or preStop hooks", not hooks, ", ".join(hooks))
privileged = [p for p, k, v in walk(ds) if k == "privileged" and v]
fact("no privileged container", not privileged, ", ".join(privileged))
fact("two containers: the daemon and the exporter", set(containers) == {"proxy", "metrics"}, str(list(containers)))

sc = proxy.get("securityContext", {})
caps = sc.get("capabilities", {})
fact("the daemon drops every capability but a list", caps.get("drop") == ["ALL"] and caps.get("add"))
need = {"SYS_ADMIN", "SYS_CHROOT", "SYS_PTRACE", "DAC_READ_SEARCH", "DAC_OVERRIDE", "KILL", "SETPCAP"}
fact("the daemon's list has what it uses", need <= set(caps.get("add", [])), str(need - set(caps.get("add", []))))
fact("the daemon's root filesystem is read-only", sc.get("readOnlyRootFilesystem") is True)
args = proxy.get("args", [])
fact("the daemon installs the pattern itself", "--install-pattern" in args)
sock = [a.split("=", 1)[1] for a in args if a.startswith("--socket=")]
fact("a socket per pod (--socket with the pod's uid)", sock and "$(POD_UID)" in sock[0], str(args))
env = {e["name"]: e for e in proxy.get("env", [])}
fact("POD_UID from the pod's metadata.uid",
     env.get("POD_UID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.uid")
fact("an old pod waits to be deleted after a takeover", "--on-takeover=wait" in args)

volumes = {v["name"]: v for v in pod.get("volumes", [])}


def mount_of(c, path):
    for m in c.get("volumeMounts", []):
        if m["mountPath"] == path:
            return m, volumes.get(m["name"], {})
    return None, {}


sockdir = sock[0].rsplit("/", 1)[0] if sock else "/run/coredump-proxy"
m, v = mount_of(proxy, sockdir)
fact("the socket directory is a hostPath at the same path", v.get("hostPath", {}).get("path") == sockdir)
cm = by_kind["ConfigMap"][0]
config = json.loads(cm["data"]["config.json"])
m, v = mount_of(proxy, config["store"]["directory"])
fact("the store is a hostPath", bool(v.get("hostPath")))
fact("the config's socket is in that directory", config["listen"]["path"].rsplit("/", 1)[0] == sockdir)
m, v = mount_of(proxy, "/etc/coredump-proxy")
fact("the config comes from the ConfigMap", v.get("configMap", {}).get("name") == cm["metadata"]["name"])

# Kernels before 6.16: the pipe helper on the node, where the kernel runs it from.
fact("listen.protocol auto (the socket where the kernel has it, the pipe intake elsewhere)",
     config["listen"].get("protocol", "auto") == "auto")
helper = config["listen"].get("pipe_helper", "")
fact("listen.pipe_helper names the helper on the node", helper.startswith("/"), helper)
fact("an init container and the two containers only", set(inits) == {"pipe-helper"}, str(list(inits)))
hmounts = helper_init.get("volumeMounts", [])
hvol = volumes.get(hmounts[0]["name"], {}) if len(hmounts) == 1 else {}
fact("the init container writes only to the helper's hostPath",
     len(hmounts) == 1 and hvol.get("hostPath", {}).get("path") == helper.rsplit("/", 1)[0], str(hmounts))
hcmd = " ".join(helper_init.get("args", []))
target = hmounts[0]["mountPath"] + "/" + helper.rsplit("/", 1)[1] if hmounts else "?"
fact("it copies the image's helper there and renames it into place",
     "/usr/libexec/coredump-proxy/coredump-proxy-pipe" in hcmd and hcmd.rstrip().endswith(" " + target), hcmd)
hsc = helper_init.get("securityContext", {})
fact("the init container has no capability and cannot gain any",
     hsc.get("capabilities", {}).get("drop") == ["ALL"] and not hsc.get("capabilities", {}).get("add")
     and hsc.get("allowPrivilegeEscalation") is False and hsc.get("readOnlyRootFilesystem") is True)
fact("the init container is root (the helper must be root's, in a root-only directory)",
     hsc.get("runAsUser") == 0)
fact("the init container runs under the runtime's default seccomp profile (it only copies a file)",
     hsc.get("seccompProfile", {}).get("type") == "RuntimeDefault", str(hsc.get("seccompProfile")))
# core_pattern holds at most 127 bytes; a socket path at most 107 (sun_path), with the ".pipe" intake beside it.
longest = sock[0].replace("$(POD_UID)", "0" * 36) if sock else ""
pipe_pattern = "|%s %s P=%%P s=%%s t=%%t d=%%d F=%%F" % (helper, longest)
fact("the pipe pattern fits in core_pattern (%d of 127 bytes)" % len(pipe_pattern), len(pipe_pattern) <= 127)
fact("the socket paths fit in sun_path", len(longest + ".pipe") <= 107 and len("@@" + longest) <= 127)

msc = metrics.get("securityContext", {})
fact("the exporter runs as a user, not root", msc.get("runAsNonRoot") is True and msc.get("runAsUser", 0) != 0)
fact("the exporter has no capability", msc.get("capabilities", {}).get("drop") == ["ALL"]
     and not msc.get("capabilities", {}).get("add"))
fact("the exporter cannot gain privileges", msc.get("allowPrivilegeEscalation") is False)
margs = metrics.get("args", [])
fact("the exporter is `coredump-proxy metrics --listen`", "metrics" in margs and any(a.startswith("--listen=") for a in margs))
fact("the exporter finds the same socket", any(a == "--socket=" + sock[0] for a in margs) if sock else False)
m, v = mount_of(metrics, sockdir)
fact("the exporter sees the socket directory read-only", m is not None and m.get("readOnly") is True)
port = next(a for a in margs if a.startswith("--listen=")).rsplit(":", 1)[1] if margs else ""
ports = {p["name"]: p["containerPort"] for p in metrics.get("ports", [])}
rp, lp = metrics.get("readinessProbe", {}).get("httpGet", {}), metrics.get("livenessProbe", {}).get("httpGet", {})
fact("readiness: the exporter's /readyz", rp.get("path") == "/readyz" and str(ports.get(rp.get("port"), rp.get("port"))) == port)
fact("liveness: the exporter's /healthz", lp.get("path") == "/healthz" and str(ports.get(lp.get("port"), lp.get("port"))) == port)
fact("no liveness probe on the daemon (a restarted one would take the pattern back)", "livenessProbe" not in proxy)
fact("resources on every container", all(c.get("resources", {}).get("requests") and c["resources"].get("limits", {}).get("memory") for c in containers.values()))
print("\n".join(results))
