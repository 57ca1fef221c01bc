#!/bin/bash
# Runs as root after the .deb is removed (and between the old and new version on an upgrade, whose
# after-install puts everything back). Undoes assets/linux/after-install.sh; electron-builder fills in
# the macros. The capability went away with the binary.

app_bin='/opt/${sanitizedProductName}/${executable}'

# --- The command on PATH ------------------------------------------------------------------------------
if type update-alternatives >/dev/null 2>&1; then
  update-alternatives --remove '${executable}' "$app_bin" || true
else
  rm -f '/usr/bin/${executable}'
fi

# The headless server's command, when it is still ours.
if [ "$(readlink '/usr/bin/gatehouse-serve' 2>/dev/null)" = '/opt/${sanitizedProductName}/gatehouse-serve' ]; then
  rm -f '/usr/bin/gatehouse-serve'
fi

# --- AppArmor profile -----------------------------------------------------------------------------------
profile='/etc/apparmor.d/${executable}'
if [ -f "$profile" ]; then
  if apparmor_status --enabled >/dev/null 2>&1 && ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
    apparmor_parser --remove "$profile" || true
  fi
  rm -f "$profile"
fi

# --- The library registration that let the capability-holding binary start ------------------------------
rm -f '/etc/ld.so.conf.d/${executable}.conf'
rm -rf '/usr/lib/${executable}-linker'
ldconfig || true

exit 0
