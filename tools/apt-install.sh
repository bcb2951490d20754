#!/bin/sh
# Install the Debian packages among "$@" (after the first argument) whose command of
# the same name is missing, when apt-get can (as root); otherwise say so, ending the
# message with the first argument (what happens without them). Never fails the build.
consequence=$1
shift
missing=""
for pkg in "$@"; do
  command -v "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing$missing (apt-get)"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1 && exit 0
  apt-get update -q >/dev/null 2>&1
  for pkg in $missing; do
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null 2>&1 \
      || echo "could not install $pkg: $consequence"
  done
else
  echo "missing and not installable here:$missing; $consequence"
fi
exit 0
