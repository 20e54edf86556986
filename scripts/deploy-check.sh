#!/usr/bin/env bash
# Checks the deployment artifacts (deploy/, scripts/install.sh; docs/deploy.md) without
# touching the system: shell syntax and shellcheck; an install into a temporary DESTDIR with
# BIN (files, modes, idempotence, uninstall) and `oisp-sensor config check` of every shipped
# configuration; `systemd-analyze verify` and `security` of the unit; hadolint and a structural
# check of deploy/Containerfile against the binary's shared libraries; the Kubernetes manifests
# against the API schemas (kubernetes-validate, strict) and against the unit's capability set.
# A check that cannot run fails with the reason. Needs what scripts/install-deps.sh installs
# (systemd-analyze, the shellcheck package, python3 with venv).
#
#   scripts/deploy-check.sh BIN      (BIN: a built oisp-sensor, e.g. target/debug/oisp-sensor)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:?usage: deploy-check.sh BIN}")
[ -x "$bin" ] || { echo "deploy-check.sh: $bin is not an executable" >&2; exit 1; }

unit=deploy/systemd/oisp-sensor.service
manifests=(deploy/kubernetes/oisp-sensor.yaml deploy/kubernetes/otel-collector.yaml)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $*"; }
need() { command -v "$1" >/dev/null 2>&1 || { bad "$1 is not installed (scripts/install-deps.sh installs it): cannot check $2"; return 1; }; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "shell scripts"
for f in scripts/install.sh scripts/deploy-check.sh tools/deploy-check/setup-venv.sh; do
  if bash -n "$f"; then ok "bash -n $f"; else bad "bash -n $f"; fi
done
if need shellcheck "the shell scripts"; then
  if shellcheck scripts/install.sh scripts/deploy-check.sh tools/deploy-check/setup-venv.sh; then
    ok "shellcheck ($(shellcheck --version | awk '/^version:/ {print $2}'))"
  else
    bad "shellcheck"
  fi
fi

echo "validators (tools/deploy-check/.venv)"
venv_bin=""
if venv_bin=$(tools/deploy-check/setup-venv.sh); then
  ok "kubernetes-validate $("$venv_bin/kubernetes-validate" --version), $("$venv_bin/hadolint" --version)"
else
  bad "could not install the validators from tools/deploy-check/requirements.txt"
fi

echo "install.sh into a temporary DESTDIR"
d="$tmp/root"
mode() { stat -c %a "$1" 2>/dev/null || echo missing; }
expect_mode() {
  local got
  got=$(mode "$1")
  if [ "$got" = "$2" ]; then ok "$3 ${1#"$d"} mode $2"; else bad "$3 ${1#"$d"} mode $got, want $2"; fi
}
if DESTDIR=$d scripts/install.sh --binary "$bin" --prefix /opt/oisp >"$tmp/install1.log" 2>&1; then
  ok "scripts/install.sh --binary BIN --prefix /opt/oisp (DESTDIR)"
else
  bad "scripts/install.sh failed:"; cat "$tmp/install1.log"
fi
expect_mode "$d/opt/oisp/bin/oisp-sensor" 755 "binary"
expect_mode "$d/etc/oisp-sensor" 750 "config directory"
expect_mode "$d/etc/oisp-sensor/config.toml" 600 "config"
expect_mode "$d/etc/systemd/system/oisp-sensor.service" 644 "unit"
if cmp -s "$bin" "$d/opt/oisp/bin/oisp-sensor"; then ok "binary installed as given"; else bad "installed binary differs from $bin"; fi
if grep -qx 'ExecStart=/opt/oisp/bin/oisp-sensor record' "$d/etc/systemd/system/oisp-sensor.service"; then
  ok "unit ExecStart follows --prefix"
else
  bad "unit ExecStart does not name /opt/oisp/bin/oisp-sensor"
fi
if "$bin" config check "$d/etc/oisp-sensor/config.toml" >/dev/null; then
  ok "oisp-sensor config check accepts the installed config"
else
  bad "oisp-sensor config check rejects the installed config"
fi
# Again, with an edited config: the config is kept and the new default set beside it.
echo '# edited' >>"$d/etc/oisp-sensor/config.toml"
if PREFIX=/opt/oisp DESTDIR=$d scripts/install.sh --binary "$bin" >"$tmp/install2.log" 2>&1 &&
  grep -qx '# edited' "$d/etc/oisp-sensor/config.toml" && cmp -s deploy/config.toml "$d/etc/oisp-sensor/config.toml.new"; then
  ok "second install (PREFIX=) keeps an edited config, writes config.toml.new"
  expect_mode "$d/etc/oisp-sensor/config.toml.new" 600 "new default config"
else
  bad "second install did not keep the edited config / write config.toml.new"; cat "$tmp/install2.log"
fi
if DESTDIR=$d scripts/install.sh --binary /nonexistent >/dev/null 2>&1; then
  bad "install.sh accepted a missing --binary"
else
  ok "install.sh refuses a missing --binary"
fi
if DESTDIR=$d scripts/install.sh --bogus >/dev/null 2>&1; then bad "install.sh accepted --bogus"; else ok "install.sh refuses an unknown flag"; fi
if DESTDIR=$d scripts/install.sh --uninstall --prefix /opt/oisp >/dev/null &&
  [ ! -e "$d/opt/oisp/bin/oisp-sensor" ] && [ ! -e "$d/etc/systemd/system/oisp-sensor.service" ] &&
  [ -f "$d/etc/oisp-sensor/config.toml" ]; then
  ok "--uninstall removes binary and unit, keeps the config"
else
  bad "--uninstall"
fi
if DESTDIR=$d scripts/install.sh --uninstall --purge --prefix /opt/oisp >/dev/null && [ ! -e "$d/etc/oisp-sensor" ]; then
  ok "--uninstall --purge removes the config"
else
  bad "--uninstall --purge"
fi

echo "configurations"
if "$bin" config check deploy/config.toml >/dev/null; then ok "deploy/config.toml"; else bad "deploy/config.toml"; fi
# Every commented-out key of the default config, uncommented, is valid too.
sed -E 's/^# (\[|[a-z_]+ = )/\1/' deploy/config.toml >"$tmp/all-keys.toml"
if "$bin" config check "$tmp/all-keys.toml" >"$tmp/all-keys.log" 2>&1 && grep -q '^  otlp: ' "$tmp/all-keys.log"; then
  ok "deploy/config.toml with every commented key uncommented"
else
  bad "deploy/config.toml with every key uncommented:"; cat "$tmp/all-keys.log"
fi
if [ -n "$venv_bin" ]; then
  if "$venv_bin/python" - deploy/kubernetes/oisp-sensor.yaml "$tmp/configmap.toml" <<'PY'; then
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "ConfigMap"]
open(sys.argv[2], "w").write(docs[0]["data"]["config.toml"])
PY
    if "$bin" config check "$tmp/configmap.toml" >"$tmp/cm.log" 2>&1 &&
      grep -q 'otlp: http://otel-collector.observability:4317' "$tmp/cm.log"; then
      ok "the DaemonSet's ConfigMap config.toml (OTLP to otel-collector.observability:4317)"
    else
      bad "the ConfigMap's config.toml:"; cat "$tmp/cm.log"
    fi
  else
    bad "could not extract config.toml from the ConfigMap"
  fi
