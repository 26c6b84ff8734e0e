#!/bin/sh
# KB_ROLE=setup: makes the Data Protection certificate (first start), applies the schema (Marten event store and
# documents, Wolverine's inbox/outbox and node tables) and, with KB_ADMIN_EMAIL and KB_USER_PASSWORD set, onboards the
# first clinic (KB_CLINIC_CODE, KB_CLINIC_NAME) and creates that account (BillingAdmin and Administrator, working for
# that clinic) if they are missing; then exits. KB_ROLE=serve: serves (the schema checked at
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
  dotnet KetamineBilling.dll add-clinic "${KB_CLINIC_CODE:-main}" "${KB_CLINIC_NAME:-Main clinic}"
  dotnet KetamineBilling.dll add-user "$KB_ADMIN_EMAIL" BillingAdmin,Administrator --name "Administrator" --clinics "${KB_CLINIC_CODE:-main}" || true
fi
if [ "$role" = "setup" ]; then
  exit 0
fi
exec dotnet KetamineBilling.dll
