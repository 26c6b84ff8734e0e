#!/bin/sh
# Applies the schema (Marten event store and documents, Wolverine's inbox/outbox), then serves.
# With KB_ADMIN_EMAIL and KB_USER_PASSWORD set, also creates that account (BillingAdmin and Administrator) if it is missing.
set -e
# The certificate that encrypts the Data Protection keys at rest: made at first start when none is mounted.
if [ -n "${DataProtection__Certificate__Path:-}" ]; then
  sh /usr/local/bin/kb-dataprotection-cert "$DataProtection__Certificate__Path"
fi
dotnet KetamineBilling.dll resources setup
if [ -n "${KB_ADMIN_EMAIL:-}" ] && [ -n "${KB_USER_PASSWORD:-}" ]; then
  dotnet KetamineBilling.dll add-user "$KB_ADMIN_EMAIL" BillingAdmin,Administrator --name "Administrator" || true
fi
exec dotnet KetamineBilling.dll