fi

echo "systemd unit"
if need systemd-analyze "the systemd unit"; then
  # verify checks that ExecStart exists: point it at the binary under test, nothing else changes.
  mkdir -p "$tmp/unit"
  sed "s|^ExecStart=/usr/local/bin/oisp-sensor |ExecStart=$bin |" "$unit" >"$tmp/unit/oisp-sensor.service"
  if systemd-analyze verify --man=no "$tmp/unit/oisp-sensor.service" >"$tmp/verify.log" 2>&1 && [ ! -s "$tmp/verify.log" ]; then
    ok "systemd-analyze verify $unit ($(systemctl --version | head -1))"
  else
    bad "systemd-analyze verify $unit:"; cat "$tmp/verify.log"
  fi
  # The exposure score of the sandboxing; the capabilities record needs keep it above 2.
  if systemd-analyze security --offline=yes --threshold=35 "$tmp/unit/oisp-sensor.service" >"$tmp/security.log" 2>&1; then
    ok "systemd-analyze security: $(grep -o 'exposure level.*' "$tmp/security.log")"
  else
    bad "systemd-analyze security (threshold 3.5):"; tail -3 "$tmp/security.log"
  fi
fi
# shellcheck disable=SC2016 # $MAINPID is systemd's, not the shell's
reload='ExecReload=/bin/kill -HUP $MAINPID'
unit_caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' '\n' | sed 's/^CAP_//' | sort | tr '\n' ' ')
for key in NoNewPrivileges=yes ProtectSystem=strict StateDirectory=oisp-sensor RuntimeDirectory=oisp-sensor \
  LimitMEMLOCK=infinity "$reload" Type=simple; do
  if grep -qxF "$key" "$unit"; then ok "unit has $key"; else bad "unit lacks $key"; fi
done

echo "container build file"
cf=deploy/Containerfile
if [ -n "$venv_bin" ]; then
  if "$venv_bin/hadolint" --no-color "$cf"; then ok "hadolint $cf"; else bad "hadolint $cf"; fi
