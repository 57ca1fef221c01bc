#!/bin/bash
# Runs as root after the .deb is installed. electron-builder fills in the two macros (the app's
# directory name under /opt and its executable's name). It does what electron-builder's own
# after-install does (command on PATH, Chromium sandbox helper, desktop databases, AppArmor profile)
# and then lets Gatehouse bind ports 80 and 443 without running as root.
# No `set -e`: a step that fails here must not leave the package half-configured; each says why.

app_dir='/opt/${sanitizedProductName}'
app_bin='/opt/${sanitizedProductName}/${executable}'
command_link='/usr/bin/${executable}'

# --- The command on PATH ---------------------------------------------------------------------------
if type update-alternatives >/dev/null 2>&1; then
  # A plain link from an older install is replaced by an alternatives-managed one.
  if [ -L "$command_link" ] && [ "$(readlink "$command_link")" != '/etc/alternatives/${executable}' ]; then
    rm -f "$command_link"
  fi
  update-alternatives --install "$command_link" '${executable}' "$app_bin" 100 || ln -sf "$app_bin" "$command_link"
else
  ln -sf "$app_bin" "$command_link"
fi

# The headless server (`gatehouse serve`) for machines without a display.
ln -sf "$app_dir/gatehouse-serve" '/usr/bin/gatehouse-serve'

# --- Chromium's sandbox helper: setuid only where user namespaces are unavailable -------------------
if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
  chmod 0755 "$app_dir/chrome-sandbox" || true
else
  chmod 4755 "$app_dir/chrome-sandbox" || true
fi

# --- Desktop integration ----------------------------------------------------------------------------
if hash update-mime-database 2>/dev/null; then update-mime-database /usr/share/mime || true; fi
if hash update-desktop-database 2>/dev/null; then update-desktop-database /usr/share/applications || true; fi

# --- AppArmor profile (Ubuntu 24.04 and later restrict unprivileged user namespaces without one) -----
if apparmor_status --enabled >/dev/null 2>&1; then
  profile_source="$app_dir/resources/apparmor-profile"
  profile_target='/etc/apparmor.d/${executable}'
  # Only install it where this AppArmor understands it (abi/4.0); older ones run the app without it.
  if apparmor_parser --skip-kernel-load --debug "$profile_source" >/dev/null 2>&1; then
    cp -f "$profile_source" "$profile_target"
    if ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
      apparmor_parser --replace --write-cache --skip-read-cache "$profile_target" || true
    fi
  fi
fi

# --- Ports 80 and 443 without root --------------------------------------------------------------------
# Grant the one capability Gatehouse needs, to its binary only. A binary with file capabilities runs
# in glibc's secure mode, which ignores $ORIGIN in its library search path, so Electron would no
# longer find libffmpeg.so beside it and fail to start. Register that one library with the dynamic
# linker through a directory of its own: adding the whole app directory would put Electron's copies
# of libEGL, libvulkan and others in front of the system's for every program.
linker_dir='/usr/lib/${executable}-linker'
linker_conf='/etc/ld.so.conf.d/${executable}.conf'
if command -v setcap >/dev/null 2>&1; then
  mkdir -p "$linker_dir"
  ln -sf "$app_dir/libffmpeg.so" "$linker_dir/libffmpeg.so"
  printf '%s\n' "$linker_dir" >"$linker_conf"
  ldconfig || true
  if ! setcap 'cap_net_bind_service=+ep' "$app_bin"; then
    echo "Gatehouse: could not grant $app_bin the permission to use ports below 1024; it will explain how when it starts." >&2
  fi
else
  echo "Gatehouse: setcap (package libcap2-bin) is missing, so ports 80 and 443 need extra setup; Gatehouse explains how when it starts." >&2
fi

exit 0
