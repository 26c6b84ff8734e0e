#!/bin/sh
# Applies the schema (Marten event store and documents, Wolverine's inbox/outbox), then serves.
# With KB_ADMIN_EMAIL and KB_USER_PASSWORD set, also creates that account (BillingAdmin and Administrator) if it is missing.
set -e
dotnet KetamineBilling.dll resources setup
if [ -n "${KB_ADMIN_EMAIL:-}" ] && [ -n "${KB_USER_PASSWORD:-}" ]; then
  dotnet KetamineBilling.dll add-user "$KB_ADMIN_EMAIL" BillingAdmin,Administrator --name "Administrator" || true
fi
exec dotnet KetamineBilling.dll