fi
froms=$(grep -c '^FROM ' "$cf")
if [ "$froms" = 2 ] && grep -q '^FROM .* AS build$' "$cf" && grep -qx 'FROM debian:bookworm-slim' "$cf" &&
  grep -q '^COPY --from=build ' "$cf"; then
  ok "$cf: two stages, build then debian:bookworm-slim, binary copied from build"
else
  bad "$cf: not a two-stage build → debian:bookworm-slim"
fi
if grep -q 'cargo build --release --locked -p oisp-sensor' "$cf" && grep -qx 'ENTRYPOINT \["/usr/local/bin/oisp-sensor"\]' "$cf" &&
  grep -qx 'CMD \["record"\]' "$cf"; then
  ok "$cf: release build, entrypoint oisp-sensor record"
else
  bad "$cf: build command or entrypoint"
fi
# The runtime stage installs a package for every shared library the binary needs, and no more.
runtime_pkgs=$(sed -n '/^FROM debian:bookworm-slim/,$p' "$cf" | grep -o 'install -y --no-install-recommends [a-z0-9. -]*' |
  sed 's/install -y --no-install-recommends //' | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
want_pkgs="ca-certificates"
libs=$(ldd "$bin" | awk '{print $1}')
for lib in $libs; do
  case $lib in
    linux-vdso.so.* | /lib64/ld-linux-* | libc.so.* | libm.so.* | libgcc_s.so.* | libpthread.so.* | libdl.so.* | librt.so.*) ;;
    libelf.so.1) want_pkgs+=" libelf1" ;;
    libz.so.1) want_pkgs+=" zlib1g" ;;
    *) bad "$bin needs $lib: add its Debian package to the runtime stage of $cf and to this list" ;;
  esac
done
want_pkgs=$(echo "$want_pkgs" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
if [ "$runtime_pkgs" = "$want_pkgs" ]; then
  ok "$cf runtime packages match the binary's libraries: $runtime_pkgs"
else
  bad "$cf runtime packages '$runtime_pkgs', the binary needs '$want_pkgs'"
fi
if grep -q '^\.git$' .dockerignore && grep -q '^/target\*$' .dockerignore; then
  ok ".dockerignore keeps target/ and .git out of the build context"
else
  bad ".dockerignore must exclude .git and /target*"
fi

echo "Kubernetes manifests"
if [ -n "$venv_bin" ]; then
  # 1.30: the oldest API with securityContext.appArmorProfile; 1.37: the newest bundled.
  for k in 1.30 1.37; do
    if "$venv_bin/kubernetes-validate" --strict --quiet -k "$k" "${manifests[@]}"; then
      ok "kubernetes-validate --strict -k $k ${manifests[*]}"
    else
      bad "kubernetes-validate --strict -k $k"
    fi
  done
  if "$venv_bin/python" - deploy/kubernetes/oisp-sensor.yaml "$unit_caps" <<'PY'; then
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
spec = docs["DaemonSet"]["spec"]["template"]["spec"]
c = spec["containers"][0]
sc = c["securityContext"]
errors = []
if spec.get("hostPID") is not True:
    errors.append("hostPID must be true (record maps kernel pids to /proc)")
if sorted(sc["capabilities"]["add"]) != sys.argv[2].split():
    errors.append(f"capabilities {sorted(sc['capabilities']['add'])} differ from the unit's {sys.argv[2].split()}")
if sc["capabilities"].get("drop") != ["ALL"] or sc.get("privileged") is not False:
    errors.append("must drop ALL capabilities and not be privileged")
if {"operator": "Exists"} not in spec.get("tolerations", []):
    errors.append("must tolerate every taint")
if not c.get("resources", {}).get("limits"):
    errors.append("needs resource limits")
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
for path in ["/sys/kernel/btf", "/sys/kernel/tracing", "/etc/oisp-sensor"]:
    if not mounts.get(path, {}).get("readOnly"):
        errors.append(f"{path} must be mounted read-only")
for path in ["/var/lib/oisp-sensor", "/run/oisp-sensor"]:
    if path not in mounts:
        errors.append(f"{path} must be mounted (store, state file)")
for e in errors:
    print("   ", e)
sys.exit(1 if errors else 0)
PY
    ok "DaemonSet: hostPID, capabilities = the unit's ($unit_caps), read-only host mounts, tolerations, limits"
  else
    bad "DaemonSet settings (above)"
  fi
fi

echo "docs"
for word in "$cf" "$unit" deploy/kubernetes/oisp-sensor.yaml scripts/install.sh; do
  if grep -q "$word" docs/deploy.md; then ok "docs/deploy.md explains $word"; else bad "docs/deploy.md does not mention $word"; fi
done
for cap in $unit_caps; do
  if grep -q "CAP_$cap" docs/deploy.md; then ok "docs/deploy.md justifies CAP_$cap"; else bad "docs/deploy.md does not justify CAP_$cap"; fi
done

echo
echo "deploy-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
