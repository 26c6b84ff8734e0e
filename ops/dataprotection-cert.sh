#!/bin/sh
# Makes the certificate that encrypts ASP.NET Data Protection keys at rest, when it does not exist yet:
#   ops/dataprotection-cert.sh PATH.pfx   (password from DataProtection__Certificate__Password)
# A self-signed RSA 3072 certificate for key encipherment, valid 10 years, as a password-protected PKCS#12 file
# (mode 600). Keep the file and its password: keys encrypted with it cannot be read without them, and losing them
# signs everyone out (nothing else is lost: see docs/runbook.md).
set -eu
out="$1"
password="${DataProtection__Certificate__Password:-}"
if [ -z "$password" ]; then
  echo "DataProtection__Certificate__Password is empty: set it (KB_DP_CERT_PASSWORD with Docker Compose)" >&2
  exit 1
fi
if [ -f "$out" ]; then exit 0; fi
dir="$(dirname "$out")"
mkdir -p "$dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
umask 077
openssl req -x509 -newkey rsa:3072 -sha256 -days 3650 -nodes -subj "/CN=KetamineBilling Data Protection" \
  -addext "keyUsage=critical,keyEncipherment,dataEncipherment,digitalSignature" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
PASS="$password" openssl pkcs12 -export -inkey "$tmp/key.pem" -in "$tmp/cert.pem" -out "$tmp/dp.pfx" -passout env:PASS
mv "$tmp/dp.pfx" "$out"
echo "made the Data Protection certificate $out" >&2
