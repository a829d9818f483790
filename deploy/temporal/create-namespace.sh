#!/bin/sh
# Creates the namespace the workers poll and registers the project's search attributes on it (the names and
# types of src/api/search-attributes.ts; test/unit/deploy checks they match). Safe to run again: what exists
# is left alone.
#
# The temporal CLI connects as any client does: through a temporal.toml profile (TEMPORAL_CONFIG_FILE and
# TEMPORAL_PROFILE: address, tls.*) or TEMPORAL_ADDRESS / TEMPORAL_TLS_* variables; TEMPORAL_NAMESPACE names the
# namespace (the one the workers' profile names).
# docker-compose.yml runs it in the temporalio/admin-tools image; the production twin runs it with the
# temporal CLI built from the Go module proxy (TEMPORAL_CLI).
set -eu
temporal=${TEMPORAL_CLI:-temporal}
namespace=${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE to the namespace the workers poll}
retention=${VUP_NAMESPACE_RETENTION:-30d}
search_attributes="UpgradeChain UpgradeNetwork UpgradeValidator UpgradeStrategy UpgradeStage UpgradeDeadline"

tries=0
until "$temporal" operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 120 ] || { "$temporal" operator cluster health; exit 1; }
  sleep 1
done

if ! "$temporal" operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  "$temporal" operator namespace create --namespace "$namespace" --retention "$retention"
fi

# A new namespace takes a moment to reach every service; the list answers once it has.
tries=0
until existing=$("$temporal" operator search-attribute list --namespace "$namespace" 2>/dev/null); do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { "$temporal" operator search-attribute list --namespace "$namespace"; exit 1; }
  sleep 1
done
for name in $search_attributes; do
  if ! printf '%s\n' "$existing" | grep -qw "$name"; then
    "$temporal" operator search-attribute create --namespace "$namespace" --name "$name" --type Keyword
  fi
done
echo "namespace $namespace ready with search attributes: $search_attributes"
