#!/bin/sh
# Makes the TLS material of the stack with openssl, into the folder given (default: this script's folder):
#   ca.pem / ca-key.pem                 a private CA that signs the server and every client
#   frontend.pem / frontend-key.pem     the frontend's certificate (names: $TLS_SERVER_NAME, localhost, 127.0.0.1)
#   system-worker.pem / -key.pem        the server's own system worker, a client of the frontend
#   client.pem / client-key.pem         the workers, vup, the temporal CLI and the UI
# docker-compose.yml mounts the folder at /etc/temporal/tls; the production twin runs this script into its
# own folder. Existing files are kept (delete them to make new ones). Use your own PKI in production if
# you have one: the file names are all the configuration needs.
set -eu
dir=${1:-$(dirname "$0")}
name=${TLS_SERVER_NAME:-temporal}
days=${TLS_DAYS:-825}
mkdir -p "$dir"
cd "$dir"
umask 077
if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
    -subj "/CN=validator-upgrades stack CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
fi
issue() { # <file stem> <common name> <extended key usage> [subjectAltName]
  [ -f "$1.pem" ] && return 0
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
    -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$3"
    [ -z "${4:-}" ] || echo "subjectAltName=$4"
  } > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
issue frontend "$name" serverAuth "DNS:$name,DNS:localhost,IP:127.0.0.1"
issue system-worker temporal-system-worker clientAuth
issue client validator-upgrades-worker clientAuth
# The containers run as their own users (temporal, node, the UI), so the certificates and the client and
# server keys must be readable by them; the CA's key is needed only here.
chmod 755 .
chmod 644 ./*.pem
chmod 600 ca-key.pem
echo "TLS material in $(pwd)"
