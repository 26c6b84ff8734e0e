#!/bin/sh
# KB_ROLE=setup: makes the Data Protection certificate (first start), applies the schema (Marten event store and
# documents, Wolverine's inbox/outbox and node tables) and, with KB_ADMIN_EMAIL and KB_USER_PASSWORD set, creates that
# account (BillingAdmin and Administrator) if it is missing; then exits. KB_ROLE=serve: serves (the schema checked at
# start). Unset (one container alone): both, in that order.
set -e
role="${KB_ROLE:-all}"
if [ "$role" = "serve" ]; then
  exec dotnet KetamineBilling.dll
fi
# The certificate that encrypts the Data Protection keys at rest: made at first start when none is mounted.
if [ -n "${DataProtection__Certificate__Path:-}" ]; then
  sh /usr/local/bin/kb-dataprotection-cert "$DataProtection__Certificate__Path"
fi
dotnet KetamineBilling.dll resources setup
if [ -n "${KB_ADMIN_EMAIL:-}" ] && [ -n "${KB_USER_PASSWORD:-}" ]; then
  dotnet KetamineBilling.dll add-user "$KB_ADMIN_EMAIL" BillingAdmin,Administrator --name "Administrator" || true
fi
if [ "$role" = "setup" ]; then
  exit 0
fi
exec dotnet KetamineBilling.dll
