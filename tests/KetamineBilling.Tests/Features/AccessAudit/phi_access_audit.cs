using System.Globalization;
using Alba;
using CsvHelper;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.AccessAudit;

/// <summary>Issue 13 (HIPAA 164.312(b)): every read of a patient's PHI is recorded; an Administrator lists and exports them.</summary>
public class phi_access_audit(AppFixture fixture) : IntegrationContext(fixture)
{
    private static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-6));

    private sealed record Reads(Guid Patient, Guid Other, Guid Claim, Guid Remittance, Guid Authorization, Guid Session, DateOnly Served);

    /// <summary>An insured patient with a session, a claim paid by an 835 and a prior authorization; and a second, self-pay patient.</summary>
    private async Task<Reads> PatientWithEverythingAsync()
    {
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var patient = await Fixture.RegisteredPatient("Zebediah", "Quartermaine");
        await Fixture.Coverage(patient, payer);
        var authorization = Guid.NewGuid();
        await Fixture.Post<object>("/api/prior-authorizations",
            new RequestPriorAuthorization(authorization, patient, payer, ["96365"], 6, ["F33.2"], null, null));
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session() with { Funding = ["insurance"] }));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));
        var served = claim.Lines[0].DateOfService;
        var file = Remittance835Builder.Build($"TRACE-AUDIT-{Guid.NewGuid():N}"[..20], "BLUE PRAIRIE HEALTH", "BPH01", 240m, served.AddDays(20),
            [new Remittance835Builder.Clp(claim.ControlNumber, "1", 450m, 240m, 60m, new Remittance835Builder.Svc("96365", 450m, 240m, served, null, ("CO", "45", 150m), ("PR", "2", 60m)))]);
        var upload = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(file).ToUrl("/api/remittances");
            s.StatusCodeShouldBeOk();
        });
        var remittance = (await upload.ReadAsJsonAsync<RemittanceUpload>())!.Remittances.Single().RemittanceId;
        var other = await Fixture.RegisteredPatient("Philippa", "Underhay");
        await Fixture.DeliveredSession(other, Scenarios.Session());
        return new Reads(patient, other, claim.Id, remittance, authorization, session.SessionId, served);
    }

    private static (string Url, string View, Func<Reads, Guid> Patient)[] PhiRoutes(Reads r) =>
    [
        ($"/api/patients/{r.Patient}", "patient", x => x.Patient),
        ($"/api/patients/{r.Patient}/balance", "balance", x => x.Patient),
        ($"/api/patients/{r.Patient}/ledger", "ledger", x => x.Patient),
        ($"/api/patients/{r.Patient}/statement", "statement", x => x.Patient),
        ($"/api/patients/{r.Patient}/statement.pdf", "statement-pdf", x => x.Patient),
        ($"/api/patients/{r.Patient}/receipts/{r.Served:yyyy-MM-dd}", "receipt", x => x.Patient),
        ($"/api/patients/{r.Patient}/superbill?sessionIds={r.Session}", "superbill", x => x.Patient),
        ($"/api/patients/{r.Patient}/coverages", "coverages", x => x.Patient),
        ($"/api/patients/{r.Patient}/eligibility", "eligibility", x => x.Patient),
        ($"/api/patients/{r.Patient}/estimate?sessions=6&lines=96365:1", "estimate", x => x.Patient),
        ($"/api/patients/{r.Patient}/estimate.pdf?sessions=6&lines=96365:1", "estimate-pdf", x => x.Patient),
        ($"/api/patients/{r.Patient}/coding-flags", "coding-flags", x => x.Patient),
        ($"/api/patients/{r.Patient}/payment-plans", "payment-plans", x => x.Patient),
        ($"/api/patients/{r.Patient}/autopay", "autopay", x => x.Patient),
        ($"/api/patients/{r.Patient}/collections", "collections", x => x.Patient),
        ($"/api/patients/{r.Patient}/payments", "payments", x => x.Patient),
        ($"/api/patients/{r.Patient}/discounts", "discounts", x => x.Patient),
        ($"/api/patients/{r.Patient}/medical-necessity-letters", "medical-necessity-letters", x => x.Patient),
        ($"/api/patients/{r.Patient}/out-of-network-reimbursements", "out-of-network-reimbursements", x => x.Patient),
        ($"/api/claims/{r.Claim}", "claim", x => x.Patient),
        ($"/api/claims/{r.Claim}/cms1500.pdf", "claim-cms1500", x => x.Patient),
        ($"/api/remittances/{r.Remittance}", "remittance", x => x.Patient),
        ($"/api/remittances/{r.Remittance}/detail", "remittance", x => x.Patient),
        ($"/api/prior-authorizations/{r.Authorization}", "prior-authorization", x => x.Patient),
        ($"/api/patients/{r.Other}/ledger", "ledger", x => x.Other)
    ];

    private async Task<IReadOnlyList<PhiAccess>> RowsAsync()
    {
        await using var session = Store.QuerySession(AppFixture.Clinic);
        return await session.Query<PhiAccess>().ToListAsync(TestContext.Current.CancellationToken);
    }

    private async Task<Guid> UserIdOf(string user) => (await Fixture.Get<CurrentUser>("/api/auth/me", user)).Id;

    [Fact]
    public async Task each_phi_read_writes_one_row_naming_the_reader_the_patient_and_the_view_and_no_name_reaches_the_logs()
    {
        var reads = await PatientWithEverythingAsync();
        Assert.Empty(await RowsAsync()); // writes and the directory are not PHI reads of this audit
        var billing = await UserIdOf(As.Billing);

        foreach (var (url, view, patient) in PhiRoutes(reads))
        {
            var correlation = $"audit-{view}-{Guid.NewGuid():N}"[..40];
            await Fixture.Call(As.Billing, s =>
            {
                s.WithRequestHeader("X-Correlation-ID", correlation);
                s.Get.Url(url);
                s.StatusCodeShouldBeOk();
            });

            var row = Assert.Single(await RowsAsync(), r => r.CorrelationId == correlation);
            Assert.Equal([patient(reads)], row.PatientIds);
            Assert.Equal((view, "GET", billing.ToString(), As.Billing), (row.View, row.Method, row.UserId, row.UserEmail));
            Assert.Equal(url.Split('?')[0], row.Path);
            Assert.True(row.At > DateTimeOffset.UtcNow.AddMinutes(-1) && row.At <= DateTimeOffset.UtcNow);
        }

        Assert.Equal(PhiRoutes(reads).Length, (await RowsAsync()).Count);
        Assert.DoesNotContain(Fixture.Logs.Lines, l => l.Contains("Quartermaine", StringComparison.OrdinalIgnoreCase) || l.Contains("Zebediah", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task a_read_is_answered_only_after_its_record_is_committed()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Hold", "Fast");
        await Fixture.DeliveredSession(patient, Scenarios.Session());

        // Writes to the audit wait behind a lock the test holds (reads of other tables go on).
        await using var held = await HeldLock.TableAsync(Fixture.ClinicConnectionString, $"{Store.Options.DatabaseSchemaName}.mt_doc_phiaccess", "exclusive");
        var read = Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/patients/{patient}/ledger");
            s.StatusCodeShouldBeOk();
        });
        await held.WaitersAsync(1, read, "the ledger read's audit record");
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.False(read.IsCompleted, "the ledger was answered before its read was recorded");

        await held.ReleaseAsync();
        await read;
        var row = Assert.Single(await RowsAsync());
        Assert.Equal([patient], row.PatientIds);
        Assert.Equal("ledger", row.View);
    }

    [Fact]
    public async Task a_read_whose_record_fails_is_not_answered_though_the_endpoint_ran_beside_it()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Ingeborg", "Unrecorded");
        await Fixture.DeliveredSession(patient, Scenarios.Session());

        // The audit table refuses this patient's reads (a database fault the app cannot see coming).
        var table = $"{Store.Options.DatabaseSchemaName}.mt_doc_phiaccess";
        async Task Sql(string sql)
        {
            await using var connection = new Npgsql.NpgsqlConnection(Fixture.ClinicConnectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await Sql($"""
            create or replace function kb_test_refuse_audit() returns trigger language plpgsql as $$
            begin
              if new.data->>'Path' like '%{patient}%' then raise exception 'audit refused by the test'; end if;
              return new;
            end $$;
            create trigger kb_test_refuse_audit before insert on {table} for each row execute function kb_test_refuse_audit();
            """);
        try
        {
            // The balance is read beside the failing record, and never sent: an error, with nothing of the patient in it.
            var refused = await Fixture.Call(As.Billing, s =>
            {
                s.Get.Url($"/api/patients/{patient}/balance");
                s.StatusCodeShouldBe(500);
            });
            var body = await refused.ReadAsTextAsync();
            Assert.DoesNotContain("Ingeborg", body);
            Assert.DoesNotContain("totalCharged", body, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("correlationId", body);
        }
        finally
        {
            await Sql($"drop trigger kb_test_refuse_audit on {table}; drop function kb_test_refuse_audit();");
        }

        // Recorded again, the same read is answered.
        var balance = await Fixture.Get<KetamineBilling.Features.Patients.PatientBalance>($"/api/patients/{patient}/balance");
        Assert.Equal("Ingeborg Unrecorded", balance.PatientName);
    }

    [Fact]
    public async Task every_endpoint_marked_as_a_phi_read_is_a_get_that_billing_alone_may_call()
    {
        var marked = Host.Services.GetServices<Microsoft.AspNetCore.Routing.EndpointDataSource>().SelectMany(s => s.Endpoints)
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<PhiReadAttribute>() is not null).ToList();
        // 13, and since issue 15 a claim's history, the global search, payments, discounts, letters, out-of-network
        // reimbursements, the coverage history and the series; since issue 18 a statement run, its print file, one statement, a patient's statements, autopay and collections;
        // since issue 19 a claim's CMS-1500; since issue 20 a patient's eligibility, the day's visits, a series estimate and its PDF, a Good
        // Faith Estimate's PDF and the sessions' coding flags.
        Assert.Equal(34, marked.Count);
        Assert.All(marked, e =>
        {
            Assert.Equal(["GET"], e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods);
            Assert.Equal([KetamineBilling.Infrastructure.Policies.BillingAdmin],
                e.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Select(a => a.Policy));
        });
    }

    [Fact]
    public async Task reads_of_figures_and_refused_reads_write_nothing()
    {
        var reads = await PatientWithEverythingAsync();
        var month = $"{Today:yyyy-MM}";

        foreach (var url in new[] { "/api/analytics/aging", $"/api/analytics/kpis?from={month}&to={month}", $"/api/analytics/payers?from={month}&to={month}",
                     "/api/remittances/figures", "/api/reconciliation/exceptions/summary", "/api/payers", "/api/fee-schedule", "/api/deposits/workspace" })
        {
            await Fixture.Call(As.Finance, s =>
            {
                s.Get.Url(url);
                s.StatusCodeShouldBeOk();
            });
        }

        await Fixture.Call(As.EmployerA, s =>
        {
            s.Get.Url($"/api/employers/{Fixture.EmployerAId}/invoices");
            s.StatusCodeShouldBe(404);
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/patients?search=quarter");
            s.StatusCodeShouldBeOk();
        });

        // Refused reads were no reads: 403 for other roles, 401 without a token.
        foreach (var (url, _, _) in PhiRoutes(reads))
        {
            foreach (var user in new[] { As.Finance, As.EmployerA, As.Admin, As.NoRole, null })
            {
                await Fixture.Call(user, s =>
                {
                    s.Get.Url(url);
                    s.StatusCodeShouldBe(user is null ? 401 : 403);
                });
            }
        }

        Assert.Empty(await RowsAsync());
    }

    [Fact]
    public async Task finance_sees_a_remittance_as_figures_without_patients_or_835_loops()
    {
        var reads = await PatientWithEverythingAsync();

        var result = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url("/api/remittances/figures");
            s.StatusCodeShouldBeOk();
        });
        var text = await result.ReadAsTextAsync();
        var figures = Assert.Single(System.Text.Json.JsonSerializer.Deserialize<RemittanceFiguresPage>(text, System.Text.Json.JsonSerializerOptions.Web)!.Items);
        Assert.Equal((reads.Remittance, 240m, 1, 1, 240m, 0), (figures.Id, figures.PaymentAmount, figures.ClaimPayments, figures.ClaimsPosted, figures.PaidPosted, figures.UnmatchedItems));
        var claim = await Fixture.Get<ClaimView>($"/api/claims/{reads.Claim}");
        foreach (var forbidden in new[] { "PATIENT", "NM1", "CLP", claim.ControlNumber, reads.Patient.ToString(), reads.Claim.ToString(), "Quartermaine" })
        {
            Assert.DoesNotContain(forbidden, text, StringComparison.OrdinalIgnoreCase);
        }

        foreach (var url in new[] { "/api/remittances", $"/api/remittances/{reads.Remittance}" })
        {
            await Fixture.Call(As.Finance, s =>
            {
                s.Get.Url(url);
                s.StatusCodeShouldBe(403);
            });
        }
    }

    [Fact]
    public async Task the_administrator_lists_filters_and_exports_the_reads_and_no_one_else_may()
    {
        var reads = await PatientWithEverythingAsync();
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        foreach (var (url, _, _) in PhiRoutes(reads))
        {
            await Fixture.Call(As.Billing, s =>
            {
                s.Get.Url(url);
                s.StatusCodeShouldBeOk();
            });
        }

        var all = PhiRoutes(reads).Length;
        var billing = await UserIdOf(As.Billing);
        async Task<PhiAccessPage> Page(string query) => await Fixture.Get<PhiAccessPage>($"/api/audit/phi-access?{query}", As.Admin);

        var everything = await Page("pageSize=500");
        Assert.Equal(all, everything.TotalCount);
        Assert.True(everything.Items.Zip(everything.Items.Skip(1)).All(p => p.First.At >= p.Second.At), "newest first");
        Assert.Equal(all - 1, (await Page($"patient={reads.Patient}")).TotalCount);
        Assert.Equal(1, (await Page($"patient={reads.Other}")).TotalCount);
        Assert.Equal(2, (await Page("view=ledger")).TotalCount);
        Assert.Equal(1, (await Page($"view=ledger&patient={reads.Other}")).TotalCount);
        Assert.Equal(all, (await Page($"user={billing}")).TotalCount);
        Assert.Equal(all, (await Page($"user={Uri.EscapeDataString(As.Billing.ToUpperInvariant())}")).TotalCount);
        Assert.Equal(0, (await Page($"user={Guid.NewGuid()}")).TotalCount);
        Assert.Equal(all, (await Page($"from={Uri.EscapeDataString(started.ToString("O"))}&to={Today.AddDays(2):yyyy-MM-dd}")).TotalCount);
        Assert.Equal(0, (await Page($"to={Uri.EscapeDataString(started.ToString("O"))}")).TotalCount);
        var paged = await Page("page=2&pageSize=5");
        Assert.Equal((5, 2, 5, (long)all), (paged.Items.Count, paged.Page, paged.PageSize, paged.TotalCount));
        Assert.Equal(everything.Items.Skip(5).Take(5).Select(i => i.Id), paged.Items.Select(i => i.Id));

        var bad = await Fixture.Call(As.Admin, s =>
        {
            s.Get.Url("/api/audit/phi-access?patient=someone&from=yesterday");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal(["from", "patient"], (await bad.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys.Order());

        // The CSV reads back, as a spreadsheet would, into the same rows.
        var csv = await Fixture.Call(As.Admin, s =>
        {
            s.Get.Url($"/api/audit/phi-access.csv?patient={reads.Patient}");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("text/csv");
        });
        var body = (await csv.ReadAsTextAsync()).TrimStart('\uFEFF');
        using var reader = CsvReader.FromText(body, new CsvReaderOptions
        {
            HasHeader = false, Separator = ',', MalformedData = CsvMalformedDataHandling.Throw, SkipEmptyLines = true
        });
        var rows = new List<string[]>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken)) rows.Add(reader.Current.ToArray());
        Assert.Equal(["at", "user_id", "user_email", "patient_ids", "view", "method", "path", "correlation_id", "client_address"], rows[0]);
        var json = (await Page($"patient={reads.Patient}&pageSize=500")).Items;
        Assert.Equal(json.Count, rows.Count - 1);
        foreach (var (row, item) in rows.Skip(1).Zip(json))
        {
            Assert.Equal(item.At.UtcDateTime, DateTime.Parse(row[0], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), TimeSpan.FromMilliseconds(1));
            Assert.Equal([item.UserId, item.UserEmail ?? "", string.Join(' ', item.PatientIds), item.View, item.Method, item.Path, item.CorrelationId ?? "", item.ClientAddress ?? ""],
                row[1..]);
        }

        foreach (var user in new[] { As.Billing, As.Finance, As.EmployerA, As.NoRole, null })
        {
            foreach (var url in new[] { "/api/audit/phi-access", "/api/audit/phi-access.csv" })
            {
                await Fixture.Call(user, s =>
                {
                    s.Get.Url(url);
                    s.StatusCodeShouldBe(user is null ? 401 : 403);
                });
            }
        }
    }
}
